"""Pydantic models of an instrument definition.

An instrument definition is a YAML file (see ``docs/definition-format.md``) that
states everything needed to score one version of a questionnaire: items,
response codes, reverse keys, scales and their missing-data rules, bands with
explicit bounds, critical items, validity checks, licence and sources.

The models are the single source of truth: the published JSON Schema
(``psyscreen/schemas/instrument.schema.json``) is generated from them, and
cross-field rules that a JSON Schema cannot express (items referenced by a
scale exist, bands partition the scale range, item text only where the licence
allows it) are checked here.

Example:
    >>> from psyscreen import load_instrument
    >>> phq9 = load_instrument("phq9")
    >>> phq9.scale("total").items[:2]
    ['phq9_1', 'phq9_2']
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, model_validator

from .errors import UnknownIdError

ID_PATTERN = r"^[a-z][a-z0-9_]*$"
Identifier = Annotated[str, Field(pattern=ID_PATTERN, min_length=1, max_length=64)]
#: Names a scale may not take because they are used for instrument-level columns.
RESERVED_SCALE_IDS = frozenset({"critical", "validity", "status", "problems", "norm"})


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Text(_Model):
    """A short text in English and/or Chinese."""

    en: str | None = None
    zh: str | None = None

    @model_validator(mode="after")
    def _one_language(self) -> Text:
        if not (self.en or self.zh):
            raise ValueError("give at least one of 'en' or 'zh'")
        return self

    def best(self, lang: str = "en") -> str:
        """The text in ``lang`` if given, else the other language."""
        first = self.zh if lang == "zh" else self.en
        return first or self.en or self.zh or ""


class Citation(_Model):
    """A source: full reference plus the exact place (page, table) used."""

    key: Identifier
    text: str = Field(description="Full reference.")
    locator: str | None = Field(None, description="Page, table or section used.")
    url: str | None = None
    doi: str | None = None
    evidence: Literal["primary", "secondary", "unverified"] = Field(
        "primary",
        description="primary: read in the original or an official page; secondary: "
        "third-party copy; unverified: not confirmed.",
    )


class Licence(_Model):
    """The licence under which the instrument may be used and what may be shipped."""

    name: str
    item_text_allowed: bool = Field(
        description="True only when the licence allows redistributing item wording."
    )
    url: str | None = None
    note: str | None = None


class Code(_Model):
    """A response code that is not simply 'the code is its own score'."""

    code: int | str
    value: float | None = Field(
        None, description="Score given to this code; null means the code counts as missing."
    )
    label: Text | None = None
    note: str | None = None


class ResponseScale(_Model):
    """Allowed answers of an item.

    ``min``..``max`` declare integer codes scored as themselves; ``codes`` add
    codes with another value (e.g. ASQ 'refused' scored as yes) and
    ``missing_codes`` are recognised missing-value codes (e.g. 9 = not answered).
    Reverse keying uses ``min`` and ``max``: reversed = min + max - value.
    """

    min: int
    max: int
    labels: dict[int, Text] = Field(default_factory=dict)
    codes: list[Code] = Field(default_factory=list)
    missing_codes: list[int | str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _check(self) -> ResponseScale:
        if self.max <= self.min:
            raise ValueError(f"max ({self.max}) must be greater than min ({self.min})")
        for k in self.labels:
            if not self.min <= k <= self.max:
                raise ValueError(f"label for code {k} outside {self.min}..{self.max}")
        seen: set[str] = set()
        for c in self.codes:
            if isinstance(c.code, int) and self.min <= c.code <= self.max:
                raise ValueError(f"extra code {c.code} lies inside {self.min}..{self.max}")
            if c.value is not None and not self.min <= c.value <= self.max:
                raise ValueError(f"code {c.code!r} is scored {c.value}, outside the range")
            seen.add(str(c.code))
        for m in self.missing_codes:
            if str(m) in seen or (isinstance(m, int) and self.min <= m <= self.max):
                raise ValueError(f"missing code {m!r} is also a scored code")
        return self


class Item(_Model):
    """One item, referenced everywhere by its stable ``id`` (never by position)."""

    id: Identifier
    number: int | None = Field(None, description="Position on the published form.")
    label: Text | None = Field(None, description="Short neutral label (always allowed).")
    text: Text | None = Field(None, description="Item wording; only if the licence allows.")
    response_scale: Identifier


class Interval(_Model):
    """An interval with explicit bounds: ``ge`` (>=) or ``gt`` (>), ``le`` (<=) or ``lt`` (<).

    An omitted bound is open. Example: ``{ge: 8, lt: 17}`` is 8 <= x < 17 (ages
    "8-16" in completed years). Used for bands here and for strata in norm tables.

    Example:
        >>> Interval(gt=5, le=9).describe()
        '(5, 9]'
    """

    ge: float | None = None
    gt: float | None = None
    le: float | None = None
    lt: float | None = None

    def _what(self) -> str:
        return "interval"

    @model_validator(mode="after")
    def _bounds(self) -> Interval:
        what = self._what()
        if self.ge is not None and self.gt is not None:
            raise ValueError(f"{what}: give 'ge' or 'gt', not both")
        if self.le is not None and self.lt is not None:
            raise ValueError(f"{what}: give 'le' or 'lt', not both")
        lo, hi = self.lower, self.upper
        empty = (
            lo is not None
            and hi is not None
            and (lo > hi or (lo == hi and not (self.lower_inclusive and self.upper_inclusive)))
        )
        if empty:
            raise ValueError(f"{what} {self.describe()} is empty")
        return self

    @property
    def lower(self) -> float | None:
        return self.ge if self.ge is not None else self.gt

    @property
    def upper(self) -> float | None:
        return self.le if self.le is not None else self.lt

    @property
    def lower_inclusive(self) -> bool:
        return self.ge is not None

    @property
    def upper_inclusive(self) -> bool:
        return self.le is not None

    def describe(self, unit: str = "") -> str:
        """Interval notation, e.g. ``[5, 10)`` (``[`` includes the bound, ``(`` excludes it)."""
        lo = (
            "(-inf"
            if self.lower is None
            else ("[" if self.lower_inclusive else "(") + _num(self.lower)
        )
        hi = (
            "inf)"
            if self.upper is None
            else _num(self.upper) + ("]" if self.upper_inclusive else ")")
        )
        return f"{lo}, {hi}" + (f" {unit}" if unit else "")

    def interval(self) -> str:
        """Same as :meth:`describe` without a unit."""
        return self.describe()

    def contains(self, x: float) -> bool:
        """Whether ``x`` lies in the interval."""
        if self.lower is not None and (x < self.lower or (x == self.lower and self.gt is not None)):
            return False
        return not (
            self.upper is not None and (x > self.upper or (x == self.upper and self.lt is not None))
        )

    def mask(self, x):
        """Elementwise :meth:`contains` of a numpy array (False where NaN)."""
        import numpy as np

        m = ~np.isnan(x)
        if self.ge is not None:
            m &= x >= self.ge
        if self.gt is not None:
            m &= x > self.gt
        if self.le is not None:
            m &= x <= self.le
        if self.lt is not None:
            m &= x < self.lt
        return m

    def within(self, other: Interval) -> bool:
        """Whether every point of this interval lies in ``other``."""
        lo, hi, olo, ohi = self.lower, self.upper, other.lower, other.upper
        if olo is not None:
            if lo is None or lo < olo:
                return False
            if lo == olo and other.gt is not None and self.ge is not None:
                return False
        if ohi is not None:
            if hi is None or hi > ohi:
                return False
            if hi == ohi and other.lt is not None and self.le is not None:
                return False
        return True

    def overlaps(self, other: Interval) -> bool:
        """Whether the two intervals share a point.

        Example:
            >>> Interval(ge=8, lt=12).overlaps(Interval(ge=12, lt=18))
            False
        """

        def below(x: Interval, y: Interval) -> bool:  # x lies entirely below y
            if x.upper is None or y.lower is None:
                return False
            return x.upper < y.lower or (
                x.upper == y.lower and not (x.upper_inclusive and y.lower_inclusive)
            )

        return not (below(self, other) or below(other, self))


class Band(Interval):
    """One band of a scale with explicit bounds.

    Give a lower bound as ``ge`` (inclusive) or ``gt`` (exclusive) and an upper
    bound as ``le`` (inclusive) or ``lt`` (exclusive). An omitted bound is open.
    ``classification`` places the band on the common normal / borderline /
    abnormal axis used by risk rules.
    """

    code: Identifier
    label: Text
    classification: Literal["normal", "borderline", "abnormal"]

    def _what(self) -> str:
        return f"band {self.code!r}"

    @model_validator(mode="after")
    def _one_bound(self) -> Band:
        if self.lower is None and self.upper is None:
            raise ValueError(f"band {self.code!r}: at least one bound is required")
        return self


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


def format_number(x: float) -> str:
    """A number for display: whole numbers without ``.0``, others in ``%g`` form.

    Example:
        >>> format_number(10.0), format_number(69.69697), format_number(float("nan"))
        ('10', '69.697', 'nan')
    """
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


class BandSet(_Model):
    """Bands that partition a scale's range, from one source."""

    id: Identifier
    source: Identifier = Field(description="Key of a citation of the instrument.")
    note: str | None = None
    unverified: str | None = Field(None, description="Why these bands are not verified.")
    bands: list[Band] = Field(min_length=1)

    def check_partition(self, lo: float, hi: float, integer: bool = False) -> None:
        """Raise ValueError unless every possible score falls in exactly one band.

        For an integer-valued scale the possible scores are the integers in
        [lo, hi] (so 0-4 and 5-9 meet); otherwise the bands must cover the
        real interval [lo, hi] without gap or overlap.
        """
        if integer:
            for x in range(math.ceil(lo), math.floor(hi) + 1):
                hits = [b.code for b in self.bands if b.contains(x)]
                if len(hits) != 1:
                    what = "no band" if not hits else f"several bands ({', '.join(hits)})"
                    raise ValueError(f"band set {self.id!r}: score {x} falls in {what}")
            return
        bands = sorted(
            self.bands, key=lambda b: (-math.inf if b.lower is None else b.lower, b.gt is not None)
        )
        first, last = bands[0], bands[-1]
        if first.lower is not None and (
            first.lower > lo or (first.lower == lo and not first.lower_inclusive)
        ):
            raise ValueError(f"band set {self.id!r} does not cover the minimum score {_num(lo)}")
        if last.upper is not None and (
            last.upper < hi or (last.upper == hi and not last.upper_inclusive)
        ):
            raise ValueError(f"band set {self.id!r} does not cover the maximum score {_num(hi)}")
        for a, b in itertools.pairwise(bands):
            if a.upper is None or b.lower is None:
                raise ValueError(f"band set {self.id!r}: bands {a.code!r} and {b.code!r} overlap")
            if a.upper < b.lower or (
                a.upper == b.lower and not (a.upper_inclusive or b.lower_inclusive)
            ):
                raise ValueError(
                    f"band set {self.id!r}: gap between {a.code!r} {a.interval()} "
                    f"and {b.code!r} {b.interval()}"
                )
            if a.upper > b.lower or (a.upper_inclusive and b.lower_inclusive):
                raise ValueError(
                    f"band set {self.id!r}: bands {a.code!r} {a.interval()} and "
                    f"{b.code!r} {b.interval()} overlap"
                )


class MissingRule(_Model):
    """When a scale gets a score.

    ``min_answered`` (count) or ``min_answered_fraction`` sets the minimum number
    of valid answers; the default is every item. With ``prorate: true`` a sum
    scale that is not complete but meets the minimum is scored as
    ``mean(answered) * n_items`` rounded by ``rounding``.
    """

    min_answered: int | None = Field(None, ge=1)
    min_answered_fraction: float | None = Field(None, gt=0, le=1)
    prorate: bool = False
    rounding: Literal["half_up", "half_even", "none"] = "half_up"
    source: Identifier | None = Field(None, description="Citation key of the rule.")
    note: str | None = None

    @model_validator(mode="after")
    def _one(self) -> MissingRule:
        if self.min_answered is not None and self.min_answered_fraction is not None:
            raise ValueError("give min_answered or min_answered_fraction, not both")
        return self

    def required(self, n_items: int) -> int:
        """Minimum number of answered items for a score, given the scale length."""
        if self.min_answered is not None:
            return self.min_answered
        if self.min_answered_fraction is not None:
            return max(1, math.ceil(self.min_answered_fraction * n_items - 1e-9))
        return n_items


class Scale(_Model):
    """A scale: a sum or mean of items, or a composite of other scales."""

    id: Identifier
    label: Text
    items: list[Identifier] = Field(default_factory=list)
    scales: list[Identifier] = Field(
        default_factory=list, description="Component scales of a composite scale."
    )
    aggregation: Literal["sum", "mean"] = "sum"
    missing: MissingRule = Field(default_factory=MissingRule)
    higher_is: Literal["worse", "better"] = "worse"
    bands: list[BandSet] = Field(default_factory=list)
    note: str | None = None

    @model_validator(mode="after")
    def _kind(self) -> Scale:
        if bool(self.items) == bool(self.scales):
            raise ValueError(f"scale {self.id!r}: give either 'items' or 'scales'")
        if self.id in RESERVED_SCALE_IDS:
            raise ValueError(f"scale id {self.id!r} is reserved")
        parts = self.items or self.scales
        if len(set(parts)) != len(parts):
            raise ValueError(f"scale {self.id!r} lists a component twice")
        if self.missing.min_answered is not None and self.missing.min_answered > len(parts):
            raise ValueError(
                f"scale {self.id!r}: min_answered {self.missing.min_answered} exceeds "
                f"its {len(parts)} components"
            )
        partial = self.missing.required(len(parts)) < len(parts)
        if partial and self.aggregation == "sum" and not self.missing.prorate:
            raise ValueError(
                f"scale {self.id!r}: a sum scored with fewer than all {len(parts)} components "
                "would count missing answers as 0; set missing.prorate: true or require all"
            )
        if self.is_composite and self.missing.prorate:
            raise ValueError(f"scale {self.id!r}: composite scales are not prorated")
        return self

    @property
    def is_composite(self) -> bool:
        return bool(self.scales)


class Condition(Interval):
    """A comparison on a scored value: any of ``ge``, ``gt``, ``le``, ``lt``, ``eq``, ``in``.

    Example:
        >>> import numpy as np
        >>> Condition(ge=1).mask(np.array([0.0, 1.0, np.nan])).tolist()
        [False, True, False]
    """

    eq: float | None = None
    in_: list[float] | None = Field(None, alias="in")

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    def _what(self) -> str:
        return "condition"

    @model_validator(mode="after")
    def _some(self) -> Condition:
        if all(v is None for v in (self.ge, self.gt, self.le, self.lt, self.eq, self.in_)):
            raise ValueError("a condition needs at least one of ge, gt, le, lt, eq, in")
        return self

    def mask(self, x):
        """Elementwise test of a numpy array (False where NaN)."""
        import numpy as np

        m = super().mask(x)
        if self.eq is not None:
            m &= x == self.eq
        if self.in_ is not None:
            m &= np.isin(x, self.in_)
        return m

    def describe(self, unit: str = "") -> str:
        """The condition as text, e.g. ``>= 1``."""
        parts = []
        for op, sym in (("ge", ">="), ("gt", ">"), ("le", "<="), ("lt", "<"), ("eq", "==")):
            v = getattr(self, op)
            if v is not None:
                parts.append(f"{sym} {_num(v)}")
        if self.in_ is not None:
            parts.append("in {" + ", ".join(_num(v) for v in self.in_) + "}")
        return " and ".join(parts) + (f" {unit}" if unit else "")


class CriticalItem(_Model):
    """A condition on items that flags a child for immediate attention.

    Fires when any (``mode: any``) or all listed items meet ``condition`` on the
    scored value (after code mapping, before reverse keying).
    """

    id: Identifier
    items: list[Identifier] = Field(min_length=1)
    condition: Condition
    mode: Literal["any", "all"] = "any"
    meaning: Text
    source: Identifier
    unverified: str | None = None


class ValidityCheck(_Model):
    """A check that the response pattern can be trusted.

    kinds:
      * ``scale_threshold``: the scale ``scale`` meets ``condition`` (lie scales);
      * ``straight_line``: all of ``items`` (default all items) answered with the
        same code, with at least ``min_answered`` answered;
      * ``inconsistent_pairs``: for ``pairs`` of items that should agree (after
        reverse keying), at least ``min_violations`` pairs differ by more than
        ``max_difference``;
      * ``max_missing``: more than ``max_missing_fraction`` of ``items`` missing.
    """

    id: Identifier
    kind: Literal["scale_threshold", "straight_line", "inconsistent_pairs", "max_missing"]
    scale: Identifier | None = None
    condition: Condition | None = None
    items: list[Identifier] = Field(default_factory=list)
    min_answered: int | None = Field(None, ge=2)
    pairs: list[tuple[Identifier, Identifier]] = Field(default_factory=list)
    max_difference: float | None = Field(None, ge=0)
    min_violations: int = Field(1, ge=1)
    max_missing_fraction: float | None = Field(None, ge=0, lt=1)
    meaning: Text
    source: Identifier | None = None
    unverified: str | None = None

    @model_validator(mode="after")
    def _fields(self) -> ValidityCheck:
        need = {
            "scale_threshold": ("scale", "condition"),
            "straight_line": ("min_answered",),
            "inconsistent_pairs": ("pairs", "max_difference"),
            "max_missing": ("max_missing_fraction",),
        }[self.kind]
        for f in need:
            if getattr(self, f) in (None, []):
                raise ValueError(f"validity check {self.id!r} of kind {self.kind} needs {f!r}")
        return self


class AgeRange(_Model):
    """Ages (in completed years, both inclusive) for which the instrument is intended.

    ``{min: 11, max: 17}`` covers exact ages 11 <= age < 18 (up to the day before the 18th
    birthday). Risk profiles and scoring honour it (status ``out_of_age_range``).

    Example:
        >>> AgeRange(min=11, max=17).interval().describe()
        '[11, 18)'
    """

    min: float | None = None
    max: float | None = None

    def interval(self) -> Interval | None:
        """The exact ages covered, as an :class:`Interval` (None: no range declared)."""
        if self.min is None and self.max is None:
            return None
        return Interval(ge=self.min, lt=None if self.max is None else self.max + 1)


class Instrument(_Model):
    """One version of an instrument. See ``docs/definition-format.md``."""

    id: Identifier
    version: str
    title: Text
    abbreviation: str | None = None
    informant: Literal["self", "parent", "teacher", "clinician"]
    age_range: AgeRange = Field(default_factory=AgeRange)
    languages: list[str] = Field(default_factory=list)
    description: str | None = None
    licence: Licence
    citations: list[Citation] = Field(min_length=1)
    unverified: list[str] = Field(
        default_factory=list, description="Facts of this definition not confirmed in a source."
    )
    response_scales: dict[Identifier, ResponseScale]
    items: list[Item] = Field(min_length=1)
    reverse_keyed: list[Identifier] = Field(default_factory=list)
    scales: list[Scale] = Field(min_length=1)
    critical_items: list[CriticalItem] = Field(default_factory=list)
    validity_checks: list[ValidityCheck] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)

    _source: str | None = PrivateAttr(None)
    _sha256: str | None = PrivateAttr(None)

    @property
    def source_path(self) -> str | None:
        """The file this definition was loaded from, if any."""
        return self._source

    @property
    def sha256(self) -> str | None:
        """SHA-256 of the definition file's bytes (provenance), if loaded from a file."""
        return self._sha256

    @model_validator(mode="after")
    def _references(self) -> Instrument:
        keys = [c.key for c in self.citations]
        _unique(keys, "citation key")
        item_ids = [i.id for i in self.items]
        _unique(item_ids, "item id")
        scale_ids = [s.id for s in self.scales]
        _unique(scale_ids, "scale id")
        items, scales, cites = set(item_ids), set(scale_ids), set(keys)
        for it in self.items:
            if it.response_scale not in self.response_scales:
                raise ValueError(
                    f"item {it.id!r}: response scale {it.response_scale!r} is not declared"
                )
            if it.text is not None and not self.licence.item_text_allowed:
                raise ValueError(
                    f"item {it.id!r} carries item text but the licence does not allow it "
                    "(licence.item_text_allowed is false): give a short neutral label instead"
                )
        _known(self.reverse_keyed, items, "reverse_keyed", "item")
        _unique(self.reverse_keyed, "reverse-keyed item")
        seen: set[str] = set()
        for s in self.scales:
            _known(s.items, items, f"scale {s.id!r}", "item")
            for c in s.scales:
                if c not in seen:
                    raise ValueError(
                        f"scale {s.id!r}: component scale {c!r} must be declared before it"
                    )
            if s.missing.source is not None:
                _known([s.missing.source], cites, f"scale {s.id!r} missing rule", "citation")
            seen.add(s.id)
            lo, hi = self.scale_range(s.id)
            integer = self.scale_is_integer(s.id)
            for bs in s.bands:
                _known([bs.source], cites, f"scale {s.id!r} band set {bs.id!r}", "citation")
                try:
                    bs.check_partition(lo, hi, integer)
                except ValueError as e:
                    raise ValueError(f"scale {s.id!r}: {e}") from None
            _unique([b.id for b in s.bands], f"band set id of scale {s.id!r}")
        for ci in self.critical_items:
            _known(ci.items, items, f"critical item {ci.id!r}", "item")
            _known([ci.source], cites, f"critical item {ci.id!r}", "citation")
        _unique([c.id for c in self.critical_items], "critical item id")
        for vc in self.validity_checks:
            _known(vc.items, items, f"validity check {vc.id!r}", "item")
            _known([x for p in vc.pairs for x in p], items, f"validity check {vc.id!r}", "item")
            if vc.scale is not None:
                _known([vc.scale], scales, f"validity check {vc.id!r}", "scale")
            if vc.source is not None:
                _known([vc.source], cites, f"validity check {vc.id!r}", "citation")
        _unique([v.id for v in self.validity_checks], "validity check id")
        return self

    # -- lookups -----------------------------------------------------------------
    def item(self, item_id: str) -> Item:
        """The item with id ``item_id``."""
        for it in self.items:
            if it.id == item_id:
                return it
        raise UnknownIdError(f"{self.id}: no item {item_id!r}", "item", item_id)

    def scale(self, scale_id: str) -> Scale:
        """The scale with id ``scale_id``."""
        for s in self.scales:
            if s.id == scale_id:
                return s
        raise UnknownIdError(f"{self.id}: no scale {scale_id!r}", "scale", scale_id)

    @property
    def item_ids(self) -> list[str]:
        return [i.id for i in self.items]

    def citation(self, key: str) -> Citation:
        for c in self.citations:
            if c.key == key:
                return c
        raise UnknownIdError(f"{self.id}: no citation {key!r}", "citation", key)

    def scale_range(self, scale_id: str) -> tuple[float, float]:
        """Lowest and highest possible score of a scale, from the declared codes."""
        s = self.scale(scale_id)
        if s.is_composite:
            parts = [self.scale_range(c) for c in s.scales]
        else:
            parts = [
                (
                    self.response_scales[self.item(i).response_scale].min,
                    self.response_scales[self.item(i).response_scale].max,
                )
                for i in s.items
            ]
        lo = sum(p[0] for p in parts)
        hi = sum(p[1] for p in parts)
        if s.aggregation == "mean":
            return lo / len(parts), hi / len(parts)
        return float(lo), float(hi)

    def scale_is_integer(self, scale_id: str) -> bool:
        """Whether every score the scale can take is a whole number."""
        s = self.scale(scale_id)
        if s.aggregation != "sum":
            return False
        if s.is_composite:
            return all(self.scale_is_integer(c) for c in s.scales)
        if s.missing.prorate and s.missing.rounding == "none":
            return False
        for i in s.items:
            rs = self.response_scales[self.item(i).response_scale]
            if any(c.value is not None and not float(c.value).is_integer() for c in rs.codes):
                return False
        return True

    def is_reverse(self, item_id: str) -> bool:
        return item_id in set(self.reverse_keyed)


def _unique(values: Iterable[str], what: str) -> None:
    seen: set[str] = set()
    for v in values:
        if v in seen:
            raise ValueError(f"duplicate {what} {v!r}")
        seen.add(v)


def _known(values: Iterable[str], known: set[str], where: str, what: str) -> None:
    for v in values:
        if v not in known:
            raise ValueError(f"{where}: unknown {what} {v!r}")
