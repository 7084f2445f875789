"""Input checks shared by the research functions: scores, reference standard, direction.

Rows with a missing score or a missing reference are *excluded from the
analysis and counted* (``n_excluded``); every result reports the N it used.
Nothing is imputed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

DIRECTIONS = (">=", ">", "<=", "<")


def check_direction(direction: str) -> str:
    """Validate a cutoff direction: a child is test-positive when ``score <direction> cutoff``."""
    if direction not in DIRECTIONS:
        raise ValueError(
            f"direction must be one of {DIRECTIONS} (positive when score <direction> cutoff), "
            f"not {direction!r}"
        )
    return direction


def higher_is_positive(direction: str) -> bool:
    return check_direction(direction) in (">=", ">")


def as_float(x: Any, what: str) -> np.ndarray:
    """A 1-d float array from a Series / array / list (pandas NA -> NaN)."""
    if isinstance(x, pd.DataFrame):
        raise TypeError(f"{what} must be one column (a Series), not a DataFrame")
    if isinstance(x, pd.Series):
        try:
            return x.to_numpy(dtype="float64", na_value=np.nan)
        except (TypeError, ValueError):
            raise TypeError(f"{what} must be numeric") from None
    arr = np.asarray(x)
    if arr.ndim != 1:
        raise ValueError(f"{what} must be one-dimensional")
    try:
        return arr.astype("float64")
    except (TypeError, ValueError):
        raise TypeError(f"{what} must be numeric") from None


def as_reference(x: Any, positive: Any = None) -> np.ndarray:
    """The reference standard as a float array of 1 (condition present), 0 (absent), NaN.

    Accepts booleans, 0/1 numbers, or any labels with ``positive`` naming the
    label of a case (every other non-missing label is a non-case).
    """
    s = x if isinstance(x, pd.Series) else pd.Series(np.asarray(x, dtype=object))
    missing = s.isna().to_numpy()
    out = np.full(len(s), np.nan)
    if positive is not None:
        obj = s.astype(object).to_numpy()
        hit = np.array([v == positive for v in obj], dtype=bool)
        out[~missing] = hit[~missing].astype(float)
        return out
    try:
        num = pd.to_numeric(s.astype(object).where(~missing, None), errors="raise")
        vals = np.asarray(num, dtype="float64")
    except (TypeError, ValueError):
        raise ValueError(
            "the reference standard must be boolean or coded 0/1; "
            "for other labels pass positive=<label of a case>"
        ) from None
    known = vals[~np.isnan(vals)]
    if known.size and not np.isin(known, (0.0, 1.0)).all():
        n_bad = int((~np.isin(known, (0.0, 1.0))).sum())
        raise ValueError(
            f"the reference standard has {n_bad} value(s) other than 0/1; "
            "pass positive=<label of a case>"
        )
    return vals


@dataclass(frozen=True)
class Sample:
    """Scores split by the reference standard, after excluding incomplete rows."""

    pos: np.ndarray  # scores of cases
    neg: np.ndarray  # scores of non-cases
    n_total: int
    n_excluded: int

    @property
    def n_pos(self) -> int:
        return int(self.pos.size)

    @property
    def n_neg(self) -> int:
        return int(self.neg.size)


def split_sample(
    scores: Any, reference: Any, positive: Any = None, *, need_both: bool = True
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(score, reference, keep-mask) with a length check."""
    s = as_float(scores, "scores")
    r = as_reference(reference, positive)
    if s.shape[0] != r.shape[0]:
        raise ValueError(
            f"scores ({s.shape[0]} rows) and reference ({r.shape[0]}) differ in length"
        )
    keep = ~np.isnan(s) & ~np.isnan(r)
    return s, r, keep


def make_sample(scores: Any, reference: Any, positive: Any = None) -> Sample:
    s, r, keep = split_sample(scores, reference, positive)
    pos = s[keep & (r == 1)]
    neg = s[keep & (r == 0)]
    if pos.size == 0 or neg.size == 0:
        raise ValueError(
            f"need cases and non-cases with a score: found {pos.size} case(s) and "
            f"{neg.size} non-case(s) among {int(keep.sum())} usable rows"
        )
    return Sample(pos=pos, neg=neg, n_total=int(s.size), n_excluded=int((~keep).sum()))


@dataclass(frozen=True)
class Counts:
    """Score distribution of cases and non-cases on the distinct observed values.

    ``values`` are sorted ascending; ``pos``/``neg`` are counts per value,
    shape (K,) or (B, K) for bootstrap replicates.
    """

    values: np.ndarray
    pos: np.ndarray
    neg: np.ndarray

    @classmethod
    def from_sample(cls, sample: Sample) -> Counts:
        values, inv = np.unique(np.concatenate([sample.pos, sample.neg]), return_inverse=True)
        k = values.size
        pos = np.bincount(inv[: sample.n_pos], minlength=k).astype(np.int64)
        neg = np.bincount(inv[sample.n_pos :], minlength=k).astype(np.int64)
        return cls(values=values, pos=pos, neg=neg)

    def classified_positive(self, direction: str) -> tuple[np.ndarray, np.ndarray]:
        """(TP, FP) for the cutoff at each distinct value, shape like ``pos``."""
        check_direction(direction)
        pos, neg = self.pos, self.neg
        if direction == ">=":  # sum over values >= cutoff
            tp = np.flip(np.cumsum(np.flip(pos, -1), -1), -1)
            fp = np.flip(np.cumsum(np.flip(neg, -1), -1), -1)
        elif direction == ">":
            tp = np.flip(np.cumsum(np.flip(pos, -1), -1), -1) - pos
            fp = np.flip(np.cumsum(np.flip(neg, -1), -1), -1) - neg
        elif direction == "<=":
            tp, fp = np.cumsum(pos, -1), np.cumsum(neg, -1)
        else:
            tp, fp = np.cumsum(pos, -1) - pos, np.cumsum(neg, -1) - neg
        return tp, fp


def multinomial_chunks(
    rng: np.random.Generator, n: int, counts: np.ndarray, n_boot: int, max_cells: int = 4_000_000
):
    """Yield (B_chunk, K) resampled counts: ``n`` draws with replacement from a sample
    whose distinct values have frequencies ``counts``.

    Drawing ``n`` of ``n`` observations with replacement puts Multinomial(n, counts / n)
    draws on the distinct values, so this is the ordinary (stratified, when called per
    class) bootstrap, at a cost that depends on the number of distinct values, not on N.
    """
    p = counts / counts.sum()
    step = max(1, max_cells // max(1, counts.size))
    done = 0
    while done < n_boot:
        b = min(step, n_boot - done)
        yield rng.multinomial(n, p, size=b)
        done += b
