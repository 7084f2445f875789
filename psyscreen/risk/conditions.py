"""Batteries and rule conditions of a risk profile (pure data, read as node trees by
:mod:`psyscreen.risk.nodes`; nothing in a profile can execute code).

Example:
    >>> w = When.model_validate({"count": {"band_class": ["abnormal"], "at_least": 2}})
    >>> w.count.at_least, w.band is None
    (2, True)
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from ..definitions import Condition, Identifier, ValidityCheck
from .handling import _Model

ScaleRef = Annotated[
    str,
    Field(
        pattern=r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$",
        description="'instrument.scale', e.g. 'phq9.total'.",
    ),
]
BandClass = Literal["normal", "borderline", "abnormal"]


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


class Rule(_Model):
    """Raise the child to ``level`` when ``when`` holds."""

    id: Identifier
    level: Identifier
    when: When
    zh: str = Field(min_length=1, description="Short reason in Chinese (no child data).")
    en: str = Field(min_length=1, description="Short reason in English (no child data).")
    source: Identifier | None = Field(None, description="Citation key of the rule's basis.")
    note: str | None = None
