"""ROC tools checked against published values and independent implementations in this file."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from psyscreen.research import accuracy, compare_auc, delong, proportion_ci, roc
from psyscreen.research.intervals import likelihood_ratio_ci

# Hanley & McNeil (1982), Radiology 143:29-36, Table 1: CT ratings 1-5 of 58 normal
# and 51 abnormal patients; published area under the curve 0.893.
HM_NORMAL = [33, 6, 6, 11, 2]
HM_ABNORMAL = [3, 2, 2, 11, 33]


def hm_data() -> tuple[np.ndarray, np.ndarray]:
    r = np.arange(1, 6)
    scores = np.r_[np.repeat(r, HM_NORMAL), np.repeat(r, HM_ABNORMAL)]
    truth = np.r_[np.zeros(58), np.ones(51)]
    return scores, truth


def naive_components(x: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """DeLong et al. (1988) structural components by the O(m n) definition."""
    psi = (x[:, None] > y[None, :]).astype(float) + 0.5 * (x[:, None] == y[None, :])
    return psi.mean(), psi.mean(axis=1), psi.mean(axis=0)


def naive_delong(pos: np.ndarray, neg: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """AUCs and DeLong covariance matrix (S10/m + S01/n) by brute force."""
    comps = [naive_components(pos[k], neg[k]) for k in range(pos.shape[0])]
    auc = np.array([c[0] for c in comps])
    v10 = np.array([c[1] for c in comps])
    v01 = np.array([c[2] for c in comps])
    m, n = pos.shape[1], neg.shape[1]
    s10 = np.atleast_2d(np.cov(v10))
    s01 = np.atleast_2d(np.cov(v01))
    return auc, s10 / m + s01 / n


def test_hanley_mcneil_published_auc():
    scores, truth = hm_data()
    r = roc(scores, truth, n_boot=0)
    assert round(r.auc, 3) == 0.893
    assert (r.n_pos, r.n_neg) == (51, 58)


def test_hanley_mcneil_delong_matches_brute_force():
    scores, truth = hm_data()
    r = roc(pd.Series(scores), pd.Series(truth), n_boot=0)
    auc, cov = naive_delong(scores[truth == 1][None, :], scores[truth == 0][None, :])
    assert r.auc == pytest.approx(auc[0], abs=1e-12)
    assert r.se == pytest.approx(np.sqrt(cov[0, 0]), rel=1e-10)
    z = stats.norm.ppf(0.975)
    assert r.ci[0] == pytest.approx(auc[0] - z * np.sqrt(cov[0, 0]), rel=1e-10)


def test_auc_equals_mann_whitney_u():
    rng = np.random.default_rng(3)
    x = rng.integers(0, 20, 300).astype(float)
    y = rng.integers(0, 15, 400).astype(float)
    u = stats.mannwhitneyu(x, y, alternative="two-sided").statistic
    r = roc(np.r_[x, y], np.r_[np.ones(300), np.zeros(400)], n_boot=0)
    assert r.auc == pytest.approx(u / (300 * 400), abs=1e-12)


score_lists = st.lists(st.integers(0, 6), min_size=2, max_size=30)


@settings(max_examples=60, deadline=None)
@given(score_lists, score_lists, score_lists, score_lists)
def test_fast_delong_equals_naive_with_ties(pa, na, pb, nb):
    """Two paired scores: AUCs and the full 2x2 covariance match the O(N^2) definition."""
    m = min(len(pa), len(pb))
    n = min(len(na), len(nb))
    pos = np.array([pa[:m], pb[:m]], dtype=float)
    neg = np.array([na[:n], nb[:n]], dtype=float)
    auc, cov = delong(pos, neg)
    auc0, cov0 = naive_delong(pos, neg)
    np.testing.assert_allclose(auc, auc0, atol=1e-12)
    np.testing.assert_allclose(cov, cov0, atol=1e-12)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.floats(-5, 5, allow_nan=False), min_size=4, max_size=40), st.integers(0, 99))
def test_fast_delong_continuous_and_order_invariant(values, seed):
    rng = np.random.default_rng(seed)
    x = np.asarray(values)
    lab = np.arange(x.size) % 2
    a1, c1 = delong(x[lab == 1], x[lab == 0])
    perm = rng.permutation(x.size)
    a2, c2 = delong(x[perm][lab[perm] == 1], x[perm][lab[perm] == 0])
    auc0, cov0 = naive_delong(x[lab == 1][None, :], x[lab == 0][None, :])
    np.testing.assert_allclose(a1, auc0, atol=1e-12)
    np.testing.assert_allclose(c1, cov0, atol=1e-12)
    np.testing.assert_allclose(a2, a1, atol=1e-12)
    np.testing.assert_allclose(c2, c1, rtol=1e-9, atol=1e-15)


def test_delong_large_sample_matches_grouped_computation():
    """At 400,000 rows with heavy ties the fast algorithm equals an exact grouped form.

    The grouped form (independent of ranks): a case with score v has
    V10 = (#non-cases below v + #equal / 2) / n; S10 is the weighted variance.
    """
    rng = np.random.default_rng(11)
    m, n = 40_000, 360_000
    x = np.clip(np.round(rng.normal(14, 5, m)), 0, 27)
    y = np.clip(np.round(rng.normal(7, 5, n)), 0, 27)
    auc, cov = delong(x, y)
    vals = np.arange(28.0)
    cx = np.array([(x == v).sum() for v in vals], dtype=float)
    cy = np.array([(y == v).sum() for v in vals], dtype=float)
    below_y = np.cumsum(cy) - cy
    below_x = np.cumsum(cx) - cx
    v10 = (below_y + cy / 2) / n
    v01 = 1 - (below_x + cx / 2) / m
    a = (cx * v10).sum() / m
    s10 = (cx * (v10 - a) ** 2).sum() / (m - 1)
    s01 = (cy * (v01 - a) ** 2).sum() / (n - 1)
    assert auc[0] == pytest.approx(a, abs=1e-12)
    assert cov[0, 0] == pytest.approx(s10 / m + s01 / n, rel=1e-9)


def test_direction_lower_is_positive():
    scores, truth = hm_data()
    hi = roc(scores, truth, n_boot=0)
    lo = roc(-scores, truth, direction="<=", n_boot=0)
    assert lo.auc == pytest.approx(hi.auc)
    assert lo.se == pytest.approx(hi.se)


def test_missing_rows_are_excluded_and_counted():
    s = pd.Series([1, 2, np.nan, 4, 5, 6])
    y = pd.Series([0, 0, 1, np.nan, 1, 1])
    r = roc(s, y, n_boot=0)
    assert (r.n_pos, r.n_neg, r.n_excluded) == (2, 2, 2)
    assert "2 row(s)" in repr(r)


def test_reference_labels_and_bad_codes():
    r = roc([1, 2, 3, 4], ["no", "no", "MDD", "MDD"], positive="MDD", n_boot=0)
    assert r.auc == 1.0
    with pytest.raises(ValueError, match="other than 0/1"):
        roc([1, 2, 3], [0, 1, 2], n_boot=0)
    with pytest.raises(ValueError, match="cases and non-cases"):
        roc([1, 2, 3], [1, 1, 1], n_boot=0)


def test_bootstrap_is_seeded_and_reasonable():
    scores, truth = hm_data()
    a = roc(scores, truth, n_boot=400, seed=5)
    b = roc(scores, truth, n_boot=400, seed=5)
    c = roc(scores, truth, n_boot=400, seed=6)
    assert a.boot_ci == b.boot_ci
    assert a.boot_ci != c.boot_ci
    # the bootstrap SD estimates the same sampling SD as DeLong's variance
    assert np.std(a.boot_auc, ddof=1) == pytest.approx(a.se, rel=0.15)
    assert a.boot_ci[0] < a.auc < a.boot_ci[1]
    band = a.band
    assert (band["sensitivity_lower"] <= band["sensitivity_upper"]).all()
    assert "bootstrap" in a._repr_html_()


def test_bootstrap_counts_equal_index_resampling_in_distribution():
    """Multinomial resampling of value counts = resampling children: same AUC SD."""
    scores, truth = hm_data()
    r = roc(scores, truth, n_boot=2000, seed=1)
    rng = np.random.default_rng(2)
    pos, neg = scores[truth == 1], scores[truth == 0]
    naive = []
    for _ in range(2000):
        x = pos[rng.integers(0, pos.size, pos.size)]
        y = neg[rng.integers(0, neg.size, neg.size)]
        naive.append(naive_components(x, y)[0])
    assert np.std(r.boot_auc) == pytest.approx(np.std(naive), rel=0.1)
    assert np.mean(r.boot_auc) == pytest.approx(np.mean(naive), abs=0.005)


# Newcombe (1998), Stat Med 17:857-872, Table I: 95% intervals for a single proportion.
NEWCOMBE = [
    # k, n, Wilson (method 3), Clopper-Pearson (method 5)
    (81, 263, (0.2553, 0.3662), (0.2527, 0.3676)),
    (15, 148, (0.0624, 0.1605), (0.0578, 0.1617)),
    (0, 20, (0.0, 0.1611), (0.0, 0.1684)),
    (1, 29, (0.0061, 0.1718), (0.0009, 0.1776)),
]


@pytest.mark.parametrize("k,n,wilson,exact", NEWCOMBE)
def test_proportion_intervals_match_newcombe_1998(k, n, wilson, exact):
    lo, hi = proportion_ci(k, n, 0.95, "wilson")
    assert (round(float(lo), 4), round(float(hi), 4)) == wilson
    lo, hi = proportion_ci(k, n, 0.95, "clopper-pearson")
    assert (round(float(lo), 4), round(float(hi), 4)) == exact


def test_accuracy_at_cutoff_by_hand_and_direction():
    scores, truth = hm_data()
    ge = accuracy(scores, truth, 4, direction=">=").summary()
    gt = accuracy(scores, truth, 4, direction=">").summary()
    # by hand from Table 1: rating >= 4 -> 44 of 51 abnormal, 13 of 58 normal
    assert ge.loc["sensitivity", "estimate"] == pytest.approx(44 / 51)
    assert ge.loc["specificity", "estimate"] == pytest.approx(45 / 58)
    assert ge.loc["ppv", "estimate"] == pytest.approx(44 / 57)
    assert ge.loc["npv", "estimate"] == pytest.approx(45 / 52)
    # rating > 4 -> 33 of 51, 2 of 58
    assert gt.loc["sensitivity", "estimate"] == pytest.approx(33 / 51)
    assert gt.loc["specificity", "estimate"] == pytest.approx(56 / 58)
    lo, _ = proportion_ci(44, 51)
    assert ge.loc["sensitivity", "lower"] == pytest.approx(float(lo))
    # LR+ = sens / (1 - spec) with the log-method CI (Simel et al. 1991)
    lr = (44 / 51) / (13 / 58)
    se = np.sqrt(1 / 44 - 1 / 51 + 1 / 13 - 1 / 58)
    assert ge.loc["lr_positive", "estimate"] == pytest.approx(lr)
    assert ge.loc["lr_positive", "upper"] == pytest.approx(lr * np.exp(1.959964 * se), rel=1e-5)
    low = accuracy(-scores, truth, -4, direction="<=").summary()
    assert low.loc["sensitivity", "estimate"] == pytest.approx(44 / 51)


def test_accuracy_prevalence_adjusted_ppv():
    a = accuracy([0, 1, 2, 3, 4, 5], [0, 0, 0, 1, 1, 1], 2, prevalence=0.1).summary()
    sens, spec = 1.0, 2 / 3
    expected = sens * 0.1 / (sens * 0.1 + (1 - spec) * 0.9)
    assert a.loc["ppv_at_prevalence", "estimate"] == pytest.approx(expected)


def test_roc_table_matches_accuracy():
    scores, truth = hm_data()
    r = roc(scores, truth, n_boot=0, ci_method="clopper-pearson")
    t = r.table()
    one = accuracy(scores, truth, 3, ci_method="clopper-pearson").summary()
    assert t.loc[3.0, "specificity_upper"] == pytest.approx(one.loc["specificity", "upper"])
    assert list(r.curve["cutoff"]) == [1, 2, 3, 4, 5]


def test_likelihood_ratio_zero_count_is_undefined():
    lr, lo, hi = likelihood_ratio_ci(10, 10, 0, 20)
    assert np.isnan(hi)
    assert np.isnan(lr) and np.isnan(lo)


def test_compare_auc_matches_brute_force_test():
    rng = np.random.default_rng(4)
    n = 120
    y = rng.integers(0, 2, n)
    a = np.round(y * 1.2 + rng.normal(size=n), 1)
    b = np.round(y * 0.6 + 0.5 * a + rng.normal(size=n), 1)
    c = compare_auc(pd.Series(a, name="A"), pd.Series(b, name="B"), y)
    auc, cov = naive_delong(np.vstack([a[y == 1], b[y == 1]]), np.vstack([a[y == 0], b[y == 0]]))
    var = cov[0, 0] + cov[1, 1] - 2 * cov[0, 1]
    z = (auc[0] - auc[1]) / np.sqrt(var)
    assert c.auc == pytest.approx(tuple(auc), abs=1e-12)
    assert c.z == pytest.approx(z, rel=1e-9)
    assert c.p_value == pytest.approx(2 * stats.norm.sf(abs(z)), rel=1e-9)
    assert c.names == ("A", "B")
    assert "A - B" in repr(c)


def test_compare_auc_bootstrap_and_missing():
    rng = np.random.default_rng(8)
    y = rng.integers(0, 2, 200)
    a = y + rng.normal(size=200)
    b = y * 0.3 + rng.normal(size=200)
    a[0] = np.nan
    c = compare_auc(np.round(a, 1), np.round(b, 1), y, n_boot=300, seed=1)
    assert c.n_excluded == 1
    lo, hi = c.boot_ci_difference
    assert lo < c.difference < hi
    assert hi - lo == pytest.approx(c.ci_difference[1] - c.ci_difference[0], rel=0.35)
