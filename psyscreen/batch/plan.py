"""The plan of a batch run: the export's headers checked against the mapping.

A :class:`Plan` holds what every chunk needs.

:func:`make_plan` fails fast with what to fix; :func:`plan_for` resolves the
profile (or instruments) and the mapping first.

Example:
    >>> from psyscreen.batch.plan import plan_for  # doctest: +SKIP
    >>> plan = plan_for(["学号", *[f"gad7_{i}" for i in range(1, 8)]])  # doctest: +SKIP
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from .. import demographics as demo
from ..definitions import Instrument
from ..errors import BatchError
from ..norms.apply import select_tables
from ..risk import NormChoice, norm_choice
from .coding import answer_tables
from .mapping import MappingSpec, load_mapping

#: roles (besides items) read as categoricals: few distinct values
_CATEGORICAL_ROLES = ("school", "grade", "class", "sex", "birth_date", "age", "assessment_date")


@dataclass
class Plan:
    """What every chunk needs; picklable (it travels to Dask workers).

    ``headers`` maps canonical column names (item ids and roles) to export headers.
    ``tables``: the norm tables, chosen once from ``norms`` when the plan is made (None:
    no norms, scores only), so that no chunk chooses again.
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
    tables: NormChoice | None = None

    def __post_init__(self) -> None:
        if self.tables is None:
            self.tables = _norm_tables(self.profile, self.norms, self.instruments)

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


def _norm_tables(profile: Any, norms: Any, instruments: Sequence[Instrument]) -> NormChoice | None:
    """The run's norm tables, chosen once: per battery of the profile, or for the
    instruments scored alone (None: no norms)."""
    if profile is not None:
        return norm_choice(profile, norms)
    if norms is None:
        return None
    return NormChoice(whole=select_tables(norms, instruments))


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
