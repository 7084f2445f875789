"""Risk profiles: declarative rules that turn scale results into one risk level.

A risk profile is a YAML file (``profiles/*.yaml``) checked by the published
JSON Schema ``psyscreen/schemas/risk_profile.schema.json``. It names

* the **battery**: instruments, which of their scales count as screening
  scales, where the bands come from (instrument cutoffs or norm tables),
  whether each instrument is required, which critical items and validity
  checks are used;
* the **levels**, lowest first (code, zh/en names, colour, 3-level 低/中/高
  mapping, actions, referral flag, re-test and follow-up intervals);
* the two **statuses** that are not levels (``invalid_response`` and
  ``insufficient_data``), which are never read as normal;
* ordered **rules**: each is pure data (a condition tree of ``critical``,
  ``validity``, ``count``, ``band``, ``score``, ``any_of`` and ``all_of``
  nodes) that raises the child to a level. Nothing in a profile can execute
  code: :mod:`psyscreen.risk.evaluate` interprets the conditions.

Example:
    >>> import psyscreen
    >>> p = psyscreen.load_profile("default")
    >>> [lv.zh for lv in p.levels]
    ['正常', '关注', '重点关注', '危机']
    >>> "phq9" in p.instruments
    True
"""

from __future__ import annotations

from itertools import combinations
from pathlib import Path
from typing import Literal

from pydantic import Field, PrivateAttr, ValidationError, model_validator

from .. import columns as colnames
from ..definitions import (
    Citation,
    Identifier,
    Instrument,
    Interval,
    Problems,
    SourcedModel,
    Text,
    _unique,
)
from ..definitions.primitives import duplicates
from ..errors import UnknownIdError
from ..loader import DEFAULT_LIBRARY, Kind
from ..registry import load_instrument
from ..yamlio import DefinitionError, definition_error
from .conditions import (
    BandClass,
    BandCond,
    BatteryEntry,
    CountCond,
    CriticalCond,
    Rule,
    ScaleRef,
    ScoreCond,
    ValidityCond,
    When,
)
from .handling import (
    STATUS_CODES,
    Action,
    Handling,
    Level,
    Status,
    Statuses,
    _Model,
    default_age_status,
)
from .nodes import check_group, node_of

__all__ = [
    "STATUS_CODES",
    "Action",
    "BandClass",
    "BandCond",
    "BatteryEntry",
    "CountCond",
    "CriticalCond",
    "Handling",
    "Level",
    "RiskProfile",
    "Route",
    "Rule",
    "ScaleRef",
    "ScoreCond",
    "Status",
    "Statuses",
    "ValidityCond",
    "When",
    "default_age_status",
    "list_profiles",
    "load_profile",
    "profile_from_data",
]

#: Informants a route can be restricted to (the export's ``informant`` column, see
#: :func:`psyscreen.risk.routes.parse_informant`).
Informant = Literal["self", "parent", "teacher"]


class Route(_Model):
    """One age (and optionally informant) group of a routed profile, with its own battery
    and rules; levels and statuses are the profile's.

    ``age`` is the child's exact age in years with explicit bounds, e.g. ``{ge: 8, lt: 12}``
    for 8 <= age < 12 (up to the day before the 12th birthday). A route with ``informant``
    applies only to rows whose ``informant`` column says one of them; rows of an export
    without that column, or with a blank informant, skip such routes. The first route that
    matches a row is used.
    """

    id: Identifier
    title: Text
    age: Interval = Field(description="Exact age in years, explicit bounds (ge/gt, le/lt).")
    informant: list[Informant] | None = Field(
        None, description="Only rows whose informant column is one of these (null: any row)."
    )
    battery: list[BatteryEntry] = Field(min_length=1)
    rules: list[Rule] = Field(min_length=1)
    notes: list[str] = Field(default_factory=list)


class RiskProfile(SourcedModel):
    """A risk profile. See ``docs/risk.md``.

    Either one ``battery`` with its ``rules`` (optionally limited to ``age``), or ``routes``:
    each child is routed by exact age (and informant, where the export says so) to the
    battery that fits; a child outside every route gets ``out_of_age_range``.
    """

    id: Identifier
    version: str
    title: Text
    description: str | None = None
    basis: str = Field(
        description="What the profile is based on, e.g. 'psyscreen design in the style of ...'."
    )
    age: Interval | None = Field(
        None,
        description="Exact ages (years) the single battery applies to; others get "
        "out_of_age_range. Not used with routes.",
    )
    age_range: dict[Literal["min", "max"], float] = Field(
        default_factory=dict,
        description="Older form of 'age' in completed years, both inclusive: "
        "{min: 12, max: 17} is 12 <= exact age < 18.",
    )
    citations: list[Citation] = Field(default_factory=list)
    unverified: list[str] = Field(default_factory=list)
    battery: list[BatteryEntry] = Field(default_factory=list)
    levels: list[Level] = Field(min_length=2)
    statuses: Statuses
    rules: list[Rule] = Field(default_factory=list)
    routes: list[Route] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)

    _instruments: dict[str, Instrument] = PrivateAttr(default_factory=dict)
    _parts: dict[str, RiskProfile] = PrivateAttr(default_factory=dict)

    @model_validator(mode="after")
    def _shape(self) -> RiskProfile:
        if self.routes:
            if self.battery or self.rules or self.age is not None or self.age_range:
                raise ValueError(
                    "a profile with routes gives battery, rules and ages in each route, "
                    "not at the top level"
                )
            _unique([r.id for r in self.routes], "route id")
            for a, b in combinations(self.routes, 2):
                if a.informant == b.informant and a.age.overlaps(b.age):
                    raise ValueError(
                        f"routes {a.id!r} and {b.id!r} overlap in age "
                        f"({a.age.describe()} and {b.age.describe()}) for the same informants"
                    )
        elif not self.battery or not self.rules:
            raise ValueError("a profile needs a battery and rules, or routes")
        if self.age is not None and self.age_range:
            raise ValueError("give 'age' or the older 'age_range', not both")
        return self

    @model_validator(mode="after")
    def _references(self) -> RiskProfile:
        p = Problems()
        for k, v in duplicates(lv.code for lv in self.levels):
            p.add(f"levels[{k}].code", f"duplicate level code {v!r}")
        actions: dict[str, Action] = {}
        places: list[tuple[str, Handling]] = [
            (f"levels[{k}]", lv) for k, lv in enumerate(self.levels)
        ]
        places += [(f"statuses.{name}", self.status(name)) for name in STATUS_CODES]
        for at, h in places:
            for k, v in duplicates(a.id for a in h.actions):
                p.add(f"{at}.actions[{k}].id", f"duplicate action id {v!r}")
            for k, a in enumerate(h.actions):
                if actions.setdefault(a.id, a) != a:
                    p.add(
                        f"{at}.actions[{k}]",
                        f"action {a.id!r} is given twice with different texts",
                    )
        codes = {lv.code for lv in self.levels}
        for k, lv in enumerate(self.levels):
            if lv.code in STATUS_CODES:
                p.add(f"levels[{k}].code", f"level code {lv.code!r} is reserved for a status")
            if k > 0 and not lv.needs_confirmation:
                p.add(
                    f"levels[{k}].needs_confirmation",
                    f"level {lv.code!r}: every level above the lowest must set "
                    "needs_confirmation: true (a screening result is not a diagnosis)",
                )
        for name in STATUS_CODES:
            st, at = self.status(name), f"statuses.{name}"
            if st.keep_level_from not in codes:
                p.add(f"{at}.keep_level_from", f"{at}.keep_level_from: unknown level")
            elif st.keep_level_from == self.levels[0].code:
                p.add(
                    f"{at}.keep_level_from",
                    f"{at}.keep_level_from must be above the lowest level "
                    "(otherwise the status could be read as normal)",
                )
            if st.retest_days is None:
                p.add(f"{at}.retest_days", f"{at}: a status must ask for a re-test")
        p.raise_any()
        keys = {c.key for c in self.citations}
        for battery, rules in self._groups():
            check_group(battery, rules, codes, self.levels[0].code, keys)
        return self

    def _groups(self) -> list[tuple[list[BatteryEntry], list[Rule]]]:
        if self.routes:
            return [(r.battery, r.rules) for r in self.routes]
        return [(self.battery, self.rules)]

    # -- statuses and routes -----------------------------------------------------------
    def status(self, name: str) -> Status:
        """The status ``name`` (one of :data:`STATUS_CODES`), built-in default if omitted."""
        st = getattr(self.statuses, name)
        if st is not None:
            return st
        kept = self.levels[-1 if name == "out_of_age_range" else 1].code
        return default_age_status(name, kept)

    def status_list(self) -> list[Status]:
        return [self.status(n) for n in STATUS_CODES]

    @property
    def age_interval(self) -> Interval | None:
        """The ages of an unrouted profile (``age``, or ``age_range`` read as completed years)."""
        if self.age is not None:
            return self.age
        if self.age_range:
            lo, hi = self.age_range.get("min"), self.age_range.get("max")
            return Interval(ge=lo, lt=None if hi is None else hi + 1)
        return None

    def entries(self) -> list[BatteryEntry]:
        """Every battery entry (routes: of every route, in order)."""
        return [b for battery, _ in self._groups() for b in battery]

    @property
    def routed(self) -> bool:
        return bool(self.routes)

    def part(self, route_id: str | None) -> RiskProfile:
        """The single-battery profile of one route (``None``: everything outside the routes:
        every instrument, optional, and only the rules on critical items)."""
        key = "" if route_id is None else route_id
        if key in self._parts:
            return self._parts[key]
        if route_id is None:
            battery, rules = self._fallback()
        else:
            r = next(r for r in self.routes if r.id == route_id)
            battery, rules = r.battery, r.rules
        sub = self.model_copy(
            update={"battery": battery, "rules": rules, "routes": [], "age": None, "age_range": {}}
        )
        sub._instruments = {}
        sub._parts = {}
        sub._source, sub._sha256 = self._source, self._sha256
        self._parts[key] = sub
        return sub

    def _fallback(self) -> tuple[list[BatteryEntry], list[Rule]]:
        seen: dict[str, BatteryEntry] = {}
        rules: dict[str, Rule] = {}
        for battery, group_rules in self._groups():
            for b in battery:
                seen.setdefault(b.instrument, b.model_copy(update={"required": False}))
            for r in group_rules:
                if all(n.fallback_safe for n in node_of(r.when).walk()):
                    rules.setdefault(r.id, r)
        return list(seen.values()), list(rules.values())

    # -- lookups -----------------------------------------------------------------
    @property
    def instruments(self) -> list[str]:
        """Ids of the battery's instruments, in battery order (routes: all, first use first)."""
        out: list[str] = []
        for battery, _ in self._groups():
            out += [b.instrument for b in battery if b.instrument not in out]
        return out

    def level(self, code: str) -> Level:
        for lv in self.levels:
            if lv.code == code:
                return lv
        raise UnknownIdError(f"profile {self.id}: no level {code!r}", "level", code)

    def rank(self, code: str) -> int:
        """The level number (0 = lowest) of level ``code``."""
        return [lv.code for lv in self.levels].index(code)

    def entry(self, instrument: str) -> BatteryEntry:
        """The battery entry of ``instrument`` (routes: its first route's entry)."""
        for battery, _ in self._groups():
            for b in battery:
                if b.instrument == instrument:
                    return b
        raise UnknownIdError(
            f"profile {self.id}: {instrument!r} is not in the battery", "instrument", instrument
        )

    def instrument(self, instrument_id: str) -> Instrument:
        """The loaded definition of a battery instrument."""
        if instrument_id not in self._instruments:
            self._instruments[instrument_id] = _load_battery_instrument(
                self.entry(instrument_id), self._source
            )
        return self._instruments[instrument_id]

    def screening_scales(self) -> list[str]:
        """All screening scales as 'instrument.scale'."""
        out: list[str] = []
        for battery, _ in self._groups():
            refs = [colnames.ref(b.instrument, s) for b in battery for s in b.screening_scales]
            out += [r for r in refs if r not in out]
        return out

    def check_instruments(self) -> None:
        """Load every battery instrument and check all references to it, and that every
        instrument is meant for all the ages it is given at (its own ``age_range``).

        Raises ValueError naming the first problem.
        """
        if self.routes:
            for r in self.routes:
                try:
                    self.part(r.id).check_instruments()
                    _check_ages(self.part(r.id), r.age)
                except ValueError as e:
                    raise ValueError(f"route {r.id!r}: {e}") from None
            return
        if self.age_interval is not None:
            _check_ages(self, self.age_interval)
        for b in self.battery:
            inst = self.instrument(b.instrument)
            scales = {s.id for s in inst.scales}
            for s in b.required_scales:
                if s not in scales:
                    raise ValueError(f"battery {b.instrument}: unknown scale {s!r}")
            for s in b.screening_scales:
                if s not in scales:
                    raise ValueError(f"battery {b.instrument}: unknown scale {s!r}")
                sc = inst.scale(s)
                if b.band_source == "instrument" and not sc.bands:
                    raise ValueError(
                        f"battery {b.instrument}: scale {s!r} has no bands in the instrument "
                        "definition; use band_source: norm or auto"
                    )
                if (
                    b.band_set is not None
                    and sc.bands
                    and b.band_set not in {bs.id for bs in sc.bands}
                ):
                    raise ValueError(f"battery {b.instrument}: scale {s!r} has no band set")
            crit = {c.id for c in inst.critical_items}
            for c in b.critical_items or []:
                if c not in crit:
                    raise ValueError(f"battery {b.instrument}: unknown critical item {c!r}")
            val = {v.id for v in inst.validity_checks}
            for v in b.validity_checks or []:
                if v not in val:
                    raise ValueError(f"battery {b.instrument}: unknown validity check {v!r}")
        for rule in self.rules:
            for node in node_of(rule.when).walk():
                node.check(self, rule.id)


def _check_ages(prof: RiskProfile, ages: Interval) -> None:
    """Every battery instrument must be meant for every age in ``ages``."""
    for b in prof.battery:
        inst = prof.instrument(b.instrument)
        own = inst.age_range.interval()
        if own is not None and not ages.within(own):
            raise ValueError(
                f"ages {ages.describe()} are not all within the ages of {inst.id} "
                f"({own.describe()}, its age_range)"
            )


def _load_battery_instrument(entry: BatteryEntry, profile_file: str | None) -> Instrument:
    if entry.path is None:
        inst = load_instrument(entry.instrument)
    else:
        base = Path(profile_file).parent if profile_file else Path.cwd()
        inst = load_instrument(base / entry.path)
        if inst.id != entry.instrument:
            raise ValueError(f"battery {entry.instrument}: the file at 'path' defines {inst.id!r}")
    if not entry.extra_validity_checks:
        return inst
    # a validated copy of the definition with the profile's checks added; provenance keeps
    # the definition file's hash (the added checks are covered by the profile's hash)
    data = inst.model_dump(by_alias=True, exclude_none=True)
    data["validity_checks"] = [
        *data.get("validity_checks", []),
        *(v.model_dump(by_alias=True, exclude_none=True) for v in entry.extra_validity_checks),
    ]
    try:
        extended = Instrument.model_validate(data)
    except ValidationError as e:
        msg = "; ".join(q for _, q in definition_error(e, "").problems)
        raise ValueError(f"battery {entry.instrument}: extra_validity_checks: {msg}") from None
    extended._source = inst.source_path
    extended._sha256 = inst.sha256
    return extended


# -- loading -----------------------------------------------------------------------


def _finish(prof: RiskProfile, file: str, digest: str | None) -> RiskProfile:
    """Provenance, then every battery instrument loaded and checked against the profile."""
    try:
        prof.check_instruments()
    except (ValueError, KeyError) as e:
        if isinstance(e, DefinitionError):
            raise
        msg = e.args[0] if e.args else str(e)
        raise DefinitionError(file, "battery", str(msg)) from None
    return prof


#: risk profiles: ``profiles/*.yaml``, schema ``risk_profile``
PROFILE: Kind[RiskProfile] = Kind(
    "risk profile", RiskProfile, "risk_profile", "a risk profile", "profiles", finish=_finish
)


def list_profiles() -> list[str]:
    """Ids of the shipped risk profiles, sorted.

    Example:
        >>> import psyscreen
        >>> "default" in psyscreen.list_profiles()
        True
    """
    return DEFAULT_LIBRARY.ids(PROFILE)


def load_profile(id_or_path: str | Path | RiskProfile) -> RiskProfile:
    """Load a shipped risk profile by id, or any profile file by path.

    The file is read with the safe YAML loader, validated against the published
    JSON Schema, then against the cross-field rules, and every battery
    instrument is loaded and checked. Errors are one
    :class:`~psyscreen.errors.DefinitionError` listing every problem with file and path.

    Example:
        >>> import psyscreen
        >>> psyscreen.load_profile("default").levels[-1].colour
        'red'
    """
    if isinstance(id_or_path, RiskProfile):
        return id_or_path
    return DEFAULT_LIBRARY.load(PROFILE, id_or_path)


def profile_from_data(data: object, file: str = "<data>", digest: str | None = None) -> RiskProfile:
    """Validate already-parsed profile data into a :class:`RiskProfile`."""
    return DEFAULT_LIBRARY.from_data(PROFILE, data, file, digest)
