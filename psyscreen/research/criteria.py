"""What makes a cutoff optimal, and choosing it in a sample and in bootstrap resamples.

:class:`Criterion` states the criterion (Youden, a minimum specificity or
sensitivity, or expected cost; see :mod:`~psyscreen.research.cutpoints` for the
definitions and the tie rules); :func:`select` finds the optimal candidate per
row of counts (the sample, or each bootstrap resample at once) and
:func:`boot_cutoffs` the cutoffs chosen in seeded stratified resamples.

Example:
    >>> Criterion("youden").describe()
    'maximum Youden index (sensitivity + specificity - 1)'
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._data import Counts, Sample, multinomial_chunks

__all__ = ["METHODS", "Criterion", "boot_cutoffs", "select"]

METHODS = ("youden", "min_specificity", "min_sensitivity", "cost")
_TOL = 1e-12


@dataclass(frozen=True)
class Criterion:
    """What makes a cutoff optimal (see the module docstring).

    Example:
        >>> Criterion("min_specificity", min_specificity=0.8).describe()
        'highest sensitivity with specificity >= 0.8'
    """

    method: str = "youden"
    min_specificity: float | None = None
    min_sensitivity: float | None = None
    cost_fn: float = 1.0
    cost_fp: float = 1.0
    prevalence: float | None = None

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ValueError(f"method must be one of {METHODS}, not {self.method!r}")
        if self.method == "min_specificity" and self.min_specificity is None:
            raise ValueError("method 'min_specificity' needs min_specificity=")
        if self.method == "min_sensitivity" and self.min_sensitivity is None:
            raise ValueError("method 'min_sensitivity' needs min_sensitivity=")
        for v in (self.min_specificity, self.min_sensitivity, self.prevalence):
            if v is not None and not 0 <= v <= 1:
                raise ValueError("specificity, sensitivity and prevalence lie in [0, 1]")
        if self.cost_fn < 0 or self.cost_fp < 0:
            raise ValueError("costs must be >= 0")

    @classmethod
    def of(cls, spec: Criterion | str | Mapping[str, Any]) -> Criterion:
        if isinstance(spec, Criterion):
            return spec
        if isinstance(spec, str):
            return cls(spec)
        return cls(**dict(spec))

    def describe(self) -> str:
        if self.method == "youden":
            return "maximum Youden index (sensitivity + specificity - 1)"
        if self.method == "min_specificity":
            return f"highest sensitivity with specificity >= {self.min_specificity:g}"
        if self.method == "min_sensitivity":
            return f"highest specificity with sensitivity >= {self.min_sensitivity:g}"
        prev = "sample prevalence" if self.prevalence is None else f"prevalence {self.prevalence:g}"
        return (
            f"minimum expected cost (false negative {self.cost_fn:g}, "
            f"false positive {self.cost_fp:g}, {prev})"
        )

    def objective(self, sens: np.ndarray, spec: np.ndarray, prevalence: float):
        """(primary, secondary, feasible) arrays; higher is better."""
        feasible = np.ones(sens.shape, dtype=bool)
        if self.method == "youden":
            return sens + spec - 1, sens, feasible
        if self.method == "min_specificity" and self.min_specificity is not None:
            return sens, spec, spec >= self.min_specificity - _TOL
        if self.method == "min_sensitivity" and self.min_sensitivity is not None:
            return spec, sens, sens >= self.min_sensitivity - _TOL
        if self.method != "cost":  # a constrained method without its bound: __post_init__ refuses
            raise ValueError(f"method {self.method!r} needs its bound")
        p = prevalence if self.prevalence is None else self.prevalence
        cost = self.cost_fn * p * (1 - sens) + self.cost_fp * (1 - p) * (1 - spec)
        return -cost, sens, feasible


def select(
    counts: Counts, direction: str, crit: Criterion, n_pos: int, n_neg: int
) -> tuple[np.ndarray, np.ndarray]:
    """Index of the optimal cutoff (per bootstrap row), -1 where none is feasible;
    and the criterion value there."""
    tp, fp = counts.classified_positive(direction)
    sens = tp / n_pos
    spec = 1 - fp / n_neg
    primary, secondary, feasible = crit.objective(sens, spec, n_pos / (n_pos + n_neg))
    feasible = feasible & ((counts.pos + counts.neg) > 0)
    prim = np.where(feasible, primary, -np.inf)
    best = prim.max(axis=-1, keepdims=True)
    tie = feasible & (prim >= best - 1e-12)
    sec = np.where(tie, secondary, -np.inf)
    idx = np.argmax(sec, axis=-1)
    none = ~feasible.any(axis=-1)
    idx = np.where(none, -1, idx)
    value = np.where(none, np.nan, np.take_along_axis(prim, np.expand_dims(idx, -1), -1)[..., 0])
    if crit.method == "cost":
        value = -value
    return idx, value


def boot_cutoffs(
    sample: Sample,
    counts: Counts,
    direction: str,
    crits: Sequence[Criterion],
    n_boot: int,
    seed: int | None,
) -> list[np.ndarray]:
    """Bootstrap cutoffs (values, NaN if infeasible) for each criterion, same resamples."""
    rng = np.random.default_rng(seed)
    out: list[list[np.ndarray]] = [[] for _ in crits]
    for bp, bn in zip(
        multinomial_chunks(rng, sample.n_pos, counts.pos, n_boot),
        multinomial_chunks(rng, sample.n_neg, counts.neg, n_boot),
    ):
        rc = Counts(values=counts.values, pos=bp, neg=bn)
        for j, c in enumerate(crits):
            idx, _ = select(rc, direction, c, sample.n_pos, sample.n_neg)
            vals = np.where(idx >= 0, counts.values[np.maximum(idx, 0)], np.nan)
            out[j].append(vals)
    return [np.concatenate(o) for o in out]
