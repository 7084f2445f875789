"""One band chooser: risk evaluation, records and the batch report count the same band."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import yaml

import psyscreen
from psyscreen.band_choice import band_column_suffix, choose_band
from psyscreen.batch.report import ReportStats
from psyscreen.risk.evaluate import evaluate
from psyscreen.risk.profile import profile_from_data

ROOT = Path(__file__).resolve().parents[1]


def _auto_profile():
    """The default profile with PHQ-9 bands taken ``auto`` (norm band where there is one)."""
    path = ROOT / "profiles" / "default.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    for b in data["battery"]:
        if b["instrument"] == "phq9":
            b["band_source"] = "auto"
    return profile_from_data(data, str(path))


def _frame() -> pd.DataFrame:
    """Three PHQ-9 sheets scoring 0 (instrument band 'minimal'); norm bands on two rows."""
    answers = pd.DataFrame({f"phq9_{i}": [0, 0, 0] for i in range(1, 10)})
    scores = psyscreen.score(answers, "phq9")
    assert scores["phq9.total.band"].tolist() == ["minimal"] * 3  # from the definition
    scores["phq9.total.norm_band"] = pd.Categorical(["n_high", "n_high", None])
    scores["phq9.total.norm_band_class"] = pd.Categorical(["abnormal", "abnormal", None])
    scores["row.status"] = "ok"
    return scores


def test_report_counts_the_band_risk_evaluation_used_for_band_source_auto():
    prof = _auto_profile()
    scores = _frame()
    ev = evaluate(scores, prof)
    assert ev.scales["phq9.total"].band.tolist() == ["n_high", "n_high", "minimal"]
    stats = ReportStats(SimpleNamespace(profile=prof, instruments=[], headers={}))
    stats.update(scores, pd.DataFrame(columns=["field", "problem"]))
    # before the shared chooser the report counted {"minimal": 3} here
    assert stats.band_counts["phq9.total"] == Counter({"n_high": 2, "minimal": 1})


def test_auto_takes_the_norm_band_row_by_row_and_instrument_or_norm_always_one():
    frame = pd.DataFrame(
        {
            "x.s.band": ["b1", "b2", None],
            "x.s.band_class": ["normal", "abnormal", None],
            "x.s.norm_band": [None, "n1", "n2"],
            "x.s.norm_band_class": [None, "normal", "borderline"],
        }
    )
    auto = choose_band(frame, "x.s", "auto")
    assert auto.band.tolist() == ["b1", "n1", "n2"]
    assert auto.klass.tolist() == ["normal", "normal", "borderline"]
    assert auto.source.tolist() == ["instrument", "norm", "norm"]
    assert choose_band(frame, "x.s", "instrument").band.tolist() == ["b1", "b2", None]
    assert choose_band(frame, "x.s", "norm").source.tolist() == [None, "norm", "norm"]
    none = choose_band(frame, "x.s", "instrument", instrument_bands=False)
    assert none.klass.tolist() == [None, None, None]
    assert np.array_equal(none.use_norm, np.zeros(3, bool))


def test_band_set_suffix_matches_the_columns_scoring_writes():
    inst = psyscreen.load_instrument("dsrsc")
    ids = [bs.id for bs in inst.scale("total").bands]
    answers = pd.DataFrame({it.id: [1] for it in inst.items})
    cols = set(psyscreen.score(answers, "dsrsc").columns)
    for bs_id in ids:
        suffix = band_column_suffix(ids, bs_id)
        assert f"dsrsc.total.band{suffix}" in cols
        assert f"dsrsc.total.band_class{suffix}" in cols
    assert band_column_suffix(ids, None) == ""
