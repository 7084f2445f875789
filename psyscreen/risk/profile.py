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

import functools
from pathlib import Path
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    model_validator,
)

from ..definitions import (
    Citation,
    Condition,
    Identifier,
    Instrument,
    Text,
    ValidityCheck,
    _unique,
)
from ..errors import UnknownIdError
from ..registry import data_dir, load_instrument, resolve_file, validated
from ..yamlio import DefinitionError, read_yaml

ScaleRef = Annotated[
    str,
    Field(
        pattern=r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$",
        description="'instrument.scale', e.g. 'phq9.total'.",
    ),
]
BandClass = Literal["normal", "borderline", "abnormal"]
STATUS_CODES = ("invalid_response", "insufficient_data")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Action(_Model):
    """A recommended action, with a stable id and text in Chinese and English."""

    id: Identifier
    zh: str = Field(min_length=1)
    en: str = Field(min_length=1)


class Handling(_Model):
    """What to do for a level or status: actions, referral and intervals (days)."""

    needs_confirmation: bool = Field(
        description="Confirm by a second screening or an interview before the result is final."
    )
    referral: bool = Field(description="Refer to mental-health / professional services.")
    retest_days: int | None = Field(
        None, ge=0, description="Re-screen after this many days (null: no re-test planned)."
    )
    contact_days: int | None = Field(
        None, ge=0, description="Follow-up contact at least every this many days (null: none)."
    )
    visit_days: int | None = Field(
        None, ge=0, description="Home / face-to-face visit at least every this many days."
    )
    actions: list[Action] = Field(default_factory=list)


class Level(Handling):
    """One risk level. Levels are listed lowest first; the position is the level number."""

    code: Identifier
    zh: str = Field(min_length=1)
    en: str = Field(min_length=1)
    colour: str = Field(min_length=1, description="Colour name used on reports, e.g. 'green'.")
    tier3: Literal["低", "中", "高"] = Field(description="Three-level mapping 低 / 中 / 高.")
    description: Text | None = None


class Status(Handling):
    """A result that is not a level (invalid response, insufficient data).

    ``keep_level_from`` names the lowest level that still stands when this
    status applies: if the rules that could be evaluated already give that
    level or a higher one, the level is reported (with the status as a flag
    and its re-test added); otherwise the status is the result. It must be set,
    so that the top level (critical items) always overrides a status.
    """

    zh: str = Field(min_length=1)
    en: str = Field(min_length=1)
    colour: str = Field(min_length=1)
    tier3: str = Field(
        min_length=1, description="Explicit 3-level value for this status; never '低'."
    )
    keep_level_from: Identifier
    description: Text | None = None

    @model_validator(mode="after")
    def _not_low(self) -> Status:
        if self.tier3 == "低":
            raise ValueError("a status must not map to tier3 '低' (it is never read as normal)")
        return self


class Statuses(_Model):
    invalid_response: Status
    insufficient_data: Status


class BatteryEntry(_Model):
    """One instrument of the battery."""

    instrument: Identifier
    path: str | None = Field(
        None, description="Definition file of a local instrument, relative to the profile file."
    )
    required: bool = Field(
        True, description="A required instrument that is not scored gives insufficient_data."
    )
    screening_scales: list[Identifier] = Field(
        default_factory=list,
        description="Scales counted by 'count' rules (avoid a total and its own subscales). "
        "A required instrument must have a band for each of them.",
    )
    required_scales: list[Identifier] = Field(
        default_factory=list,
        description="Further scales that a required instrument must score (not counted), "
        "e.g. the ASQ screen, so that blank answers are never read as 'no'.",
    )
    band_source: Literal["auto", "instrument", "norm"] = Field(
        "auto",
        description="auto: the norm band when a norm table gave one, else the instrument's band.",
    )
    band_set: Identifier | None = Field(
        None, description="Instrument band set to use (default: the scale's first)."
    )
    norm_tables: list[str] = Field(
        default_factory=list, description="Norm tables to use (ids); empty: chosen automatically."
    )
    critical_items: list[Identifier] | None = Field(
        None, description="Critical items used (null: all of the instrument's)."
    )
    validity_checks: list[Identifier] | None = Field(
        None,
        description="Validity checks (of the instrument or added below) that make a response "
        "invalid (null: all).",
    )
    extra_validity_checks: list[ValidityCheck] = Field(
        default_factory=list,
        description="Validity checks this profile adds to the instrument (e.g. straight-lining "
        "on a questionnaire with reverse-keyed items).",
    )


class CriticalCond(_Model):
    """True when a critical item of the battery fired (optionally one instrument / id)."""

    instrument: Identifier | None = None
    id: Identifier | None = None


class ValidityCond(_Model):
    """True when a validity check of the battery fired (optionally one instrument / id)."""

    instrument: Identifier | None = None
    id: Identifier | None = None


class CountCond(_Model):
    """True when at least ``at_least`` of ``scales`` (default: all screening scales)
    have a band class in ``band_class``."""

    scales: list[ScaleRef] | None = None
    band_class: list[BandClass] = Field(min_length=1)
    at_least: int = Field(ge=1)


class BandCond(_Model):
    """True when ``scale``'s band class is in ``band_class`` (or band code in ``band``)."""

    scale: ScaleRef
    band_class: list[BandClass] | None = None
    band: list[Identifier] | None = None

    @model_validator(mode="after")
    def _one(self) -> BandCond:
        if (self.band_class is None) == (self.band is None):
            raise ValueError("give exactly one of 'band_class' or 'band'")
        return self


class ScoreCond(_Model):
    """A comparison on a score: ``field`` raw, t, z or percentile of ``scale``."""

    scale: ScaleRef
    field: Literal["raw", "t", "z", "percentile"] = "raw"
    ge: float | None = None
    gt: float | None = None
    le: float | None = None
    lt: float | None = None

    @model_validator(mode="after")
    def _some(self) -> ScoreCond:
        if all(v is None for v in (self.ge, self.gt, self.le, self.lt)):
            raise ValueError("a score condition needs at least one of ge, gt, le, lt")
        return self

    @property
    def condition(self) -> Condition:
        """The comparison as an instrument-definition :class:`Condition`."""
        return Condition(ge=self.ge, gt=self.gt, le=self.le, lt=self.lt)

    def describe(self) -> str:
        """The comparison as text, e.g. ``>= 20``."""
        return self.condition.describe()


class When(_Model):
    """A condition: exactly one of the keys below."""

    critical: CriticalCond | None = None
    validity: ValidityCond | None = None
    count: CountCond | None = None
    band: BandCond | None = None
    score: ScoreCond | None = None
    any_of: list[When] | None = Field(None, min_length=1)
    all_of: list[When] | None = Field(None, min_length=1)

    @model_validator(mode="after")
    def _exactly_one(self) -> When:
        given = [k for k in type(self).model_fields if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(
                "a condition needs exactly one of critical, validity, count, band, score, "
                f"any_of, all_of (got {', '.join(given) or 'none'})"
            )
        return self

    @property
    def kind(self) -> str:
        return next(k for k in type(self).model_fields if getattr(self, k) is not None)

    def walk(self):
        """This node and all nested nodes."""
        yield self
        for child in (self.any_of or []) + (self.all_of or []):
            yield from child.walk()


class Rule(_Model):
    """Raise the child to ``level`` when ``when`` holds."""

    id: Identifier
    level: Identifier
    when: When
    zh: str = Field(min_length=1, description="Short reason in Chinese (no child data).")
    en: str = Field(min_length=1, description="Short reason in English (no child data).")
    source: Identifier | None = Field(None, description="Citation key of the rule's basis.")
    note: str | None = None


class RiskProfile(_Model):
    """A risk profile. See ``docs/risk.md``."""

    id: Identifier
    version: str
    title: Text
    description: str | None = None
    basis: str = Field(
        description="What the profile is based on, e.g. 'psyscreen design in the style of ...'."
    )
    age_range: dict[Literal["min", "max"], float] = Field(default_factory=dict)
    citations: list[Citation] = Field(default_factory=list)
    unverified: list[str] = Field(default_factory=list)
    battery: list[BatteryEntry] = Field(min_length=1)
    levels: list[Level] = Field(min_length=2)
    statuses: Statuses
    rules: list[Rule] = Field(min_length=1)
    notes: list[str] = Field(default_factory=list)

    _source: str | None = PrivateAttr(None)
    _sha256: str | None = PrivateAttr(None)
    _instruments: dict[str, Instrument] = PrivateAttr(default_factory=dict)

    @model_validator(mode="after")
    def _references(self) -> RiskProfile:
        _unique([b.instrument for b in self.battery], "battery instrument")
        _unique([lv.code for lv in self.levels], "level code")
        _unique([r.id for r in self.rules], "rule id")
        actions: dict[str, Action] = {}
        handlings = [*self.levels, self.statuses.invalid_response, self.statuses.insufficient_data]
        for h in handlings:
            _unique([a.id for a in h.actions], "action id")
            for a in h.actions:
                if actions.setdefault(a.id, a) != a:
                    raise ValueError(f"action {a.id!r} is given twice with different texts")
        codes = {lv.code for lv in self.levels}
        clash = codes & set(STATUS_CODES)
        if clash:
            raise ValueError(f"level code {sorted(clash)[0]!r} is reserved for a status")
        for k, lv in enumerate(self.levels):
            if k > 0 and not lv.needs_confirmation:
                raise ValueError(
                    f"level {lv.code!r}: every level above the lowest must set "
                    "needs_confirmation: true (a screening result is not a diagnosis)"
                )
        for name in STATUS_CODES:
            st = getattr(self.statuses, name)
            if st.keep_level_from not in codes:
                raise ValueError(f"statuses.{name}.keep_level_from: unknown level")
            if st.keep_level_from == self.levels[0].code:
                raise ValueError(
                    f"statuses.{name}.keep_level_from must be above the lowest level "
                    "(otherwise the status could be read as normal)"
                )
            if st.retest_days is None:
                raise ValueError(f"statuses.{name}: a status must ask for a re-test")
        keys = {c.key for c in self.citations}
        battery = {b.instrument for b in self.battery}
        for r in self.rules:
            if r.level not in codes:
                raise ValueError(f"rule {r.id!r}: unknown level {r.level!r}")
            if r.level == self.levels[0].code:
                raise ValueError(f"rule {r.id!r}: a rule cannot assign the lowest level")
            if r.source is not None and r.source not in keys:
                raise ValueError(f"rule {r.id!r}: unknown citation {r.source!r}")
            for node in r.when.walk():
                for inst in _node_instruments(node):
                    if inst not in battery:
                        raise ValueError(
                            f"rule {r.id!r}: instrument {inst!r} is not in the battery"
                        )
        return self

    # -- lookups -----------------------------------------------------------------
    @property
    def instruments(self) -> list[str]:
        """Ids of the battery's instruments, in battery order."""
        return [b.instrument for b in self.battery]

    @property
    def sha256(self) -> str | None:
        """SHA-256 of the profile file's bytes (provenance), if loaded from a file."""
        return self._sha256

    @property
    def source_path(self) -> str | None:
        return self._source

    def level(self, code: str) -> Level:
        for lv in self.levels:
            if lv.code == code:
                return lv
        raise UnknownIdError(f"profile {self.id}: no level {code!r}", "level", code)

    def rank(self, code: str) -> int:
        """The level number (0 = lowest) of level ``code``."""
        return [lv.code for lv in self.levels].index(code)

    def entry(self, instrument: str) -> BatteryEntry:
        for b in self.battery:
            if b.instrument == instrument:
                return b
        raise KeyError(f"profile {self.id}: {instrument!r} is not in the battery")

    def instrument(self, instrument_id: str) -> Instrument:
        """The loaded definition of a battery instrument."""
        if instrument_id not in self._instruments:
            self._instruments[instrument_id] = _load_battery_instrument(
                self.entry(instrument_id), self._source
            )
        return self._instruments[instrument_id]

    def screening_scales(self) -> list[str]:
        """All screening scales as 'instrument.scale'."""
        return [f"{b.instrument}.{s}" for b in self.battery for s in b.screening_scales]

    def check_instruments(self) -> None:
        """Load every battery instrument and check all references to it.

        Raises ValueError naming the first problem.
        """
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
        for r in self.rules:
            for node in r.when.walk():
                for ref in _node_scales(node):
                    inst_id, scale_id = ref.split(".", 1)
                    inst = self.instrument(inst_id)
                    if scale_id not in {s.id for s in inst.scales}:
                        raise ValueError(f"rule {r.id!r}: unknown scale {ref!r}")
                if node.critical is not None and node.critical.id is not None:
                    ids = {
                        c.id
                        for b in self.battery
                        if node.critical.instrument in (None, b.instrument)
                        for c in self.instrument(b.instrument).critical_items
                    }
                    if node.critical.id not in ids:
                        raise ValueError(f"rule {r.id!r}: unknown critical item")
                if node.validity is not None and node.validity.id is not None:
                    ids = {
                        v.id
                        for b in self.battery
                        if node.validity.instrument in (None, b.instrument)
                        for v in self.instrument(b.instrument).validity_checks
                    }
                    if node.validity.id not in ids:
                        raise ValueError(f"rule {r.id!r}: unknown validity check")


def _node_instruments(node: When) -> list[str]:
    out = [ref.split(".", 1)[0] for ref in _node_scales(node)]
    for c in (node.critical, node.validity):
        if c is not None and c.instrument is not None:
            out.append(c.instrument)
    return out


def _node_scales(node: When) -> list[str]:
    if node.count is not None:
        return list(node.count.scales or [])
    if node.band is not None:
        return [node.band.scale]
    if node.score is not None:
        return [node.score.scale]
    return []


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
        msg = e.errors()[0]["msg"].removeprefix("Value error, ")
        raise ValueError(f"battery {entry.instrument}: extra_validity_checks: {msg}") from None
    extended._source = inst.source_path
    extended._sha256 = inst.sha256
    return extended


# -- loading -----------------------------------------------------------------------


def list_profiles() -> list[str]:
    """Ids of the shipped risk profiles, sorted.

    Example:
        >>> import psyscreen
        >>> "default" in psyscreen.list_profiles()
        True
    """
    return sorted(p.stem for p in data_dir("profiles").glob("*.yaml"))


def load_profile(id_or_path: str | Path | RiskProfile) -> RiskProfile:
    """Load a shipped risk profile by id, or any profile file by path.

    The file is read with the safe YAML loader, validated against the published
    JSON Schema, then against the cross-field rules, and every battery
    instrument is loaded and checked. Errors are
    :class:`~psyscreen.yamlio.DefinitionError` naming file, path and problem.

    Example:
        >>> import psyscreen
        >>> psyscreen.load_profile("default").levels[-1].colour
        'red'
    """
    if isinstance(id_or_path, RiskProfile):
        return id_or_path
    path = resolve_file(id_or_path, "profiles", "risk profile")
    return _load_file(str(path), path.stat().st_mtime_ns)


@functools.lru_cache(maxsize=64)
def _load_file(path: str, _mtime: int) -> RiskProfile:
    data, digest = read_yaml(path)
    return profile_from_data(data, path, digest)


def profile_from_data(data: object, file: str = "<data>", digest: str | None = None) -> RiskProfile:
    """Validate already-parsed profile data into a :class:`RiskProfile`."""
    prof = validated(data, RiskProfile, "risk_profile", file, "a risk profile")
    prof._source = file
    prof._sha256 = digest
    try:
        prof.check_instruments()
    except (ValueError, KeyError) as e:
        if isinstance(e, DefinitionError):
            raise
        msg = e.args[0] if e.args else str(e)
        raise DefinitionError(file, "battery", str(msg)) from None
    return prof
