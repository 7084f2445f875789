"""The sequencer: the one place that runs the stages in order.

definition -> item values (:mod:`~psyscreen.responses`) -> scales
(:mod:`~psyscreen.scoring`) -> norms (:mod:`~psyscreen.norms.apply`) -> output.
:func:`score`, :func:`score_detailed`, :func:`psyscreen.screen`,
:func:`psyscreen.screen_records`, the batch chunk function and the Dask path all call
:func:`run_stages`; no stage imports a later one. Demographics are read once per call and
passed on typed (:class:`~psyscreen.demographics.Demographics`), cell problems travel as
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
from .scoring import age_marked, score_items
from .vocab import ParseStatus

InstrumentLike = str | Path | Instrument


@dataclass
class StageCache:
    """The memos of the stages, owned by whoever runs many calls (a batch run): answer
    values of categorical columns, parsed demographic values and result dtypes.
    Results never depend on it, only the time does; a call without one gets a fresh one."""

    responses: ResponseCache = field(default_factory=ResponseCache)
    demographics: ParseCache = field(default_factory=ParseCache)
    dtypes: DtypeCache = field(default_factory=DtypeCache)


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
        if chosen is not None or {"age", "birth_date"} & set(cols):
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
