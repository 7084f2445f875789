"""Risk levels: structured, explained screening results in the style of DB12/T 3037.

Public API (re-exported by :mod:`psyscreen`):

* :func:`screen` - scores plus ``risk.*`` columns, one row per input row;
* :func:`screen_records` - one typed :class:`ScreeningRecord` per row;
* :func:`load_profile`, :func:`list_profiles` - shipped or your own profiles;
* :func:`provenance` - library version and hashes of everything a profile uses.

The shipped ``default`` profile is psyscreen's own design in the style of
DB12/T 3037-2023, not the text of that standard (see ``docs/risk.md``).

Example:
    >>> import pandas as pd, psyscreen
    >>> df = pd.DataFrame({**{f"phq9_{i}": [0] for i in range(1, 10)}, "age": [13]})
    >>> out = psyscreen.screen(df, "default", missing_columns="missing")
    >>> out["risk.status"].iloc[0], out["risk.tier3"].iloc[0]
    ('insufficient_data', '待复测')
    >>> psyscreen.screen(df.assign(age=9), "school", missing_columns="missing")[
    ...     ["risk.route", "risk.status"]].iloc[0].tolist()
    ['primary', 'insufficient_data']
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._version import __version__
from ..norms.apply import Chosen, select_tables
from ..pipeline import StageCache, Staged, run_stages
from ..problems import CellProblems
from .evaluate import GATES, RESULT_STATUSES, evaluate, instruments_of
from .profile import RiskProfile, list_profiles, load_profile
from .records import Provenance, ScreeningRecord, build_records
from .routes import NO_AGE, OUT_OF_RANGE, Routing, combine, route_rows

ProfileLike = str | Path | RiskProfile

__all__ = [
    "RESULT_STATUSES",
    "RiskProfile",
    "ScreeningRecord",
    "list_profiles",
    "load_profile",
    "norm_tables",
    "provenance",
    "route_rows",
    "screen",
    "screen_records",
]


def _resolve_norms(prof: RiskProfile, norms: Any) -> Any:
    if norms is None:
        if any(b.band_source == "norm" for b in prof.entries()):
            raise ValueError(
                f"profile {prof.id!r} takes bands from norm tables (band_source: norm); "
                "norms=None cannot be used with it"
            )
        return None
    if isinstance(norms, str) and norms == "auto":
        pinned = list(dict.fromkeys(t for b in prof.entries() for t in b.norm_tables))
        return [*pinned, "auto"]
    return norms


def _chosen(prof: RiskProfile, norms: Any) -> Chosen:
    """Which norm table standardises which scale of the profile's battery."""
    resolved = _resolve_norms(prof, norms)
    return {} if resolved is None else select_tables(resolved, instruments_of(prof))


def _unique(chosen: Chosen) -> list:
    unique = {t.ref: t for t in chosen.values()}
    return [unique[k] for k in sorted(unique)]


def norm_tables(profile: ProfileLike, norms: Any = "auto") -> list:
    """The norm tables :func:`screen` uses with this profile and ``norms`` argument.

    The choice depends on the profile and ``norms`` only, never on the data.

    Example:
        >>> import psyscreen
        >>> from psyscreen.risk import norm_tables
        >>> isinstance(norm_tables("default"), list)
        True
    """
    return _unique(_chosen(load_profile(profile), norms))


def _score_battery(
    data: pd.DataFrame,
    prof: RiskProfile,
    *,
    columns: Mapping[str, str] | None,
    demographics: Mapping[str, str] | None,
    norms: Any,
    missing_columns: str,
    ages: np.ndarray | None = None,
    cache: StageCache | None = None,
    with_problems: bool = False,
) -> tuple[Staged, list]:
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"data must be a pandas DataFrame, not {type(data).__name__}")
    chosen = _chosen(prof, norms)
    staged = run_stages(
        data,
        instruments_of(prof),
        columns=columns,
        missing_columns=[missing_columns if b.required else "missing" for b in prof.battery],
        chosen=chosen or None,
        demographics=demographics,
        ages=ages,
        with_problems=with_problems,
        cache=cache,
    )
    return staged, _unique(chosen)


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
) -> tuple[pd.DataFrame, CellProblems]:
    """:func:`screen` and the cell problems (row positions in ``data``; empty unless
    ``with_problems``), with the stages' memos in ``cache`` (the batch plan's).

    Example:
        >>> import pandas as pd
        >>> df = pd.DataFrame({**{f"phq9_{i}": [0] for i in range(1, 10)}, "phq9_2": [7]})
        >>> out, probs = screen_staged(df, "default", missing_columns="missing",
        ...                            with_problems=True)
        >>> probs.item.tolist(), probs.names()
        (['phq9_2'], ['out_of_range'])
    """
    graded = _graded(
        data, profile, columns, demographics, norms, missing_columns, cache, with_problems
    )
    _, scores, evals, _, _, problems = graded
    return pd.concat([scores, _risk_columns(evals, data.index)], axis=1), problems


def _graded(
    data,
    profile,
    columns,
    demographics,
    norms,
    missing_columns,
    cache: StageCache | None = None,
    with_problems: bool = False,
):
    """Route, score and grade every row: (profile, scores, [(positions, evaluation)], tables,
    routing, cell problems).

    Rows are grouped by route (or status) and each group is scored on its own battery;
    the scores come back in input order. A profile whose every row takes the one battery
    is scored in one piece, exactly as without routing.
    """
    prof = load_profile(profile)
    routing = route_rows(prof, data, demographics)
    groups = routing.groups()
    ages = routing.known_ages()
    if not groups and prof.routed:  # no rows: the columns of the rows outside the routes
        groups = [(OUT_OF_RANGE, np.arange(0))]
    cache = cache if cache is not None else StageCache()
    if not prof.routed and (not groups or (len(groups) == 1 and groups[0][0] == 0)):
        staged, used = _score_battery(
            data,
            prof,
            columns=columns,
            demographics=demographics,
            norms=norms,
            missing_columns=missing_columns,
            ages=ages,
            cache=cache,
            with_problems=with_problems,
        )
        scores = staged.scores
        evals = [(np.arange(len(data)), evaluate(scores, prof))]
        return prof, scores, evals, used, routing, staged.problems
    score_parts, evals, tables, problems = [], [], {}, []
    for code, pos in groups:
        if prof.routed:
            sub = prof.part(prof.routes[code].id if code >= 0 else None)
        else:  # an unknown age may still be in range: the one battery, its rules
            sub = prof.part(None) if code == OUT_OF_RANGE else prof
        rows = data.iloc[pos]
        mc = missing_columns
        if sub is not prof:  # another route's (or no route's) columns may be absent
            mc = "missing"
        staged, used = _score_battery(
            rows,
            sub,
            columns=columns,
            demographics=demographics,
            norms=norms,
            missing_columns=mc,
            ages=ages[pos],
            cache=cache,
            with_problems=with_problems,
        )
        part = staged.scores
        problems.append(staged.problems.shifted(pos))
        gate_code = {OUT_OF_RANGE: GATES["out_of_age_range"], NO_AGE: GATES["no_age"]}
        gate = np.full(len(pos), gate_code.get(code, 0), dtype=np.int8)
        absent = _absent(rows, sub, columns) if sub is not prof else frozenset()
        ev = evaluate(part, sub, gate=gate, absent=absent)
        if prof.routed:
            ev.columns["risk.route"] = _route_column(routing, code, len(pos))
        score_parts.append((pos, part))
        evals.append((pos, ev))
        tables.update({t.ref: t for t in used})
    template = _score_template(prof, data, columns, demographics, norms)
    scores = _conform(combine(score_parts, data.index), template)
    used = [tables[k] for k in sorted(tables)]
    return prof, scores, evals, used, routing, CellProblems.concat(problems)


def _score_template(prof: RiskProfile, data: pd.DataFrame, columns, demographics, norms):
    """An empty frame with every score column the profile can give, in a fixed order (its
    routes' batteries, then the fallback's), with their dtypes."""
    empty = data.iloc[:0]
    parts = [prof.part(r.id) for r in prof.routes] if prof.routed else [prof]
    frames = []
    for sub in [*parts, prof.part(None)]:
        staged, _ = _score_battery(
            empty,
            sub,
            columns=columns,
            demographics=demographics,
            norms=norms,
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
        else:
            out[c] = scores[c]
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
    prof, scores, evals, tables, routing, _ = _graded(
        data, profile, columns, demographics, norms, missing_columns
    )
    ids = None
    if id_column is not None:
        ids = [None if pd.isna(v) else str(v) for v in data[id_column].tolist()]
    prov = Provenance.model_validate(_provenance(prof, tables))
    out: list[ScreeningRecord | None] = [None] * len(data)
    labels = routing.names()
    for pos, ev in evals:
        part = scores.iloc[pos]
        recs = build_records(part, ev, prov, None if ids is None else [ids[i] for i in pos], tables)
        for i, rec in zip(pos, recs):
            code = int(routing.route[i])
            rec.row = int(i)
            rec.route = labels[code] if prof.routed and code >= 0 else None
            out[i] = rec
    return out  # type: ignore[return-value]


def provenance(profile: ProfileLike, norms: Any = "auto") -> dict:
    """Library version and SHA-256 of the profile, its instruments and norm tables.

    The norm tables are those :func:`screen` uses with the same ``norms``
    argument (the choice does not depend on the data), so a batch manifest can
    call this once per run.

    Example:
        >>> import psyscreen
        >>> p = psyscreen.provenance("default")
        >>> p["profile"]["id"], len(p["profile"]["sha256"])
        ('default', 64)
    """
    prof = load_profile(profile)
    return _provenance(prof, norm_tables(prof, norms))


def _provenance(prof: RiskProfile, tables: list) -> dict:
    return {
        "library": "psyscreen",
        "library_version": __version__,
        "profile": {"id": prof.id, "version": prof.version, "sha256": prof.sha256},
        "instruments": [
            {"id": i.id, "version": i.version, "sha256": i.sha256} for i in instruments_of(prof)
        ],
        "norm_tables": [{"id": t.id, "version": t.version, "sha256": t.sha256} for t in tables],
    }
