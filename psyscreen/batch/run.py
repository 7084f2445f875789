"""The batch pipeline: read in chunks, map, score, check rows, write, account for every row.

One call, :func:`run`, turns an export into

* the results file (one row per input row, in input order, with ``row``,
  ``row.status`` and ``row.problems`` and every scoring / risk column),
* the problems file (one row per problem: 0-based ``row``, export ``column``,
  ``field``, ``problem``, ``detail``; never a name, id or cell text),
* the run manifest (JSON: hashes, versions, counts in and out by status, options,
  times) and, if asked, the HTML summary report.

Memory is bounded by the chunk size: only aggregates (counts, the sorted hashes
of ids seen, for duplicate detection) grow with the file.

Every chunk goes through :func:`process_chunk`, a pure function of the chunk, the
:class:`Plan` and the row offset (plus the ids seen before); the Dask path runs
the same function per partition. In one process a reading thread and a writing
thread work on the next and the previous chunk meanwhile (:func:`_run_threads`);
with ``workers`` processes score chunks (:func:`_run_pool`). Either way chunks are
written in input order, so the outputs do not depend on the choice.

Example:
    >>> from psyscreen.batch import run  # doctest: +SKIP
    >>> res = run("export.csv", "out/results.csv", profile="default",
    ...           mapping="mapping.yaml")  # doctest: +SKIP
    >>> res.exit_code, res.manifest["rows"]["in"]  # doctest: +SKIP
    (1, 2000)
"""

from __future__ import annotations

import datetime as _dt
import itertools
import json
import logging
import multiprocessing
import os
import sys
import time
from collections import Counter, deque
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .. import demographics as demo
from .._version import __version__
from ..categories import from_codes
from ..definitions import Instrument
from ..errors import BatchError
from .coding import CodingCheck, answer_tables
from .csvread import DAMAGE, LINE, MAX_CELL_CHARS, MAX_LINE_BYTES, delimiter_option
from .failures import check_plain_columns, guard_chunks, guard_reading, os_error_message
from .io import FORMATS, Writer, _hash_in_thread, arrow_frame, open_source, sha256_file
from .mapping import MappingSpec, as_text_category, load_mapping, map_answers
from .outputs import MANIFEST, OutputPathError, RunFiles

#: roles (besides items) read as categoricals: few distinct values
_CATEGORICAL_ROLES = ("school", "grade", "class", "sex", "birth_date", "age", "assessment_date")
#: an age outside this range (years) is reported as implausible for child screening
AGE_PLAUSIBLE = (3.0, 25.0)
#: records carry counts, positions and timings only, never file names or cell contents
log = logging.getLogger(__name__)


# ---------------------------------------------------------------------------
# the plan


@dataclass
class Plan:
    """What every chunk needs; picklable (it travels to Dask workers).

    ``headers`` maps canonical column names (item ids and roles) to export headers.
    """

    spec: MappingSpec
    instruments: list[Instrument]
    profile: Any = None
    norms: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    answer_tables: dict[str, dict[str, str]] = field(default_factory=dict)
    roles: dict[str, str] = field(default_factory=dict)
    #: roles given once for the whole run (``assessment_date``), as ISO text
    constants: dict[str, str] = field(default_factory=dict)

    @property
    def item_ids(self) -> list[str]:
        return [i for inst in self.instruments for i in inst.item_ids]

    def read_columns(self) -> list[str]:
        """Export headers to read, in a fixed order: roles, keep, items."""
        return (
            list(self.roles.values())
            + list(self.spec.keep)
            + [self.headers[i] for i in self.item_ids]
        )

    def categorical_columns(self) -> list[str]:
        cats = [self.roles[r] for r in _CATEGORICAL_ROLES if r in self.roles]
        return cats + [self.headers[i] for i in self.item_ids]

    def demographics(self) -> dict[str, str]:
        return {r: r for r in demo.ROLES if r in self.roles or r in self.constants}


def make_plan(
    headers: Sequence[str],
    spec: MappingSpec,
    instruments: Sequence[Instrument],
    *,
    profile: Any = None,
    norms: Any = None,
    assessment_date: str | _dt.date | None = None,
) -> Plan:
    """Check the export's headers against the mapping; fail fast with what to fix.

    ``assessment_date``: one date for every row; replaces an assessment-date column
    or constant of the mapping.
    """
    present = list(headers)
    dupes = sorted({h for h in present if present.count(h) > 1})
    roles = spec.role_headers()
    constants = dict(spec.constant_roles())
    if assessment_date is not None:
        constants["assessment_date"] = _date_option(assessment_date)
        roles = {r: h for r, h in roles.items() if r != "assessment_date"}
    item_headers = {i: spec.header(i) for inst in instruments for i in inst.item_ids}
    needed = list(roles.values()) + list(spec.keep) + list(item_headers.values())
    bad_dupes = [h for h in dupes if h in needed]
    if bad_dupes:
        raise BatchError(
            f"the export has several columns named {', '.join(map(repr, bad_dupes))}; "
            "rename them so each header is unique"
        )
    problems = []
    missing_roles = [
        f"{r} ({h!r}{_suggest(h, present)})" for r, h in roles.items() if h not in present
    ]
    if missing_roles:
        problems.append("role columns not found: " + ", ".join(missing_roles))
    missing_keep = [f"{h!r}{_suggest(h, present)}" for h in spec.keep if h not in present]
    if missing_keep:
        problems.append("'keep' columns not found: " + ", ".join(missing_keep))
    absent_optional, absent_required = set(), []
    for inst in instruments:
        gone = [i for i in inst.item_ids if item_headers[i] not in present]
        if gone and len(gone) == len(inst.item_ids):
            if not _required(profile, inst.id):
                absent_optional.add(inst.id)  # an optional instrument not in this export
                continue
            absent_required.append(inst.id)
        if gone:
            shown = ", ".join(
                f"{i} ({item_headers[i]!r}{_suggest(item_headers[i], present)})" for i in gone[:8]
            )
            more = f" and {len(gone) - 8} more" if len(gone) > 8 else ""
            problems.append(f"{inst.id}: {len(gone)} item column(s) not found: {shown}{more}")
    if problems:
        hint = "Fix the headers in the mapping file (columns/items/keep) or the export."
        if absent_required and profile is not None:
            found = [
                i.id for i in instruments if all(item_headers[x] in present for x in i.item_ids)
            ]
            hint = (
                f"The export has no columns for {', '.join(absent_required)}, which profile "
                f"{profile.id!r} needs: choose a profile for this export (--profile P; see "
                "'psyscreen profiles') or score without risk levels (--instruments "
                f"{','.join(found) or 'A,B'}). Otherwise " + hint[0].lower() + hint[1:]
            )
        raise BatchError(
            "the input file does not match the mapping: " + "; ".join(problems) + ". " + hint
        )
    dated = "assessment_date" in roles or "assessment_date" in constants
    if "birth_date" in roles and not dated and "age" not in roles:
        raise BatchError(
            f"the mapping reads birth dates (column {roles['birth_date']!r}) but no "
            "assessment date, so no age can be computed: pass --assessment-date "
            "YYYY-MM-DD, or add 'constants: {assessment_date: YYYY-MM-DD}' (or an "
            "assessment-date column under 'columns') to the mapping file"
        )
    instruments = [i for i in instruments if i.id not in absent_optional]
    item_headers = {i: spec.header(i) for inst in instruments for i in inst.item_ids}
    canon = set(item_headers) | set(roles)
    clash = canon & set(spec.keep)
    if clash:
        raise BatchError(f"'keep' column(s) {sorted(clash)} clash with item ids or roles")
    tables = answer_tables(spec, instruments)
    return Plan(
        spec=spec,
        instruments=list(instruments),
        profile=profile,
        norms=norms,
        headers={**item_headers, **roles},
        answer_tables=tables,
        roles=roles,
        constants=constants,
    )


def _date_option(value: str | _dt.date) -> str:
    """An ``--assessment-date`` value as ISO text, or BatchError.

    Example:
        >>> _date_option("2024/10/18"), _date_option(_dt.date(2024, 10, 18))
        ('2024-10-18', '2024-10-18')
    """
    d, st = demo.parse_dates(pd.Series([value], dtype=object))
    if st[0] != demo.OK:
        raise BatchError(
            f"--assessment-date must be a date as YYYY-MM-DD (years "
            f"{demo.DATE_RANGE[0]}-{demo.DATE_RANGE[1]}), not {str(value)!r}"
        )
    return d.iloc[0].date().isoformat()
def _suggest(header: str, present: Sequence[str]) -> str:
    """' - did you mean ...?' for a header not in the export, or ''."""
    from .mapping import did_you_mean

    near = did_you_mean(header, present)
    return f"; did you mean {' or '.join(map(repr, near))}?" if near else ""


def _required(profile: Any, instrument_id: str) -> bool:
    """Whether the profile requires the instrument (no profile: every instrument)."""
    if profile is None:
        return True
    if getattr(profile, "routed", False):
        return False  # routed: the export may hold only the routes its children fall in
    try:
        return bool(profile.entry(instrument_id).required)
    except KeyError:
        return True


# ---------------------------------------------------------------------------
# one chunk


def prepare(chunk: pd.DataFrame, plan: Plan) -> pd.DataFrame:
    """Export columns -> canonical columns: roles and item ids, answers mapped to codes."""
    out: dict[str, pd.Series] = {}
    for role, h in plan.roles.items():
        col = chunk[h]
        out[role] = as_text_category(col) if role in _CATEGORICAL_ROLES else _text(col)
    for role, value in plan.constants.items():
        codes = np.zeros(len(chunk), dtype=np.int8)
        out[role] = pd.Series(pd.Categorical.from_codes(codes, pd.Index([value], dtype=object)))
    for item in plan.item_ids:
        out[item] = map_answers(chunk[plan.headers[item]], plan.answer_tables[item])
    return pd.DataFrame(out, index=pd.RangeIndex(len(chunk)))


def _text(col: pd.Series) -> pd.Series:
    """Any column as nullable text with surrounding blanks removed ('' -> NA)."""
    if pd.api.types.is_string_dtype(col.dtype) and not isinstance(col.dtype, pd.CategoricalDtype):
        s = col.astype("string").str.strip()
    else:
        s = as_text_category(col).astype("string")
    return s.mask(s == "")


def score_frame(canon: pd.DataFrame, plan: Plan) -> pd.DataFrame:
    """The one seam to the scoring layers: risk screening when a profile is given."""
    if plan.profile is not None:
        from ..risk import screen

        return screen(
            canon,
            plan.profile,
            demographics=plan.demographics(),
            norms=plan.norms,
            missing_columns="error",
        )
    from ..scoring import score

    return score(canon, plan.instruments, demographics=plan.demographics(), norms=plan.norms)


def _from_categories(col: pd.Series, fn) -> tuple[np.ndarray, np.ndarray]:
    """Apply a demographics parser to the distinct values of a categorical, broadcast back.

    Rows without a value get NaN / NaT and the status ``missing``.
    """
    from pandas.api.extensions import take

    values, status = demo.parse_distinct(fn, np.asarray(col.cat.categories, dtype=object))
    codes = col.cat.codes.to_numpy()
    return (
        take(values, codes, allow_fill=True),
        take(np.asarray(status), codes, allow_fill=True, fill_value=demo.MISSING),
    )


def check_rows(canon: pd.DataFrame, plan: Plan) -> list[tuple[np.ndarray, str, str, str]]:
    """Row problems of the role columns: (mask, field, problem, detail) per kind.

    Uses the parsers of :mod:`psyscreen.demographics` on distinct values only.
    Duplicate ids need the rows seen before: see :class:`IdTracker`.
    """
    out: list[tuple[np.ndarray, str, str, str]] = []
    n = len(canon)
    if "id" in canon:
        out.append((canon["id"].isna().to_numpy(), "id", "missing", ""))
    if "sex" in canon:
        _, st = _from_categories(canon["sex"], demo.sex_status)
        out.append((st == demo.INVALID, "sex", "unknown_code", ""))
    if "grade" in canon:
        _, st = _from_categories(canon["grade"], demo.parse_grade)
        out.append((st == demo.INVALID, "grade", "unknown_grade", ""))
    age = np.full(n, np.nan)
    if "age" in canon:
        a, st = _from_categories(canon["age"], demo.parse_age)
        out.append((st == demo.INVALID, "age", "impossible", "not a number in 0-120"))
        age = a.astype(float)
    dates = {}
    for role in ("birth_date", "assessment_date"):
        if role in canon:
            d, st = _from_categories(canon[role], demo.parse_dates)
            out.append((st == demo.INVALID, role, "invalid_date", "not a year-month-day date"))
            lo, hi = demo.DATE_RANGE
            out.append((st == demo.IMPLAUSIBLE, role, "implausible", f"a year outside {lo}-{hi}"))
            dates[role] = d.astype("datetime64[ns]")
    if len(dates) == 2:
        b, a = dates["birth_date"], dates["assessment_date"]
        both = ~np.isnat(b) & ~np.isnat(a)
        out.append((both & (b > a), "birth_date", "impossible", "after the assessment date"))
        exact = demo.exact_age(pd.Series(b), pd.Series(a)).to_numpy()
        age = np.where(both & np.isfinite(exact), exact, age)
    lo, hi = AGE_PLAUSIBLE
    with np.errstate(invalid="ignore"):
        odd = np.isfinite(age) & ((age < lo) | (age >= hi))
    out.append((odd, "age", "implausible", f"age outside {lo:g}-{hi:g} years"))
    return out


class IdTracker:
    """Remembers ids seen (as 64-bit hashes, sorted) to flag duplicates across chunks.

    A repeated id is flagged on every later row, with the row of its first
    occurrence as detail. Memory: 16 bytes per distinct id. Two different ids
    share a hash with probability about n²/2⁶⁵ (3e-8 for a million ids); such a
    pair would be reported as a duplicate, never silently merged.

    Example:
        >>> t = IdTracker()
        >>> t.first_rows(np.array(["a", "b", "a"], dtype=object), np.arange(3)).tolist()
        [-1, -1, 0]
        >>> t.first_rows(np.array(["b", None], dtype=object), np.array([3, 4])).tolist()
        [1, -1]
    """

    def __init__(self) -> None:
        self._hashes = np.empty(0, dtype=np.uint64)
        self._rows = np.empty(0, dtype=np.int64)

    def first_rows(self, ids: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """Row of the first occurrence for each repeated id, -1 otherwise (and for blanks)."""
        first = np.full(len(ids), -1, dtype=np.int64)
        ids = np.asarray(ids, dtype=object)
        present = pd.notna(ids)  # None, NaN, NA: blank
        if not present.any():
            return first
        idx = np.nonzero(present)[0]
        vals = ids[idx]
        if pd.api.types.infer_dtype(vals, skipna=False) != "string":
            vals = vals.astype(str).astype(object)  # e.g. numbers: hashed as their text
        h = pd.util.hash_array(vals, categorize=False)  # same hashes, no factorising
        r = np.asarray(rows, dtype=np.int64)[idx]
        order = np.argsort(h, kind="stable")
        hs, rs = h[order], r[order]
        start = np.r_[True, hs[1:] != hs[:-1]]
        run_first = rs[np.maximum.accumulate(np.where(start, np.arange(len(hs)), 0))]
        pos = np.searchsorted(self._hashes, hs)
        pos_c = np.minimum(pos, max(len(self._hashes) - 1, 0))
        seen = (
            (len(self._hashes) > 0) & (self._hashes[pos_c] == hs)
            if len(self._hashes)
            else (np.zeros(len(hs), dtype=bool))
        )
        prior = np.where(seen, self._rows[pos_c] if len(self._rows) else -1, -1)
        res = np.where(seen, prior, np.where(start, -1, run_first))
        first[idx[order]] = res
        new = start & ~seen
        self._hashes = np.insert(self._hashes, pos[new], hs[new])
        self._rows = np.insert(self._rows, pos[new], rs[new])
        return first


@dataclass
class ChunkResult:
    """Results and problems of one chunk (canonical columns, not yet written)."""

    results: pd.DataFrame
    problems: pd.DataFrame


def process_chunk(
    chunk: pd.DataFrame,
    plan: Plan,
    row0: int,
    ids: IdTracker | np.ndarray | None = None,
) -> ChunkResult:
    """Map, score and check one chunk whose first row is input row ``row0``.

    ``ids`` finds repeated ids: an :class:`IdTracker` of the rows before (streaming),
    or per row the row of an earlier occurrence of its id, -1 for none (Dask).
    """
    n = len(chunk)
    rows = np.arange(row0, row0 + n, dtype=np.int64)
    lines, damage = _record_meta(chunk)
    damaged = damage != ""
    canon = prepare(chunk, plan)
    scored = score_frame(canon, plan)
    checks = check_rows(canon, plan)
    dup_first = None
    if isinstance(ids, IdTracker):
        if "id" in canon:  # without an id column there is nothing to repeat
            dup_first = ids.first_rows(_id_values(canon), rows)
    elif ids is not None:
        dup_first = np.asarray(ids, dtype=np.int64)
    if dup_first is not None:
        checks.append((dup_first >= 0, "id", "duplicate", ""))
    if damaged.any():  # an unreadable record has no cells to check: only its damage
        checks = [(m & ~damaged, f, k, d) for m, f, k, d in checks]
        for reason in np.unique(damage[damaged]):
            checks.append((damage == reason, "line", str(reason), ""))
    prob_rows, prob_fields, prob_kinds, prob_details = [], [], [], []
    for mask, fld, kind, detail in checks:
        hit = np.nonzero(mask)[0]
        if len(hit) == 0:
            continue
        prob_rows.append(hit)
        prob_fields.append(np.full(len(hit), fld, dtype=object))
        prob_kinds.append(np.full(len(hit), kind, dtype=object))
        if kind == "duplicate":
            prob_details.append(
                np.array([f"same id as row {int(f)}" for f in dup_first[hit]], dtype=object)
            )
        elif fld == "line":
            prob_details.append(np.array([_DAMAGE_TEXT.get(kind, "")] * len(hit), dtype=object))
        else:
            prob_details.append(np.full(len(hit), detail, dtype=object))
    # answer problems, from the scoring layer's per-instrument problem lists
    for inst in plan.instruments:
        col = f"{inst.id}.problems"
        if col not in scored:
            continue
        has_text = (scored[col].fillna("").astype(str) != "").to_numpy(dtype=bool)
        txt = scored[col].to_numpy(dtype=object)
        for i in np.nonzero(has_text & ~damaged)[0]:
            for part in str(txt[i]).split(";"):
                item, _, kind = part.partition(":")
                prob_rows.append(np.array([i]))
                prob_fields.append(np.array([item], dtype=object))
                prob_kinds.append(np.array([kind], dtype=object))
                prob_details.append(np.array([inst.id], dtype=object))
    if prob_rows:
        r = np.concatenate(prob_rows)
        f = np.concatenate(prob_fields)
        k = np.concatenate(prob_kinds)
        d = np.concatenate(prob_details)
        order = np.lexsort((k, f, r))
        probs = pd.DataFrame(
            {
                "row": rows[r[order]],
                "line": pd.array(lines[r[order]], dtype="Int64"),
                "column": [plan.headers.get(x, x) for x in f[order]],
                "field": f[order],
                "problem": k[order],
                "detail": d[order],
            }
        )
        # problems are sorted by row: join each row's run of "field:problem" tags
        local = r[order]
        tags = f[order].astype(object) + ":" + k[order].astype(object)
        starts = np.flatnonzero(np.r_[True, local[1:] != local[:-1]])
        ends = np.r_[starts[1:], len(local)]
        row_problems = np.full(n, "", dtype=object)
        row_problems[local[starts]] = [";".join(tags[a:b]) for a, b in zip(starts, ends)]
    else:
        probs = empty_problems()
        row_problems = np.full(n, "", dtype=object)
    has = row_problems != ""
    # text columns stay categoricals / Arrow strings, or explicitly object: letting
    # pandas infer a string dtype from Python objects would convert every cell
    head: dict[str, Any] = {"row": rows, "line": pd.array(lines, dtype="Int64")}
    for role in [*plan.roles, *plan.constants]:
        head[role] = canon[role].array
    for h in plan.spec.keep:
        head[h] = _text(chunk[h]).array
    status = np.where(damaged, 2, has).astype(np.int8)
    head["row.status"] = from_codes(status, ["ok", "problems", "unreadable"])
    head["row.problems"] = pd.Series(row_problems, dtype=object, index=scored.index)
    front = pd.DataFrame(head, index=scored.index)
    if damaged.any():
        scored = _unscored(scored, damaged)
    results = pd.concat([front, scored], axis=1)
    results.index = pd.RangeIndex(row0, row0 + n)
    return ChunkResult(results=results, problems=probs)


#: what each kind of damage means (the ``detail`` of its problem; never cell text)
_DAMAGE_TEXT = {
    "wrong_number_of_fields": "the line has more or fewer fields than the header",
    "truncated_last_line": "the last line is cut short (no line end, too few fields)",
    "unclosed_quote": "a quote opened on this line is not closed where a record could end",
    "stray_quote": "a quote inside a field that is not quoted correctly",
    "undecodable": "bytes that are not valid text in the file's encoding",
    "line_too_long": f"a line longer than {MAX_LINE_BYTES >> 20} MiB",
    "cell_too_large": f"a cell of a column the run reads is over {MAX_CELL_CHARS:,} characters",
}


def _record_meta(chunk: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """(start line, damage reason or '') per row of a reader chunk (lines: NA if none)."""
    n = len(chunk)
    if LINE in chunk:
        lines = pd.array(chunk[LINE], dtype="Int64").to_numpy(dtype=object, na_value=None)
    else:
        lines = np.full(n, None, dtype=object)
    if DAMAGE in chunk:
        damage = chunk[DAMAGE].fillna("").astype(str).to_numpy(dtype=object)
    else:
        damage = np.full(n, "", dtype=object)
    return lines, damage


def _unscored(scored: pd.DataFrame, damaged: np.ndarray) -> pd.DataFrame:
    """``scored`` with every value of the ``damaged`` rows blank (types kept for Arrow).

    A row that could not be read is never graded: its risk status says ``unreadable``.
    """
    out = {}
    for name in scored.columns:
        col = scored[name]
        dt = col.dtype
        if pd.api.types.is_bool_dtype(dt):
            col = col.astype("boolean")
        elif pd.api.types.is_integer_dtype(dt):
            col = col.astype("Int64")
        out[name] = col.mask(damaged)
    res = pd.DataFrame(out, index=scored.index)
    if "risk.status" in res:
        st = res["risk.status"]
        if isinstance(st.dtype, pd.CategoricalDtype):
            if "unreadable" not in st.cat.categories:
                st = st.cat.add_categories(["unreadable"])
        else:
            st = st.astype(object)
        res["risk.status"] = st.mask(damaged, "unreadable")
    return res


def _id_values(canon: pd.DataFrame) -> np.ndarray:
    return canon["id"].astype(object).where(canon["id"].notna(), None).to_numpy()


def empty_problems() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "row": pd.Series(dtype="int64"),
            "line": pd.Series(dtype="Int64"),
            "column": pd.Series(dtype=object),
            "field": pd.Series(dtype=object),
            "problem": pd.Series(dtype=object),
            "detail": pd.Series(dtype=object),
        }
    )


# ---------------------------------------------------------------------------
# output tables


def to_arrow(df: pd.DataFrame):
    """A results/problems frame as an Arrow table with types that do not depend on the data.

    Categoricals and other text become strings, nullable booleans stay booleans,
    lists (e.g. fired rules) are joined with ``;``.
    """
    import pyarrow as pa

    arrays, names = [], []
    for name in df.columns:
        arrays.append(_arrow_column(df[name]))
        names.append(str(name))
    return pa.Table.from_arrays(arrays, names=names)


def _arrow_column(col: pd.Series):
    import pyarrow as pa

    dt = col.dtype
    if isinstance(dt, pd.CategoricalDtype):
        cats = pa.array([_cell(c) for c in dt.categories], type=pa.string())
        codes = col.cat.codes.to_numpy()
        idx = pa.array(codes, mask=codes < 0, type=pa.int32())
        return pa.DictionaryArray.from_arrays(idx, cats).cast(pa.string())
    if pd.api.types.is_bool_dtype(dt):
        return pa.array(col.astype("boolean"), type=pa.bool_())
    if pd.api.types.is_integer_dtype(dt):
        return pa.array(col.astype("Int64"), type=pa.int64())
    if pd.api.types.is_float_dtype(dt):
        return pa.array(
            col.to_numpy(dtype=float, na_value=np.nan), type=pa.float64(), from_pandas=True
        )
    if pd.api.types.is_datetime64_any_dtype(dt):
        return pa.array(col.dt.strftime("%Y-%m-%d").astype(object), type=pa.string())
    if isinstance(dt, pd.StringDtype) and dt.storage == "pyarrow":
        # pandas keeps these as Arrow strings already: no trip through Python objects
        arr = pa.array(col.array).cast(pa.string())
        return arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr
    values = col.astype(object).to_numpy()
    try:  # plain text (and missing values): no Python loop
        return pa.array(values, type=pa.string(), from_pandas=True)
    except (pa.ArrowTypeError, pa.ArrowInvalid):
        return pa.array([_cell(v) for v in values], type=pa.string())


def _cell(v: Any) -> str | None:
    if v is None or (isinstance(v, float) and v != v) or v is pd.NA:
        return None
    if isinstance(v, (list, tuple)):
        return ";".join(str(x) for x in v)
    if isinstance(v, (float, np.floating)) and float(v).is_integer():
        return str(int(v))
    return str(v)


class _TableSink:
    """A writer that keeps the schema of the first table and casts later ones to it."""

    def __init__(self, path: Path, neutralise: bool):
        self.writer = Writer(path)
        self.schema = None
        self.neutralise = neutralise and self.writer.format in ("csv", "xlsx")

    def write(self, table, neutralised: bool = False) -> None:
        """Append ``table``; ``neutralised``: a worker already neutralised its text cells."""
        from .privacy import neutralise_table

        # neutralised before the schema check, so that header names compare as a
        # worker's neutralised tables do (neutralising is idempotent)
        if self.neutralise and not neutralised:
            table = neutralise_table(table)
        if self.schema is None:
            self.schema = table.schema
        elif table.schema != self.schema:
            table = table.select(self.schema.names).cast(self.schema)
            if self.neutralise:  # a cast can make a column text
                table = neutralise_table(table)
        self.writer.write(table)

    def write_rows(self, schema, data: bytes, rows: int) -> bool:
        """Append CSV rows a worker encoded from a table of ``schema`` (already neutralised).

        Returns False, writing nothing, when ``schema`` is not the file's: the caller
        then writes the table itself (cast to the file's schema, as :meth:`write` does).
        """
        if self.schema is None:
            self.schema = schema
        elif schema != self.schema:
            return False
        self.writer.write_csv_rows(schema, data, rows)
        return True

    def close(self) -> None:
        self.writer.close()


# ---------------------------------------------------------------------------
# chunks in worker processes


@dataclass
class _Setup:
    """What a worker process needs for every chunk (sent once, when it starts)."""

    plan: Plan
    pseudo: Any
    pseudo_cols: list[str]
    drop_cols: list[str]
    neutralise_results: bool
    neutralise_problems: bool
    csv_results: bool = False
    csv_problems: bool = False


@dataclass
class _ChunkOutput:
    """A chunk ready to write: Arrow tables (pseudonymised, dropped, neutralised) and counts.

    For a CSV output, ``results`` / ``problems`` are ``(schema, bytes, rows)``: the rows
    encoded by :func:`~psyscreen.batch.io.csv_rows`, so the main process only appends.
    """

    results: Any
    problems: Any
    stats: dict[str, Any]
    rows: int


_SETUP: _Setup | None = None


def _init_worker(setup: _Setup, parent: int | None = None) -> None:
    """Set up a worker process: the run's setup, Ctrl-C left to the parent, and a
    watchdog that ends the worker when the parent (pid ``parent``) is gone, even after
    ``kill -9`` (the worker would otherwise wait on its task queue for ever)."""
    import signal
    import threading

    global _SETUP
    _SETUP = setup
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent stops the pool, then exits 130
    if parent is not None:
        threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()


def _watch_parent(parent: int, every: float = 0.5) -> None:
    while True:
        time.sleep(every)
        try:
            os.kill(parent, 0)
        except ProcessLookupError:
            os._exit(1)
        except PermissionError:  # pragma: no cover - a pid reused by another user
            os._exit(1)


def _worker_chunk(chunk: Any, row0: int, dup_first: np.ndarray | None) -> _ChunkOutput:
    """The task of a worker process (module level, so that it pickles by name).

    ``chunk``: a DataFrame, or an Arrow table as read (converted here, not in the reader).
    """
    assert _SETUP is not None, "worker not initialised"
    return _chunk_output(_as_frame(chunk, _SETUP.plan), _SETUP, row0, dup_first, encode=True)


def _as_frame(chunk: Any, plan: Plan) -> pd.DataFrame:
    """A chunk as the reader's DataFrame (an Arrow chunk converted as the reader does)."""
    if isinstance(chunk, pd.DataFrame):
        return chunk
    return arrow_frame(chunk, plan.categorical_columns())


def _chunk_output(
    chunk: pd.DataFrame,
    setup: _Setup,
    row0: int,
    dup_first: np.ndarray | None,
    encode: bool = False,
) -> _ChunkOutput:
    """:func:`process_chunk` plus everything per chunk up to the bytes: the parallel path.

    ``dup_first``: per row the row of an earlier occurrence of its id (-1: none), as
    the :class:`IdTracker` of the main process found it; ``None`` without an id role.
    ``encode``: CSV outputs come back as ``(schema, bytes, rows)`` (see :class:`_ChunkOutput`).
    """
    from .io import csv_rows
    from .privacy import neutralise_table
    from .report import ReportStats

    cr = process_chunk(chunk, setup.plan, row0, dup_first)
    stats = ReportStats(setup.plan)
    stats.update(cr.results, cr.problems)
    results = _finish(cr.results, setup.pseudo, setup.pseudo_cols, setup.drop_cols)
    problems = to_arrow(cr.problems)
    if setup.neutralise_results:
        results = neutralise_table(results)
    if setup.neutralise_problems:
        problems = neutralise_table(problems)
    if encode and setup.csv_results:
        results = (results.schema, csv_rows(results), results.num_rows)
    if encode and setup.csv_problems:
        problems = (problems.schema, csv_rows(problems), problems.num_rows)
    return _ChunkOutput(results, problems, _stats_state(stats), len(chunk))


def _chunk_dups(chunk: Any, plan: Plan, tracker: IdTracker, row0: int):
    """Duplicate-id information of a chunk, in input order (main process), as in
    :func:`process_chunk` with an :class:`IdTracker`.

    ``chunk``: a DataFrame or an Arrow table (only its id column is converted).
    """
    if "id" not in plan.roles:
        return None
    col = chunk[plan.roles["id"]]
    if not isinstance(col, pd.Series):  # an Arrow column, converted as in the whole table
        col = col.to_pandas()
    ids = pd.DataFrame({"id": _text(col)}, index=pd.RangeIndex(len(chunk)))
    rows = np.arange(row0, row0 + len(chunk), dtype=np.int64)
    return tracker.first_rows(_id_values(ids), rows)


#: attributes of :class:`~psyscreen.batch.report.ReportStats` that configure, not count
_STATS_CONFIG = frozenset({"plan", "profile", "outcomes", "scales"})


def _stats_state(stats: Any) -> dict[str, Any]:
    """The counts of a :class:`~psyscreen.batch.report.ReportStats` (picklable, small)."""
    return {k: v for k, v in vars(stats).items() if k not in _STATS_CONFIG}


def _merge_stats(stats: Any, state: dict[str, Any]) -> None:
    """Add one chunk's counts to ``stats``, as ``stats.update`` on that chunk would.

    Counters are merged in chunk order, so even the order of their keys is the same
    as in a run in one process. An accumulator of another kind is an error (so a
    new one in the report cannot be dropped silently).
    """
    for name, part in state.items():
        mine = getattr(stats, name, None)
        if isinstance(mine, Counter):
            mine.update(part)
        elif isinstance(mine, dict) and all(isinstance(v, Counter) for v in mine.values()):
            for key, counts in part.items():
                mine.setdefault(key, Counter()).update(counts)
        elif isinstance(mine, set):
            mine.update(part)
        elif isinstance(mine, int) and not isinstance(mine, bool):
            setattr(stats, name, mine + part)
        else:
            raise TypeError(f"cannot merge the report statistic {name!r} from a worker")


def _mp_context():
    """``forkserver`` (a fresh single-threaded parent; no fork of our reader threads)."""
    methods = multiprocessing.get_all_start_methods()
    if "forkserver" in methods:
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(
            [__name__, f"{__package__}.report", f"{__package__}.privacy", "psyscreen.risk"]
        )
        return ctx
    return multiprocessing.get_context("spawn")  # pragma: no cover - Windows


def _run_pool(
    chunks: Iterator[pd.DataFrame],
    setup: _Setup,
    workers: int,
    tracker: IdTracker,
    stats: Any,
    res_sink: _TableSink,
    prob_sink: _TableSink,
    bar: Any,
) -> int:
    """Score chunks in ``workers`` processes; write them and add their counts in input order.

    The main process reads, finds repeated ids (in order), and writes; at most
    ``workers + 1`` chunks are in flight, so memory stays bounded. Returns rows read.
    """
    from concurrent.futures import ProcessPoolExecutor

    in_flight: deque = deque()
    n_rows, t_start = 0, time.perf_counter()

    def write_next() -> None:
        fut, chunk, row0, dups = in_flight.popleft()
        out = fut.result()
        _merge_stats(stats, out.stats)
        local = None  # the chunk's tables, made here only if a schema differs (rare)
        for sink, part, neutralised, which in (
            (res_sink, out.results, setup.neutralise_results, 0),
            (prob_sink, out.problems, setup.neutralise_problems, 1),
        ):
            if isinstance(part, tuple):
                if sink.write_rows(*part):
                    continue
                if local is None:
                    local = _chunk_output(_as_frame(chunk, setup.plan), setup, row0, dups)
                part = local.results if which == 0 else local.problems
            sink.write(part, neutralised=neutralised)
        if bar is not None:
            bar.update(out.rows)

    pool = ProcessPoolExecutor(
        max_workers=workers,
        mp_context=_mp_context(),
        initializer=_init_worker,
        initargs=(setup, os.getpid()),
    )
    try:
        for chunk in chunks:
            dups = _chunk_dups(chunk, setup.plan, tracker, n_rows)
            fut = pool.submit(_worker_chunk, chunk, n_rows, dups)
            log.debug("chunk from row %d: %d rows sent to a worker", n_rows, len(chunk))
            in_flight.append((fut, chunk, n_rows, dups))
            n_rows += len(chunk)
            if len(in_flight) > workers:
                write_next()
        while in_flight:
            write_next()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    dt = time.perf_counter() - t_start
    log.info("scored %d rows in %d worker processes in %.2f s", n_rows, workers, dt)
    return n_rows


# ---------------------------------------------------------------------------
# one process, three threads


class _ReadAhead:
    """Iterates ``source`` in a background thread: ``depth`` items wait, one more is made.

    The reader's work (pyarrow parses CSV without holding the GIL) then overlaps
    the scoring in the calling thread. An exception in the reader is raised in
    the caller, at the item where it happened; :meth:`close` stops the thread.
    """

    _END = object()

    def __init__(self, source: Iterator[Any], depth: int = 1):
        import queue
        import threading

        self._q: queue.Queue = queue.Queue(maxsize=depth)
        self._stop = threading.Event()
        self._source = source
        self._thread = threading.Thread(target=self._fill, name="psyscreen-read", daemon=True)
        self._thread.start()

    def _put(self, item: Any) -> bool:
        import queue

        while not self._stop.is_set():
            try:
                self._q.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def _fill(self) -> None:
        try:
            for item in self._source:
                if not self._put((item, None)):
                    return
        except BaseException as e:  # handed to the consumer, raised there
            self._put((None, e))
            return
        self._put((self._END, None))

    def __iter__(self) -> Iterator[Any]:
        while True:
            item, err = self._q.get()
            if err is not None:
                raise err
            if item is self._END:
                return
            yield item

    def close(self) -> None:
        self._stop.set()
        self._thread.join()


def _run_threads(
    chunks: Iterator[Any],
    plan: Plan,
    tracker: IdTracker,
    stats: Any,
    res_sink: _TableSink,
    prob_sink: _TableSink,
    bar: Any,
    pseudo: Any,
    pseudo_cols: list[str],
    drop_cols: list[str],
) -> int:
    """Score chunks in this thread while one thread reads ahead and one writes behind.

    Chunks are scored, counted and written strictly in input order (one thread for
    each step), so the outputs are those of a plain loop. While one chunk is scored,
    the one before is written and at most two are read ahead (one waiting, one being
    parsed), so memory stays bounded by the chunk size. Returns rows read.
    """
    from concurrent.futures import ThreadPoolExecutor

    def write(cr: ChunkResult, rows: int) -> None:
        stats.update(cr.results, cr.problems)
        res_sink.write(_finish(cr.results, pseudo, pseudo_cols, drop_cols))
        prob_sink.write(to_arrow(cr.problems))
        if bar is not None:
            bar.update(rows)

    n_rows, t_start = 0, time.perf_counter()
    pending: deque = deque()
    # the reading thread also turns Arrow chunks into DataFrames (Arrow work, off this thread)
    reader = _ReadAhead(_as_frame(c, plan) for c in chunks)
    writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="psyscreen-write")
    try:
        for chunk in reader:
            t_chunk = time.perf_counter()
            cr = process_chunk(chunk, plan, n_rows, tracker)
            dt = time.perf_counter() - t_chunk
            log.debug("chunk from row %d: %d rows scored in %.3f s", n_rows, len(chunk), dt)
            n_rows += len(chunk)
            while pending:  # the chunk before has been written (a writer's error raises here)
                pending.popleft().result()
            pending.append(writer.submit(write, cr, len(chunk)))
        while pending:
            pending.popleft().result()
    finally:
        reader.close()
        for fut in pending:
            fut.cancel()
        writer.shutdown(wait=True)
    log.info("scored %d rows in one process in %.2f s", n_rows, time.perf_counter() - t_start)
    return n_rows


# ---------------------------------------------------------------------------
# the run


@dataclass
class BatchResult:
    """What a run produced: paths, the manifest (as written) and the exit code."""

    results: Path
    problems: Path
    manifest_path: Path
    report: Path | None
    manifest: dict[str, Any]

    @property
    def exit_code(self) -> int:
        """0 success, 1 success with row problems (see ``psyscreen.cli``)."""
        return int(self.manifest["exit_code"])


def _resolve_profile(profile: Any, instruments: Sequence[Any] | None = None):
    """(profile or None, instruments) from a profile id/path/object, or instruments alone."""
    from ..risk import load_profile

    if instruments:  # scores only: no profile, no risk levels
        from ..registry import load_instrument

        return None, [load_instrument(i) for i in instruments]
    prof = load_profile(profile)
    insts = [prof.instrument(i) for i in prof.instruments]
    return prof, insts


def _mapping(mapping: str | Path | MappingSpec | None) -> tuple[MappingSpec, str | None, Any]:
    """(spec, sha256 of the file, name for the manifest)."""
    if isinstance(mapping, MappingSpec):
        return mapping, None, "<object>"
    if mapping is None:
        return MappingSpec(), None, None
    spec, digest = load_mapping(mapping)
    return spec, digest, str(mapping)


def plan_for(
    headers: Sequence[str],
    mapping: str | Path | MappingSpec | None = None,
    profile: Any = "default",
    norms: Any = "auto",
    instruments: Sequence[Any] | None = None,
) -> Plan:
    """The :class:`Plan` for an export with ``headers`` (e.g. for :mod:`psyscreen.batch.dask`).

    ``instruments`` (ids, paths or objects) instead of a profile: scores only.

    Example:
        >>> plan = plan_for(["学号", *[f"gad7_{i}" for i in range(1, 8)]])  # doctest: +SKIP
    """
    spec = _mapping(mapping)[0]
    prof, insts = _resolve_profile(profile, instruments)
    return make_plan(headers, spec, insts, profile=prof, norms=norms)


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).astimezone().isoformat(timespec="seconds")


def _progress(enabled: bool | None, total: int | None):
    if enabled is None:
        enabled = sys.stderr.isatty()
    if not enabled:
        return None
    try:
        from tqdm import tqdm
    except ImportError:  # pragma: no cover - tqdm comes with the `io` extra
        return None
    return tqdm(total=total, unit="rows", unit_scale=True, desc="psyscreen score", file=sys.stderr)


def default_paths(output: Path) -> tuple[Path, Path, Path]:
    """(problems, manifest, report) paths next to ``output``.

    Example:
        >>> [p.name for p in default_paths(Path("out/results.csv"))]
        ['results.problems.csv', 'results.manifest.json', 'results.report.html']
    """
    stem = output.with_suffix("")
    return (
        stem.with_name(stem.name + ".problems.csv"),
        stem.with_name(stem.name + ".manifest.json"),
        stem.with_name(stem.name + ".report.html"),
    )


def run(
    input: str | Path,
    output: str | Path,
    *,
    profile: Any = "default",
    mapping: str | Path | MappingSpec | None = None,
    problems: str | Path | None = None,
    manifest: str | Path | None = None,
    report: str | Path | bool | None = True,
    encoding: str | None = None,
    sheet: str | None = None,
    chunk_rows: int = 50_000,
    pseudonymise: Iterable[str] = (),
    key: bytes | None = None,
    key_file: str | Path | None = None,
    drop: Iterable[str] = (),
    neutralise: bool = True,
    norms: Any = "auto",
    progress: bool | None = None,
    workers: int = 1,
    delimiter: str | None = None,
    assessment_date: str | _dt.date | None = None,
    instruments: Sequence[Any] | None = None,
    report_lang: str = "zh",
) -> BatchResult:
    """Score an export file in chunks and write results, problems, manifest and report.

    Args:
        input: CSV/TXT/TSV, XLSX, SAV or Parquet file.
        output: results file; ``.csv`` (UTF-8 with BOM), ``.xlsx`` or ``.parquet``.
        profile: risk profile id, path or object (its battery names the instruments).
        instruments: instrument ids, paths or objects to score instead of a profile's
            battery: scores, bands and norms where a table applies, no risk levels.
        mapping: mapping file or :class:`MappingSpec`; ``None``: headers are item ids.
        problems, manifest: paths; default next to ``output`` (``<stem>.problems.csv``,
            ``<stem>.manifest.json``).
        report: HTML report path, ``True`` for ``<stem>.report.html``, ``False`` for none.
        encoding, sheet: override the mapping's CSV encoding / XLSX sheet.
        chunk_rows: rows per chunk (memory is proportional to it); with ``workers``
            processes, each scores chunks of ``chunk_rows // workers`` rows.
        pseudonymise: output columns (roles such as ``id`` or kept headers) to replace by
            keyed pseudonyms; the key is ``key``, else read from ``key_file``, else from
            the environment variable ``PSYSCREEN_PSEUDONYM_KEY``.
        drop: output columns to leave out (e.g. ``school`` or a kept name column).
        neutralise: neutralise formula-like text cells in CSV/XLSX outputs.
        norms: passed to the scoring layer (``"auto"``: the profile's norm tables).
        progress: show a progress bar; ``None``: only when stderr is a terminal.
        delimiter: of a CSV/TXT/TSV input (``","``, ``";"``, ``"tab"``; default: sniffed
            from the header line).
        assessment_date: one assessment date for every row (``YYYY-MM-DD``), instead of
            a column; wins over the mapping's ``constants: {assessment_date: ...}``.
        workers: processes that score chunks while this one reads, finds repeated ids
            and writes (``1``: everything in this process, which still reads ahead and
            writes behind in two threads). Outputs are byte-identical
            whatever the number; see ``docs/performance.md`` for when it pays. A script
            that passes ``workers > 1`` needs an ``if __name__ == "__main__":`` guard
            (the worker processes import the main module).
        report_lang: language of the HTML report, ``zh`` (default) or ``en``.

    Returns:
        :class:`BatchResult`. Raises :class:`BatchError` (or ``InputFileError``,
        ``DefinitionError``) when the run cannot be done; row problems never raise.
    """
    from .privacy import Pseudonymiser, load_key

    started, t0 = _now(), time.perf_counter()
    output = Path(output)
    d_problems, d_manifest, d_report = default_paths(output)
    problems_path = Path(problems) if problems else d_problems
    manifest_path = Path(manifest) if manifest else d_manifest
    report_path = d_report if report is True else (Path(report) if report else None)
    if chunk_rows < 1:
        raise BatchError("chunk_rows must be at least 1")
    if workers < 1:
        raise BatchError("workers must be at least 1")
    files = run_files(
        input, mapping, profile, key_file, output, problems_path, manifest_path, report_path
    )
    files.check()  # before anything is read: no input is ever an output

    spec, mapping_sha, mapping_name = _mapping(mapping)
    prof, insts = _resolve_profile(profile, instruments)
    pseudo_cols = list(pseudonymise)
    pseudo = None
    if pseudo_cols:
        pseudo = Pseudonymiser(key if key is not None else load_key(key_file))
    drop_cols = list(drop)

    src = guard_reading(
        lambda: open_source(
            input,
            encoding=encoding or spec.encoding,
            sheet=sheet or spec.sheet,
            value_labels=spec.value_labels,
            delimiter=delimiter_option(delimiter),
        ),
        input,
        FORMATS.get(Path(input).suffix.lower(), "csv"),
    )
    plan = make_plan(
        src.headers, spec, insts, profile=prof, norms=norms, assessment_date=assessment_date
    )
    check_plain_columns(src, plan.read_columns())
    out_names_known = ["row", *plan.roles, *spec.keep]
    for c in pseudo_cols + drop_cols:
        if c not in out_names_known:
            raise BatchError(
                f"cannot pseudonymise or drop {c!r}: not an output column "
                f"(choose from {', '.join(out_names_known[1:])})"
            )
    with files.open():
        try:
            man = _write_outputs(
                files, src, plan, prof, insts, norms, chunk_rows, workers, pseudo, pseudo_cols,
                drop_cols, neutralise, progress, started, t0, mapping_name, mapping_sha, input,
                report_lang,
            )  # fmt: skip
            files.commit()
        except OSError as e:  # reading errors are InputFileErrors by now: a write failed
            raise OutputPathError(os_error_message(e, files.describe(e.filename))) from e
    return BatchResult(output, problems_path, manifest_path, report_path, man)


def run_files(
    input: str | Path,
    mapping: Any,
    profile: Any,
    key_file: Any,
    output: Path,
    problems: Path,
    manifest: Path,
    report: Path | None,
) -> RunFiles:
    """The files a run reads and writes (see :mod:`psyscreen.batch.outputs`).

    A new output joins the same-file check, the lock and the atomic rename by one
    ``files.add_output(role, path)`` here.

    Example:
        >>> f = run_files("in.csv", None, "default", None, Path("r.csv"), Path("p.csv"),
        ...               Path("m.json"), None)
        >>> sorted(f.inputs), list(f.outputs)
        (['input'], ['results', 'problems', 'manifest'])
    """
    files = RunFiles()
    files.add_input("input", input)
    if isinstance(mapping, (str, Path)):
        files.add_input("mapping", mapping)
    if isinstance(profile, (str, Path)) and Path(profile).is_file():
        files.add_input("profile", profile)
    files.add_input("key", key_file)
    files.add_output("results", output)
    files.add_output("problems", problems)
    files.add_output("report", report)
    files.add_output(MANIFEST, manifest)  # registered last, renamed last
    return files


def _write_outputs(
    files: RunFiles, src, plan: Plan, prof, insts, norms, chunk_rows: int, workers: int,
    pseudo, pseudo_cols: list[str], drop_cols: list[str], neutralise: bool, progress,
    started: str, t0: float, mapping_name, mapping_sha, input, report_lang: str = "zh",
) -> dict[str, Any]:  # fmt: skip
    """Score and write every output to its temporary file; return the manifest written."""
    from .report import ReportStats

    output, problems_path = files.path("results"), files.path("problems")
    report_path = files.path("report") if "report" in files.outputs else None
    res_tmp, prob_tmp = files.temp("results"), files.temp("problems")
    stats = ReportStats(plan)
    tracker = IdTracker()
    res_sink = _TableSink(res_tmp, neutralise)
    prob_sink = _TableSink(prob_tmp, neutralise)
    bar = _progress(progress, None)
    n_rows = 0
    try:
        # with workers, each scores a share of a chunk (memory per process follows the chunk)
        task_rows = max(1, chunk_rows // workers)
        # CSV chunks are parsed as plain strings and dictionary-encoded afterwards
        # (arrow_frame: a third less reading work than encoding while parsing), by the
        # reading thread in one process, by the workers otherwise
        chunks = guard_chunks(
            src.chunks(plan.read_columns(), plan.categorical_columns(), task_rows, arrow=True),
            src.path,
            src.format,
        )
        # answer codes numbered from 1 instead of 0: refused before they are graded
        chunks = CodingCheck(plan).watch(chunks, lambda c, n: _as_frame(_head(c, n), plan))
        if workers > 1:  # processes pay off only from a second chunk on
            ahead = list(itertools.islice(chunks, 2))
            workers = workers if len(ahead) == 2 else 1
            chunks = itertools.chain(ahead, chunks)
        if workers > 1:
            setup = _Setup(
                plan,
                pseudo,
                pseudo_cols,
                drop_cols,
                res_sink.neutralise,
                prob_sink.neutralise,
                csv_results=res_sink.writer.format == "csv",
                csv_problems=prob_sink.writer.format == "csv",
            )
            reader = _ReadAhead(iter(chunks))  # parsing overlaps id tracking and writing
            try:
                n_rows = _run_pool(reader, setup, workers, tracker, stats, res_sink, prob_sink, bar)
            finally:
                reader.close()
        else:  # one process: read ahead and write behind in threads
            n_rows = _run_threads(
                chunks,
                plan,
                tracker,
                stats,
                res_sink,
                prob_sink,
                bar,
                pseudo,
                pseudo_cols,
                drop_cols,
            )
        if res_sink.schema is None:  # an export with a header and no rows
            cr = process_chunk(_empty_chunk(plan), plan, 0, tracker)
            res_sink.write(_finish(cr.results, pseudo, pseudo_cols, drop_cols))
        if prob_sink.schema is None:
            prob_sink.write(to_arrow(empty_problems()))
    finally:
        res_sink.close()
        prob_sink.close()
        if bar is not None:
            bar.close()

    finished = _now()
    counts = stats.counts()
    unreadable = counts["by_row_status"].get("unreadable", 0)
    exit_code = 1 if (counts["rows_with_problems"] or unreadable) else 0
    man: dict[str, Any] = {
        "psyscreen_version": __version__,
        "started_at": started,
        "finished_at": finished,
        "duration_seconds": round(time.perf_counter() - t0, 3),
        "input": {
            "file": str(input),
            "format": src.format,
            "encoding": src.encoding,
            "sha256": src.sha256,
            "bytes": src.path.stat().st_size,
        },
        "mapping": {"file": mapping_name, "sha256": mapping_sha},
        "definitions": _provenance(prof, insts, norms),
        "options": {
            "chunk_rows": chunk_rows,
            "workers": workers,
            "pseudonymised_columns": pseudo_cols,
            "pseudonym_key_fingerprint": pseudo.fingerprint if pseudo else None,
            "dropped_columns": drop_cols,
            "formulas_neutralised": res_sink.neutralise,
            "norms": norms if isinstance(norms, str) or norms is None else "custom",
        },
        "rows": {
            "in": n_rows,
            "out": res_sink.writer.rows,
            "read": n_rows - unreadable,
            "unreadable": unreadable,
            "unreadable_by_kind": {
                k.split(":", 1)[1]: v
                for k, v in counts["problems_by_kind"].items()
                if k.startswith("line:")
            },
            **counts,
        },
        "outputs": {},
        "exit_code": exit_code,
    }
    # output files are hashed in threads (reading the page cache without the global
    # lock) while the report is drawn; Parquet was hashed while written
    hashes = {
        key: sink.writer.sha256 or _hash_in_thread(path)
        for key, sink, path in (
            ("results", res_sink, res_tmp),
            ("problems", prob_sink, prob_tmp),
        )
    }
    if man["rows"]["in"] != man["rows"]["out"]:  # pragma: no cover - an internal error
        raise RuntimeError("rows in and out differ: this is a bug in psyscreen, please report it")
    if report_path is not None:
        from .report import render_report

        report_html = render_report(stats, man, lang=report_lang)
        files.temp("report").write_text(report_html, encoding="utf-8")
    for key, path in (("results", output), ("problems", problems_path)):
        digest = hashes[key] if isinstance(hashes[key], str) else hashes[key].result()
        man["outputs"][key] = _out_entry(path, files.temp(key), digest)
    if report_path is not None:
        man["outputs"]["report"] = _out_entry(report_path, files.temp("report"))
    files.temp(MANIFEST).write_text(
        json.dumps(man, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8"
    )
    return man




def _out_entry(p: Path, written: Path, sha256: str | None = None) -> dict[str, Any]:
    """Manifest entry of output ``p`` (its bytes are in ``written`` until renamed);
    ``sha256``: already known (else the file is hashed)."""
    digest = sha256 or sha256_file(written)
    return {"file": str(p), "sha256": digest, "bytes": os.path.getsize(written)}


def _head(chunk: Any, n: int) -> Any:
    """The first ``n`` rows of a chunk (a DataFrame or an Arrow table)."""
    return chunk.iloc[:n] if isinstance(chunk, pd.DataFrame) else chunk.slice(0, n)


def _empty_chunk(plan: Plan) -> pd.DataFrame:
    return pd.DataFrame({h: pd.Series(dtype=object) for h in plan.read_columns()})


def _finish(results: pd.DataFrame, pseudo, pseudo_cols: list[str], drop_cols: list[str]):
    table = to_arrow(results.drop(columns=drop_cols) if drop_cols else results)
    for c in pseudo_cols:
        if c in table.column_names:
            i = table.column_names.index(c)
            table = table.set_column(i, c, pseudo.array(table.column(c)))
    return table


def _provenance(prof, insts: list[Instrument], norms: Any) -> dict[str, Any]:
    """Versions and content hashes of the profile, instruments and norm tables used."""
    from ..risk import provenance

    if prof is None:  # scores only: the instruments and the norm tables they pick
        tables: list = []
        if norms is not None:
            from ..norms import select_tables

            tables = sorted(
                {t.ref: t for t in select_tables(norms, insts).values()}.values(),
                key=lambda t: t.ref,
            )
        return {
            "library": "psyscreen",
            "library_version": __version__,
            "profile": None,
            "instruments": [{"id": i.id, "version": i.version, "sha256": i.sha256} for i in insts],
            "norm_tables": [{"id": t.id, "version": t.version, "sha256": t.sha256} for t in tables],
        }
    return provenance(prof, norms)
