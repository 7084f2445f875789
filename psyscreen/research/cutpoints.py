"""Optimal cutpoints with bootstrap confidence intervals, per subgroup and for bands.

Candidate cutoffs are the distinct observed scores; with ``direction=">="`` a
cutoff ``c`` calls a child positive when ``score >= c`` (``">"``, ``"<="``,
``"<"`` likewise). Criteria (:class:`Criterion`):

* ``"youden"``: maximise sensitivity + specificity - 1 (Youden 1950);
* ``"min_specificity"``: the highest sensitivity among cutoffs with
  specificity >= ``min_specificity``;
* ``"min_sensitivity"``: the highest specificity among cutoffs with
  sensitivity >= ``min_sensitivity``;
* ``"cost"``: minimise the expected misclassification cost
  ``cost_fn * p * (1 - sens) + cost_fp * (1 - p) * (1 - spec)`` with ``p`` the
  given ``prevalence`` (default: the sample prevalence).

Ties on the criterion are broken by the higher sensitivity (then, for the
constrained criteria, the higher specificity or sensitivity respectively):
in screening, a missed case costs more than a second look.

The cutpoint's confidence interval is a seeded stratified bootstrap
percentile interval: cases and non-cases are resampled separately, the
criterion is re-optimised in each resample over the scores present in that
resample, and the interval is taken on the observed-value scale
(``numpy.quantile(method="inverted_cdf")``). Sensitivity and specificity *at*
an optimised cutoff, estimated on the same data, are optimistic; confirm them
in an independent sample.

Example:
    >>> import numpy as np
    >>> from psyscreen.research import cutpoint
    >>> y = np.r_[np.zeros(6), np.ones(4)]
    >>> cutpoint(np.array([0, 1, 2, 3, 4, 5, 5, 6, 7, 8]), y, n_boot=0).cutoff
    5.0
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..errors import UnknownIdError
from ._data import (
    Counts,
    Sample,
    check_direction,
    higher_is_positive,
    make_sample,
    split_sample,
)
from ._display import Result
from .criteria import Criterion, boot_cutoffs, select
from .intervals import CI_METHODS, CIMethod, normal_ci, percentile_ci
from .roc import DiagnosticAccuracy, accuracy_at, curve_table, delong

__all__ = [
    "BandCutpoints",
    "Criterion",
    "CutpointResult",
    "GroupCutpoints",
    "age_band",
    "band_cutpoints",
    "cutpoint",
    "cutpoints_by_group",
]


@dataclass(repr=False)
class CutpointResult(Result):
    """An optimal cutoff with its bootstrap CI and the accuracy there.

    Attributes:
        cutoff: the cutoff (NaN when no candidate meets the criterion).
        direction: positive when ``score <direction> cutoff``.
        ci: bootstrap percentile interval of the cutoff.
        accuracy: :class:`~psyscreen.research.roc.DiagnosticAccuracy` at the cutoff.
        candidates: every candidate cutoff with sensitivity, specificity (CIs) and
            the criterion value.
        boot_cutoffs: the cutoff chosen in each bootstrap resample (NaN: none feasible).
    """

    cutoff: float
    direction: str
    criterion: Criterion
    criterion_value: float
    ci: tuple[float, float]
    accuracy: DiagnosticAccuracy | None
    candidates: pd.DataFrame
    auc: float
    auc_ci: tuple[float, float]
    n_pos: int
    n_neg: int
    n_excluded: int
    conf_level: float
    n_boot: int
    seed: int | None
    boot_cutoffs: np.ndarray | None = None
    name: str = "score"
    notes: list[str] = field(default_factory=list)

    @property
    def title(self) -> str:
        c = "none" if np.isnan(self.cutoff) else f"{self.direction} {_fmt(self.cutoff)}"
        return (
            f"Cutpoint for {self.name}: positive when score {c} "
            f"({self.n_pos} cases, {self.n_neg} non-cases)"
        )

    def summary(self) -> pd.DataFrame:
        rows: dict[str, tuple[Any, ...]] = {
            "cutoff": (self.cutoff, *self.ci),
            "criterion": (self.criterion_value, np.nan, np.nan),
        }
        if self.accuracy is not None:
            acc = self.accuracy.summary()
            for m in ("sensitivity", "specificity", "ppv", "npv"):
                rows[m] = tuple(acc.loc[m, ["estimate", "lower", "upper"]])
        rows["auc"] = (self.auc, *self.auc_ci)
        return pd.DataFrame.from_dict(rows, orient="index", columns=["estimate", "lower", "upper"])

    def method_notes(self) -> list[str]:
        pct = f"{self.conf_level:.0%}"
        out = [f"Criterion: {self.criterion.describe()}; ties go to the higher sensitivity."]
        if self.n_boot:
            n_inf = int(np.isnan(self.boot_cutoffs).sum()) if self.boot_cutoffs is not None else 0
            out.append(
                f"Cutoff {pct} CI: percentile of {self.n_boot} stratified bootstrap resamples "
                f"(seed {self.seed})"
                + (f"; {n_inf} resample(s) had no feasible cutoff." if n_inf else ".")
            )
        else:
            out.append("No bootstrap (n_boot=0): the cutoff has no CI.")
        if self.accuracy is not None:
            out.append(
                f"Sensitivity/specificity/PPV/NPV: {self.accuracy.ci_method} {pct} CIs; "
                "optimistic when the cutoff was chosen on the same data."
            )
        out.append(f"AUC: DeLong {pct} CI.")
        if self.n_excluded:
            out.append(f"{self.n_excluded} row(s) without score or reference were excluded.")
        return out + list(self.notes)

    def bootstrap_table(self) -> pd.DataFrame:
        """Share of bootstrap resamples choosing each cutoff."""
        if self.boot_cutoffs is None:
            return pd.DataFrame(columns=["share"])
        s = pd.Series(self.boot_cutoffs).value_counts(normalize=True, dropna=False).sort_index()
        return s.rename("share").rename_axis("cutoff").to_frame()

    def to_bandset(self, instrument: Any, scale: str, **kwargs: Any):
        """This cutoff as a two-band :class:`~psyscreen.definitions.BandSet` of ``scale``.

        See :func:`psyscreen.research.writeback.bandset_from_cutoffs` for the arguments
        (``id``, ``source``, ``codes``, ``classifications``, ``labels``, ``note``).
        """
        from .writeback import bandset_from_cutoffs

        kwargs.setdefault("note", self._provenance())
        return bandset_from_cutoffs(instrument, scale, [self.cutoff], self.direction, **kwargs)

    def _provenance(self) -> str:
        ci = (
            ""
            if np.isnan(self.ci[0])
            else f", {self.conf_level:.0%} CI {_fmt(self.ci[0])}-{_fmt(self.ci[1])}"
        )
        return (
            f"Cutoff {self.direction} {_fmt(self.cutoff)} ({self.criterion.describe()}{ci}) "
            f"from a local ROC analysis of {self.n_pos} cases and {self.n_neg} non-cases; "
            "psyscreen.research.cutpoint."
        )


def _fmt(x: float) -> str:
    if not np.isfinite(x):
        return "nan"
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


def _auc(sample: Sample, direction: str, conf_level: float) -> tuple[float, tuple[float, float]]:
    sign = 1.0 if higher_is_positive(direction) else -1.0
    auc, cov = delong(sign * sample.pos, sign * sample.neg)
    se = float(np.sqrt(cov[0, 0])) if np.isfinite(cov[0, 0]) else np.nan
    return float(auc[0]), normal_ci(float(auc[0]), se, conf_level)


def _cutpoint_from_sample(
    sample: Sample,
    crit: Criterion,
    direction: str,
    conf_level: float,
    ci_method: CIMethod,
    n_boot: int,
    seed: int | None,
    name: str,
    boot: np.ndarray | None = None,
) -> CutpointResult:
    counts = Counts.from_sample(sample)
    idx, value = select(counts, direction, crit, sample.n_pos, sample.n_neg)
    i = int(idx)
    cutoff = float(counts.values[i]) if i >= 0 else np.nan
    cand = curve_table(counts, direction, conf_level, ci_method)
    tp, fp = counts.classified_positive(direction)
    prim, _, feas = crit.objective(
        tp / sample.n_pos, 1 - fp / sample.n_neg, sample.n_pos / (sample.n_pos + sample.n_neg)
    )
    cand["criterion"] = np.where(feas, -prim if crit.method == "cost" else prim, np.nan)
    if boot is None and n_boot:
        boot = boot_cutoffs(sample, counts, direction, [crit], n_boot, seed)[0]
    notes = []
    if i < 0:
        notes.append("No candidate cutoff meets the criterion.")
    auc, auc_ci = _auc(sample, direction, conf_level)
    return CutpointResult(
        cutoff=cutoff,
        direction=direction,
        criterion=crit,
        criterion_value=float(value),
        ci=percentile_ci(boot, conf_level, method="inverted_cdf")
        if boot is not None
        else (np.nan, np.nan),
        accuracy=None
        if i < 0
        else accuracy_at(counts, cutoff, direction, conf_level, ci_method, sample.n_excluded),
        candidates=cand,
        auc=auc,
        auc_ci=auc_ci,
        n_pos=sample.n_pos,
        n_neg=sample.n_neg,
        n_excluded=sample.n_excluded,
        conf_level=conf_level,
        n_boot=int(n_boot),
        seed=seed,
        boot_cutoffs=boot,
        name=name,
        notes=notes,
    )


def cutpoint(
    scores: Any,
    reference: Any,
    method: str | Criterion = "youden",
    *,
    direction: str = ">=",
    positive: Any = None,
    min_specificity: float | None = None,
    min_sensitivity: float | None = None,
    cost_fn: float = 1.0,
    cost_fp: float = 1.0,
    prevalence: float | None = None,
    conf_level: float = 0.95,
    ci_method: CIMethod = "wilson",
    n_boot: int = 1000,
    seed: int | None = 0,
    name: str | None = None,
) -> CutpointResult:
    """The optimal cutoff of ``scores`` against ``reference``, with a bootstrap CI.

    Args:
        scores: scale scores (Series/array); rows with NaN are excluded and counted.
        reference: reference standard (True/1 = case), or labels with ``positive``.
        method: ``"youden"``, ``"min_specificity"``, ``"min_sensitivity"``, ``"cost"``
            or a :class:`Criterion`.
        direction: positive when ``score <direction> cutoff`` (``">="`` default).
        min_specificity, min_sensitivity, cost_fn, cost_fp, prevalence: criterion
            parameters.
        conf_level, ci_method: intervals (``"wilson"`` or ``"clopper-pearson"``).
        n_boot, seed: stratified bootstrap for the cutoff CI (0 = none).

    Example:
        >>> import numpy as np
        >>> y = np.r_[np.zeros(6), np.ones(4)]
        >>> s = np.array([0, 1, 2, 3, 4, 5, 5, 6, 7, 8])
        >>> cutpoint(s, y, "min_sensitivity", min_sensitivity=1.0, n_boot=0).cutoff
        5.0
    """
    check_direction(direction)
    if ci_method not in CI_METHODS:
        raise ValueError(f"ci_method must be one of {CI_METHODS}")
    crit = (
        method
        if isinstance(method, Criterion)
        else Criterion(
            method,
            min_specificity=min_specificity,
            min_sensitivity=min_sensitivity,
            cost_fn=cost_fn,
            cost_fp=cost_fp,
            prevalence=prevalence,
        )
    )
    sample = make_sample(scores, reference, positive)
    label = name or (scores.name if isinstance(scores, pd.Series) and scores.name else "score")
    return _cutpoint_from_sample(
        sample, crit, direction, conf_level, ci_method, n_boot, seed, str(label)
    )


# ---------------------------------------------------------------------------
# several cutpoints for bands


@dataclass(repr=False)
class BandCutpoints(Result):
    """Several cutpoints, one per band edge, ordered from the least to the most severe band.

    ``bands`` names the bands: ``bands[0]`` lies below the first cutoff (for
    ``>=``), ``bands[i]`` starts at cutoff ``i``.
    """

    bands: list[str]
    results: list[CutpointResult]
    direction: str

    @property
    def cutoffs(self) -> list[float]:
        return [r.cutoff for r in self.results]

    @property
    def title(self) -> str:
        return f"Band cutpoints ({' / '.join(self.bands)}), direction {self.direction!r}"

    def summary(self) -> pd.DataFrame:
        rows = []
        for band, r in zip(self.bands[1:], self.results):
            acc = r.accuracy.summary() if r.accuracy is not None else None
            rows.append(
                {
                    "band": band,
                    "criterion": r.criterion.describe(),
                    "cutoff": r.cutoff,
                    "cutoff_lower": r.ci[0],
                    "cutoff_upper": r.ci[1],
                    "sensitivity": acc.loc["sensitivity", "estimate"]
                    if acc is not None
                    else np.nan,
                    "specificity": acc.loc["specificity", "estimate"]
                    if acc is not None
                    else np.nan,
                }
            )
        return pd.DataFrame(rows).set_index("band")

    def method_notes(self) -> list[str]:
        r = self.results[0]
        out = [
            f"Each cutoff: bootstrap CI from the same {r.n_boot} stratified resamples "
            f"(seed {r.seed}); {r.n_pos} cases, {r.n_neg} non-cases."
        ]
        c = self.cutoffs
        ok = all(np.isfinite(c))
        inc = higher_is_positive(self.direction)
        if ok and not all((a < b) if inc else (a > b) for a, b in itertools.pairwise(c)):
            out.append("WARNING: the cutoffs do not increase in severity; they cannot form bands.")
        return out

    def to_bandset(self, instrument: Any, scale: str, **kwargs: Any):
        """These cutoffs as a :class:`~psyscreen.definitions.BandSet` (codes = band names)."""
        from .writeback import bandset_from_cutoffs

        kwargs.setdefault("codes", self.bands)
        kwargs.setdefault(
            "note",
            "Cutoffs "
            + ", ".join(
                f"{b}: {self.direction} {_fmt(c)}" for b, c in zip(self.bands[1:], self.cutoffs)
            )
            + f" from a local ROC analysis of {self.results[0].n_pos} cases and "
            f"{self.results[0].n_neg} non-cases; psyscreen.research.band_cutpoints.",
        )
        return bandset_from_cutoffs(instrument, scale, self.cutoffs, self.direction, **kwargs)


def band_cutpoints(
    scores: Any,
    reference: Any,
    criteria: Mapping[str, Criterion | str | Mapping[str, Any]],
    *,
    lowest: str = "normal",
    direction: str = ">=",
    positive: Any = None,
    conf_level: float = 0.95,
    ci_method: CIMethod = "wilson",
    n_boot: int = 1000,
    seed: int | None = 0,
) -> BandCutpoints:
    """Several cutpoints for bands, e.g. a sensitive *borderline* and a specific *abnormal* edge.

    Args:
        criteria: band name -> criterion of the cutoff where that band starts, in
            order of increasing severity, e.g.
            ``{"borderline": {"method": "min_sensitivity", "min_sensitivity": 0.9},
            "abnormal": "youden"}``.
        lowest: name of the band below the first cutoff.

    Example:
        >>> import numpy as np
        >>> s = np.array([0, 1, 2, 3, 4, 5, 5, 6, 7, 8]); y = np.r_[np.zeros(6), np.ones(4)]
        >>> b = band_cutpoints(s, y, {"borderline": {"method": "min_sensitivity",
        ...     "min_sensitivity": 1.0}, "abnormal": {"method": "min_specificity",
        ...     "min_specificity": 1.0}}, n_boot=0)
        >>> b.cutoffs
        [5.0, 6.0]
    """
    check_direction(direction)
    crits = [Criterion.of(c) for c in criteria.values()]
    sample = make_sample(scores, reference, positive)
    counts = Counts.from_sample(sample)
    boots = (
        boot_cutoffs(sample, counts, direction, crits, n_boot, seed)
        if n_boot
        else [None] * len(crits)
    )
    label = scores.name if isinstance(scores, pd.Series) and scores.name else "score"
    results = [
        _cutpoint_from_sample(
            sample, c, direction, conf_level, ci_method, n_boot, seed, str(label), boot=b
        )
        for c, b in zip(crits, boots)
    ]
    return BandCutpoints(bands=[lowest, *criteria.keys()], results=results, direction=direction)


# ---------------------------------------------------------------------------
# subgroups


def age_band(age: Any, edges: Sequence[float]) -> pd.Series:
    """Age bands ``[edge_i, edge_i+1)`` (lower bound inclusive, upper exclusive).

    Ages outside every band (or missing) get <NA>, never the nearest band.

    Example:
        >>> age_band([6.0, 8.99, 9.0, 18.0], [6, 9, 12]).tolist()
        ['[6, 9)', '[6, 9)', '[9, 12)', nan]
    """
    e = list(edges)
    if any(b <= a for a, b in itertools.pairwise(e)):
        raise ValueError("edges must increase")
    labels = [f"[{_fmt(a)}, {_fmt(b)})" for a, b in itertools.pairwise(e)]
    a = pd.Series(age) if not isinstance(age, pd.Series) else age
    num = pd.to_numeric(a, errors="coerce")
    return pd.cut(num, bins=e, right=False, labels=labels)


@dataclass(repr=False)
class GroupCutpoints(Result):
    """Cutpoints per subgroup: ``table`` has one row per group (and ``all``)."""

    by: list[str]
    table: pd.DataFrame
    results: dict[Any, CutpointResult | None]
    criterion: Criterion
    direction: str
    n_boot: int
    seed: int | None
    min_group: int

    @property
    def title(self) -> str:
        return f"Cutpoints by {' x '.join(self.by)}: {self.criterion.describe()}"

    def summary(self) -> pd.DataFrame:
        return self.table

    def method_notes(self) -> list[str]:
        return [
            f"Positive when score {self.direction} cutoff. Cutoff CIs: {self.n_boot} stratified "
            f"bootstrap resamples per group (seed {self.seed}).",
            f"Groups with fewer than {self.min_group} cases or non-cases are reported without a "
            "cutoff (see 'note'); rows with a missing group are counted under 'excluded'.",
        ]


def cutpoints_by_group(
    data: pd.DataFrame,
    score: str,
    reference: str,
    by: str | Sequence[str],
    method: str | Criterion = "youden",
    *,
    direction: str = ">=",
    positive: Any = None,
    min_group: int = 10,
    conf_level: float = 0.95,
    ci_method: CIMethod = "wilson",
    n_boot: int = 1000,
    seed: int | None = 0,
    **criterion: Any,
) -> GroupCutpoints:
    """The optimal cutoff within each subgroup (e.g. age band x sex) and overall.

    Args:
        data: one row per child.
        score, reference: column names of the scale score and the reference standard.
        by: grouping column(s), e.g. ``["age_band", "sex"]`` (see :func:`age_band`).
        method, criterion keywords: as in :func:`cutpoint`.
        min_group: groups with fewer cases or non-cases than this get no cutoff.

    Example:
        >>> import numpy as np, pandas as pd
        >>> df = pd.DataFrame({"s": np.tile(np.arange(10), 4), "y": np.tile([0]*6 + [1]*4, 4),
        ...                    "sex": np.repeat(["F", "M"], 20)})
        >>> cutpoints_by_group(df, "s", "y", "sex", n_boot=0, min_group=5).table["cutoff"].tolist()
        [6.0, 6.0, 6.0]
    """
    check_direction(direction)
    crit = method if isinstance(method, Criterion) else Criterion(method, **criterion)
    cols = [by] if isinstance(by, str) else list(by)
    for c in [score, reference, *cols]:
        if c not in data.columns:
            raise UnknownIdError(f"no column {c!r} in the data", "column", c)
    keys = data[cols]
    group_ok = keys.notna().all(axis=1).to_numpy()
    results: dict[Any, CutpointResult | None] = {}
    rows = []

    def one(label: Any, mask: np.ndarray, values: dict[str, Any]) -> None:
        sub = data.loc[mask]
        row: dict[str, Any] = dict(values)
        _, rv, keep = split_sample(sub[score], sub[reference], positive)
        n_pos = int((keep & (rv == 1)).sum())
        n_neg = int((keep & (rv == 0)).sum())
        sample = make_sample(sub[score], sub[reference], positive) if n_pos and n_neg else None
        row.update(n=int(mask.sum()), n_pos=n_pos, n_neg=n_neg)
        if sample is None or n_pos < min_group or n_neg < min_group:
            results[label] = None
            row.update(cutoff=np.nan, note=f"fewer than {min_group} cases or non-cases")
            rows.append(row)
            return
        r = _cutpoint_from_sample(
            sample, crit, direction, conf_level, ci_method, n_boot, seed, str(score)
        )
        results[label] = r
        acc = r.accuracy.summary() if r.accuracy is not None else None
        row.update(
            cutoff=r.cutoff,
            cutoff_lower=r.ci[0],
            cutoff_upper=r.ci[1],
            sensitivity=acc.loc["sensitivity", "estimate"] if acc is not None else np.nan,
            sensitivity_lower=acc.loc["sensitivity", "lower"] if acc is not None else np.nan,
            sensitivity_upper=acc.loc["sensitivity", "upper"] if acc is not None else np.nan,
            specificity=acc.loc["specificity", "estimate"] if acc is not None else np.nan,
            specificity_lower=acc.loc["specificity", "lower"] if acc is not None else np.nan,
            specificity_upper=acc.loc["specificity", "upper"] if acc is not None else np.nan,
            auc=r.auc,
            auc_lower=r.auc_ci[0],
            auc_upper=r.auc_ci[1],
            note="; ".join(r.notes),
        )
        rows.append(row)

    grouped = data.loc[group_ok].groupby(cols, observed=True, sort=True, dropna=True)
    for key, idx in grouped.indices.items():
        key_t = key if isinstance(key, tuple) else (key,)
        mask = np.zeros(len(data), dtype=bool)
        mask[np.flatnonzero(group_ok)[idx]] = True
        one(key_t, mask, dict(zip(cols, key_t)))
    one("all", np.ones(len(data), dtype=bool), {c: "all" for c in cols})
    table = pd.DataFrame(rows)
    table["excluded_no_group"] = 0
    table.loc[table.index[-1], "excluded_no_group"] = int((~group_ok).sum())
    return GroupCutpoints(
        by=cols,
        table=table.set_index(cols),
        results=results,
        criterion=crit,
        direction=direction,
        n_boot=int(n_boot),
        seed=seed,
        min_group=min_group,
    )
