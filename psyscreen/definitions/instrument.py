"""Pydantic models of an instrument definition.

An instrument definition is a YAML file (see ``docs/definition-format.md``) that
states everything needed to score one version of a questionnaire: items,
response codes, reverse keys, scales and their missing-data rules, bands with
explicit bounds, critical items, validity checks, licence and sources.

The models are the single source of truth: the published JSON Schema
(``psyscreen/schemas/instrument.schema.json``) is generated from them, and
cross-field rules that a JSON Schema cannot express (items referenced by a
scale exist, bands partition the scale range, item text only where the licence
allows it) are checked here, every problem at its own path.

Example:
    >>> from psyscreen import load_instrument
    >>> phq9 = load_instrument("phq9")
    >>> phq9.scale("total").items[:2]
    ['phq9_1', 'phq9_2']
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Literal

from pydantic import ConfigDict, Field, model_validator

from ..errors import UnknownIdError
from ..formatting import exact_number
from .primitives import (
    BandSet,
    Citation,
    DefinitionModel,
    Identifier,
    Interval,
    Licence,
    Problems,
    SourcedModel,
    Text,
    duplicates,
    unknown,
)

#: Names a scale may not take because they are used for instrument-level columns.
RESERVED_SCALE_IDS = frozenset({"critical", "validity", "status", "problems", "norm"})


class Code(DefinitionModel):
    """A response code that is not simply 'the code is its own score'."""

    code: int | str
    value: float | None = Field(
        None, description="Score given to this code; null means the code counts as missing."
    )
    label: Text | None = None
    note: str | None = None


class ResponseScale(DefinitionModel):
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


class Item(DefinitionModel):
    """One item, referenced everywhere by its stable ``id`` (never by position)."""

    id: Identifier
    number: int | None = Field(None, description="Position on the published form.")
    label: Text | None = Field(None, description="Short neutral label (always allowed).")
    text: Text | None = Field(None, description="Item wording; only if the licence allows.")
    response_scale: Identifier


class MissingRule(DefinitionModel):
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


class Scale(DefinitionModel):
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

    Arrays are tested with :func:`psyscreen.masks.condition_mask`.

    Example:
        >>> Condition.model_validate({"ge": 1, "in": [1, 2]}).describe()
        '>= 1 and in {1, 2}'
    """

    eq: float | None = None
    in_: list[float] | None = Field(None, alias="in")

    model_config = ConfigDict(populate_by_name=True)  # frozen, extra="forbid" from the base

    def _what(self) -> str:
        return "condition"

    @model_validator(mode="after")
    def _some(self) -> Condition:
        if all(v is None for v in (self.ge, self.gt, self.le, self.lt, self.eq, self.in_)):
            raise ValueError("a condition needs at least one of ge, gt, le, lt, eq, in")
        return self

    def describe(self, unit: str = "") -> str:
        """The condition as text, e.g. ``>= 1``."""
        parts = []
        for op, sym in (("ge", ">="), ("gt", ">"), ("le", "<="), ("lt", "<"), ("eq", "==")):
            v = getattr(self, op)
            if v is not None:
                parts.append(f"{sym} {exact_number(v)}")
        if self.in_ is not None:
            parts.append("in {" + ", ".join(exact_number(v) for v in self.in_) + "}")
        return " and ".join(parts) + (f" {unit}" if unit else "")


class CriticalItem(DefinitionModel):
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


class ValidityCheck(DefinitionModel):
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


class AgeRange(DefinitionModel):
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


class Instrument(SourcedModel):
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

    @model_validator(mode="after")
    def _references(self) -> Instrument:
        p = Problems()
        keys = [c.key for c in self.citations]
        item_ids = [i.id for i in self.items]
        scale_ids = [s.id for s in self.scales]
        for field, ids, what in (
            ("citations", keys, "citation key"),
            ("items", item_ids, "item id"),
            ("scales", scale_ids, "scale id"),
        ):
            for k, v in duplicates(ids):
                p.add(f"{field}[{k}]", f"duplicate {what} {v!r}")
        items, scales, cites = set(item_ids), set(scale_ids), set(keys)
        for k, it in enumerate(self.items):
            if it.response_scale not in self.response_scales:
                p.add(
                    f"items[{k}].response_scale",
                    f"item {it.id!r}: response scale {it.response_scale!r} is not declared",
                )
            if it.text is not None and not self.licence.item_text_allowed:
                p.add(
                    f"items[{k}].text",
                    f"item {it.id!r} carries item text but the licence does not allow it "
                    "(licence.item_text_allowed is false): give a short neutral label instead",
                )
        _known(p, "reverse_keyed", self.reverse_keyed, items, "reverse_keyed", "item")
        for k, v in duplicates(self.reverse_keyed):
            p.add(f"reverse_keyed[{k}]", f"duplicate reverse-keyed item {v!r}")
        seen: set[str] = set()
        for i, s in enumerate(self.scales):
            at = f"scales[{i}]"
            _known(p, f"{at}.items", s.items, items, f"scale {s.id!r}", "item")
            for k, c in enumerate(s.scales):
                if c not in seen:
                    p.add(
                        f"{at}.scales[{k}]",
                        f"scale {s.id!r}: component scale {c!r} must be declared before it",
                    )
            if s.missing.source is not None and s.missing.source not in cites:
                p.add(
                    f"{at}.missing.source",
                    f"scale {s.id!r} missing rule: unknown citation {s.missing.source!r}",
                )
            seen.add(s.id)
            if p.found:  # the range of a scale is only defined once its parts are
                continue
            lo, hi = self.scale_range(s.id)
            integer = self.scale_is_integer(s.id)
            for j, bs in enumerate(s.bands):
                if bs.source not in cites:
                    p.add(
                        f"{at}.bands[{j}].source",
                        f"scale {s.id!r} band set {bs.id!r}: unknown citation {bs.source!r}",
                    )
                try:
                    bs.check_partition(lo, hi, integer)
                except ValueError as e:
                    p.add(f"{at}.bands[{j}]", f"scale {s.id!r}: {e}")
            for j, v in duplicates(b.id for b in s.bands):
                p.add(f"{at}.bands[{j}].id", f"duplicate band set id of scale {s.id!r} {v!r}")
        for k, ci in enumerate(self.critical_items):
            at = f"critical_items[{k}]"
            _known(p, f"{at}.items", ci.items, items, f"critical item {ci.id!r}", "item")
            if ci.source not in cites:
                p.add(f"{at}.source", f"critical item {ci.id!r}: unknown citation {ci.source!r}")
        for k, v in duplicates(c.id for c in self.critical_items):
            p.add(f"critical_items[{k}].id", f"duplicate critical item id {v!r}")
        for k, vc in enumerate(self.validity_checks):
            at, where = f"validity_checks[{k}]", f"validity check {vc.id!r}"
            _known(p, f"{at}.items", vc.items, items, where, "item")
            for j, pair in enumerate(vc.pairs):
                _known(p, f"{at}.pairs[{j}]", pair, items, where, "item")
            if vc.scale is not None and vc.scale not in scales:
                p.add(f"{at}.scale", f"{where}: unknown scale {vc.scale!r}")
            if vc.source is not None and vc.source not in cites:
                p.add(f"{at}.source", f"{where}: unknown citation {vc.source!r}")
        for k, v in duplicates(vc.id for vc in self.validity_checks):
            p.add(f"validity_checks[{k}].id", f"duplicate validity check id {v!r}")
        p.raise_any()
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


def _known(
    p: Problems, path: str, values: Iterable[str], known: set[str], where: str, what: str
) -> None:
    for k, v in unknown(values, known):
        p.add(f"{path}[{k}]", f"{where}: unknown {what} {v!r}")
