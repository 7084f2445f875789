"""Diagnostic accuracy of a score at a cutoff.

* :func:`accuracy` - sensitivity, specificity, PPV, NPV and likelihood ratios with
  confidence intervals at one cutoff, with an explicit direction
  (``">="``: positive when score >= cutoff, ``">"``, ``"<="``, ``"<"``);
* :func:`curve_table` - the same at every distinct observed score (the candidates
  of :mod:`~psyscreen.research.cutpoints` and the points of the ROC curve).

Rows with a missing score or reference are excluded and counted.

Example:
    >>> import numpy as np
    >>> from psyscreen.research import accuracy
    >>> a = accuracy(np.array([1, 5, 12, 15]), np.array([0, 0, 1, 1]), 10)
    >>> (a.tp, a.fp, a.fn, a.tn)
    (2, 0, 0, 2)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..formatting import format_number as _fmt
from ._data import Counts, check_direction, make_sample
from ._display import Result
from .intervals import CI_METHODS, CIMethod, likelihood_ratio_ci, proportion_ci

__all__ = ["DiagnosticAccuracy", "accuracy", "accuracy_at", "curve_table"]


def _counts_at(counts: Counts, cutoff: float, direction: str) -> tuple[int, int, int, int]:
    v = counts.values
    hit = {
        ">=": v >= cutoff,
        ">": v > cutoff,
        "<=": v <= cutoff,
        "<": v < cutoff,
    }[check_direction(direction)]
    tp = int(counts.pos[hit].sum())
    fp = int(counts.neg[hit].sum())
    return tp, fp, int(counts.pos.sum()) - tp, int(counts.neg.sum()) - fp


@dataclass(repr=False)
class DiagnosticAccuracy(Result):
    """Sensitivity, specificity, PPV, NPV, LR+ and LR- at one cutoff, with CIs.

    ``table`` has one row per measure with ``estimate``, ``lower``, ``upper`` and
    the counts it is computed from.
    """

    cutoff: float
    direction: str
    tp: int
    fp: int
    fn: int
    tn: int
    conf_level: float
    ci_method: CIMethod
    n_excluded: int = 0
    prevalence: float | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def title(self) -> str:
        return (
            f"Accuracy at cutoff: positive when score {self.direction} {_fmt(self.cutoff)} "
            f"({self.tp + self.fn} cases, {self.fp + self.tn} non-cases)"
        )

    def _prop(self, k: int, n: int) -> tuple[float, float, float]:
        lo, hi = proportion_ci(k, n, self.conf_level, self.ci_method)
        return (k / n if n else np.nan, float(lo), float(hi))

    def summary(self) -> pd.DataFrame:
        tp, fp, fn, tn = self.tp, self.fp, self.fn, self.tn
        rows = {
            "sensitivity": (*self._prop(tp, tp + fn), f"{tp}/{tp + fn}"),
            "specificity": (*self._prop(tn, tn + fp), f"{tn}/{tn + fp}"),
            "ppv": (*self._prop(tp, tp + fp), f"{tp}/{tp + fp}"),
            "npv": (*self._prop(tn, tn + fn), f"{tn}/{tn + fn}"),
            "accuracy": (*self._prop(tp + tn, tp + tn + fp + fn), f"{tp + tn}/{tp + tn + fp + fn}"),
        }
        lrp = likelihood_ratio_ci(tp, tp + fn, fp, fp + tn, self.conf_level)
        lrn = likelihood_ratio_ci(fn, tp + fn, tn, fp + tn, self.conf_level)
        rows["lr_positive"] = (float(lrp[0]), float(lrp[1]), float(lrp[2]), "sens / (1 - spec)")
        rows["lr_negative"] = (float(lrn[0]), float(lrn[1]), float(lrn[2]), "(1 - sens) / spec")
        if self.prevalence is not None:
            se = tp / (tp + fn) if tp + fn else np.nan
            sp = tn / (tn + fp) if tn + fp else np.nan
            p = self.prevalence
            rows["ppv_at_prevalence"] = (
                se * p / (se * p + (1 - sp) * (1 - p)),
                np.nan,
                np.nan,
                f"prevalence {p:g}",
            )
            rows["npv_at_prevalence"] = (
                sp * (1 - p) / (sp * (1 - p) + (1 - se) * p),
                np.nan,
                np.nan,
                f"prevalence {p:g}",
            )
        return pd.DataFrame.from_dict(
            rows, orient="index", columns=["estimate", "lower", "upper", "from"]
        )

    def method_notes(self) -> list[str]:
        pct = f"{self.conf_level:.0%}"
        out = [
            f"{pct} CIs: {self.ci_method} interval for proportions; log method "
            "(Simel et al. 1991) for likelihood ratios.",
            "PPV/NPV use the prevalence of this sample (valid for a cross-sectional sample).",
        ]
        if self.prevalence is not None:
            out.append(
                "ppv/npv_at_prevalence: Bayes' theorem at the given prevalence "
                "(point estimate only)."
            )
        if self.n_excluded:
            out.append(f"{self.n_excluded} row(s) without score or reference were excluded.")
        return out + list(self.notes)

    def as_dict(self) -> dict[str, float]:
        """Flat dict: ``sensitivity``, ``sensitivity_lower``, ... (for tables of cutoffs)."""
        out: dict[str, float] = {}
        for name, row in self.summary().iterrows():
            out[str(name)] = row["estimate"]
            out[f"{name}_lower"] = row["lower"]
            out[f"{name}_upper"] = row["upper"]
        return out


def accuracy(
    scores: Any,
    reference: Any,
    cutoff: float,
    *,
    direction: str = ">=",
    positive: Any = None,
    conf_level: float = 0.95,
    ci_method: CIMethod = "wilson",
    prevalence: float | None = None,
) -> DiagnosticAccuracy:
    """Sensitivity, specificity, PPV, NPV (and LRs) of a cutoff, with confidence intervals.

    Args:
        scores: scale scores (Series or array); NaN = no score (excluded, counted).
        reference: reference standard (True/1 = condition present); NaN excluded.
        cutoff: the cutoff value.
        direction: a child is test-positive when ``score <direction> cutoff``;
            ``">="`` (default), ``">"``, ``"<="`` or ``"<"``.
        positive: label of a case when ``reference`` is not boolean/0-1.
        conf_level: confidence level of the intervals.
        ci_method: ``"wilson"`` (default) or ``"clopper-pearson"``.
        prevalence: optionally, a population prevalence for PPV/NPV by Bayes' theorem.

    Example:
        >>> import pandas as pd
        >>> a = accuracy(pd.Series([1, 5, 12, 15]), pd.Series([0, 0, 1, 1]), 10)
        >>> a.summary().loc["sensitivity", "estimate"]
        np.float64(1.0)
    """
    if ci_method not in CI_METHODS:
        raise ValueError(f"ci_method must be one of {CI_METHODS}")
    sample = make_sample(scores, reference, positive)
    counts = Counts.from_sample(sample)
    return accuracy_at(
        counts, float(cutoff), direction, conf_level, ci_method, sample.n_excluded, prevalence
    )


def accuracy_at(
    counts: Counts,
    cutoff: float,
    direction: str,
    conf_level: float,
    ci_method: CIMethod,
    n_excluded: int,
    prevalence: float | None = None,
) -> DiagnosticAccuracy:
    """:class:`DiagnosticAccuracy` at ``cutoff`` from precomputed per-score counts."""
    tp, fp, fn, tn = _counts_at(counts, cutoff, direction)
    return DiagnosticAccuracy(
        cutoff=cutoff,
        direction=direction,
        tp=tp,
        fp=fp,
        fn=fn,
        tn=tn,
        conf_level=conf_level,
        ci_method=ci_method,
        n_excluded=n_excluded,
        prevalence=prevalence,
    )


def curve_table(
    counts: Counts, direction: str, conf_level: float = 0.95, ci_method: CIMethod = "wilson"
) -> pd.DataFrame:
    """Accuracy at every distinct observed score used as cutoff (one row per cutoff)."""
    tp, fp = counts.classified_positive(direction)
    p, n = int(counts.pos.sum()), int(counts.neg.sum())
    tn = n - fp
    sens_lo, sens_hi = proportion_ci(tp, p, conf_level, ci_method)
    spec_lo, spec_hi = proportion_ci(tn, n, conf_level, ci_method)
    sens, spec = tp / p, tn / n
    return pd.DataFrame(
        {
            "cutoff": counts.values,
            "tp": tp,
            "fp": fp,
            "fn": p - tp,
            "tn": tn,
            "sensitivity": sens,
            "sensitivity_lower": sens_lo,
            "sensitivity_upper": sens_hi,
            "specificity": spec,
            "specificity_lower": spec_lo,
            "specificity_upper": spec_hi,
            "youden": sens + spec - 1,
        }
    )
