"""Property tests of standard scores (hypothesis)."""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from psyscreen import build_norms, load_instrument
from psyscreen.norms import NormBuildWarning, NormTable, apply_norms

from .test_norms_format import gad7_lookup, gad7_table

GAD7 = load_instrument("gad7")
SCARED = load_instrument("scared_c")
MEAN_SD = NormTable.model_validate(gad7_table())
LOOKUP = NormTable.model_validate(gad7_lookup())
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _apply(table, raw, sex, age, inst=GAD7, scale="total"):
    scores = pd.DataFrame({f"{inst.id}.{scale}.raw": np.asarray(raw, dtype=float)})
    data = pd.DataFrame({"sex": sex, "age": age})
    return apply_norms(scores, data, [inst], table)


@SETTINGS
@given(
    raws=st.lists(st.integers(0, 21), min_size=2, max_size=30),
    sex=st.sampled_from(["F", "M"]),
    age=st.floats(12, 17.999),
    form=st.sampled_from(["mean_sd", "lookup"]),
)
def test_t_and_percentile_are_monotone_in_raw_within_a_stratum(raws, sex, age, form):
    table = MEAN_SD if form == "mean_sd" else LOOKUP
    raws = sorted(raws)
    out = _apply(table, raws, [sex] * len(raws), [age] * len(raws))
    assert (out["gad7.total.norm_status"] == "ok").all()
    assert out["gad7.total.norm_stratum"].nunique() == 1
    t = out["gad7.total.t"].to_numpy()
    p = out["gad7.total.percentile"].to_numpy()
    assert np.all(np.diff(t) >= 0) and np.all(np.diff(p) >= 0)
    assert np.all((p >= 0) & (p <= 100))


@SETTINGS
@given(
    raws=st.lists(st.integers(0, 82), min_size=2, max_size=30),
    sex=st.sampled_from(["女", "男"]),
)
def test_shipped_mean_sd_table_is_monotone(raws, sex):
    raws = sorted(raws)
    out = _apply("scared_c_cn_12city2008", raws, [sex] * len(raws), [10] * len(raws), SCARED)
    t = out["scared_c.total.t"].to_numpy()
    assert np.all(np.diff(t) >= 0)


@SETTINGS
@given(
    data=st.data(),
    n_strata=st.integers(1, 3),
)
def test_a_table_built_from_a_sample_gives_that_sample_t_mean_50_sd_10(data, n_strata):
    edges = [12.0, 14.0, 16.0, 18.0][: n_strata + 1]
    frames = []
    for lo, hi in itertools.pairwise(edges):
        raw = data.draw(st.lists(st.integers(0, 21), min_size=3, max_size=40))
        if len(set(raw)) == 1:
            raw = [*raw, (raw[0] + 1) % 22]
        frames.append(pd.DataFrame({"gad7.total.raw": np.array(raw, float), "age": (lo + hi) / 2}))
    df = pd.concat(frames, ignore_index=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NormBuildWarning)
        table = build_norms(df, GAD7, "total", age_bands=edges)  # default rounding: 4 decimals
    out = apply_norms(df, df, [GAD7], table)
    assert (out["gad7.total.norm_status"] == "ok").all()
    for row in table.rows:
        m = (df["age"] >= row.age.lower) & (df["age"] < row.age.upper)
        t = out.loc[m, "gad7.total.t"]
        # mean and SD are stored rounded to 4 decimals (error <= 5e-5 each), so
        # mean(T) = 50 - 10 * dmean / sd' and SD(T) = 10 * sd / sd' are off by <= 10 * 5e-5 / sd'
        tol = 10 * 5e-5 / row.sd + 1e-9
        assert abs(t.mean() - 50) <= tol
        assert abs(t.std(ddof=1) - 10) <= tol


@SETTINGS
@given(
    n=st.integers(1, 40),
    seed=st.integers(0, 2**31 - 1),
    form=st.sampled_from(["mean_sd", "lookup"]),
)
def test_results_do_not_depend_on_row_order(n, seed, form):
    rng = np.random.default_rng(seed)
    raw = rng.integers(0, 22, n).astype(float)
    raw[rng.random(n) < 0.2] = np.nan
    sex = rng.choice(["F", "M", "x", None], n).astype(object)
    age = rng.uniform(10, 20, n)
    table = MEAN_SD if form == "mean_sd" else LOOKUP
    out = _apply(table, raw, sex, age)
    perm = rng.permutation(n)
    out_p = _apply(table, raw[perm], sex[perm], age[perm])
    cols = [c for c in out.columns if c.startswith("gad7.total.")]
    a = out[cols].iloc[perm].reset_index(drop=True)
    b = out_p[cols].reset_index(drop=True)
    pd.testing.assert_frame_equal(a.astype(object), b.astype(object))


@SETTINGS
@given(
    ages=st.lists(st.one_of(st.floats(0, 30, allow_nan=False), st.none()), min_size=1, max_size=30),
    sexes=st.data(),
)
def test_a_row_outside_every_stratum_never_gets_a_standard_score(ages, sexes):
    n = len(ages)
    sex = sexes.draw(st.lists(st.sampled_from(["F", "M", "9", "?", None]), min_size=n, max_size=n))
    out = _apply(MEAN_SD, [10.0] * n, sex, ages)
    inside = np.array([a is not None and 12 <= a < 18 for a in ages]) & np.isin(
        np.array(sex, dtype=object), ["F", "M"]
    )
    status = out["gad7.total.norm_status"].astype(str).to_numpy()
    assert np.all((status == "ok") == inside)
    for f in ("z", "t", "percentile"):
        col = out[f"gad7.total.{f}"].to_numpy()
        assert np.all(np.isnan(col[~inside])) and np.all(np.isfinite(col[inside]))
    assert out["gad7.total.norm_stratum"].isna().to_numpy()[~inside].all()
    outside_known = np.array([a is not None and not 12 <= a < 18 for a in ages]) & np.isin(
        np.array(sex, dtype=object), ["F", "M"]
    )
    assert np.all(status[outside_known] == "no_stratum")
