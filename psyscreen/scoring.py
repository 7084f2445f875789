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
from other rows and no range is inferred from the data.

Example:
    >>> import pandas as pd, psyscreen
    >>> df = pd.DataFrame({f"phq9_{i}": [1, 3] for i in range(1, 10)})
    >>> out = psyscreen.score(df, "phq9")
    >>> out["phq9.total.raw"].tolist(), out["phq9.total.band"].tolist()
    ([9.0, 27.0], ['mild', 'severe'])
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .categories import from_codes
from .definitions import BandSet, Condition, Instrument, Scale
from .masks import condition_mask, interval_mask
from .registry import load_instrument
from .responses import INVALID, PROBLEM_NAMES, ItemValues, item_values

SCALE_STATUSES = ["complete", "prorated", "insufficient", "not_answered"]
INSTRUMENT_STATUSES = [
    "complete",
    "partial",
    "insufficient",
    "invalid_response",
    "not_answered",
    "out_of_age_range",
]
BAND_CLASSES = ["normal", "borderline", "abnormal"]

InstrumentLike = str | Path | Instrument


@dataclass
class ScoreResult:
    """Scores plus a long table of value problems (by row position, never by id)."""

    scores: pd.DataFrame
    problems: pd.DataFrame
    instruments: list[Instrument] = field(default_factory=list)


def _as_instruments(instrument: InstrumentLike | Sequence[InstrumentLike]) -> list[Instrument]:
    if isinstance(instrument, (str, Path, Instrument)):
        return [load_instrument(instrument)]
    insts = [load_instrument(i) for i in instrument]
    ids = [i.id for i in insts]
    if len(set(ids)) != len(ids):
        raise ValueError(f"an instrument is listed twice: {ids}")
    return insts


def score(
    data: pd.DataFrame,
    instrument: InstrumentLike | Sequence[InstrumentLike],
    *,
    columns: Mapping[str, str] | None = None,
    missing_columns: str = "error",
    norms: Any = None,
    demographics: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Score ``data`` (one row per respondent, columns = item ids) on one or more instruments.

    Args:
        data: answers; columns are item ids unless ``columns`` maps them.
        instrument: id of a shipped instrument, path to a definition file, an
            :class:`~psyscreen.definitions.Instrument`, or a list of these.
        columns: item id -> column name, for data whose headers differ.
        missing_columns: ``'error'`` (default) raises when an item column is
            absent; ``'missing'`` scores absent columns as unanswered.
        norms: norm tables to standardise with (see :mod:`psyscreen.norms`):
            a table id, path, table object or list of them, or ``'auto'``.
        demographics: column names for ``age``, ``sex``, ``birth_date``,
            ``assessment_date`` and ``grade`` used to pick the norm stratum.

    Returns:
        A DataFrame with the same index as ``data`` and the flat columns
        described in this module's docstring.

    Example:
        >>> import pandas as pd, psyscreen
        >>> df = pd.DataFrame({f"gad7_{i}": [2] for i in range(1, 8)})
        >>> psyscreen.score(df, "gad7")["gad7.total.band"].iloc[0]
        'moderate'
    """
    return _score(data, instrument, columns, missing_columns, norms, demographics, False).scores


def score_detailed(
    data: pd.DataFrame,
    instrument: InstrumentLike | Sequence[InstrumentLike],
    *,
    columns: Mapping[str, str] | None = None,
    missing_columns: str = "error",
    norms: Any = None,
    demographics: Mapping[str, str] | None = None,
) -> ScoreResult:
    """Like :func:`score`, also returning the per-cell problems table.

    ``problems`` has one row per invalid answer with columns ``row`` (0-based
    position in ``data``), ``instrument``, ``item``, ``column`` and ``problem``
    (``out_of_range`` or ``non_numeric``). It never contains the index labels
    or the offending text, which could identify a child.
    """
    return _score(data, instrument, columns, missing_columns, norms, demographics, True)


def _score(data, instrument, columns, missing_columns, norms, demographics, with_problems):
    """:func:`score_detailed`; the problem table only when asked (``score`` drops it)."""
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"data must be a pandas DataFrame, not {type(data).__name__}")
    insts = _as_instruments(instrument)
    parts: list[pd.DataFrame] = []
    problems: list[pd.DataFrame] = []
    ages = _known_ages(data, insts, demographics)
    for inst in insts:
        iv = item_values(data, inst, columns=columns, missing_columns=missing_columns)
        cols = score_items(iv, inst)
        key = f"{inst.id}.status"
        cols[key] = age_marked(cols[key], inst, ages)
        parts.append(pd.DataFrame(cols, index=data.index))
        if with_problems:
            problems.append(_problem_table(iv, inst, columns))
    scores = pd.concat(parts, axis=1) if parts else pd.DataFrame(index=data.index)
    if norms is not None:
        from .norms import apply_norms

        scores = apply_norms(scores, data, insts, norms, demographics=demographics)
    probs = pd.concat(problems, ignore_index=True) if problems else _empty_problems()
    return ScoreResult(scores=scores, problems=probs, instruments=insts)


def _known_ages(data: pd.DataFrame, insts, demographics) -> np.ndarray | None:
    """Exact age per row (NaN if unknown) when an instrument declares ages and the data
    has an age, birth-date or assessment-date column; else None."""
    if not any(i.age_range.interval() is not None for i in insts):
        return None
    from . import demographics as demo

    cols = demo.resolve_columns(data, demographics)
    if not ({"age", "birth_date"} & set(cols)):
        return None
    d = demo.read_demographics(data, cols)
    return np.where(d.age_status == demo.OK, d.age_years, np.nan)


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
    st[out] = INSTRUMENT_STATUSES.index("out_of_age_range")
    return from_codes(st, INSTRUMENT_STATUSES)


def _empty_problems() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "row": pd.Series(dtype="int64"),
            "instrument": pd.Series(dtype="object"),
            "item": pd.Series(dtype="object"),
            "column": pd.Series(dtype="object"),
            "problem": pd.Series(dtype="object"),
        }
    )


def _problem_table(
    iv: ItemValues, inst: Instrument, columns: Mapping[str, str] | None
) -> pd.DataFrame:
    bad = np.isin(iv.problem, INVALID)
    rows, cols = np.nonzero(bad)
    if len(rows) == 0:
        return _empty_problems()
    order = np.lexsort((cols, rows))
    rows, cols = rows[order], cols[order]
    items = np.asarray(iv.items, dtype=object)[cols]
    colmap = dict(columns or {})
    return pd.DataFrame(
        {
            "row": rows.astype("int64"),
            "instrument": inst.id,
            "item": items,
            "column": [colmap.get(i, i) for i in items],
            "problem": [PROBLEM_NAMES[int(p)] for p in iv.problem[rows, cols]],
        }
    )


# ---------------------------------------------------------------------------
# the core


def score_items(iv: ItemValues, inst: Instrument) -> dict[str, Any]:
    """Score all scales, critical items and validity checks from item values.

    Returns an ordered dict of column name -> array (length n_rows).
    """
    n = iv.values.shape[0]
    keyed = iv.keyed(inst)
    answered = ~np.isnan(keyed)
    invalid = np.isin(iv.problem, INVALID)
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
        status[(na == 0) & (ni > 0)] = SCALE_STATUSES.index("insufficient")
        raws[s.id], statuses[s.id], n_ans[s.id], n_inv[s.id] = raw, status, na, ni
        p = f"{inst.id}.{s.id}."
        out[p + "raw"] = raw
        out[p + "n_answered"] = na.astype("int64")
        out[p + "n_invalid"] = ni.astype("int64")
        out[p + "status"] = from_codes(status, SCALE_STATUSES)
        for k, bs in enumerate(s.bands):
            code, klass = apply_bands(raw, bs)
            suffix = "" if k == 0 else f"_{bs.id}"
            out[p + "band" + suffix] = code
            out[p + "band_class" + suffix] = klass
    crit_cols = {}
    for ci in inst.critical_items:
        idx = [pos[i] for i in ci.items]
        crit_cols[ci.id] = _tri_state(
            iv.values[:, idx], ci.condition, "any" if ci.mode == "any" else "all"
        )
        out[f"{inst.id}.critical.{ci.id}"] = crit_cols[ci.id]
    flags = []
    for vc in inst.validity_checks:
        col = _validity(vc, inst, iv, keyed, answered, pos, raws)
        out[f"{inst.id}.validity.{vc.id}"] = col
        flags.append(col.fillna(False).to_numpy(dtype=bool))
    out[f"{inst.id}.status"] = _instrument_status(n, answered, invalid, statuses, flags)
    out[f"{inst.id}.problems"] = _problem_strings(iv, invalid)
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
    status = np.full(x.shape[0], SCALE_STATUSES.index("insufficient"), dtype=np.int8)
    status[complete] = SCALE_STATUSES.index("complete")
    status[ok & ~complete] = SCALE_STATUSES.index("prorated")
    status[na == 0] = SCALE_STATUSES.index("not_answered")
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
    complete_code = SCALE_STATUSES.index("complete")
    all_complete = (st == complete_code).all(axis=1)
    status = np.full(len(raw), SCALE_STATUSES.index("insufficient"), dtype=np.int8)
    status[~np.isnan(raw)] = SCALE_STATUSES.index("prorated")
    status[~np.isnan(raw) & all_complete] = complete_code
    na = sum(n_ans[c] for c in s.scales)
    status[na == 0] = SCALE_STATUSES.index("not_answered")
    raw = np.where(na == 0, np.nan, raw)
    ni = sum(n_inv[c] for c in s.scales)
    return raw, status, na, ni


def apply_bands(raw: np.ndarray, bs: BandSet) -> tuple[pd.Categorical, pd.Categorical]:
    """Band code and classification of each score (missing where there is no score)."""
    codes = [b.code for b in bs.bands]
    idx = np.full(len(raw), -1, dtype=np.int16)
    for k, b in enumerate(bs.bands):
        idx[interval_mask(raw, b) & (idx < 0)] = k
    klass = np.array([BAND_CLASSES.index(b.classification) for b in bs.bands] + [-1], dtype=np.int8)
    return (
        from_codes(idx, codes),
        from_codes(klass[idx], BAND_CLASSES),
    )


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
    code = {s: i for i, s in enumerate(INSTRUMENT_STATUSES)}
    st = np.column_stack(list(statuses.values())) if statuses else np.zeros((n, 0), np.int8)
    out = np.full(n, code["complete"], dtype=np.int8)
    out[(st == SCALE_STATUSES.index("prorated")).any(axis=1)] = code["partial"]
    scored_not = np.isin(
        st, [SCALE_STATUSES.index("insufficient"), SCALE_STATUSES.index("not_answered")]
    )
    out[scored_not.any(axis=1)] = code["insufficient"]
    for f in flags:
        out[f] = code["invalid_response"]
    out[~answered.any(axis=1) & ~invalid.any(axis=1)] = code["not_answered"]
    return from_codes(out, INSTRUMENT_STATUSES)


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


@lru_cache(maxsize=1)
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
    return [f"{inst.id}.{s.id}.{f}" for s in inst.scales for f in fields]
