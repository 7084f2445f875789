"""Building norm tables from a sample (psyscreen.build_norms)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import psyscreen
from psyscreen import build_norms, load_instrument, load_norms, save_norms
from psyscreen.norms import NormBuildWarning, apply_norms


def sample(n: int = 600, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    sex = rng.choice(["F", "M"], n)
    age = rng.uniform(12, 18, n)
    raw = np.clip(np.round(rng.normal(6 + (sex == "F") + (age - 12) / 3, 4)), 0, 21)
    return pd.DataFrame({"gad7.total.raw": raw, "sex": sex, "age": age})


def test_mean_sd_table_by_sex_and_age_matches_the_sample():
    df = sample()
    t = build_norms(df, "gad7", "total", by=["sex"], age_bands=[12, 15, 18], decimals=6)
    assert t.form == "mean_sd" and t.covers.sex == ["female", "male"]
    assert t.population.n == len(df)
    df["band"] = np.where(df["age"] < 15, "[12, 15)", "[15, 18)")
    df["sexw"] = df["sex"].map({"F": "female", "M": "male"})
    g = df.groupby(["sexw", "band"])["gad7.total.raw"]
    for row in t.rows:
        band = f"[{row.age.lower:g}, {row.age.upper:g})"
        x = g.get_group((row.sex, band))
        assert row.n == len(x)
        assert row.mean == pytest.approx(x.mean(), abs=1e-6)
        assert row.sd == pytest.approx(x.std(ddof=1), abs=1e-6)
        q = {qq.p: qq.raw for qq in row.quantiles}
        assert q[50] == pytest.approx(x.quantile(0.5), abs=1e-6)


def test_built_table_round_trips_and_scores_new_data(tmp_path):
    t = build_norms(
        sample(), "gad7", "total", by=["sex"], age_bands=[12, 15, 18], table_id="gad7_x"
    )
    p = save_norms(t, tmp_path / "gad7_x.yaml")
    again = load_norms(p)
    assert again.model_dump() == t.model_dump()
    assert "age: {ge: 12.0, lt: 15.0}" in p.read_text("utf-8")  # one line per bound set
    new = pd.DataFrame({f"gad7_{i}": [1, 3] for i in range(1, 8)})
    new["sex"], new["age"] = ["女", "男"], [13, 16]
    out = psyscreen.score(new, "gad7", norms=p)
    r0 = next(r for r in again.rows if r.sex == "female" and r.age.lower == 12)
    r1 = next(r for r in again.rows if r.sex == "male" and r.age.lower == 15)
    assert out["gad7.total.t"].tolist() == pytest.approx(
        [50 + 10 * (7 - r0.mean) / r0.sd, 50 + 10 * (21 - r1.mean) / r1.sd]
    )
    assert out["gad7.total.norm_table"].iloc[0] == "gad7_x@1"


def test_small_strata_warn_and_empty_strata_fail():
    df = sample(80)
    with pytest.warns(NormBuildWarning, match="only"):
        build_norms(df, "gad7", "total", by=["sex"], age_bands=[12, 15, 18], min_n=30)
    with pytest.raises(ValueError, match="no rows in this stratum"):
        build_norms(df, "gad7", "total", age_bands=[12, 15, 18, 20])


def test_rows_left_out_are_reported():
    df = sample(200)
    df.loc[:9, "gad7.total.raw"] = np.nan
    df.loc[10:14, "sex"] = "?"
    with pytest.warns(NormBuildWarning, match="15 of 200 rows left out"):
        t = build_norms(df, "gad7", "total", by=["sex"], min_n=1)
    assert t.population.n == 185


def test_lookup_form_covers_every_raw_score_and_is_monotone():
    t = build_norms(sample(), "gad7", "total", by=["sex"], form="lookup", min_n=1)
    for row in t.rows:
        assert [e.raw for e in row.lookup] == list(range(0, 22))
        ts = [e.t for e in row.lookup]
        ps = [e.percentile for e in row.lookup]
        assert ts == sorted(ts) and ps == sorted(ps)
        assert ps[0] > 0 and ps[-1] < 100


def test_lookup_percentile_is_the_mid_rank():
    # 4 children with raw 0, 1, 1, 3 -> raw 1: (1 below + 2 equal / 2) / 4 = 50 %
    df = pd.DataFrame({"gad7.total.raw": [0.0, 1.0, 1.0, 3.0]})
    t = build_norms(df, "gad7", "total", form="lookup", min_n=1)
    e = {x.raw: x for x in t.rows[0].lookup}
    assert e[1].percentile == 50.0 and e[1].t == pytest.approx(50.0)
    assert e[0].percentile == 12.5
    assert e[2].percentile == 75.0  # none equal, three below
    assert e[21].percentile == 100 - 50 / 4  # kept inside (0, 100)


def test_grade_strata():
    rng = np.random.default_rng(3)
    df = pd.DataFrame(
        {
            "gad7.total.raw": rng.integers(0, 22, 300).astype(float),
            "grade": rng.choice(["初一", "初二", "初三"], 300),
            "sex": rng.choice([1, 2], 300),
        }
    )
    t = build_norms(df, "gad7", "total", by=["grade", "sex"])
    assert t.covers.grade.describe() == "[7, 9]"
    assert {r.stratum_label() for r in t.rows} == {
        f"{s}, grade [{g}, {g}]" for s in ("female", "male") for g in (7, 8, 9)
    }
    t2 = build_norms(df, "gad7", "total", by=["grade"], grade_bands=[7, 9, 10])
    assert [r.grade.describe() for r in t2.rows] == ["[7, 9)", "[9, 10)"]


def test_smoothing_is_the_stated_1_2_1_n_weighted_average():
    # three age bands, one sex; known means / SDs / Ns
    parts = []
    for lo, vals in ((8, [0.0, 2.0]), (10, [4.0, 6.0, 8.0, 10.0]), (12, [1.0, 3.0])):
        parts.append(pd.DataFrame({"gad7.total.raw": vals, "age": [lo + 0.5] * len(vals)}))
    df = pd.concat(parts, ignore_index=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NormBuildWarning)
        raw = build_norms(df, "gad7", "total", age_bands=[8, 10, 12, 14], decimals=10)
        sm = build_norms(df, "gad7", "total", age_bands=[8, 10, 12, 14], smooth=True, decimals=10)
    m = [r.mean for r in raw.rows]
    n = [r.n for r in raw.rows]
    assert m == [1.0, 7.0, 2.0] and n == [2, 4, 2]
    expect = [
        (2 * 2 * 1.0 + 4 * 7.0) / (2 * 2 + 4),
        (2 * 1.0 + 2 * 4 * 7.0 + 2 * 2.0) / (2 + 2 * 4 + 2),
        (4 * 7.0 + 2 * 2 * 2.0) / (4 + 2 * 2),
    ]
    assert [r.mean for r in sm.rows] == pytest.approx(expect)
    assert all("unsmoothed" in r.note for r in sm.rows)


def test_bad_arguments():
    df = sample(100)
    with pytest.raises(ValueError, match="age_bands"):
        build_norms(df, "gad7", "total", by=["age"])
    with pytest.raises(ValueError, match="by may contain"):
        build_norms(df, "gad7", "total", by=["school"])
    with pytest.raises(ValueError, match="smooth"):
        build_norms(df, "gad7", "total", smooth=True)
    with pytest.raises(KeyError):
        build_norms(df, "gad7", "nope")
    const = pd.DataFrame({"gad7.total.raw": [3.0] * 40})
    with pytest.raises(ValueError, match="SD is 0"):
        build_norms(const, "gad7", "total")


def test_several_scales_at_once():
    inst = load_instrument("scared_c")
    rng = np.random.default_rng(5)
    df = pd.DataFrame(
        {f"scared_c.{s}.raw": rng.integers(0, 8, 120).astype(float) for s in ("gad", "social")}
    )
    df["sex"] = rng.choice(["F", "M"], 120)
    t = build_norms(df, inst, ["gad", "social"], by=["sex"], min_n=10)
    assert t.scales == ["gad", "social"] and len(t.rows) == 4
    out = apply_norms(df, df, [inst], t)
    assert (out["scared_c.gad.norm_status"] == "ok").all()
