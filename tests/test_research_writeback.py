"""Cutpoint results written back as band sets, instrument definitions and norm tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import psyscreen
from psyscreen import load_instrument
from psyscreen.definitions import BandSet
from psyscreen.registry import instrument_from_data
from psyscreen.research import (
    add_bandset,
    age_band,
    band_cutpoints,
    bandset_from_cutoffs,
    bandset_yaml,
    cutpoint,
    cutpoints_by_group,
    instrument_yaml,
    norm_table_from_groups,
)
from psyscreen.research.writeback import bands_from_cutoffs
from psyscreen.yamlio import parse_yaml

CITATION = {
    "key": "local2025",
    "text": "Synthetic validation sample generated in the psyscreen test suite (not real data).",
    "evidence": "primary",
}


def phq9_answers(n=800, seed=0):
    """Synthetic PHQ-9 answers with a synthetic reference diagnosis."""
    rng = np.random.default_rng(seed)
    dx = (rng.random(n) < 0.2).astype(int)
    latent = rng.normal(size=n) + 1.6 * dx
    items = {f"phq9_{i}": np.digitize(latent + rng.normal(size=n), [0, 1, 2]) for i in range(1, 10)}
    return pd.DataFrame(items).assign(dx=dx)


@pytest.mark.parametrize(
    "direction,expected",
    [
        (">=", [("normal", "[0, 10)"), ("abnormal", "[10, 27]")]),
        (">", [("normal", "[0, 10]"), ("abnormal", "(10, 27]")]),
        ("<=", [("normal", "(10, 27]"), ("abnormal", "[0, 10]")]),
        ("<", [("normal", "[10, 27]"), ("abnormal", "[0, 10)")]),
    ],
)
def test_bands_bounds_follow_direction(direction, expected):
    bands = bands_from_cutoffs(0, 27, [10], direction)
    assert [(b.code, b.interval()) for b in bands] == expected
    assert bands[0].contains(10) == (direction in (">", "<"))


def test_three_bands_and_bad_orders():
    bands = bands_from_cutoffs(0, 21, [5, 10], ">=")
    assert [b.classification for b in bands] == ["normal", "borderline", "abnormal"]
    with pytest.raises(ValueError, match="increase"):
        bands_from_cutoffs(0, 21, [10, 5], ">=")
    with pytest.raises(ValueError, match="empty"):
        bands_from_cutoffs(0, 21, [0], ">=")
    with pytest.raises(ValueError, match="finite"):
        bands_from_cutoffs(0, 21, [np.nan], ">=")


def test_cutpoint_to_instrument_scores_with_new_bands():
    df = phq9_answers()
    scores = psyscreen.score(df, "phq9")["phq9.total.raw"]
    r = cutpoint(scores, df["dx"], n_boot=200)
    bs = r.to_bandset("phq9", "total", id="local", source="local2025")
    assert isinstance(bs, BandSet) and "local ROC analysis" in bs.note
    inst = add_bandset("phq9", "total", bs, citation=CITATION)
    assert [b.id for b in inst.scale("total").bands] == ["severity", "local"]
    out = psyscreen.score(df, inst)
    expected = np.where(scores >= r.cutoff, "abnormal", "normal")
    assert (out["phq9.total.band_local"].astype(str).to_numpy() == expected).all()
    first = add_bandset("phq9", "total", bs, citation=CITATION, first=True)
    assert first.scale("total").bands[0].id == "local"
    # the shipped definition is untouched
    assert [b.id for b in load_instrument("phq9").scale("total").bands] == ["severity"]


def test_yaml_round_trips():
    bs = bandset_from_cutoffs("gad7", "total", [8], id="local", source="local2025", note="demo")
    text = bandset_yaml(bs)
    assert "ge: 8\n" in text
    assert BandSet.model_validate(parse_yaml(text)) == bs
    inst = add_bandset("gad7", "total", bs, citation=CITATION)
    again = instrument_from_data(parse_yaml(instrument_yaml(inst)))
    assert again.scale("total").bands[1] == bs


def test_writeback_refuses_unsafe_input():
    bs = bandset_from_cutoffs("gad7", "total", [8], id="local", source="nowhere")
    with pytest.raises(ValueError, match="no citation"):
        add_bandset("gad7", "total", bs)
    with pytest.raises(ValueError, match="higher scores are better"):
        bandset_from_cutoffs("rses", "total", [15], ">=", id="x", source="y")
    ok = bandset_from_cutoffs("rses", "total", [15], "<", id="x", source="y")
    assert [b.code for b in ok.bands] == ["normal", "abnormal"]
    bs = bandset_from_cutoffs("gad7", "total", [8], id="severity", source="local2025")
    with pytest.raises(psyscreen.DefinitionError, match="duplicate"):
        add_bandset("gad7", "total", bs, citation=CITATION)
    replaced = add_bandset("gad7", "total", bs, citation=CITATION, replace=True)
    assert [b.id for b in replaced.scale("total").bands] == ["severity"]


def test_band_cutpoints_to_bandset():
    df = phq9_answers(seed=2)
    scores = psyscreen.score(df, "phq9")["phq9.total.raw"]
    b = band_cutpoints(
        scores,
        df["dx"],
        {"borderline": {"method": "min_sensitivity", "min_sensitivity": 0.9}, "abnormal": "youden"},
        n_boot=100,
    )
    bs = b.to_bandset("phq9", "total", id="local3", source="local2025")
    assert [bd.code for bd in bs.bands] == ["normal", "borderline", "abnormal"]
    assert bs.bands[1].ge == b.cutoffs[0] and bs.bands[2].ge == b.cutoffs[1]


def test_norm_table_from_group_cutpoints_scores_new_data():
    rng = np.random.default_rng(33)  # not the seed of phq9_answers: age independent of dx
    df = phq9_answers(2000, seed=3)
    df["age"] = rng.uniform(12, 18, len(df))
    df["sex"] = rng.choice(["男", "女"], len(df))
    df["raw"] = psyscreen.score(df, "phq9")["phq9.total.raw"]
    df["age_band"] = age_band(df["age"], [12, 15, 18])
    g = cutpoints_by_group(df, "raw", "dx", ["age_band", "sex"], n_boot=100)
    table = norm_table_from_groups(
        g,
        "phq9",
        "total",
        id="phq9_local_cutoffs",
        version="1",
        title={"en": "PHQ-9 local cutoffs (synthetic)"},
        citation=CITATION,
        population={"country": "XX", "description": "synthetic test data"},
        age="age_band",
        sex="sex",
    )
    assert table.form == "bands" and len(table.rows) == 4
    out = psyscreen.score(
        df.iloc[:50], "phq9", norms=table, demographics={"age": "age", "sex": "sex"}
    )
    assert (out["phq9.total.norm_status"].astype(str) == "ok").all()
    row = df.iloc[0]
    key = (row["age_band"], row["sex"])
    cut = g.table.loc[key, "cutoff"]
    expected = "abnormal" if row["raw"] >= cut else "normal"
    assert out["phq9.total.norm_band"].iloc[0] == expected
    small = cutpoints_by_group(df.iloc[:80], "raw", "dx", "sex", n_boot=0, min_group=30)
    with pytest.raises(ValueError, match="no cutoff"):
        norm_table_from_groups(
            small,
            "phq9",
            "total",
            id="x",
            version="1",
            title={"en": "x"},
            citation=CITATION,
            population={"country": "XX"},
            sex="sex",
        )
