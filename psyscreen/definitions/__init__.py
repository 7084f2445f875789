"""Pydantic models of the definitions: pure data, validated, every problem at its path.

* :mod:`~psyscreen.definitions.primitives`: the one model base and what every kind of
  definition shares (:class:`Text`, :class:`Citation`, :class:`Licence`,
  :class:`Interval`, :class:`Band`, :class:`BandSet`, :data:`Identifier`);
* :mod:`~psyscreen.definitions.instrument`: an instrument definition
  (:class:`Instrument` and its parts).

Norm tables (:mod:`psyscreen.norms.models`), risk profiles
(:mod:`psyscreen.risk.profile`) and column mappings (:mod:`psyscreen.batch.mapping`)
build on the same primitives; :mod:`psyscreen.loader` reads any of them from YAML.

Example:
    >>> from psyscreen import load_instrument
    >>> phq9 = load_instrument("phq9")
    >>> phq9.scale("total").items[:2]
    ['phq9_1', 'phq9_2']
"""

from __future__ import annotations

from ..formatting import format_number
from .instrument import (
    RESERVED_SCALE_IDS,
    AgeRange,
    Code,
    Condition,
    CriticalItem,
    Instrument,
    Item,
    MissingRule,
    ResponseScale,
    Scale,
    ValidityCheck,
)
from .primitives import (
    ID_PATTERN,
    Band,
    BandSet,
    Citation,
    DefinitionModel,
    Identifier,
    Interval,
    Licence,
    Problems,
    SourcedModel,
    Text,
)
from .primitives import DefinitionModel as _Model  # noqa: F401  (the modules' short name)
from .primitives import _unique as _unique

__all__ = [
    "ID_PATTERN",
    "RESERVED_SCALE_IDS",
    "AgeRange",
    "Band",
    "BandSet",
    "Citation",
    "Code",
    "Condition",
    "CriticalItem",
    "DefinitionModel",
    "Identifier",
    "Instrument",
    "Interval",
    "Item",
    "Licence",
    "MissingRule",
    "Problems",
    "ResponseScale",
    "Scale",
    "SourcedModel",
    "Text",
    "ValidityCheck",
    "format_number",
]
