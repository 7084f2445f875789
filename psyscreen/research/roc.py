"""ROC analysis of a score against a reference standard.

* :func:`delong` - AUC and its DeLong et al. (1988) covariance for one or more
  scores on the same children, with the fast midrank algorithm of Sun & Xu
  (2014): O(N log N) time and O(N) memory, exact with ties, correct at
  millions of rows (no N x N matrix is ever formed).
* :func:`roc` - the empirical ROC curve, AUC with a DeLong confidence interval
  (normal approximation on the AUC scale, truncated to [0, 1], as in pROC) and a
  seeded stratified bootstrap percentile interval, plus a bootstrap confidence
  band for sensitivity at fixed specificities.
* :func:`accuracy` (from :mod:`~psyscreen.research.accuracy`, also importable
  from here) - sensitivity, specificity, PPV, NPV, likelihood ratios with
  confidence intervals at one cutoff.
* :func:`compare_auc` - paired comparison of two scales' AUCs on the same
  children (DeLong test; optional paired stratified bootstrap).

Rows with a missing score or reference are excluded and counted. The AUC counts
a tie between a case and a non-case as one half (Mann-Whitney).

Example:
    >>> import numpy as np
    >>> from psyscreen.research import roc
    >>> normal = np.repeat([1, 2, 3, 4, 5], [33, 6, 6, 11, 2])   # Hanley & McNeil 1982
    >>> abnormal = np.repeat([1, 2, 3, 4, 5], [3, 2, 2, 11, 33])
    >>> r = roc(np.r_[normal, abnormal], np.r_[np.zeros(58), np.ones(51)], n_boot=0)
    >>> round(r.auc, 3)
    0.893
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from ._data import (
    Counts,
    Sample,
    as_float,
    as_reference,
    check_direction,
    higher_is_positive,
    make_sample,
    multinomial_chunks,
)
from ._display import Result
from .accuracy import DiagnosticAccuracy, accuracy, accuracy_at, curve_table
from .intervals import CI_METHODS, CIMethod, normal_ci, percentile_ci, percentile_limits

__all__ = [
    "AUCComparison",
    "DiagnosticAccuracy",
    "ROCResult",
    "accuracy",
    "compare_auc",
    "delong",
    "roc",
]


# ---------------------------------------------------------------------------
# DeLong (fast algorithm)


def _midranks(x: np.ndarray) -> np.ndarray:
    """Ranks 1..n with ties given their average rank (O(n log n))."""
    return stats.rankdata(x, method="average")


def delong(pos: np.ndarray, neg: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """AUCs and their DeLong covariance matrix for ``r`` scores on the same children.

    Args:
        pos: scores of the ``m`` cases, shape (m,) or (r, m); higher = more likely a case.
        neg: scores of the ``n`` non-cases, shape (n,) or (r, n).

    Returns:
        ``(auc, cov)`` with ``auc`` of shape (r,) and ``cov`` (r, r), the DeLong
        estimate ``S10 / m + S01 / n`` of the covariance of the AUCs.

    Uses Sun & Xu (2014): the structural components are
    ``V10_i = (Tz_i - Tx_i) / n`` and ``V01_j = 1 - (Tz_j - Ty_j) / m``, where ``Tz``
    are midranks in the pooled sample and ``Tx``/``Ty`` midranks within cases and
    within non-cases. That equals DeLong's definition (mean of
    psi(X_i, Y_j) over the other group, psi = 1, 1/2, 0 for >, =, <).

    Example:
        >>> import numpy as np
        >>> auc, cov = delong(np.array([2.0, 3.0, 3.0]), np.array([1.0, 3.0]))
        >>> round(float(auc[0]), 4)  # (1 + 0 + 1 + 1/2 + 1 + 1/2) / 6
        0.6667
    """
    x = np.atleast_2d(np.asarray(pos, dtype=float))
    y = np.atleast_2d(np.asarray(neg, dtype=float))
    if x.shape[0] != y.shape[0]:
        raise ValueError("pos and neg must hold the same number of scores")
    m, n = x.shape[1], y.shape[1]
    if m == 0 or n == 0:
        raise ValueError("need at least one case and one non-case")
    r = x.shape[0]
    v10 = np.empty((r, m))
    v01 = np.empty((r, n))
    for k in range(r):
        tz = _midranks(np.concatenate([x[k], y[k]]))
        tx = _midranks(x[k])
        ty = _midranks(y[k])
        v10[k] = (tz[:m] - tx) / n
        v01[k] = 1.0 - (tz[m:] - ty) / m
    auc = v10.mean(axis=1)
    if m > 1 and n > 1:
        s10 = np.atleast_2d(np.cov(v10, ddof=1))
        s01 = np.atleast_2d(np.cov(v01, ddof=1))
        cov = s10 / m + s01 / n
    else:
        cov = np.full((r, r), np.nan)
    return auc, cov


def _auc_from_counts(pos: np.ndarray, neg: np.ndarray) -> np.ndarray:
    """AUC (higher = case) from counts on sorted distinct values; works row-wise."""
    below = np.cumsum(neg, axis=-1) - neg
    num = (pos * (below + 0.5 * neg)).sum(axis=-1)
    return num / (pos.sum(axis=-1) * neg.sum(axis=-1))


# ---------------------------------------------------------------------------
# ROC


@dataclass(repr=False)
class ROCResult(Result):
    """AUC with DeLong and bootstrap intervals, the ROC curve and a confidence band.

    Attributes:
        auc, se: area under the curve and its DeLong standard error.
        ci: DeLong interval; ``boot_ci`` the bootstrap percentile interval (or None).
        curve: one row per distinct score used as cutoff (see :func:`curve_table`).
        band: bootstrap band of sensitivity at fixed specificities (or None).
    """

    auc: float
    se: float
    ci: tuple[float, float]
    boot_ci: tuple[float, float] | None
    n_pos: int
    n_neg: int
    n_excluded: int
    direction: str
    conf_level: float
    n_boot: int
    seed: int | None
    ci_method: CIMethod
    counts: Counts
    curve: pd.DataFrame
    band: pd.DataFrame | None = None
    boot_auc: np.ndarray | None = None
    name: str = "score"
    notes: list[str] = field(default_factory=list)

    @property
    def title(self) -> str:
        return f"ROC of {self.name} ({self.n_pos} cases, {self.n_neg} non-cases)"

    def summary(self) -> pd.DataFrame:
        rows = [
            {
                "estimate": self.auc,
                "se": self.se,
                "lower": self.ci[0],
                "upper": self.ci[1],
                "method": "DeLong",
            }
        ]
        if self.boot_ci is not None:
            rows.append(
                {
                    "estimate": self.auc,
                    "se": float(np.nanstd(self.boot_auc, ddof=1))
                    if self.boot_auc is not None
                    else np.nan,
                    "lower": self.boot_ci[0],
                    "upper": self.boot_ci[1],
                    "method": f"bootstrap ({self.n_boot}, seed {self.seed})",
                }
            )
        return pd.DataFrame(rows, index=["auc"] * len(rows))

    def method_notes(self) -> list[str]:
        pct = f"{self.conf_level:.0%}"
        side = "higher" if higher_is_positive(self.direction) else "lower"
        out = [
            f"{side} scores indicate the condition (direction {self.direction!r}); "
            "ties between a case and a non-case count 1/2.",
            f"DeLong {pct} CI: normal approximation with the DeLong et al. (1988) variance "
            "(fast algorithm of Sun & Xu 2014), truncated to [0, 1].",
        ]
        if self.boot_ci is not None:
            out.append(
                f"Bootstrap {pct} CI: percentile interval of {self.n_boot} stratified resamples "
                f"(cases and non-cases resampled separately), seed {self.seed}."
            )
        out.append(
            f"Sensitivity/specificity CIs in `curve`: {self.ci_method}, pointwise at each cutoff."
        )
        if self.n_excluded:
            out.append(f"{self.n_excluded} row(s) without score or reference were excluded.")
        return out + list(self.notes)

    def at(self, cutoff: float, *, prevalence: float | None = None) -> DiagnosticAccuracy:
        """Sensitivity, specificity, PPV, NPV with CIs at ``cutoff`` (same direction)."""
        return accuracy_at(
            self.counts,
            float(cutoff),
            self.direction,
            self.conf_level,
            self.ci_method,
            self.n_excluded,
            prevalence,
        )

    def table(self, cutoffs: Any = None) -> pd.DataFrame:
        """Accuracy (with CIs, incl. PPV/NPV) at each of ``cutoffs`` (default: every
        distinct observed score), one row per cutoff."""
        cs = self.counts.values if cutoffs is None else np.asarray(cutoffs, dtype=float)
        rows = []
        for c in cs:
            d = self.at(float(c)).as_dict()
            rows.append({"cutoff": float(c), **d})
        return pd.DataFrame(rows).set_index("cutoff")

    def plot(self, ax: Any = None, **kwargs: Any) -> Any:
        """Plot the ROC curve with its confidence band (needs matplotlib)."""
        from .plots import plot_roc

        return plot_roc(self, ax=ax, **kwargs)


def _oriented(counts: Counts, direction: str) -> tuple[np.ndarray, np.ndarray]:
    """Counts ordered so that the last value is the most 'case-like'."""
    if higher_is_positive(direction):
        return counts.pos, counts.neg
    return np.flip(counts.pos, -1), np.flip(counts.neg, -1)


def roc(
    scores: Any,
    reference: Any,
    *,
    positive: Any = None,
    direction: str = ">=",
    conf_level: float = 0.95,
    n_boot: int = 1000,
    seed: int | None = 0,
    ci_method: CIMethod = "wilson",
    name: str | None = None,
) -> ROCResult:
    """ROC analysis of ``scores`` against ``reference`` with confidence intervals.

    Args:
        scores: scale scores (Series/array); NaN rows are excluded and counted.
        reference: reference standard (True/1 = case); or labels with ``positive``.
        direction: ``">="``/``">"`` when higher scores indicate the condition,
            ``"<="``/``"<"`` when lower scores do (e.g. a well-being scale). Never
            inferred from the data (that would bias the AUC upwards).
        conf_level: confidence level.
        n_boot: stratified bootstrap resamples for the bootstrap AUC interval and
            the sensitivity band (0 = DeLong only).
        seed: seed of the bootstrap (``numpy.random.default_rng(seed)``).
        ci_method: interval of sensitivity/specificity in the curve table.
        name: label of the score in printed output (default: the Series name).

    Example:
        >>> import pandas as pd
        >>> r = roc(pd.Series([1, 2, 3, 4]), pd.Series([0, 0, 1, 1]), n_boot=0)
        >>> r.auc
        1.0
    """
    check_direction(direction)
    if ci_method not in CI_METHODS:
        raise ValueError(f"ci_method must be one of {CI_METHODS}")
    sample = make_sample(scores, reference, positive)
    sign = 1.0 if higher_is_positive(direction) else -1.0
    auc_arr, cov = delong(sign * sample.pos, sign * sample.neg)
    auc = float(auc_arr[0])
    se = float(np.sqrt(cov[0, 0])) if np.isfinite(cov[0, 0]) else np.nan
    counts = Counts.from_sample(sample)
    curve = curve_table(counts, direction, conf_level, ci_method)
    boot_ci = band = boot = None
    if n_boot:
        boot, band = _bootstrap_roc(sample, counts, direction, n_boot, seed, conf_level)
        boot_ci = percentile_ci(boot, conf_level)
    label = name or (scores.name if isinstance(scores, pd.Series) and scores.name else "score")
    return ROCResult(
        auc=auc,
        se=se,
        ci=normal_ci(auc, se, conf_level),
        boot_ci=boot_ci,
        n_pos=sample.n_pos,
        n_neg=sample.n_neg,
        n_excluded=sample.n_excluded,
        direction=direction,
        conf_level=conf_level,
        n_boot=int(n_boot),
        seed=seed,
        ci_method=ci_method,
        counts=counts,
        curve=curve,
        band=band,
        boot_auc=boot,
        name=str(label),
    )


SPEC_GRID = np.linspace(0, 1, 101)


def _bootstrap_roc(
    sample: Sample,
    counts: Counts,
    direction: str,
    n_boot: int,
    seed: int | None,
    conf_level: float,
) -> tuple[np.ndarray, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    aucs = []
    sens_at = []
    for bp, bn in zip(
        multinomial_chunks(rng, sample.n_pos, counts.pos, n_boot),
        multinomial_chunks(rng, sample.n_neg, counts.neg, n_boot),
    ):
        rc = Counts(values=counts.values, pos=bp, neg=bn)
        op, on = _oriented(rc, direction)
        aucs.append(_auc_from_counts(op, on))
        tp, fp = rc.classified_positive(direction)
        sens = tp / sample.n_pos
        spec = 1 - fp / sample.n_neg
        grid = np.empty((bp.shape[0], SPEC_GRID.size))
        for g, s in enumerate(SPEC_GRID):
            grid[:, g] = np.where(spec >= s - 1e-12, sens, 0.0).max(axis=1)
        sens_at.append(grid)
    boot = np.concatenate(aucs)
    sg = np.concatenate(sens_at)
    lo, hi = percentile_limits(sg, conf_level, axis=0)
    band = pd.DataFrame(
        {"specificity": SPEC_GRID, "sensitivity_lower": lo, "sensitivity_upper": hi}
    )
    return boot, band


# ---------------------------------------------------------------------------
# paired comparison


@dataclass(repr=False)
class AUCComparison(Result):
    """Paired comparison of two AUCs on the same children (DeLong test)."""

    names: tuple[str, str]
    auc: tuple[float, float]
    ci: tuple[tuple[float, float], tuple[float, float]]
    difference: float
    se_difference: float
    ci_difference: tuple[float, float]
    z: float
    p_value: float
    correlation: float
    n_pos: int
    n_neg: int
    n_excluded: int
    conf_level: float
    boot_ci_difference: tuple[float, float] | None = None
    n_boot: int = 0
    seed: int | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def title(self) -> str:
        a, b = self.names
        return f"Paired AUC comparison: {a} vs {b} ({self.n_pos} cases, {self.n_neg} non-cases)"

    def summary(self) -> pd.DataFrame:
        a, b = self.names
        rows = {
            f"auc {a}": (self.auc[0], self.ci[0][0], self.ci[0][1], np.nan, np.nan),
            f"auc {b}": (self.auc[1], self.ci[1][0], self.ci[1][1], np.nan, np.nan),
            f"difference ({a} - {b})": (
                self.difference,
                self.ci_difference[0],
                self.ci_difference[1],
                self.z,
                self.p_value,
            ),
        }
        if self.boot_ci_difference is not None:
            rows["difference (bootstrap CI)"] = (
                self.difference,
                *self.boot_ci_difference,
                np.nan,
                np.nan,
            )
        return pd.DataFrame.from_dict(
            rows, orient="index", columns=["estimate", "lower", "upper", "z", "p_value"]
        )

    def method_notes(self) -> list[str]:
        pct = f"{self.conf_level:.0%}"
        out = [
            f"DeLong et al. (1988) paired test; {pct} CIs by normal approximation "
            f"(fast algorithm of Sun & Xu 2014). Correlation of the AUC estimates: "
            f"{self.correlation:.3f}.",
            "Only children with both scores and a reference are used.",
        ]
        if self.boot_ci_difference is not None:
            out.append(
                f"Bootstrap: {self.n_boot} paired stratified resamples, seed {self.seed}, "
                "percentile interval of the difference."
            )
        if self.n_excluded:
            out.append(f"{self.n_excluded} row(s) lacking a score or the reference were excluded.")
        return out + list(self.notes)


def compare_auc(
    scores_a: Any,
    scores_b: Any,
    reference: Any,
    *,
    positive: Any = None,
    direction: str = ">=",
    direction_b: str | None = None,
    conf_level: float = 0.95,
    n_boot: int = 0,
    seed: int | None = 0,
    names: tuple[str, str] | None = None,
) -> AUCComparison:
    """Compare the AUCs of two scores measured on the same children (paired DeLong test).

    Args:
        scores_a, scores_b: the two scores, aligned row by row with ``reference``.
        direction, direction_b: orientation of each score (``direction_b``
            defaults to ``direction``).
        n_boot: paired stratified bootstrap resamples for an extra interval of
            the difference (0 = none).

    Example:
        >>> import numpy as np
        >>> y = np.array([0, 0, 0, 1, 1, 1])
        >>> c = compare_auc([1, 2, 3, 4, 5, 6], [1, 4, 2, 3, 6, 5], y)
        >>> round(c.difference, 3)
        0.111
    """
    check_direction(direction)
    direction_b = check_direction(direction_b or direction)
    a = as_float(scores_a, "scores_a")
    b = as_float(scores_b, "scores_b")
    r = as_reference(reference, positive)
    if not (a.size == b.size == r.size):
        raise ValueError("scores_a, scores_b and reference must have the same length")
    keep = ~np.isnan(a) & ~np.isnan(b) & ~np.isnan(r)
    case = r == 1
    sa = 1.0 if higher_is_positive(direction) else -1.0
    sb = 1.0 if higher_is_positive(direction_b) else -1.0
    pos = np.vstack([sa * a[keep & case], sb * b[keep & case]])
    neg = np.vstack([sa * a[keep & ~case], sb * b[keep & ~case]])
    if pos.shape[1] < 2 or neg.shape[1] < 2:
        raise ValueError("need at least two cases and two non-cases with both scores")
    auc, cov = delong(pos, neg)
    var_d = cov[0, 0] + cov[1, 1] - 2 * cov[0, 1]
    d = float(auc[0] - auc[1])
    se_d = float(np.sqrt(max(var_d, 0.0)))
    z = d / se_d if se_d > 0 else (0.0 if d == 0 else np.inf * np.sign(d))
    p = float(2 * stats.norm.sf(abs(z))) if np.isfinite(z) else 0.0
    corr = (
        float(cov[0, 1] / np.sqrt(cov[0, 0] * cov[1, 1])) if cov[0, 0] * cov[1, 1] > 0 else np.nan
    )
    se = np.sqrt(np.diag(cov))
    if names is None:
        names = (
            str(getattr(scores_a, "name", None) or "a"),
            str(getattr(scores_b, "name", None) or "b"),
        )
    boot_ci = None
    if n_boot:
        boot_ci = percentile_ci(_bootstrap_diff(pos, neg, n_boot, seed), conf_level)
    return AUCComparison(
        names=names,
        auc=(float(auc[0]), float(auc[1])),
        ci=(
            normal_ci(float(auc[0]), float(se[0]), conf_level),
            normal_ci(float(auc[1]), float(se[1]), conf_level),
        ),
        difference=d,
        se_difference=se_d,
        ci_difference=normal_ci(d, se_d, conf_level, -1.0, 1.0),
        z=float(z),
        p_value=p,
        correlation=corr,
        n_pos=int(pos.shape[1]),
        n_neg=int(neg.shape[1]),
        n_excluded=int((~keep).sum()),
        conf_level=conf_level,
        boot_ci_difference=boot_ci,
        n_boot=int(n_boot),
        seed=seed,
    )


def _bootstrap_diff(pos: np.ndarray, neg: np.ndarray, n_boot: int, seed: int | None) -> np.ndarray:
    """Paired stratified bootstrap of AUC_a - AUC_b via resampled (a, b) pair counts."""
    rng = np.random.default_rng(seed)
    va = np.unique(np.concatenate([pos[0], neg[0]]))
    vb = np.unique(np.concatenate([pos[1], neg[1]]))

    def cells(x: np.ndarray):
        ia = np.searchsorted(va, x[0])
        ib = np.searchsorted(vb, x[1])
        key, cnt = np.unique(ia * vb.size + ib, return_counts=True)
        return key // vb.size, key % vb.size, cnt

    pa, pb, pc = cells(pos)
    na, nb, nc = cells(neg)
    out = []
    for bp, bn in zip(
        multinomial_chunks(rng, pos.shape[1], pc, n_boot),
        multinomial_chunks(rng, neg.shape[1], nc, n_boot),
    ):
        res = []
        for ipos, ineg, size in ((pa, na, va.size), (pb, nb, vb.size)):
            cp = np.zeros((bp.shape[0], size))
            cn = np.zeros((bn.shape[0], size))
            # cp[:, ipos] += bp with repeated ipos accumulating (on the transposed views)
            np.add.at(cp.T, ipos, bp.T)
            np.add.at(cn.T, ineg, bn.T)
            res.append(_auc_from_counts(cp, cn))
        out.append(res[0] - res[1])
    return np.concatenate(out)
