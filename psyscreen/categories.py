"""Categorical columns from codes, with their dtypes made once.

Result columns with a fixed vocabulary (statuses, band codes and classes, norm
strata) are built from integer codes. The result is the same categorical as
``pd.Categorical.from_codes(codes, categories)``. Making a categorical dtype costs
about a millisecond (pandas validates the categories), so the dtypes of the closed
vocabularies are made once, here, and the others (band codes, norm strata) are kept in
a :class:`DtypeCache` that the caller owns.

Example:
    >>> import numpy as np
    >>> from_codes(np.array([1, -1, 0]), ["ok", "problems"]).tolist()
    ['problems', nan, 'ok']
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .vocab import BandClass, InstrumentStatus, NormStatus, ScaleStatus, Vocabulary

#: The dtype of each closed vocabulary's column (immutable, made once).
VOCAB_DTYPES: dict[type[Vocabulary], pd.CategoricalDtype] = {
    v: pd.CategoricalDtype(v.names())
    for v in (ScaleStatus, InstrumentStatus, BandClass, NormStatus)
}


@dataclass
class DtypeCache:
    """Categorical dtypes by their categories, made once per cache (at most ``size``;
    past that it starts afresh). Results never depend on it, only the time does."""

    size: int = 4096
    entries: dict[tuple[Any, ...], pd.CategoricalDtype] = field(default_factory=dict)

    def get(self, categories: Sequence[Any]) -> pd.CategoricalDtype:
        """The dtype with these categories, in this order."""
        key = tuple(categories)
        hit = self.entries.get(key)
        if hit is None:
            if len(self.entries) >= self.size:
                self.entries.clear()
            hit = self.entries[key] = pd.CategoricalDtype(list(key))
        return hit


def from_codes(
    codes: np.ndarray,
    categories: Sequence[Any] | pd.CategoricalDtype,
    dtypes: DtypeCache | None = None,
) -> pd.Categorical[Any]:
    """``pd.Categorical.from_codes(codes, categories)`` (-1: missing); ``categories`` may
    be a dtype already, else it is made (or found in ``dtypes``)."""
    if isinstance(categories, pd.CategoricalDtype):
        dtype = categories
    elif dtypes is not None:
        dtype = dtypes.get(categories)
    else:
        dtype = pd.CategoricalDtype(list(categories))
    out: pd.Categorical[Any] = pd.Categorical.from_codes(codes, dtype=dtype)
    return out


def from_values(
    values: np.ndarray, categories: Sequence[Any], dtypes: DtypeCache | None = None
) -> pd.Categorical:
    """``pd.Categorical(values, categories)`` for a few categories, by comparisons.

    Values not among ``categories`` (and missing values) become missing.

    Example:
        >>> from_values(np.array(["male", None, "x"], dtype=object), ["female", "male"]).tolist()
        ['male', nan, nan]
    """
    codes = np.full(len(values), -1, dtype=np.int16)
    for k, c in enumerate(categories):
        codes[values == c] = k
    return from_codes(codes, categories, dtypes)
