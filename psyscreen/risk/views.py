"""Reading a score table for risk evaluation: a scale's band per row, flags and numbers.

Example:
    >>> import pandas as pd
    >>> flags(pd.Series([True, None, False], dtype="boolean"), 3)
    (array([ True, False, False]), array([ True, False,  True]))
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..band_choice import profile_band

if TYPE_CHECKING:
    from collections.abc import Iterable

    from .profile import RiskProfile


@dataclass
class ScaleView:
    """Band class, band code and band source of one scale, per row (object arrays)."""

    ref: str
    klass: np.ndarray  # 'normal' / 'borderline' / 'abnormal' / None
    band: np.ndarray  # band code or None
    source: np.ndarray  # 'instrument' / 'norm' / None
    #: ``klass`` as positions in ``class_names`` (-1: None), for tests by class
    class_code: np.ndarray | None = None
    class_names: tuple[Any, ...] = ()

    def in_class(self, classes: Iterable[str]) -> np.ndarray:
        """Rows whose band class is one of ``classes`` (by codes: no test per cell)."""
        wanted = list(classes)
        if self.class_code is None:
            return np.isin(self.klass, wanted)
        hit = np.array([c in wanted for c in self.class_names] + [False], dtype=bool)
        return np.asarray(hit[self.class_code], dtype=bool)


def _class_codes(
    inst_col: pd.Series | None, norm_col: pd.Series | None, use_norm: np.ndarray, n: int
) -> tuple[tuple[Any, ...], np.ndarray | None]:
    """(class names, per row the position of its class in them or -1) from categoricals.

    ``None`` for the codes when a column is not categorical (then classes are
    tested on the objects).
    """
    names: list[Any] = []
    codes = []
    for col in (inst_col, norm_col):
        if col is None:
            codes.append(np.full(n, -1, dtype=np.int64))
            continue
        if not isinstance(col.dtype, pd.CategoricalDtype):
            return (), None
        pos = []
        for c in col.cat.categories:
            if c not in names:
                names.append(c)
            pos.append(names.index(c))
        own = col.cat.codes.to_numpy()
        lookup = np.array([*pos, -1], dtype=np.int64)
        codes.append(lookup[own])
    return tuple(names), np.where(use_norm, codes[1], codes[0])


def scale_view(scores: pd.DataFrame, profile: RiskProfile, ref: str) -> ScaleView:
    """The band that counts for scale ``ref`` in each row, as the profile's battery says.

    Example:
        >>> import psyscreen
        >>> prof = psyscreen.load_profile("default")
        >>> s = psyscreen.score(pd.DataFrame({f"gad7_{i}": [3] for i in range(1, 8)}), "gad7")
        >>> scale_view(s, prof, "gad7.total").source.tolist()
        ['instrument']
    """
    choice = profile_band(scores, profile, ref)
    inst_col, norm_col = choice.class_columns

    def col(name: str | None) -> pd.Series | None:
        return scores[name] if name is not None and name in scores.columns else None

    names, code = _class_codes(col(inst_col), col(norm_col), choice.use_norm, len(scores))
    return ScaleView(
        ref=ref,
        klass=choice.klass,
        band=choice.band,
        source=choice.source,
        class_code=code,
        class_names=names,
    )


def flags(col: pd.Series | None, n: int) -> tuple[np.ndarray, np.ndarray]:
    """(fired, known) arrays from a nullable boolean column (absent: unknown)."""
    if col is None:
        return np.zeros(n, bool), np.zeros(n, bool)
    known = col.notna().to_numpy()
    fired = col.fillna(False).to_numpy(dtype=bool) & known
    return fired, known


def numbers(col: pd.Series | None, n: int) -> np.ndarray:
    """A column as float64 with NaN for missing or non-numeric values (absent: all NaN)."""
    if col is None:
        return np.full(n, np.nan)
    return pd.to_numeric(col, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
