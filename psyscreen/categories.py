"""Categorical columns from codes, with their dtypes made once.

Result columns with a fixed vocabulary (statuses, band codes and classes, norm
strata) are built from integer codes. ``pd.Categorical.from_codes`` validates
and converts its list of categories on every call; batch runs make the same
few dtypes for every chunk, so :func:`from_codes` keeps them (at most 4,096).
The result is the same categorical as ``pd.Categorical.from_codes(codes, categories)``.

Example:
    >>> import numpy as np
    >>> from_codes(np.array([1, -1, 0]), ["ok", "problems"]).tolist()
    ['problems', nan, 'ok']
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd


@lru_cache(maxsize=4096)
def _dtype(categories: tuple[Any, ...]) -> pd.CategoricalDtype:
    return pd.CategoricalDtype(list(categories))


def from_codes(codes: np.ndarray, categories: Sequence[Any]) -> pd.Categorical:
    """``pd.Categorical.from_codes(codes, categories)`` with a remembered dtype (-1: missing)."""
    return pd.Categorical.from_codes(codes, dtype=_dtype(tuple(categories)))


def from_values(values: np.ndarray, categories: Sequence[Any]) -> pd.Categorical:
    """``pd.Categorical(values, categories)`` for a few categories, by comparisons.

    Values not among ``categories`` (and missing values) become missing.

    Example:
        >>> from_values(np.array(["male", None, "x"], dtype=object), ["female", "male"]).tolist()
        ['male', nan, nan]
    """
    codes = np.full(len(values), -1, dtype=np.int16)
    for k, c in enumerate(categories):
        codes[values == c] = k
    return from_codes(codes, categories)
