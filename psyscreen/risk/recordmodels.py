"""The pydantic models of a typed screening record (one per child), for systems.

Their JSON Schema is published as ``psyscreen/schemas/screening_record.schema.json``
(:mod:`psyscreen.schemagen`); :mod:`psyscreen.risk.records` builds them. A record's
value-only parts (:class:`ScaleResult`, :class:`CheckState`, :class:`ActionOut`,
:class:`Intervals`, :class:`DefinitionRef`) are frozen, so records may share them; every
list and every other model belongs to one record.

Example:
    >>> ref = DefinitionRef(id="phq9", version="2001")
    >>> ref.model_dump()
    {'id': 'phq9', 'version': '2001', 'sha256': None}
    >>> ScaleResult(instrument="phq9", scale="total", raw=12.0).band is None
    True
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "ActionOut",
    "CheckState",
    "DefinitionRef",
    "Evidence",
    "FiredRule",
    "Intervals",
    "Provenance",
    "ScaleResult",
    "ScreeningRecord",
]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _Frozen(BaseModel):
    """A part of records made of plain values only and read-only: records share them."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Evidence(_Model):
    """One fact a rule used: a scale's band or score, a critical item or a validity flag."""

    kind: Literal["band", "score", "critical", "validity"]
    instrument: str
    scale: str | None = None
    check: str | None = Field(None, description="Critical item or validity check id.")
    items: list[str] = Field(default_factory=list, description="Item ids (critical items).")
    field: str | None = Field(None, description="raw, t, z, percentile or band_class.")
    value: float | str | bool | None = None
    band: str | None = None
    band_class: str | None = None
    threshold: str | None = Field(
        None, description="The cutoff that was met, e.g. '>= 10' or the band interval '[10, 14]'."
    )
    band_source: Literal["instrument", "norm"] | None = None
    band_set: str | None = Field(None, description="Instrument band set id (instrument bands).")
    norm_table: str | None = Field(None, description="'id@version' of the norm table used.")
    norm_stratum: str | None = None
    meaning: str | None = None
    unverified: str | None = Field(
        None, description="Why the cut-off, band, item or check used is not verified, if so."
    )


class FiredRule(_Model):
    id: str
    level: str
    rank: int
    en: str
    zh: str
    evidence: list[Evidence] = Field(default_factory=list)


class ActionOut(_Frozen):
    id: str
    zh: str
    en: str


class Intervals(_Frozen):
    retest_days: int | None = None
    contact_days: int | None = None
    visit_days: int | None = None


class CheckState(_Frozen):
    """A critical item or validity check of the battery and whether it fired."""

    instrument: str
    check: str
    fired: bool | None = Field(description="null: could not be told (answers missing).")


class ScaleResult(_Frozen):
    instrument: str
    scale: str
    raw: float | None = None
    status: str | None = None
    band: str | None = None
    band_class: str | None = None
    band_source: Literal["instrument", "norm"] | None = None
    t: float | None = None
    percentile: float | None = None
    norm_table: str | None = None
    norm_stratum: str | None = None


class DefinitionRef(_Frozen):
    id: str
    version: str
    sha256: str | None = None


class Provenance(_Model):
    library: str = "psyscreen"
    library_version: str
    profile: DefinitionRef
    instruments: list[DefinitionRef]
    norm_tables: list[DefinitionRef] = Field(default_factory=list)


class ScreeningRecord(_Model):
    """The screening result of one child (one input row)."""

    row: int = Field(description="0-based position of the input row.")
    id: str | None = Field(None, description="Respondent id, only when the caller asked for it.")
    status: Literal["level", "invalid_response", "insufficient_data", "out_of_age_range", "no_age"]
    level: int | None = Field(description="Level number (0 = lowest); null unless status is level.")
    route: str | None = Field(
        None, description="Route of a routed profile the child was graded on (null: none)."
    )
    level_code: str
    level_zh: str
    level_en: str
    colour: str
    tier3: str
    needs_confirmation: bool
    referral: bool
    rules: list[FiredRule]
    reasons_en: str
    reasons_zh: str
    flags: list[str]
    actions: list[ActionOut]
    intervals: Intervals
    critical: list[CheckState]
    validity: list[CheckState]
    scales: list[ScaleResult]
    provenance: Provenance
