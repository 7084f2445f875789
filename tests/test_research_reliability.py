"""Reliability checked against published values and independent computations in this file."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from psyscreen import load_instrument
from psyscreen.research import reliability, reliability_table
from psyscreen.research.reliability import (
    _alpha_if_deleted,
    _omega,
    alpha_from_cov,
    duhachek_se,
    feldt_ci,
    fit_one_factor,
    scale_items,
)

SDQ_CONDUCT = ["stantrum", "sobeys", "sfights", "slies", "ssteals"]  # sobeys reverse-keyed


def synthetic_sdq(n: int = 400, seed: int = 0) -> pd.DataFrame:
    """Clearly synthetic SDQ self-report answers (0-2) from one latent trait per scale."""
    inst = load_instrument("sdq_s")
    rng = np.random.default_rng(seed)
    out = {}
    for s in inst.scales:
        if s.is_composite:
            continue
        f = rng.normal(size=n)
        for item in s.items:
            sign = -1 if inst.is_reverse(item) else 1
            out[item] = np.digitize(sign * f + rng.normal(size=n), [-0.5, 0.8])
    return pd.DataFrame(out)


def variance_formula_alpha(x: np.ndarray) -> float:
    k = x.shape[1]
    return k / (k - 1) * (1 - x.var(axis=0, ddof=1).sum() / x.sum(axis=1).var(ddof=1))


def covariance_form_alpha(x: np.ndarray) -> float:
    """alpha = k c / (v + (k - 1) c): mean inter-item covariance c, mean variance v."""
    s = np.cov(x, rowvar=False)
    k = s.shape[0]
    v = np.diag(s).mean()
    c = (s.sum() - np.trace(s)) / (k * (k - 1))
    return k * c / (v + (k - 1) * c)


def test_alpha_published_covariance_example():
    # StatsBase.jl documentation of cronbachalpha (covariance matrix example):
    # alpha 0.8136; if item 1..4 dropped: 0.7500, 0.7606, 0.7714, 0.7826.
    s = np.array([[10, 6, 6, 6], [6, 11, 6, 6], [6, 6, 12, 6], [6, 6, 6, 13]], dtype=float)
    assert round(alpha_from_cov(s), 4) == 0.8136
    assert np.round(_alpha_if_deleted(s), 4).tolist() == [0.75, 0.7606, 0.7714, 0.7826]


def test_feldt_interval_published_example():
    # statpsych ci.cronbach(.05, .85, 7, 89): LL 0.7971254, UL 0.8931436 (Feldt 1965,
    # denominator df n(k-1)); we use Feldt et al. (1987) df (n-1)(k-1): same to 3 decimals.
    lo, hi = feldt_ci(0.85, 89, 7)
    assert lo == pytest.approx(0.7971254, abs=1e-3)
    assert hi == pytest.approx(0.8931436, abs=1e-3)
    assert lo < 0.85 < hi


def test_duhachek_se_equals_normal_theory_delta_method():
    """Independent route: Var(alpha) = 2 tr(G S G S) / n, G = d alpha / d S."""
    rng = np.random.default_rng(2)
    a = rng.normal(size=(6, 6))
    s = a @ a.T + 6 * np.eye(6)
    k, n = 6, 250
    t, u = np.trace(s), s.sum()
    g = k / (k - 1) * (-np.eye(k) / u + t / u**2 * np.ones((k, k)))
    var = 2 * np.trace(g @ s @ g @ s) / n
    assert duhachek_se(s, n) == pytest.approx(np.sqrt(var), rel=1e-10)


@pytest.mark.parametrize("method", ["minres", "ml"])
def test_omega_recovers_population_one_factor_model(method):
    lam = np.array([0.9, 0.7, 1.2, 0.5, 0.8])  # raw-metric loadings
    theta = np.array([0.5, 0.8, 0.6, 0.9, 0.4])
    sigma = np.outer(lam, lam) + np.diag(theta)
    omega, fit = _omega(sigma, method)
    expected = lam.sum() ** 2 / (lam.sum() ** 2 + theta.sum())  # McDonald (1999)
    assert omega == pytest.approx(expected, abs=1e-6)
    sd = np.sqrt(np.diag(sigma))
    np.testing.assert_allclose(fit.loadings, lam / sd, atol=1e-5)
    assert not fit.heywood


def test_omega_at_least_alpha_for_congeneric_items():
    lam = np.array([0.3, 0.6, 0.9, 1.2])
    sigma = np.outer(lam, lam) + np.diag([0.7, 0.7, 0.7, 0.7])
    assert _omega(sigma, "minres")[0] > alpha_from_cov(sigma)
    # tau-equivalent items: omega == alpha
    sigma = np.full((4, 4), 0.5) + np.diag([0.4, 0.6, 0.5, 0.3])
    assert _omega(sigma, "minres")[0] == pytest.approx(alpha_from_cov(sigma), abs=1e-6)


def test_heywood_case_is_flagged():
    r = np.array([[1, 0.95, 0.9], [0.95, 1, 0.99], [0.9, 0.99, 1]])
    fit = fit_one_factor(r, "minres")
    assert fit.heywood


def test_reliability_applies_reverse_keys_from_the_definition():
    df = synthetic_sdq()
    r = reliability(df, "sdq_s", "conduct", n_boot=0)
    x = df[SDQ_CONDUCT].to_numpy(dtype=float)
    keyed = x.copy()
    keyed[:, 1] = 2 - keyed[:, 1]  # sobeys reversed by hand on the 0-2 range
    assert r.alpha == pytest.approx(variance_formula_alpha(keyed), abs=1e-12)
    assert r.alpha == pytest.approx(covariance_form_alpha(keyed), abs=1e-12)
    assert r.alpha > variance_formula_alpha(x) + 0.05  # unkeyed would be clearly lower
    assert r.items.loc["sobeys", "reverse"]
    for j, item in enumerate(SDQ_CONDUCT):
        others = np.delete(keyed, j, axis=1).sum(axis=1)
        assert r.items.loc[item, "item_total_r"] == pytest.approx(
            np.corrcoef(keyed[:, j], others)[0, 1], abs=1e-12
        )
        assert r.items.loc[item, "alpha_if_deleted"] == pytest.approx(
            variance_formula_alpha(np.delete(keyed, j, axis=1)), abs=1e-12
        )
        assert r.items.loc[item, "mean"] == pytest.approx(keyed[:, j].mean())
    lo, hi = feldt_ci(r.alpha, 400, 5)
    assert r.alpha_ci == pytest.approx((lo, hi))


def test_composite_scale_uses_all_component_items():
    inst = load_instrument("sdq_s")
    items = scale_items(inst, "total")
    assert len(items) == 20 and "sconsid" not in items
    r = reliability(synthetic_sdq(), inst, "total", n_boot=0)
    assert r.n_items == 20


def test_complete_cases_and_pairwise_report_n():
    df = synthetic_sdq(300, seed=1)[SDQ_CONDUCT].astype("float64")
    df.iloc[0, 0] = np.nan
    df.iloc[1, 2] = np.nan
    df.iloc[2, 2] = 7  # out of range: invalid, treated as missing and counted
    r = reliability(df, "sdq_s", "conduct", n_boot=0)
    assert (r.n_total, r.n_used, r.n_incomplete, r.n_invalid_cells) == (300, 297, 3, 1)
    assert "297 of 300" in repr(r)
    p = reliability(df, "sdq_s", "conduct", missing="pairwise", n_boot=0)
    assert p.n_used == 297  # smallest pairwise N: stantrum x sfights
    assert p.items.loc["sfights", "n"] == 298
    # pairwise covariance of stantrum and sfights by hand
    keyed = df[SDQ_CONDUCT].to_numpy(dtype=float).copy()
    keyed[2, 2] = np.nan
    keyed[:, 1] = 2 - keyed[:, 1]
    both = ~np.isnan(keyed[:, 0]) & ~np.isnan(keyed[:, 2])
    c = np.cov(keyed[both, 0], keyed[both, 2])[0, 1]
    sd0 = np.nanstd(keyed[:, 0], ddof=1)
    sd2 = np.nanstd(keyed[:, 2], ddof=1)
    assert p.items.loc["stantrum", "sd"] == pytest.approx(sd0)
    assert p.items.loc["sfights", "sd"] == pytest.approx(sd2)
    assert c != 0
    assert "pairwise deletion" in repr(p)


def test_ci_methods_and_bootstrap_seed():
    df = synthetic_sdq(250, seed=3)
    d = reliability(df, "sdq_s", "emotion", alpha_ci="duhachek", n_boot=0)
    z = stats.norm.ppf(0.975)
    assert d.alpha_ci[0] == pytest.approx(d.alpha - z * d.alpha_se)
    b1 = reliability(df, "sdq_s", "emotion", alpha_ci="bootstrap", n_boot=200, seed=9)
    b2 = reliability(df, "sdq_s", "emotion", alpha_ci="bootstrap", n_boot=200, seed=9)
    assert b1.alpha_ci == b2.alpha_ci
    assert b1.alpha_ci[0] < b1.alpha < b1.alpha_ci[1]
    assert b1.omega_ci[0] < b1.omega < b1.omega_ci[1]
    html = b1._repr_html_()
    assert "omega_total" in html and "Items (keyed values)" in html
    with pytest.raises(ValueError, match="n_boot"):
        reliability(df, "sdq_s", "emotion", alpha_ci="bootstrap", n_boot=0)


def test_reliability_table_and_errors():
    df = synthetic_sdq(200, seed=4)
    t = reliability_table(df, "sdq_s", n_boot=0)
    assert {"emotion", "conduct", "hyper", "peer", "prosocial", "total"} <= set(t.index)
    assert (t["alpha_lower"] < t["alpha"]).all()
    with pytest.raises(KeyError):
        reliability(df, "sdq_s", "nope")
    empty = df.copy()
    empty[SDQ_CONDUCT] = np.nan
    with pytest.raises(ValueError, match="too few rows"):
        reliability(empty, "sdq_s", "conduct")


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10_000), st.integers(5, 60), st.integers(2, 6))
def test_alpha_forms_agree_on_random_data(seed, n, k):
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 4, size=(n, k)).astype(float)
    s = np.cov(x, rowvar=False)
    if s.sum() <= 0 or np.any(np.diag(s) == 0):
        return
    assert alpha_from_cov(s) == pytest.approx(variance_formula_alpha(x), abs=1e-9)
    assert alpha_from_cov(s) == pytest.approx(covariance_form_alpha(x), abs=1e-9)
