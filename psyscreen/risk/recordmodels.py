"""The pydantic models of a typed screening record (one per child), for systems.

Their JSON Schema is published as ``psyscreen/schemas/screening_record.schema.json``
(:mod:`psyscreen.schemagen`); :mod:`psyscreen.risk.records` builds them. A record's
value-only parts (:class:`ScaleResult`, :class:`CheckState`, :class:`ActionOut`,
:class:`Intervals`, :class:`DefinitionRef`) are frozen, so records may share them; every
list and every other model belongs to one record. :func:`copier` makes fresh copies of
validated parts without validating them again.

Example:
    >>> ref = DefinitionRef(id="phq9", version="2001")
    >>> ref.model_dump()
    {'id': 'phq9', 'version': '2001', 'sha256': None}
    >>> ScaleResult(instrument="phq9", scale="total", raw=12.0).band is None
    True
"""

from __future__ import annotations

import types
from collections.abc import Callable
from typing import Any, Generic, Literal, TypeVar, Union, get_args, get_origin

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
    "copier",
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


# -- copies without validation ------------------------------------------------------------

M = TypeVar("M", bound=BaseModel)
_ATOMS = (str, int, float, bool, type(None))
_new = object.__new__
# what validation sets on a model beside its fields (pydantic's BaseModel.__slots__)
_SLOTS = ("__dict__", "__pydantic_fields_set__", "__pydantic_extra__", "__pydantic_private__")


def _slot(cls: type, name: str) -> Callable[[Any, Any], None]:
    """The setter of the slot ``name`` of ``cls`` (``TypeError`` if pydantic has no such slot)."""
    for k in cls.__mro__:
        descr = k.__dict__.get(name)
        if descr is not None and hasattr(descr, "__set__"):
            return descr.__set__
    raise TypeError(f"{cls.__name__} has no slot {name}")


def _is_model(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, BaseModel)


def _atomic(tp: Any) -> bool:
    """A value of type ``tp`` is immutable (a plain value, or a union or literal of them)."""
    if tp in _ATOMS:
        return True
    origin = get_origin(tp)
    if origin is Literal:
        return all(isinstance(v, _ATOMS) for v in get_args(tp))
    if origin in (Union, types.UnionType):
        return all(_atomic(a) for a in get_args(tp))
    return False


def _shared(tp: Any) -> bool:
    """Records may share a value of type ``tp``: a plain value or a frozen model."""
    return _atomic(tp) or (_is_model(tp) and bool(tp.model_config.get("frozen")))


def _step(tp: Any) -> Callable[[Any], Any] | None:
    """How a field of type ``tp`` is copied (``None``: the value itself is kept)."""
    if _shared(tp):
        return None
    if get_origin(tp) is list:
        (item,) = get_args(tp)
        if _shared(item):
            return list
        if _is_model(item):
            each = copier(item).copy
            return lambda v: list(map(each, v))
    elif _is_model(tp):
        return copier(tp).copy
    raise TypeError(f"no copy rule for a field of type {tp!r}")


_COPIERS: dict[type, _Copier[Any]] = {}


def copier(cls: type[M]) -> _Copier[M]:
    """The copier of ``cls``: fresh models with the values of validated ones, not re-validated.

    A copy is what :meth:`~pydantic.BaseModel.model_validate` gives for the same data: the
    same class, values, fields set and field order, and its own lists and changeable models
    (frozen models and plain values are kept, as they cannot change). A field type it has no
    rule for raises ``TypeError`` when the copier is made, not a silent shared part.

    Example:
        >>> ev = Evidence(kind="critical", instrument="phq9", items=["phq9_9"])
        >>> twin = copier(Evidence)(ev)
        >>> twin == ev, twin.items is ev.items, twin.model_fields_set == ev.model_fields_set
        (True, False, True)
    """
    hit = _COPIERS.get(cls)
    if hit is None:
        hit = _COPIERS[cls] = _Copier(cls)
    return hit


class _Copier(Generic[M]):
    """``copy(model)`` and ``made(values, fields_set)`` of one model class (closures: they
    run for every part of every record)."""

    def __init__(self, cls: type[M]):
        if cls.model_config.get("extra") != "forbid" or cls.__private_attributes__:
            raise TypeError(f"{cls.__name__}: only models without extra or private attributes")
        self.cls = cls
        steps = tuple(
            (name, step)
            for name, f in cls.model_fields.items()
            if (step := _step(f.annotation)) is not None
        )
        self.steps = steps
        new = _new
        # the slots' own setters: a third faster than object.__setattr__ looking them up
        put_dict, put_set, put_extra, put_private = (_slot(cls, n) for n in _SLOTS)

        def made(values: dict[str, Any], fields_set: set[str]) -> M:
            """The model of ``values`` (taken over: every field, in order, as validation
            gives it; the changeable ones are copied) with ``fields_set`` (fields given)."""
            for name, step in steps:
                values[name] = step(values[name])
            m: M = new(cls)
            put_dict(m, values)
            put_set(m, fields_set)
            put_extra(m, None)
            put_private(m, None)
            return m

        def copy(m: M) -> M:
            return made(m.__dict__.copy(), set(m.__pydantic_fields_set__))

        self.made = made
        self.copy = copy

    def __call__(self, m: M) -> M:
        return self.copy(m)
