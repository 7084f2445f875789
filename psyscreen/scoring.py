"""Vectorised scoring of scales: reverse keys, missing-data rules, bands.

One row in, one row out: the output has the same index as the input and flat
columns named ``"{instrument}.{scale}.{field}"``:

=============  ===============================================================
field          meaning
=============  ===============================================================
raw            the scale score (NaN when the missing-data rule is not met)
n_answered     valid answers among the scale's items (composites: summed)
n_invalid      answers that were out of range or non-numeric (treated as missing)
status         complete / prorated / insufficient / not_answered
band           code of the band from the scale's first band set (empty if no score)
band_class     normal / borderline / abnormal of that band (empty if no score)
band_{set}     the same for any further band set (and band_class_{set})
=============  ===============================================================

and per instrument ``"{instrument}.status"`` (complete / partial / insufficient
/ invalid_response / not_answered), ``"{instrument}.problems"`` (``item:problem``
list for invalid answers), ``"{instrument}.critical.{id}"`` and
``"{instrument}.validity.{id}"`` (True / False / <NA> when it cannot be told).

Every computation is a function of the row alone: no value is ever imputed
from other rows and no range is inferred from the data. This is the scale stage
of the flow: :mod:`psyscreen.pipeline` runs it between item values and norms.

Example:
    >>> import pandas as pd, psyscreen
    >>> df = pd.DataFrame({f"phq9_{i}": [1, 3] for i in range(1, 10)})
    >>> out = psyscreen.score(df, "phq9")
    >>> out["phq9.total.raw"].tolist(), out["phq9.total.band"].tolist()
    ([9.0, 27.0], ['mild', 'severe'])
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from . import columns as colnames
from .bands import BAND_CLASSES, apply_bands
from .categories import VOCAB_DTYPES, DtypeCache, from_codes
from .definitions import Condition, Instrument, Scale
from .masks import condition_mask, interval_mask
from .responses import PROBLEM_NAMES, ItemValues
from .vocab import DATA_ERRORS, InstrumentStatus, ScaleStatus

SCALE_STATUSES = ScaleStatus.names()
INSTRUMENT_STATUSES = InstrumentStatus.names()

__all__ = [
    "BAND_CLASSES",
    "INSTRUMENT_STATUSES",
    "SCALE_STATUSES",
    "age_marked",
    "apply_bands",
    "condition_mask",
    "round_values",
    "scale_columns",
    "score_items",
]

_COMPLETE, _PRORATED = ScaleStatus.COMPLETE.code, ScaleStatus.PRORATED.code
_INSUFFICIENT, _NOT_ANSWERED = ScaleStatus.INSUFFICIENT.code, ScaleStatus.NOT_ANSWERED.code


def age_marked(status: Any, inst: Instrument, ages: np.ndarray | None) -> Any:
    """The instrument status column with ``out_of_age_range`` where the row's known age
    (NaN: unknown, not marked) is outside the instrument's ``age_range``; the scores stay,
    for the record.

    Example:
        >>> from psyscreen import load_instrument
        >>> st = from_codes(np.zeros(3, np.int8), INSTRUMENT_STATUSES)
        >>> list(age_marked(st, load_instrument("sdq_s"), np.array([10.9, 11.0, np.nan])))
        ['out_of_age_range', 'complete', 'complete']
    """
    own = inst.age_range.interval()
    if ages is None or own is None:
        return status
    out = ~np.isnan(ages) & ~interval_mask(ages, own)
    if not out.any():
        return status
    st = np.asarray(pd.Categorical(status).codes).copy()
    st[out] = InstrumentStatus.OUT_OF_AGE_RANGE.code
    return from_codes(st, VOCAB_DTYPES[InstrumentStatus])


# ---------------------------------------------------------------------------
# the core


def score_items(
    iv: ItemValues, inst: Instrument, dtypes: DtypeCache | None = None
) -> dict[str, Any]:
    """Score all scales, critical items and validity checks from item values.

    ``dtypes`` keeps the band columns' dtypes across calls.

    Returns an ordered dict of column name -> array (length n_rows).
    """
    n = iv.values.shape[0]
    keyed = iv.keyed(inst)
    answered = ~np.isnan(keyed)
    invalid = np.isin(iv.problem, DATA_ERRORS)
    pos = {item: j for j, item in enumerate(iv.items)}
    out: dict[str, Any] = {}
    raws: dict[str, np.ndarray] = {}
    statuses: dict[str, np.ndarray] = {}
    n_ans: dict[str, np.ndarray] = {}
    n_inv: dict[str, np.ndarray] = {}
    for s in inst.scales:
        if s.is_composite:
            raw, status, na, ni = _score_composite(s, raws, statuses, n_ans, n_inv)
        else:
            idx = [pos[i] for i in s.items]
            raw, status, na = _score_scale(s, keyed[:, idx], answered[:, idx])
            ni = invalid[:, idx].sum(axis=1)
        # answers were given but none was valid: that is not "not answered"
        status[(na == 0) & (ni > 0)] = _INSUFFICIENT
        raws[s.id], statuses[s.id], n_ans[s.id], n_inv[s.id] = raw, status, na, ni
        out[colnames.scale(inst.id, s.id, "raw")] = raw
        out[colnames.scale(inst.id, s.id, "n_answered")] = na.astype("int64")
        out[colnames.scale(inst.id, s.id, "n_invalid")] = ni.astype("int64")
        out[colnames.scale(inst.id, s.id, "status")] = from_codes(status, VOCAB_DTYPES[ScaleStatus])
        for k, bs in enumerate(s.bands):
            code, klass = apply_bands(raw, bs, dtypes)
            out[colnames.scale(inst.id, s.id, colnames.band_field(k, bs.id))] = code
            out[colnames.scale(inst.id, s.id, colnames.band_field(k, bs.id, "band_class"))] = klass
    crit_cols = {}
    for ci in inst.critical_items:
        idx = [pos[i] for i in ci.items]
        crit_cols[ci.id] = _tri_state(
            iv.values[:, idx], ci.condition, "any" if ci.mode == "any" else "all"
        )
        out[colnames.critical(inst.id, ci.id)] = crit_cols[ci.id]
    flags = []
    for vc in inst.validity_checks:
        col = _validity(vc, inst, iv, keyed, answered, pos, raws)
        out[colnames.validity(inst.id, vc.id)] = col
        flags.append(col.fillna(False).to_numpy(dtype=bool))
    out[colnames.status(inst.id)] = _instrument_status(n, answered, invalid, statuses, flags)
    out[colnames.problems(inst.id)] = _problem_strings(iv, invalid)
    return out


def _score_scale(
    s: Scale, x: np.ndarray, ans: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    k = x.shape[1]
    na = ans.sum(axis=1)
    required = s.missing.required(k)
    total = np.where(ans, x, 0.0).sum(axis=1)  # only over answered cells
    raw = np.full(x.shape[0], np.nan)
    complete = na == k
    ok = na >= required
    if s.aggregation == "mean":
        with np.errstate(invalid="ignore", divide="ignore"):
            raw = np.where(ok, total / np.maximum(na, 1), np.nan)
    else:
        raw = np.where(complete, total, np.nan)
        if s.missing.prorate:
            part = ok & ~complete
            with np.errstate(invalid="ignore", divide="ignore"):
                est = (
                    total * k / np.maximum(na, 1)
                )  # integer product first: exact halves stay exact
            raw = np.where(part, round_values(est, s.missing.rounding), raw)
    status = np.full(x.shape[0], _INSUFFICIENT, dtype=np.int8)
    status[complete] = _COMPLETE
    status[ok & ~complete] = _PRORATED
    status[na == 0] = _NOT_ANSWERED
    raw[na == 0] = np.nan
    return raw, status, na


def round_values(x: np.ndarray, rule: str) -> np.ndarray:
    """Round by ``rule``: ``half_up`` (floor(x + 0.5)), ``half_even`` or ``none``.

    Example:
        >>> import numpy as np
        >>> round_values(np.array([2.5, 7.5, 6.67]), "half_up").tolist()
        [3.0, 8.0, 7.0]
        >>> round_values(np.array([2.5, 7.5]), "half_even").tolist()
        [2.0, 8.0]
    """
    if rule == "half_up":
        return np.floor(x + 0.5)
    if rule == "half_even":
        return np.round(x)
    return x


def _score_composite(s, raws, statuses, n_ans, n_inv):
    comps = np.column_stack([raws[c] for c in s.scales])
    st = np.column_stack([statuses[c] for c in s.scales])
    ans = ~np.isnan(comps)
    k = len(s.scales)
    required = s.missing.required(k)
    nscored = ans.sum(axis=1)
    total = np.where(ans, comps, 0.0).sum(axis=1)
    ok = nscored >= required
    if s.aggregation == "mean":
        with np.errstate(invalid="ignore", divide="ignore"):
            raw = np.where(ok, total / np.maximum(nscored, 1), np.nan)
    else:
        raw = np.where(nscored == k, total, np.nan)
    all_complete = (st == _COMPLETE).all(axis=1)
    status = np.full(len(raw), _INSUFFICIENT, dtype=np.int8)
    status[~np.isnan(raw)] = _PRORATED
    status[~np.isnan(raw) & all_complete] = _COMPLETE
    na = sum(n_ans[c] for c in s.scales)
    status[na == 0] = _NOT_ANSWERED
    raw = np.where(na == 0, np.nan, raw)
    ni = sum(n_inv[c] for c in s.scales)
    return raw, status, na, ni


def _tri_state(x: np.ndarray, c: Condition, mode: str) -> pd.arrays.BooleanArray:
    """any/all of ``c`` over columns with three-valued logic (NA when unknown)."""
    hit = condition_mask(x, c)
    known = ~np.isnan(x)
    # np.any/np.all over axis 1 of a 2-D mask: always an array (the method's stub says
    # "bool or array")
    if mode == "any":
        value = np.any(hit, axis=1)
        unknown = ~value & ~np.all(known, axis=1)
    else:
        miss = known & ~hit
        value = np.all(hit, axis=1)
        unknown = ~np.any(miss, axis=1) & ~np.all(known, axis=1)
    return pd.arrays.BooleanArray(value, unknown)


def _validity(vc, inst, iv, keyed, answered, pos, raws) -> pd.arrays.BooleanArray:
    n = keyed.shape[0]
    items = vc.items or list(iv.items)
    idx = [pos[i] for i in items]
    if vc.kind == "scale_threshold":
        raw = raws[vc.scale]
        fired = condition_mask(raw, vc.condition)
        return pd.arrays.BooleanArray(fired, np.isnan(raw))
    if vc.kind == "straight_line":
        x = iv.values[:, idx]  # raw codes' values: the same box ticked every time
        a = answered[:, idx]
        na = a.sum(axis=1)
        lo = np.where(a, x, np.inf).min(axis=1)
        hi = np.where(a, x, -np.inf).max(axis=1)
        enough = na >= vc.min_answered
        return pd.arrays.BooleanArray(enough & (lo == hi), ~enough)
    if vc.kind == "inconsistent_pairs":
        viol = np.zeros(n, dtype=np.int64)
        complete = np.zeros(n, dtype=np.int64)
        for a_id, b_id in vc.pairs:
            a, b = keyed[:, pos[a_id]], keyed[:, pos[b_id]]
            both = ~np.isnan(a) & ~np.isnan(b)
            viol += (both & (np.abs(a - b) > vc.max_difference)).astype(np.int64)
            complete += both
        fired = viol >= vc.min_violations
        could = viol + (len(vc.pairs) - complete) >= vc.min_violations
        return pd.arrays.BooleanArray(fired, ~fired & could)
    # max_missing
    miss = (~answered[:, idx]).sum(axis=1) / len(idx)
    return pd.arrays.BooleanArray(miss > vc.max_missing_fraction, np.zeros(n, bool))


def _instrument_status(n, answered, invalid, statuses, flags) -> pd.Categorical:
    st = np.column_stack(list(statuses.values())) if statuses else np.zeros((n, 0), np.int8)
    out = np.full(n, InstrumentStatus.COMPLETE.code, dtype=np.int8)
    out[(st == _PRORATED).any(axis=1)] = InstrumentStatus.PARTIAL.code
    scored_not = np.isin(st, [_INSUFFICIENT, _NOT_ANSWERED])
    out[scored_not.any(axis=1)] = InstrumentStatus.INSUFFICIENT.code
    for f in flags:
        out[f] = InstrumentStatus.INVALID_RESPONSE.code
    out[~answered.any(axis=1) & ~invalid.any(axis=1)] = InstrumentStatus.NOT_ANSWERED.code
    return from_codes(out, VOCAB_DTYPES[InstrumentStatus])


def _problem_strings(iv: ItemValues, invalid: np.ndarray) -> Any:
    """Per row ``item:problem;...`` ("" without problems), in pandas' default text dtype.

    Built from the few distinct texts in Arrow when pandas stores text in Arrow (so
    the DataFrame does not convert every cell), else as an object array.
    """
    n = invalid.shape[0]
    rows = np.nonzero(invalid.any(axis=1))[0]
    texts = [""]
    if len(rows):
        items = iv.items
        texts += [
            ";".join(f"{items[j]}:{PROBLEM_NAMES[int(p[j])]}" for j in np.nonzero(r)[0])
            for r, p in zip(invalid[rows], iv.problem[rows])
        ]
    dtype = _text_dtype()
    if dtype is None:
        out = np.full(n, "", dtype=object)
        out[rows] = texts[1:]
        return out
    import pyarrow as pa

    idx = np.zeros(n, dtype=np.int64)
    idx[rows] = np.arange(1, len(rows) + 1)
    arr = pa.array(texts, type=pa.large_string()).take(pa.array(idx))
    # pandas 3 takes dtype= (the string dtype's na_value); pandas-stubs 3.1 does not list it
    return pd.arrays.ArrowStringArray(arr, dtype=dtype)  # type: ignore[call-arg]


def _text_dtype() -> Any:
    """pandas' inferred dtype for text when it is Arrow-backed (pandas 3), else None."""
    dt = pd.Series(["x"]).dtype
    if isinstance(dt, pd.StringDtype) and dt.storage == "pyarrow":
        return dt
    return None


def scale_columns(inst: Instrument, fields: Iterable[str] = ("raw",)) -> list[str]:
    """Column names of ``fields`` for every scale of ``inst``.

    Example:
        >>> from psyscreen import load_instrument
        >>> scale_columns(load_instrument("gad7"), ["raw", "band"])
        ['gad7.total.raw', 'gad7.total.band']
    """
    return [colnames.scale(inst.id, s.id, f) for s in inst.scales for f in fields]
