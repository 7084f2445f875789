"""The sequencer: the one place that runs the stages in order.

definition -> item values (:mod:`~psyscreen.responses`) -> scales
(:mod:`~psyscreen.scoring`) -> norms (:mod:`~psyscreen.norms.apply`) -> risk
(:mod:`~psyscreen.risk`: routing, grading) -> records / output.
:func:`score`, :func:`score_detailed`, :func:`screen`, :func:`screen_records` (re-exported
by :mod:`psyscreen`), the batch chunk function and the Dask path all call
:func:`run_stages`; no stage imports a later one, and no stage imports this module.
Demographics are read once per call and passed on typed
(:class:`~psyscreen.demographics.Demographics`), cell problems travel as
:class:`~psyscreen.problems.CellProblems`, norm tables are selected by the caller once and
passed in, and the caches of the stages live in a :class:`StageCache` the caller owns.

Example:
    >>> import pandas as pd, psyscreen
    >>> df = pd.DataFrame({f"phq9_{i}": [1, 3] for i in range(1, 10)})
    >>> out = score(df, "phq9")
    >>> out["phq9.total.raw"].tolist(), out["phq9.total.band"].tolist()
    ([9.0, 27.0], ['mild', 'severe'])
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from . import columns as colnames
from .categories import DtypeCache
from .definitions import Instrument
from .demographics import Demographics, ParseCache, read_demographics, resolve_columns
from .norms.apply import Chosen, add_norm_columns, select_tables
from .problems import CellProblems
from .registry import load_instrument
from .responses import ResponseCache, item_values
from .risk import NormChoice, norm_choice, provenance_of, tables_of
from .risk.evaluate import GATES, Evaluation, evaluate, instruments_of
from .risk.profile import RiskProfile, load_profile
from .risk.records import Provenance, ScreeningRecord, build_records
from .risk.routes import NO_AGE, OUT_OF_RANGE, Routing, combine, route_rows
from .scoring import age_marked, score_items
from .vocab import ParseStatus

InstrumentLike = str | Path | Instrument
ProfileLike = str | Path | RiskProfile


@dataclass
class StageCache:
    """The memos of the stages, owned by whoever runs many calls (a batch run): answer
    values of categorical columns, parsed demographic values and result dtypes.
    Results never depend on it, only the time does; a call without one gets a fresh one."""

    responses: ResponseCache = field(default_factory=ResponseCache)
    demographics: ParseCache = field(default_factory=ParseCache)
    dtypes: DtypeCache = field(default_factory=DtypeCache)
    templates: dict[tuple, tuple[Any, Any, pd.DataFrame]] = field(default_factory=dict)

    def template(
        self,
        prof: RiskProfile,
        choice: NormChoice,
        data: pd.DataFrame,
        columns: Mapping[str, str] | None,
        demographics: Mapping[str, str] | None,
    ) -> pd.DataFrame:
        """The score template of :func:`_score_template`, once per profile, norm choice and
        input layout (column names and dtypes; a categorical's categories do not matter)."""
        key = (
            id(prof),
            id(choice),
            tuple((str(c), str(t)) for c, t in data.dtypes.items()),
            tuple(sorted((columns or {}).items())),
            tuple(sorted((demographics or {}).items())),
        )
        hit = self.templates.get(key)
        # the objects are kept with the entry, so an id is never reused while it is cached
        if hit is not None and hit[0] is prof and hit[1] is choice:
            return hit[2]
        if len(self.templates) >= 8:
            self.templates.clear()
        out = _score_template(prof, choice, data, columns, demographics)
        self.templates[key] = (prof, choice, out)
        return out


@dataclass
class ScoreResult:
    """Scores plus a long table of value problems (by row position, never by id)."""

    scores: pd.DataFrame
    problems: pd.DataFrame
    instruments: list[Instrument] = field(default_factory=list)


@dataclass
class Staged:
    """What :func:`run_stages` hands on: the score columns, the cell problems (when
    asked) and the demographics it read (None when it needed none)."""

    scores: pd.DataFrame
    problems: CellProblems
    demographics: Demographics | None


@dataclass
class Graded:
    """Every row routed, scored and graded: the scores in input order, one evaluation per
    group of rows taking one battery (with their positions), the norm tables used, the
    routing and the cell problems (row positions in the input)."""

    profile: RiskProfile
    scores: pd.DataFrame
    evals: list[tuple[np.ndarray, Evaluation]]
    tables: list
    routing: Routing
    problems: CellProblems


def as_instruments(instrument: InstrumentLike | Sequence[InstrumentLike]) -> list[Instrument]:
    """One or more instruments (ids, paths or objects), none listed twice.

    Example:
        >>> [i.id for i in as_instruments(["phq9", "gad7"])]
        ['phq9', 'gad7']
    """
    if isinstance(instrument, (str, Path, Instrument)):
        return [load_instrument(instrument)]
    insts = [load_instrument(i) for i in instrument]
    ids = [i.id for i in insts]
    if len(set(ids)) != len(ids):
        raise ValueError(f"an instrument is listed twice: {ids}")
    return insts


def run_stages(
    data: pd.DataFrame,
    insts: Sequence[Instrument],
    *,
    columns: Mapping[str, str] | None = None,
    missing_columns: str | Sequence[str] = "error",
    chosen: Chosen | None = None,
    demographics: Mapping[str, str] | None = None,
    ages: np.ndarray | None = None,
    with_problems: bool = False,
    cache: StageCache | None = None,
    read: Demographics | None = None,
) -> Staged:
    """Item values -> scales -> norms for ``insts`` on ``data``, in that order.

    Args:
        missing_columns: ``'error'`` / ``'missing'``, or one per instrument.
        chosen: the norm tables, from :func:`~psyscreen.norms.apply.select_tables`
            (None: no norms).
        ages: known age per row (NaN: unknown) for the ``out_of_age_range`` status;
            by default read from the demographics columns when an instrument has an
            age range.
        with_problems: also collect the cell problems (else an empty set).
        read: the demographics of ``data`` when the caller has read them already.

    Example:
        >>> import pandas as pd
        >>> df = pd.DataFrame({f"gad7_{i}": [2, 9] for i in range(1, 8)})
        >>> st = run_stages(df, as_instruments("gad7"), with_problems=True)
        >>> st.scores["gad7.status"].tolist(), len(st.problems)
        (['complete', 'insufficient'], 7)
    """
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"data must be a pandas DataFrame, not {type(data).__name__}")
    cache = cache if cache is not None else StageCache()
    mcs = [missing_columns] * len(insts) if isinstance(missing_columns, str) else missing_columns
    demo = None
    wants_ages = ages is None and any(i.age_range.interval() is not None for i in insts)
    if chosen is not None or wants_ages:
        cols = resolve_columns(data, demographics)
        if read is not None:
            demo = read
        elif chosen is not None or {"age", "birth_date"} & set(cols):
            demo = read_demographics(data, cols, cache.demographics)
    if wants_ages and demo is not None:
        ages = np.where(demo.age_status == ParseStatus.OK, demo.age_years, np.nan)
    parts: list[pd.DataFrame] = []
    problems: list[CellProblems] = []
    for inst, mc in zip(insts, mcs):
        iv = item_values(data, inst, columns=columns, missing_columns=mc, cache=cache.responses)
        cols_ = score_items(iv, inst, cache.dtypes)
        key = colnames.status(inst.id)
        cols_[key] = age_marked(cols_[key], inst, ages)
        parts.append(pd.DataFrame(cols_, index=data.index))
        if with_problems:
            problems.append(CellProblems.of(iv, inst.id))
    scores = pd.concat(parts, axis=1) if parts else pd.DataFrame(index=data.index)
    if chosen is not None and demo is not None:
        scores = add_norm_columns(scores, insts, chosen, demo, cache.dtypes)
    return Staged(scores, CellProblems.concat(problems), demo)


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
        described in :mod:`psyscreen.scoring` and :mod:`psyscreen.norms.apply`.

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

    Example:
        >>> import pandas as pd, psyscreen
        >>> df = pd.DataFrame({f"gad7_{i}": [2, 9] for i in range(1, 8)})
        >>> psyscreen.score_detailed(df, "gad7").problems["problem"].unique().tolist()
        ['out_of_range']
    """
    return _score(data, instrument, columns, missing_columns, norms, demographics, True)


def _score(
    data: pd.DataFrame,
    instrument: InstrumentLike | Sequence[InstrumentLike],
    columns: Mapping[str, str] | None,
    missing_columns: str,
    norms: Any,
    demographics: Mapping[str, str] | None,
    with_problems: bool,
) -> ScoreResult:
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"data must be a pandas DataFrame, not {type(data).__name__}")
    insts = as_instruments(instrument)
    chosen = select_tables(norms, insts) if norms is not None else None
    st = run_stages(
        data,
        insts,
        columns=columns,
        missing_columns=missing_columns,
        chosen=chosen,
        demographics=demographics,
        with_problems=with_problems,
    )
    return ScoreResult(st.scores, st.problems.to_frame(columns), insts)


def _score_battery(
    data: pd.DataFrame,
    prof: RiskProfile,
    chosen: Chosen,
    *,
    columns: Mapping[str, str] | None,
    demographics: Mapping[str, str] | None,
    missing_columns: str,
    ages: np.ndarray | None = None,
    cache: StageCache | None = None,
    with_problems: bool = False,
    read: Demographics | None = None,
) -> Staged:
    """Score and norm one battery (a profile without routes) with its tables ``chosen``."""
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"data must be a pandas DataFrame, not {type(data).__name__}")
    return run_stages(
        data,
        instruments_of(prof),
        columns=columns,
        missing_columns=[missing_columns if b.required else "missing" for b in prof.battery],
        chosen=chosen or None,
        demographics=demographics,
        ages=ages,
        with_problems=with_problems,
        cache=cache,
        read=read,
    )


def screen(
    data: pd.DataFrame,
    profile: ProfileLike = "default",
    *,
    columns: Mapping[str, str] | None = None,
    demographics: Mapping[str, str] | None = None,
    norms: Any = "auto",
    missing_columns: str = "error",
) -> pd.DataFrame:
    """Score ``data`` on the profile's battery and grade each row.

    Args:
        data: answers, one row per child; columns are item ids unless ``columns`` maps them.
        profile: id of a shipped profile, path to a profile file, or a :class:`RiskProfile`.
        columns: item id -> column name, for data whose headers differ.
        demographics: column names for ``age``, ``sex``, ``birth_date``,
            ``assessment_date`` and ``grade`` (norm strata).
        norms: ``'auto'`` (the profile's pinned norm tables, or automatic choice),
            ``None`` (no norms) or anything :func:`psyscreen.score` accepts.
        missing_columns: for *required* instruments, ``'error'`` raises when item
            columns are absent, ``'missing'`` scores them as unanswered (the row
            then gets ``insufficient_data`` unless a higher level fired). Optional
            instruments are always scored as unanswered when absent.

    Returns:
        A DataFrame with the same index as ``data``: all score columns plus the
        ``risk.*`` columns (see ``docs/risk.md``).

    Example:
        >>> import pandas as pd, psyscreen
        >>> df = pd.DataFrame({f"phq9_{i}": [3] for i in range(1, 10)})
        >>> out = psyscreen.screen(df, missing_columns="missing")
        >>> out["risk.level_zh"].iloc[0], out["risk.rules"].iloc[0].split(";")[0]
        ('危机', 'critical_item')
    """
    return screen_staged(data, profile, columns, demographics, norms, missing_columns)[0]


def screen_staged(
    data: pd.DataFrame,
    profile: ProfileLike,
    columns: Mapping[str, str] | None = None,
    demographics: Mapping[str, str] | None = None,
    norms: Any = "auto",
    missing_columns: str = "error",
    *,
    cache: StageCache | None = None,
    with_problems: bool = False,
    tables: NormChoice | None = None,
) -> tuple[pd.DataFrame, CellProblems]:
    """:func:`screen` and the cell problems (row positions in ``data``; empty unless
    ``with_problems``), with the stages' memos in ``cache`` and the norm tables already
    chosen in ``tables`` (both the batch plan's; by default chosen from ``norms``).

    Example:
        >>> import pandas as pd
        >>> df = pd.DataFrame({**{f"phq9_{i}": [0] for i in range(1, 10)}, "phq9_2": [7]})
        >>> out, probs = screen_staged(df, "default", missing_columns="missing",
        ...                            with_problems=True)
        >>> probs.item.tolist(), probs.names()
        (['phq9_2'], ['out_of_range'])
    """
    graded = _graded(
        data, profile, columns, demographics, norms, missing_columns, cache, with_problems, tables
    )
    scores, evals, problems = graded.scores, graded.evals, graded.problems
    return pd.concat([scores, _risk_columns(evals, data.index)], axis=1), problems


def _graded(
    data: pd.DataFrame,
    profile: ProfileLike,
    columns: Mapping[str, str] | None,
    demographics: Mapping[str, str] | None,
    norms: Any,
    missing_columns: str,
    cache: StageCache | None = None,
    with_problems: bool = False,
    tables: NormChoice | None = None,
) -> Graded:
    """Route, score and grade every row (see :class:`Graded`).

    Rows are grouped by route (or status) and each group is scored on its own battery;
    the scores come back in input order. A profile whose every row takes the one battery
    is scored in one piece, exactly as without routing.
    """
    prof = load_profile(profile)
    choice = tables if tables is not None else norm_choice(prof, norms)
    cache = cache if cache is not None else StageCache()
    read = read_demographics(data, resolve_columns(data, demographics), cache.demographics)
    routing = route_rows(prof, data, demographics, read=read)
    groups = routing.groups()
    ages = routing.known_ages()
    if not groups and prof.routed:  # no rows: the columns of the rows outside the routes
        groups = [(OUT_OF_RANGE, np.arange(0))]
    whole = choice.whole if choice.whole is not None else {}

    def score_whole() -> Staged:  # every row on the profile's one battery, in one call
        return _score_battery(
            data,
            prof,
            whole,
            columns=columns,
            demographics=demographics,
            missing_columns=missing_columns,
            ages=ages,
            cache=cache,
            with_problems=with_problems,
            read=read,
        )

    if not prof.routed and (not groups or (len(groups) == 1 and groups[0][0] == 0)):
        staged = score_whole()
        scores = staged.scores
        evals = [(np.arange(len(data)), evaluate(scores, prof))]
        return Graded(prof, scores, evals, tables_of(whole), routing, staged.problems)
    groups = _one_battery_groups(prof, groups, routing)
    if _fallback_scores_alike(prof, choice, data, columns):
        # one scoring call; each group graded on its own battery's rules
        staged = score_whole()
        evals = []
        for code, pos in groups:
            sub = prof.part(None) if code == OUT_OF_RANGE else prof
            part = staged.scores if len(pos) == len(data) else staged.scores.iloc[pos]
            evals.append((pos, evaluate(part, sub, gate=_gates(routing.route[pos]))))
        template = cache.template(prof, choice, data, columns, demographics)
        scores = _conform(staged.scores, template)
        return Graded(prof, scores, evals, tables_of(whole), routing, staged.problems)
    score_parts: list[tuple[np.ndarray, pd.DataFrame]] = []
    evals, used, problems = [], {}, []
    for code, pos in groups:
        sub, chosen = _battery(prof, choice, code)
        rows = data.iloc[pos]
        mc = missing_columns
        if sub is not prof:  # another route's (or no route's) columns may be absent
            mc = "missing"
        staged = _score_battery(
            rows,
            sub,
            chosen,
            columns=columns,
            demographics=demographics,
            missing_columns=mc,
            ages=ages[pos],
            cache=cache,
            with_problems=with_problems,
            read=read.take(pos),
        )
        part = staged.scores
        problems.append(staged.problems.shifted(pos))
        gate = _gates(routing.route[pos])
        absent = _absent(rows, sub, columns) if sub is not prof else frozenset()
        ev = evaluate(part, sub, gate=gate, absent=absent)
        if prof.routed:
            ev.columns["risk.route"] = _route_column(routing, code, len(pos))
        score_parts.append((pos, part))
        evals.append((pos, ev))
        used.update({t.ref: t for t in tables_of(chosen)})
    template = cache.template(prof, choice, data, columns, demographics)
    scores = _conform(combine(score_parts, data.index), template)
    tables_used = [used[k] for k in sorted(used)]
    return Graded(prof, scores, evals, tables_used, routing, CellProblems.concat(problems))


def _gates(route: np.ndarray) -> np.ndarray:
    """The evaluation gate of each row from its route code (a route's index, or a status)."""
    gate = np.zeros(len(route), dtype=np.int8)
    gate[route == OUT_OF_RANGE] = GATES["out_of_age_range"]
    gate[route == NO_AGE] = GATES["no_age"]
    return gate


def _one_battery_groups(
    prof: RiskProfile, groups: list[tuple[int, np.ndarray]], routing: Routing
) -> list[tuple[int, np.ndarray]]:
    """``groups`` with the rows of an unrouted profile's one battery scored together.

    Rows without an age take the same battery as the rows in range (only their gate
    differs, per row), so one call scores both: the cost of scoring is mostly per call
    and per column, and every stage depends on each row alone.
    """
    codes = [c for c, _ in groups]
    if prof.routed or 0 not in codes or NO_AGE not in codes:
        return groups
    merged = np.nonzero((routing.route == 0) | (routing.route == NO_AGE))[0]
    return [(0, merged), *((c, p) for c, p in groups if c not in (0, NO_AGE))]


def _fallback_scores_alike(
    prof: RiskProfile, choice: NormChoice, data: pd.DataFrame, columns: Mapping[str, str] | None
) -> bool:
    """Whether the rows outside an unrouted profile's ages score exactly as the rows in it
    (then :func:`_graded` scores every row in one call).

    The battery outside the ages has the same instruments with every one optional, and
    the same norm tables; optional only matters for an absent item column. So when no
    item column is absent, one call scores every row and only the grading differs.
    """
    if prof.routed or choice.whole is None:
        return False
    sub = prof.part(None)
    if [b.instrument for b in sub.battery] != [b.instrument for b in prof.battery]:
        return False
    outside = choice.parts[""]
    if {k: t.ref for k, t in outside.items()} != {k: t.ref for k, t in choice.whole.items()}:
        return False
    colmap = dict(columns or {})
    present = set(data.columns)
    return all(colmap.get(i, i) in present for inst in instruments_of(prof) for i in inst.item_ids)


def _battery(prof: RiskProfile, choice: NormChoice, code: int) -> tuple[RiskProfile, Chosen]:
    """The battery (a profile without routes) that the rows of group ``code`` take, and its
    norm tables."""
    if prof.routed:
        rid = prof.routes[code].id if code >= 0 else None
        return prof.part(rid), choice.parts["" if rid is None else rid]
    if code == OUT_OF_RANGE:  # an unknown age may still be in range: the one battery
        return prof.part(None), choice.parts[""]
    return prof, choice.whole if choice.whole is not None else {}


def _score_template(
    prof: RiskProfile,
    choice: NormChoice,
    data: pd.DataFrame,
    columns: Mapping[str, str] | None,
    demographics: Mapping[str, str] | None,
) -> pd.DataFrame:
    """An empty frame with every score column the profile can give, in a fixed order (its
    routes' batteries, then the fallback's), with their dtypes."""
    empty = data.iloc[:0]
    codes = list(range(len(prof.routes))) if prof.routed else [0]
    frames = []
    for code in [*codes, OUT_OF_RANGE]:
        sub, chosen = _battery(prof, choice, code)
        staged = _score_battery(
            empty,
            sub,
            chosen,
            columns=columns,
            demographics=demographics,
            missing_columns="missing",
        )
        frames.append(staged.scores)
    out = frames[0]
    for f in frames[1:]:
        new = [c for c in f.columns if c not in out.columns]
        out = pd.concat([out, f[new]], axis=1) if new else out
    return out


def _conform(scores: pd.DataFrame, template: pd.DataFrame) -> pd.DataFrame:
    """``scores`` with exactly the template's columns and order, and numbers and booleans in
    the template's kind (nullable), so that every chunk of a batch has the same columns and
    column types whatever routes its rows take (a column of a route no row took is all
    missing). Text and categorical columns stay as they are: both are written as text."""
    out = {}
    same = list(scores.columns) == list(template.columns)
    for c in template.columns:
        dt = template[c].dtype
        target: Any
        if isinstance(dt, pd.CategoricalDtype) or pd.api.types.is_string_dtype(dt):
            target = None
        elif dt.kind in "iu":
            target = pd.Int64Dtype()
        elif dt.kind == "b" or isinstance(dt, pd.BooleanDtype):
            target = pd.BooleanDtype()
        else:
            target = dt
        if c not in scores.columns:
            out[c] = pd.Series(index=scores.index, dtype=target if target is not None else object)
        elif target is not None and scores[c].dtype != target:
            out[c] = scores[c].astype(target)  # e.g. counts that a concat made float
            same = False
        else:
            out[c] = scores[c]
    if same:  # already conforms: building a frame of ~150 columns again costs ~20 ms
        return scores
    return pd.DataFrame(out, index=scores.index)


def _absent(rows: pd.DataFrame, prof: RiskProfile, columns) -> frozenset[str]:
    """Required battery instruments none of whose item columns is in the data."""
    colmap = dict(columns or {})
    out = set()
    for b, inst in zip(prof.battery, instruments_of(prof)):
        if b.required and not any(colmap.get(i, i) in rows.columns for i in inst.item_ids):
            out.add(inst.id)
    return frozenset(out)


def _route_column(routing: Routing, code: int, n: int):
    name = routing.names()[code] if code >= 0 else ""
    return pd.array([name] * n, dtype="string")


def _risk_columns(evals, index: pd.Index) -> pd.DataFrame:
    if len(evals) == 1:
        return combine([(evals[0][0], evals[0][1].columns)], index)
    first = evals[0][1].columns
    return _conform(combine([(pos, ev.columns) for pos, ev in evals], index), first.iloc[:0])


def screen_records(
    data: pd.DataFrame,
    profile: ProfileLike = "default",
    *,
    columns: Mapping[str, str] | None = None,
    demographics: Mapping[str, str] | None = None,
    norms: Any = "auto",
    missing_columns: str = "error",
    id_column: str | None = None,
) -> list[ScreeningRecord]:
    """One typed :class:`ScreeningRecord` per row of ``data`` (same arguments as :func:`screen`).

    ``id_column`` copies that column into ``ScreeningRecord.id`` (omitted by default).

    Example:
        >>> import pandas as pd, psyscreen
        >>> df = pd.DataFrame({f"phq9_{i}": [0] for i in range(1, 10)})
        >>> psyscreen.screen_records(df, missing_columns="missing")[0].status
        'no_age'
        >>> psyscreen.screen_records(df.assign(age=12), missing_columns="missing")[0].status
        'insufficient_data'
    """
    graded = _graded(data, profile, columns, demographics, norms, missing_columns)
    prof, scores, evals, tables, routing = (
        graded.profile,
        graded.scores,
        graded.evals,
        graded.tables,
        graded.routing,
    )
    ids = None
    if id_column is not None:
        ids = [None if pd.isna(v) else str(v) for v in data[id_column].tolist()]
    prov = Provenance.model_validate(provenance_of(prof, tables))
    out: list[ScreeningRecord | None] = [None] * len(data)
    labels = routing.names()
    for pos, ev in evals:
        rows = [int(i) for i in pos]
        part = scores if rows == list(range(len(scores))) else scores.iloc[pos]
        codes = [int(routing.route[i]) for i in rows]
        routes = [labels[c] if prof.routed and c >= 0 else None for c in codes]
        part_ids = None if ids is None else [ids[i] for i in rows]
        recs = build_records(part, ev, prov, part_ids, tables, rows=rows, routes=routes)
        for i, rec in zip(rows, recs):
            out[i] = rec
    return out  # type: ignore[return-value]
