"""Cutpoints checked against brute-force searches written independently in this file."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from psyscreen.research import (
    Criterion,
    age_band,
    band_cutpoints,
    cutpoint,
    cutpoints_by_group,
)


def brute(scores, truth, direction=">="):
    """Every distinct score as cutoff: (cutoff, sensitivity, specificity)."""
    s, y = np.asarray(scores, float), np.asarray(truth, float)
    out = []
    for c in np.unique(s):
        pos = {">=": s >= c, ">": s > c, "<=": s <= c, "<": s < c}[direction]
        sens = (pos & (y == 1)).sum() / (y == 1).sum()
        spec = (~pos & (y == 0)).sum() / (y == 0).sum()
        out.append((float(c), sens, spec))
    return out


def synthetic(n=600, seed=0):
    """Clearly synthetic PHQ-9-like totals (0-27) with a 20% 'diagnosis' rate."""
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.2).astype(int)
    s = np.clip(np.round(rng.normal(6 + 7 * y, 4)), 0, 27)
    return s, y


def test_youden_matches_brute_force_and_tie_rule():
    s, y = synthetic()
    r = cutpoint(s, y, n_boot=0)
    rows = brute(s, y)
    best = max(se + sp - 1 for _, se, sp in rows)
    ties = [(c, se) for c, se, sp in rows if se + sp - 1 >= best - 1e-12]
    expected = max(ties, key=lambda t: t[1])[0]  # tie -> higher sensitivity
    assert r.cutoff == expected
    assert r.criterion_value == pytest.approx(best)
    assert r.accuracy.summary().loc["sensitivity", "estimate"] == pytest.approx(
        dict((c, se) for c, se, _ in rows)[expected]
    )


def test_youden_tie_goes_to_higher_sensitivity():
    # cutoffs 3 and 5 both give J = 0.5: (sens 1, spec .5) vs (sens .5, spec 1)
    s = [1, 2, 3, 4, 3, 4, 5, 6]
    y = [0, 0, 0, 0, 1, 1, 1, 1]
    assert brute(s, y)[2][1:] == (1.0, 0.5)
    assert cutpoint(s, y, n_boot=0).cutoff == 3.0


@pytest.mark.parametrize("target", [0.6, 0.8, 0.9, 0.95])
def test_constrained_criteria_match_brute_force(target):
    s, y = synthetic(seed=1)
    rows = brute(s, y)
    r = cutpoint(s, y, "min_specificity", min_specificity=target, n_boot=0)
    ok = [(se, sp, c) for c, se, sp in rows if sp >= target]
    assert r.cutoff == max(ok)[2]
    r = cutpoint(s, y, "min_sensitivity", min_sensitivity=target, n_boot=0)
    ok = [(sp, se, c) for c, se, sp in rows if se >= target]
    assert r.cutoff == max(ok)[2]


def test_constraint_that_cannot_be_met():
    r = cutpoint(
        [1, 2, 3, 1, 2, 3],
        [0, 0, 0, 1, 1, 1],
        "min_specificity",
        min_specificity=1.0,
        direction=">",
        n_boot=50,
    )
    # '> 3' calls nobody positive: specificity 1 with sensitivity 0 is feasible
    assert r.cutoff == 3.0
    r = cutpoint(
        [1, 2, 3, 1, 2, 3], [0, 0, 0, 1, 1, 1], "min_specificity", min_specificity=1.0, n_boot=0
    )
    assert np.isnan(r.cutoff) and r.accuracy is None
    assert "No candidate" in repr(r)


@pytest.mark.parametrize("prev,cfn,cfp", [(None, 1, 1), (None, 5, 1), (0.05, 10, 1), (0.5, 1, 3)])
def test_cost_criterion_matches_brute_force(prev, cfn, cfp):
    s, y = synthetic(seed=2)
    p = y.mean() if prev is None else prev
    rows = brute(s, y)
    costs = [(cfn * p * (1 - se) + cfp * (1 - p) * (1 - sp), -se, c) for c, se, sp in rows]
    expected = min(costs)[2]
    r = cutpoint(s, y, "cost", cost_fn=cfn, cost_fp=cfp, prevalence=prev, n_boot=0)
    assert r.cutoff == expected


def test_direction_gt_equals_ge_at_next_integer_and_lower_direction():
    s, y = synthetic(seed=3)
    ge = cutpoint(s, y, n_boot=0)
    gt = cutpoint(s, y, direction=">", n_boot=0)
    assert gt.cutoff + 1 == ge.cutoff
    low = cutpoint(-s, y, direction="<=", n_boot=0)
    assert low.cutoff == -ge.cutoff


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 8), st.booleans()), min_size=4, max_size=40))
def test_youden_is_optimal_property(rows):
    s = np.array([r[0] for r in rows], float)
    y = np.array([r[1] for r in rows], int)
    if y.min() == y.max():
        return
    r = cutpoint(s, y, n_boot=0)
    best = max(se + sp - 1 for _, se, sp in brute(s, y))
    assert r.criterion_value == pytest.approx(best)
    # and the reported criterion is the J of the reported cutoff
    acc = r.accuracy.summary()
    assert acc.loc["sensitivity", "estimate"] + acc.loc["specificity", "estimate"] - 1 == (
        pytest.approx(best)
    )


def test_bootstrap_ci_is_seeded_and_contains_estimate():
    s, y = synthetic(seed=4)
    a = cutpoint(pd.Series(s, name="phq9.total.raw"), y, n_boot=500, seed=3)
    b = cutpoint(s, y, n_boot=500, seed=3)
    assert a.ci == b.ci
    assert a.ci[0] <= a.cutoff <= a.ci[1]
    assert set(np.unique(a.boot_cutoffs)) <= set(np.unique(s))
    t = a.bootstrap_table()
    assert t["share"].sum() == pytest.approx(1.0)
    assert "phq9.total.raw" in repr(a) and "<table" in a._repr_html_()


def test_band_cutpoints_use_two_criteria():
    s, y = synthetic(seed=5)
    b = band_cutpoints(
        s,
        y,
        {
            "borderline": {"method": "min_sensitivity", "min_sensitivity": 0.9},
            "abnormal": Criterion("min_specificity", min_specificity=0.9),
        },
        n_boot=200,
    )
    rows = brute(s, y)
    lo = max((sp, se, c) for c, se, sp in rows if se >= 0.9)[2]
    hi = max((se, sp, c) for c, se, sp in rows if sp >= 0.9)[2]
    assert b.cutoffs == [lo, hi]
    assert list(b.summary().index) == ["borderline", "abnormal"]
    assert b.results[0].n_boot == 200


def test_age_band_explicit_bounds():
    bands = age_band(pd.Series([5.99, 6.0, 11.99, 12.0, 17.99, 18.0, None]), [6, 12, 18])
    assert bands.tolist()[:6] == [np.nan, "[6, 12)", "[6, 12)", "[12, 18)", "[12, 18)", np.nan]
    with pytest.raises(ValueError):
        age_band([1, 2], [3, 3])


def test_cutpoints_by_group_equal_per_subset_and_small_groups():
    rng = np.random.default_rng(6)
    n = 1600
    df = pd.DataFrame(
        {
            "age": rng.uniform(6, 18, n),
            "sex": rng.choice(["F", "M"], n),
        }
    )
    df["dx"] = (rng.random(n) < 0.25).astype(int)
    shift = np.where(df["sex"] == "F", 8, 5)
    df["score"] = np.clip(np.round(rng.normal(5 + shift * df["dx"], 4)), 0, 27)
    df["age_band"] = age_band(df["age"], [6, 12, 18])
    df.loc[0, "sex"] = None  # no group: counted, not put in a neighbouring group
    g = cutpoints_by_group(df, "score", "dx", ["age_band", "sex"], n_boot=100, seed=1)
    t = g.table
    assert len(t) == 5  # 2 x 2 groups + all
    sub = df[(df["age_band"] == "[6, 12)") & (df["sex"] == "F")]
    one = cutpoint(sub["score"], sub["dx"], n_boot=100, seed=1)
    assert t.loc[("[6, 12)", "F"), "cutoff"] == one.cutoff
    assert t.loc[("[6, 12)", "F"), "cutoff_lower"] == one.ci[0]
    assert t.loc[("all", "all"), "excluded_no_group"] == 1
    assert t.loc[("all", "all"), "n"] == n
    small = cutpoints_by_group(df.iloc[:60], "score", "dx", "sex", n_boot=0, min_group=20)
    assert small.table["cutoff"].isna().all()
    assert "fewer than 20" in small.table["note"].iloc[0]
