"""Categorical columns from codes, with their dtypes made once.

Result columns with a fixed vocabulary (statuses, band codes and classes, norm
strata) are built from integer codes. The result is the same categorical as
``pd.Categorical.from_codes(codes, categories)``.

Example:
    >>> import numpy as np
    >>> from_codes(np.array([1, -1, 0]), ["ok", "problems"]).tolist()
    ['problems', nan, 'ok']
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd


def from_codes(codes: np.ndarray, categories: Sequence[Any]) -> pd.Categorical[Any]:
    """``pd.Categorical.from_codes(codes, categories)`` (-1: missing)."""
    out: pd.Categorical[Any] = pd.Categorical.from_codes(
        codes, dtype=pd.CategoricalDtype(list(categories))
    )
    return out


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
