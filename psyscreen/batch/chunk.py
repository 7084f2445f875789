"""One chunk of a batch run: map, score, check rows, assemble problems (pure functions).

:func:`process_chunk` is a function of the chunk, the :class:`~psyscreen.batch.plan.Plan`
and the row offset (plus the ids seen before); the Dask path runs it per partition.

Example:
    >>> from psyscreen.batch.chunk import empty_problems
    >>> list(empty_problems().columns)
    ['row', 'line', 'column', 'field', 'problem', 'detail']
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .. import demographics as demo
from ..categories import from_codes
from ..pipeline import StageCache, run_stages, screen_staged
from ..problems import CellProblems
from .csvlayout import DAMAGE, LINE, MAX_CELL_CHARS, MAX_LINE_BYTES
from .ids import IdTracker, _id_values
from .mapping import as_text_category, map_answers
from .plan import _CATEGORICAL_ROLES, Plan

#: an age outside this range (years) is reported as implausible for child screening
AGE_PLAUSIBLE = (3.0, 25.0)


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


def score_frame(
    canon: pd.DataFrame, plan: Plan, cache: StageCache | None = None
) -> tuple[pd.DataFrame, CellProblems]:
    """The one seam to the scoring layers (through :mod:`psyscreen.pipeline`): risk
    screening when a profile is given; the scores and the answers' cell problems. The
    norm tables are the plan's, chosen once when it was made."""
    if plan.profile is not None:
        return screen_staged(
            canon,
            plan.profile,
            demographics=plan.demographics(),
            norms=plan.norms,
            missing_columns="error",
            cache=cache,
            with_problems=True,
            tables=plan.tables,
        )
    staged = run_stages(
        canon,
        plan.instruments,
        chosen=plan.tables.whole if plan.tables is not None else None,
        demographics=plan.demographics(),
        with_problems=True,
        cache=cache,
    )
    return staged.scores, staged.problems


def _from_categories(
    col: pd.Series, fn: Any, cache: demo.ParseCache | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Apply a demographics parser to the distinct values of a categorical, broadcast back.

    Rows without a value get NaN / NaT and the status ``missing``.
    """
    from pandas.api.extensions import take

    cats = np.asarray(col.cat.categories, dtype=object)
    values, status = demo.parse_distinct(fn, cats, cache)
    codes = col.cat.codes.to_numpy()
    return (
        np.asarray(take(values, codes, allow_fill=True)),
        np.asarray(take(np.asarray(status), codes, allow_fill=True, fill_value=demo.MISSING)),
    )


def check_rows(
    canon: pd.DataFrame, plan: Plan, cache: demo.ParseCache | None = None
) -> list[tuple[np.ndarray, str, str, str]]:
    """Row problems of the role columns: (mask, field, problem, detail) per kind.

    Uses the parsers of :mod:`psyscreen.demographics` on distinct values only.
    Duplicate ids need the rows seen before: see :class:`IdTracker`.
    """
    out: list[tuple[np.ndarray, str, str, str]] = []
    n = len(canon)
    if "id" in canon:
        out.append((canon["id"].isna().to_numpy(), "id", "missing", ""))
    if "sex" in canon:
        _, st = _from_categories(canon["sex"], demo.sex_status, cache)
        out.append((st == demo.INVALID, "sex", "unknown_code", ""))
    if "grade" in canon:
        _, st = _from_categories(canon["grade"], demo.parse_grade, cache)
        out.append((st == demo.INVALID, "grade", "unknown_grade", ""))
    age = np.full(n, np.nan)
    if "age" in canon:
        a, st = _from_categories(canon["age"], demo.parse_age, cache)
        out.append((st == demo.INVALID, "age", "impossible", "not a number in 0-120"))
        age = a.astype(float)
    dates = {}
    for role in ("birth_date", "assessment_date"):
        if role in canon:
            d, st = _from_categories(canon[role], demo.parse_dates, cache)
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
    age_lo, age_hi = AGE_PLAUSIBLE
    with np.errstate(invalid="ignore"):
        odd = np.isfinite(age) & ((age < age_lo) | (age >= age_hi))
    out.append((odd, "age", "implausible", f"age outside {age_lo:g}-{age_hi:g} years"))
    return out


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
    cache: StageCache | None = None,
) -> ChunkResult:
    """Map, score and check one chunk whose first row is input row ``row0``.

    ``ids`` finds repeated ids: an :class:`IdTracker` of the rows before (streaming),
    or per row the row of an earlier occurrence of its id, -1 for none (Dask).
    ``cache``: the stages' memos, kept by the caller across the chunks of a run.
    """
    cache = cache if cache is not None else StageCache()
    n = len(chunk)
    rows = np.arange(row0, row0 + n, dtype=np.int64)
    lines, damage = _record_meta(chunk)
    damaged = damage != ""
    canon = prepare(chunk, plan)
    scored, cell_problems = score_frame(canon, plan, cache)
    checks = check_rows(canon, plan, cache.demographics)
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
            # a duplicate check exists only where the tracker named the first rows
            assert dup_first is not None
            texts = [f"same id as row {int(f)}" for f in dup_first[hit]]
            prob_details.append(np.asarray(texts, dtype=np.object_))
        elif fld == "line":
            prob_details.append(np.array([_DAMAGE_TEXT.get(kind, "")] * len(hit), dtype=object))
        else:
            prob_details.append(np.full(len(hit), detail, dtype=object))
    # answer problems, as the scoring layer found them (an unreadable record has none)
    answers = cell_problems.take(~damaged[cell_problems.row])
    if len(answers):
        prob_rows.append(answers.row)
        prob_fields.append(answers.item)
        prob_kinds.append(np.array(answers.names(), dtype=object))
        prob_details.append(answers.instrument)
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
        lines = pd.array(chunk[LINE].array, dtype="Int64").to_numpy(dtype=object, na_value=None)
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


def _empty_chunk(plan: Plan) -> pd.DataFrame:
    return pd.DataFrame({h: pd.Series(dtype=object) for h in plan.read_columns()})
