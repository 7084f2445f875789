"""Turning answer columns into scored item values, flagging bad values.

Each item column is mapped, row by row and independently of other rows, to
the value its response scale declares. Blank cells and declared missing codes
are missing; anything else that is not a declared code (out of range,
fractional, non-numeric text) is *invalid*: it is flagged for that row and
item and then treated as missing. Nothing here ever turns a missing answer
into 0.

Example:
    >>> import pandas as pd
    >>> from psyscreen import load_instrument
    >>> from psyscreen.responses import item_values
    >>> v = item_values(pd.DataFrame({"gad7_1": [0, 3, 7, None]}), load_instrument("gad7"),
    ...                 missing_columns="missing")
    >>> v.values[:, 0].tolist()[:2], v.problem[:, 0].tolist()
    ([0.0, 3.0], [0, 0, 3, 1])
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .definitions import Instrument, ResponseScale
from .errors import MissingColumnsError
from .vocab import DATA_ERRORS, CellProblem

BLANK, MISSING_CODE = CellProblem.BLANK, CellProblem.MISSING_CODE
OUT_OF_RANGE, NON_NUMERIC, NO_COLUMN = (
    CellProblem.OUT_OF_RANGE,
    CellProblem.NON_NUMERIC,
    CellProblem.NO_COLUMN,
)
#: Problem code -> name (``CellProblem(code).text``).
PROBLEM_NAMES = {int(p): p.text for p in CellProblem}
#: Deprecated alias of :data:`psyscreen.vocab.DATA_ERRORS` (one release).
INVALID = DATA_ERRORS


@dataclass
class ResponseCache:
    """Item values of the distinct answers of categorical columns, per response scale.

    Batch chunks repeat the same few answer texts in every column, so each set of
    categories is mapped once per response scale. The caller (a pipeline or a batch
    plan) owns the cache and passes it in; it holds at most ``size`` sets, the oldest
    going first. Results never depend on it, only the time does.
    """

    size: int = 2048
    entries: OrderedDict[Any, tuple[ResponseScale, np.ndarray, np.ndarray]] = field(
        default_factory=OrderedDict
    )


@dataclass(frozen=True)
class ItemValues:
    """Scored item values of one instrument for a batch of rows.

    ``values`` (n_rows x n_items, float) holds the value of each answer after
    code mapping, before reverse keying; NaN where missing or invalid.
    ``problem`` holds a problem code per cell (see ``PROBLEM_NAMES``).
    """

    items: list[str]
    values: np.ndarray
    problem: np.ndarray

    def keyed(self, instrument: Instrument) -> np.ndarray:
        """Values with reverse keys applied: ``min + max - value`` from the declared scale."""
        out = self.values.copy()
        for j, item_id in enumerate(self.items):
            if instrument.is_reverse(item_id):
                rs = instrument.response_scales[instrument.item(item_id).response_scale]
                out[:, j] = reverse(out[:, j], rs)
        return out


def reverse(values: np.ndarray, rs: ResponseScale) -> np.ndarray:
    """Reverse-key values on the declared range of ``rs`` (NaN stays NaN).

    Example:
        >>> import numpy as np
        >>> from psyscreen.definitions import ResponseScale
        >>> reverse(np.array([0.0, 1.0, 2.0, np.nan]), ResponseScale(min=0, max=2)).tolist()
        [2.0, 1.0, 0.0, nan]
    """
    return (rs.min + rs.max) - np.asarray(values, dtype=float)


def _column_values(
    col: pd.Series, rs: ResponseScale, cache: ResponseCache | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Map one answer column to (values, problem codes)."""
    if isinstance(col.dtype, pd.CategoricalDtype):
        # map each distinct answer once, then broadcast by code (same rules, far faster)
        cat_value, cat_problem = _category_values(col.cat.categories, rs, cache)
        codes = col.cat.codes.to_numpy()
        known = codes >= 0
        if not len(cat_value):  # no answer at all in this column
            return np.full(len(col), np.nan), np.full(len(col), BLANK, dtype=np.int8)
        value = np.where(known, cat_value[codes], np.nan)
        problem = np.where(known, cat_problem[codes], BLANK).astype(np.int8)
        return value, problem
    n = len(col)
    problem = np.zeros(n, dtype=np.int8)
    str_codes = {str(c.code).strip(): c for c in rs.codes}
    str_missing = {str(m).strip() for m in rs.missing_codes}
    if _not_a_number_dtype(col.dtype):
        # True/False or complex values are no answer codes, whatever the container
        blank = col.isna().to_numpy()
        problem = np.where(blank, BLANK, NON_NUMERIC).astype(np.int8)
        return np.full(n, np.nan), problem
    if pd.api.types.is_numeric_dtype(col.dtype):
        num = col.to_numpy(dtype="float64", na_value=np.nan)
        blank = np.isnan(num)
        text = None
    else:
        obj = col.astype("object")
        isna = obj.isna().to_numpy()
        text = obj.where(~isna, "").astype(str).str.strip()
        # bools and complex numbers in a text column read as text, never as 1/0
        odd = np.array([isinstance(v, (bool, np.bool_, complex, np.complexfloating))
                        for v in obj.to_numpy()], dtype=bool)  # fmt: skip
        if odd.any():
            text = text.mask(odd, "\x00not-a-code")
        blank = isna | (text == "").to_numpy()
        num = pd.to_numeric(text.where(~blank, None), errors="coerce").to_numpy(dtype="float64")
    value = np.full(n, np.nan)
    problem[blank] = BLANK
    # plain codes min..max scored as themselves
    in_range = (~blank) & (num >= rs.min) & (num <= rs.max) & (np.floor(num) == num)
    value[in_range] = num[in_range]
    handled = blank | in_range
    # extra codes and missing codes, numeric or text
    for key, c in str_codes.items():
        hit = _matches(key, num, text) & ~handled
        if c.value is None:
            problem[hit] = MISSING_CODE
        else:
            value[hit] = c.value
        handled |= hit
    for key in str_missing:
        hit = _matches(key, num, text) & ~handled
        problem[hit] = MISSING_CODE
        handled |= hit
    rest = ~handled
    problem[rest & ~np.isnan(num)] = OUT_OF_RANGE
    problem[rest & np.isnan(num)] = NON_NUMERIC
    return value, problem


def _not_a_number_dtype(dtype) -> bool:
    """Bool and complex dtypes: numbers to numpy, but never answer codes.

    Example:
        >>> import numpy as np
        >>> [_not_a_number_dtype(np.dtype(t)) for t in ("bool", "complex128", "int64")]
        [True, True, False]
    """
    return pd.api.types.is_bool_dtype(dtype) or pd.api.types.is_complex_dtype(dtype)


def _category_values(
    categories: pd.Index, rs: ResponseScale, cache: ResponseCache | None
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_column_values` of the distinct answers of a categorical, remembered in
    ``cache`` (response scales are frozen models, so a result stays right while ``rs``
    lives, which the entry checks by identity). The arrays returned are read-only."""
    key = (id(rs), str(categories.dtype), tuple(categories.tolist()))
    if cache is not None:
        hit = cache.entries.get(key)
        if hit is not None and hit[0] is rs:
            cache.entries.move_to_end(key)
            return hit[1], hit[2]
    value, problem = _column_values(pd.Series(categories), rs)
    value.setflags(write=False)
    problem.setflags(write=False)
    if cache is not None:
        cache.entries[key] = (rs, value, problem)
        while len(cache.entries) > cache.size:
            cache.entries.popitem(last=False)
    return value, problem


def _matches(key: str, num: np.ndarray, text: pd.Series | None) -> np.ndarray:
    try:
        k = float(key)
    except ValueError:
        k = None
    hit = np.zeros(len(num), dtype=bool) if k is None else (num == k)
    if text is not None:
        hit |= (text == key).to_numpy()
    return hit


def item_values(
    data: pd.DataFrame,
    instrument: Instrument,
    *,
    columns: Mapping[str, str] | None = None,
    missing_columns: str = "error",
    cache: ResponseCache | None = None,
) -> ItemValues:
    """Scored values of every item of ``instrument`` in ``data``.

    ``columns`` maps item id -> data column where they differ. Absent columns
    raise :class:`MissingColumnsError` unless ``missing_columns='missing'``,
    which scores them as unanswered (problem code ``no_column``). ``cache`` remembers
    the values of categorical answers across calls (see :class:`ResponseCache`).
    """
    if missing_columns not in ("error", "missing"):
        raise ValueError("missing_columns must be 'error' or 'missing'")
    columns = dict(columns or {})
    names = [columns.get(i, i) for i in instrument.item_ids]
    absent = [i for i, c in zip(instrument.item_ids, names) if c not in data.columns]
    if absent and missing_columns == "error":
        raise MissingColumnsError(instrument.id, absent)
    n, k = len(data), len(names)
    values = np.full((n, k), np.nan)
    problem = np.full((n, k), NO_COLUMN, dtype=np.int8)
    for j, (item_id, col) in enumerate(zip(instrument.item_ids, names)):
        if col not in data.columns:
            continue
        series = data[col]
        if isinstance(series, pd.DataFrame):
            raise ValueError(f"{instrument.id}: column {col!r} appears more than once in the data")
        rs = instrument.response_scales[instrument.item(item_id).response_scale]
        values[:, j], problem[:, j] = _column_values(series, rs, cache)
    return ItemValues(items=list(instrument.item_ids), values=values, problem=problem)
