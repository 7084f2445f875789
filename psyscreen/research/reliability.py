"""Reliability of a scale: Cronbach's alpha (with CI), McDonald's omega total, item analysis.

Item values come from the instrument definition: answers are mapped with
:func:`psyscreen.responses.item_values` and reverse keys applied with
:meth:`~psyscreen.responses.ItemValues.keyed` (``min + max - value`` on the
declared response range), so reliability is computed on exactly the values
the scale score sums. Invalid answers (out of range, non-numeric) and missing
codes are missing values here; nothing is imputed.

Missing data (``missing=``):

* ``"complete"`` (default): only rows with every item of the scale answered
  (listwise deletion). ``n_used`` is the number of such rows.
* ``"pairwise"``: each covariance uses the rows where both items are answered
  (pairwise deletion). ``n_used`` is the *smallest* pairwise N, used for the
  analytic intervals (conservative); the item table gives each item's N. A
  pairwise covariance matrix need not be positive semi-definite.

Estimates (all from the item covariance matrix ``S``, k items):

* alpha = k/(k-1) (1 - tr S / 1'S1); alpha if item deleted from the sub-matrix;
  corrected item-total correlation of each item with the sum of the *other* items.
* CI of alpha: ``"feldt"`` (default; Feldt, Woodruff & Salih 1987, formulas 6-7:
  F distribution with n-1 and (n-1)(k-1) df, exact under parallel normal items),
  ``"duhachek"`` (Duhachek & Iacobucci 2004 asymptotic standard error, normal
  theory without the parallel-items assumption), or a seeded bootstrap
  percentile interval (``n_boot > 0``; resampling children).
* omega total: a one-factor model fitted to the item *correlation* matrix by
  ``"minres"`` (least squares on the off-diagonal correlations, the default) or
  ``"ml"`` (maximum likelihood, Joreskog's concentrated form as in R
  ``factanal``). Loadings are rescaled to the raw item metric and
  omega = (sum of loadings)^2 / variance of the raw sum score (observed 1'S1),
  i.e. the share of the variance of the scale score as scored that the common
  factor explains. Its CI is a bootstrap percentile interval (``n_boot > 0``).

Limitations: omega assumes one common factor with uncorrelated errors (use it
only for unidimensional scales); items are treated as continuous (Pearson
correlations, not polychoric); loadings above 1 (Heywood cases) are flagged.

Example:
    >>> import numpy as np, pandas as pd
    >>> from psyscreen.research import reliability
    >>> rng = np.random.default_rng(1)
    >>> f = rng.normal(size=300)
    >>> df = pd.DataFrame({f"gad7_{i}": np.clip(np.round(1 + f + rng.normal(size=300)), 0, 3)
    ...                    for i in range(1, 8)})
    >>> r = reliability(df, "gad7")
    >>> r.n_used, 0.7 < r.alpha < 0.95
    (300, True)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import optimize, stats

from .. import columns as colnames
from ..definitions import Instrument
from ..registry import load_instrument
from ..responses import INVALID, MissingColumnsError, item_values
from ._display import Result
from .intervals import percentile_ci, z_value

__all__ = [
    "ReliabilityResult",
    "alpha_from_cov",
    "fit_one_factor",
    "reliability",
    "reliability_table",
    "scale_items",
]

ALPHA_CI_METHODS = ("feldt", "duhachek", "bootstrap")
OMEGA_METHODS = ("minres", "ml")


# ---------------------------------------------------------------------------
# formulas on a covariance matrix


def alpha_from_cov(s: np.ndarray) -> float:
    """Cronbach's alpha from an item covariance matrix.

    Example:
        >>> import numpy as np
        >>> s = np.array([[10, 6, 6, 6], [6, 11, 6, 6], [6, 6, 12, 6], [6, 6, 6, 13]])
        >>> round(alpha_from_cov(s), 4)
        0.8136
    """
    s = np.asarray(s, dtype=float)
    k = s.shape[0]
    if k < 2:
        return np.nan
    total = s.sum()
    if total <= 0:
        return np.nan
    return float(k / (k - 1) * (1 - np.trace(s) / total))


def _alpha_if_deleted(s: np.ndarray) -> np.ndarray:
    k = s.shape[0]
    out = np.full(k, np.nan)
    if k < 3:
        return out
    for i in range(k):
        keep = np.r_[0:i, i + 1 : k]
        out[i] = alpha_from_cov(s[np.ix_(keep, keep)])
    return out


def _corrected_item_total(s: np.ndarray) -> np.ndarray:
    """Correlation of each item with the sum of the other items, from S."""
    k = s.shape[0]
    out = np.full(k, np.nan)
    for i in range(k):
        keep = np.r_[0:i, i + 1 : k]
        cov = s[i, keep].sum()
        var_rest = s[np.ix_(keep, keep)].sum()
        denom = np.sqrt(s[i, i] * var_rest)
        out[i] = cov / denom if denom > 0 else np.nan
    return out


def feldt_ci(alpha: float, n: int, k: int, conf_level: float = 0.95) -> tuple[float, float]:
    """Feldt, Woodruff & Salih (1987) interval: (1-alpha_hat)/(1-alpha) ~ F(n-1, (n-1)(k-1)).

    Example:
        >>> lo, hi = feldt_ci(0.85, 89, 7)
        >>> round(lo, 3), round(hi, 3)
        (0.797, 0.893)
    """
    if n < 2 or k < 2 or not np.isfinite(alpha):
        return (np.nan, np.nan)
    a = 1 - conf_level
    d1, d2 = n - 1, (n - 1) * (k - 1)
    lo = 1 - (1 - alpha) * stats.f.ppf(1 - a / 2, d1, d2)
    hi = 1 - (1 - alpha) * stats.f.ppf(a / 2, d1, d2)
    return (float(lo), float(hi))


def duhachek_se(s: np.ndarray, n: int) -> float:
    """Asymptotic standard error of alpha (Duhachek & Iacobucci 2004; van Zyl et al. 2000).

    ``Q = 2k^2/((k-1)^2 (1'S1)^3) [ (1'S1)(tr S^2 + (tr S)^2) - 2 tr S (1'S^2 1) ]``,
    ``se = sqrt(Q / n)``.
    """
    s = np.asarray(s, dtype=float)
    k = s.shape[0]
    j = np.ones(k)
    jvj = j @ s @ j
    s2 = s @ s
    q = (2 * k**2 / ((k - 1) ** 2 * jvj**3)) * (
        jvj * (np.trace(s2) + np.trace(s) ** 2) - 2 * np.trace(s) * (j @ s2 @ j)
    )
    return float(np.sqrt(q / n)) if q >= 0 and n > 0 else np.nan


# ---------------------------------------------------------------------------
# one-factor model


@dataclass(frozen=True)
class FactorFit:
    """Standardised one-factor solution: ``loadings`` (sign: positive sum) and ``uniquenesses``."""

    loadings: np.ndarray
    uniquenesses: np.ndarray
    method: str
    converged: bool
    heywood: bool


def fit_one_factor(
    r: np.ndarray, method: str = "minres", start: np.ndarray | None = None
) -> FactorFit:
    """Fit one common factor to a correlation matrix.

    ``"minres"`` minimises the sum of squared off-diagonal residuals
    ``r_ij - l_i l_j`` (Harman's minres / ULS; computed by iterated principal
    axes, whose fixed point is the minres solution, with a Levenberg-Marquardt
    fallback); ``"ml"`` maximises the normal
    likelihood over the uniquenesses (bounded to [0.005, 1]) with loadings
    from the leading eigenvector of ``Psi^-1/2 R Psi^-1/2``. ``start``: starting
    loadings (default: the first principal component), e.g. the full-sample
    solution when refitting bootstrap resamples.

    Example:
        >>> import numpy as np
        >>> lam = np.array([0.8, 0.7, 0.6, 0.5])
        >>> r = np.outer(lam, lam); np.fill_diagonal(r, 1)
        >>> np.round(fit_one_factor(r).loadings, 6).tolist()
        [0.8, 0.7, 0.6, 0.5]
    """
    r = np.asarray(r, dtype=float)
    p = r.shape[0]
    if method not in OMEGA_METHODS:
        raise ValueError(f"method must be one of {OMEGA_METHODS}, not {method!r}")
    if start is not None:
        v = np.asarray(start, dtype=float)
    else:
        vals, vecs = np.linalg.eigh(r)
        v = vecs[:, -1] * np.sqrt(max(vals[-1], 1e-12))
        v = v if v.sum() >= 0 else -v
    if method == "minres":
        # Iterated principal axes: its fixed point satisfies the least-squares
        # (ULS) stationarity condition ((R - I + diag(l^2)) l = |l|^2 l); if it has
        # not converged after 500 steps, Levenberg-Marquardt finishes the job.
        h = np.clip(v**2, 0.0, 1.0)
        ok = False
        m = r.copy()
        lam = v
        for _ in range(500):
            np.fill_diagonal(m, h)
            e, u = np.linalg.eigh(m)
            lam = u[:, -1] * np.sqrt(max(e[-1], 0.0))
            if np.max(np.abs(lam**2 - h)) < 1e-12:
                ok = True
                break
            h = lam**2
        if not ok:
            iu = np.triu_indices(p, 1)
            target = r[iu]

            def resid(x: np.ndarray) -> np.ndarray:
                return target - x[iu[0]] * x[iu[1]]

            def jac(x: np.ndarray) -> np.ndarray:
                jm = np.zeros((iu[0].size, p))
                rows = np.arange(iu[0].size)
                jm[rows, iu[0]] = -x[iu[1]]
                jm[rows, iu[1]] = -x[iu[0]]
                return jm

            fit = optimize.least_squares(resid, lam, jac=jac, method="lm", xtol=1e-12, ftol=1e-12)
            lam, ok = fit.x, bool(fit.success)
    else:

        def loadings(psi: np.ndarray) -> np.ndarray:
            sc = 1 / np.sqrt(psi)
            e, u = np.linalg.eigh(r * np.outer(sc, sc))
            return np.sqrt(psi) * u[:, -1] * np.sqrt(max(e[-1] - 1, 0.0))

        def obj(psi: np.ndarray) -> float:
            sc = 1 / np.sqrt(psi)
            e = np.linalg.eigvalsh(r * np.outer(sc, sc))[:-1]  # all but the largest
            return float(-(np.sum(np.log(e) - e) - 1 + p))

        def grad(psi: np.ndarray) -> np.ndarray:
            # Joreskog (1967): d obj / d psi_i = (lam lam' + Psi - R)_ii / psi_i^2
            lam = loadings(psi)
            return (lam**2 + psi - np.diag(r)) / psi**2

        sol = optimize.minimize(
            obj,
            np.clip(1 - v**2, 0.005, 1.0),
            jac=grad,
            method="TNC",  # no BLAS calls: L-BFGS-B slowed 10x under thread contention
            bounds=[(0.005, 1.0)] * p,
            options={"ftol": 1e-13, "gtol": 1e-10, "xtol": 1e-12, "maxfun": 5000},
        )
        # converged when the projected gradient vanishes (TNC may stop with
        # "linear search failed" exactly at the optimum)
        g = grad(sol.x)
        at_lo, at_hi = sol.x <= 0.005 + 1e-9, sol.x >= 1.0 - 1e-9
        free = np.where(at_lo, np.minimum(g, 0), np.where(at_hi, np.maximum(g, 0), g))
        lam, ok = loadings(sol.x), bool(np.max(np.abs(free)) < 1e-5)
    lam = lam if lam.sum() >= 0 else -lam
    return FactorFit(
        loadings=lam,
        uniquenesses=1 - lam**2,
        method=method,
        converged=ok,
        heywood=bool(np.any(lam**2 >= 1 - 1e-6)),
    )


def _omega(
    s: np.ndarray, method: str, start: np.ndarray | None = None
) -> tuple[float, FactorFit | None]:
    sd = np.sqrt(np.diag(s))
    if np.any(sd <= 0) or s.shape[0] < 3:
        return np.nan, None
    r = s / np.outer(sd, sd)
    fit = fit_one_factor(r, method, start)
    lam_raw = fit.loadings * sd
    return float(lam_raw.sum() ** 2 / s.sum()), fit


# ---------------------------------------------------------------------------
# the analysis


def scale_items(instrument: Instrument, scale: str) -> list[str]:
    """Item ids of a scale; for a composite scale, the items of all its components."""
    s = instrument.scale(scale)
    if not s.is_composite:
        return list(s.items)
    out: list[str] = []
    for c in s.scales:
        out.extend(i for i in scale_items(instrument, c) if i not in out)
    return out


def _cov(x: np.ndarray, missing: str) -> tuple[np.ndarray, np.ndarray]:
    """Covariance matrix and pairwise N (complete: x has no NaN)."""
    if missing == "complete":
        n = x.shape[0]
        return np.cov(x, rowvar=False, ddof=1), np.full((x.shape[1], x.shape[1]), n)
    ok = (~np.isnan(x)).astype(float)
    npair = ok.T @ ok
    cov = pd.DataFrame(x).cov(min_periods=2).to_numpy()
    return cov, npair


@dataclass(repr=False)
class ReliabilityResult(Result):
    """Reliability of one scale. See the module docstring for methods.

    ``items`` is a DataFrame with one row per item: ``reverse`` (reverse-keyed in
    the definition), ``n``, ``mean`` and ``sd`` (keyed values),
    ``item_total_r`` (corrected), ``alpha_if_deleted`` and ``loading``
    (standardised one-factor loading).
    """

    instrument: str
    scale: str
    n_items: int
    n_total: int
    n_used: int
    n_incomplete: int
    n_invalid_cells: int
    missing: str
    conf_level: float
    alpha: float
    alpha_ci: tuple[float, float]
    alpha_ci_method: str
    alpha_se: float
    omega: float
    omega_ci: tuple[float, float] | None
    omega_method: str
    items: pd.DataFrame
    n_boot: int = 0
    seed: int | None = None
    boot_alpha_ci: tuple[float, float] | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def title(self) -> str:
        return (
            f"Reliability of {self.instrument}.{self.scale} "
            f"({self.n_items} items, N used = {self.n_used} of {self.n_total})"
        )

    def summary(self) -> pd.DataFrame:
        rows = {
            "alpha": (self.alpha, *self.alpha_ci, self.alpha_ci_method),
        }
        if self.boot_alpha_ci is not None and self.alpha_ci_method != "bootstrap":
            rows["alpha (bootstrap)"] = (self.alpha, *self.boot_alpha_ci, "bootstrap")
        oci = self.omega_ci or (np.nan, np.nan)
        rows["omega_total"] = (
            self.omega,
            *oci,
            "bootstrap" if self.omega_ci is not None else "no CI (set n_boot)",
        )
        return pd.DataFrame.from_dict(
            rows, orient="index", columns=["estimate", "lower", "upper", "ci_method"]
        )

    def extra_tables(self) -> list[tuple[str, pd.DataFrame]]:
        return [("Items (keyed values)", self.items)]

    def method_notes(self) -> list[str]:
        pct = f"{self.conf_level:.0%}"
        miss = (
            f"complete cases: {self.n_used} of {self.n_total} rows have all {self.n_items} "
            f"items answered ({self.n_incomplete} incomplete rows left out)"
            if self.missing == "complete"
            else f"pairwise deletion: smallest pairwise N = {self.n_used} (used for the "
            f"analytic CI); {self.n_total} rows"
        )
        ci = {
            "feldt": f"alpha {pct} CI: Feldt et al. (1987), F({self.n_used - 1}, "
            f"{(self.n_used - 1) * (self.n_items - 1)})",
            "duhachek": f"alpha {pct} CI: Duhachek & Iacobucci (2004) ASE "
            f"(se = {self.alpha_se:.4f}), normal approximation",
            "bootstrap": f"alpha {pct} CI: bootstrap percentile, {self.n_boot} resamples, "
            f"seed {self.seed}",
        }[self.alpha_ci_method]
        out = [
            f"Missing data: {miss}.",
            "Reverse keys applied from the definition (min + max - value).",
            ci,
            f"omega total: one factor fitted by {self.omega_method} to the item correlations; "
            "(sum of raw-metric loadings)^2 / observed variance of the sum score. "
            "Assumes a unidimensional scale; items treated as continuous.",
        ]
        if self.omega_ci is not None:
            out.append(
                f"omega {pct} CI: bootstrap percentile, {self.n_boot} resamples, seed {self.seed}."
            )
        if self.n_invalid_cells:
            out.append(
                f"{self.n_invalid_cells} invalid answer(s) (out of range / non-numeric) "
                "were treated as missing."
            )
        return out + list(self.notes)


def reliability(
    data: pd.DataFrame,
    instrument: str | Instrument,
    scale: str = "total",
    *,
    columns: Mapping[str, str] | None = None,
    missing: str = "complete",
    conf_level: float = 0.95,
    alpha_ci: str = "feldt",
    omega_method: str = "minres",
    n_boot: int = 1000,
    seed: int | None = 0,
) -> ReliabilityResult:
    """Reliability of a scale of an instrument on your data.

    Args:
        data: answers, one row per child, columns = item ids (or see ``columns``).
        instrument: id, path or :class:`~psyscreen.definitions.Instrument`.
        scale: scale id (a composite scale uses the items of its components).
        columns: item id -> column name where they differ.
        missing: ``"complete"`` (listwise, default) or ``"pairwise"``.
        conf_level: confidence level.
        alpha_ci: ``"feldt"`` (default), ``"duhachek"`` or ``"bootstrap"`` (needs n_boot).
        omega_method: ``"minres"`` (default) or ``"ml"``.
        n_boot: bootstrap resamples of children for the omega CI (and a second,
            bootstrap alpha CI); 0 = no bootstrap (omega then has no CI).
        seed: seed of the bootstrap.

    Returns:
        A :class:`ReliabilityResult` (prints as a table in notebooks).
    """
    if missing not in ("complete", "pairwise"):
        raise ValueError("missing must be 'complete' or 'pairwise'")
    if alpha_ci not in ALPHA_CI_METHODS:
        raise ValueError(f"alpha_ci must be one of {ALPHA_CI_METHODS}")
    if alpha_ci == "bootstrap" and n_boot < 1:
        raise ValueError("alpha_ci='bootstrap' needs n_boot > 0")
    if omega_method not in OMEGA_METHODS:
        raise ValueError(f"omega_method must be one of {OMEGA_METHODS}")
    inst = load_instrument(instrument)
    items = scale_items(inst, scale)
    if len(items) < 2:
        raise ValueError(
            f"{colnames.ref(inst.id, scale)} has {len(items)} item(s); reliability needs >= 2"
        )
    colmap = dict(columns or {})
    absent = [i for i in items if colmap.get(i, i) not in data.columns]
    if absent:  # only this scale's columns are needed
        raise MissingColumnsError(inst.id, absent)
    iv = item_values(data, inst, columns=columns, missing_columns="missing")
    keyed = iv.keyed(inst)
    pos = [iv.items.index(i) for i in items]
    x_all = keyed[:, pos]
    n_invalid = int(np.isin(iv.problem[:, pos], INVALID).sum())
    complete = ~np.isnan(x_all).any(axis=1)
    n_total = x_all.shape[0]
    k = len(items)
    x = x_all[complete] if missing == "complete" else x_all[(~np.isnan(x_all)).sum(axis=1) >= 1]
    if x.shape[0] >= 3:
        s, npair = _cov(x, missing)
        n_used = int(npair.min())
    else:
        s, n_used = np.full((k, k), np.nan), int(x.shape[0])
    if n_used < 3 or not np.all(np.isfinite(s)):
        raise ValueError(
            f"{colnames.ref(inst.id, scale)}: too few rows with answers for reliability "
            f"(N used = {n_used} with missing={missing!r})"
        )
    alpha = alpha_from_cov(s)
    se = duhachek_se(s, n_used)
    omega, fit = _omega(s, omega_method)
    boot_alpha_ci: tuple[float, float] | None = None
    omega_ci: tuple[float, float] | None = None
    notes: list[str] = []
    if n_boot:
        rng = np.random.default_rng(seed)
        ba = np.empty(n_boot)
        bo = np.empty(n_boot)
        for b in range(n_boot):
            xb = x[rng.integers(0, x.shape[0], x.shape[0])]
            sb, _ = _cov(xb, missing)
            if not np.all(np.isfinite(sb)):
                ba[b] = bo[b] = np.nan
                continue
            ba[b] = alpha_from_cov(sb)
            bo[b] = _omega(sb, omega_method, None if fit is None else fit.loadings)[0]
        boot_alpha_ci = percentile_ci(ba, conf_level)
        omega_ci = percentile_ci(bo, conf_level)
    if alpha_ci == "feldt":
        ci = feldt_ci(alpha, n_used, k, conf_level)
    elif alpha_ci == "duhachek":
        z = z_value(conf_level)
        ci = (alpha - z * se, alpha + z * se)
    else:
        ci = boot_alpha_ci if boot_alpha_ci is not None else (np.nan, np.nan)
    if fit is not None and fit.heywood:
        notes.append("Heywood case: a standardised loading reached 1; omega is doubtful.")
    if fit is not None and not fit.converged:
        notes.append(f"The {omega_method} factor fit did not report convergence.")
    if missing == "pairwise" and np.linalg.eigvalsh(s).min() < -1e-10:
        notes.append("The pairwise covariance matrix is not positive semi-definite.")
    sd = np.sqrt(np.diag(s))
    table = pd.DataFrame(
        {
            "reverse": [inst.is_reverse(i) for i in items],
            "n": (~np.isnan(x)).sum(axis=0).astype("int64"),
            "mean": np.nanmean(x, axis=0),
            "sd": sd,
            "item_total_r": _corrected_item_total(s),
            "alpha_if_deleted": _alpha_if_deleted(s),
            "loading": fit.loadings if fit is not None else np.nan,
        },
        index=pd.Index(items, name="item"),
    )
    return ReliabilityResult(
        instrument=inst.id,
        scale=scale,
        n_items=k,
        n_total=n_total,
        n_used=n_used,
        n_incomplete=int((~complete).sum()),
        n_invalid_cells=n_invalid,
        missing=missing,
        conf_level=conf_level,
        alpha=float(alpha),
        alpha_ci=(float(ci[0]), float(ci[1])),
        alpha_ci_method=alpha_ci,
        alpha_se=se,
        omega=omega,
        omega_ci=omega_ci,
        omega_method=omega_method,
        items=table,
        n_boot=int(n_boot),
        seed=seed,
        boot_alpha_ci=boot_alpha_ci,
        notes=notes,
    )


def reliability_table(
    data: pd.DataFrame, instrument: str | Instrument, scales: list[str] | None = None, **kwargs: Any
) -> pd.DataFrame:
    """One row per scale (default: every scale with at least 3 items): N used, alpha
    with CI, omega. Keyword arguments go to :func:`reliability`.

    Example:
        >>> import pandas as pd
        >>> df = pd.DataFrame({f"phq9_{i}": [0, 1, 2, 3, 1] for i in range(1, 10)})
        >>> reliability_table(df, "phq9").loc["total", "alpha"]
        np.float64(1.0)
    """
    inst = load_instrument(instrument)
    ids = scales or [s.id for s in inst.scales if len(scale_items(inst, s.id)) >= 3]
    rows = []
    for sid in ids:
        r = reliability(data, inst, sid, **kwargs)
        rows.append(
            {
                "scale": sid,
                "n_items": r.n_items,
                "n_used": r.n_used,
                "alpha": r.alpha,
                "alpha_lower": r.alpha_ci[0],
                "alpha_upper": r.alpha_ci[1],
                "omega_total": r.omega,
                "omega_lower": r.omega_ci[0] if r.omega_ci else np.nan,
                "omega_upper": r.omega_ci[1] if r.omega_ci else np.nan,
            }
        )
    return pd.DataFrame(rows).set_index("scale")
