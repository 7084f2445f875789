"""Finding and loading instrument definitions (shipped or your own).

Shipped definitions live in ``instruments/`` of the source tree and are
installed as package data (``psyscreen/_data/instruments``), so they are
found from any working directory. Reading goes through the one definition
loader (:mod:`psyscreen.loader`); :data:`INSTRUMENT` describes the kind.

Example:
    >>> import psyscreen
    >>> "phq9" in psyscreen.list_instruments()
    True
    >>> psyscreen.load_instrument("gad7").scale("total").items[-1]
    'gad7_7'
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .definitions import Instrument
from .loader import DEFAULT_LIBRARY, Kind, data_dir
from .yamlio import read_yaml

__all__ = [
    "INSTRUMENT",
    "data_dir",
    "instrument_from_data",
    "list_instruments",
    "load_instrument",
    "schema",
    "validate_file",
]


#: instrument definitions: ``instruments/*.yaml``, schema ``instrument``
INSTRUMENT: Kind[Instrument] = Kind(
    "instrument", Instrument, "instrument", "a definition", "instruments"
)


def schema(name: str) -> dict[str, Any]:
    """A published JSON Schema shipped in ``psyscreen/schemas`` (e.g. 'instrument').

    Example:
        >>> schema("instrument")["type"]
        'object'
    """
    return DEFAULT_LIBRARY.schema(name)


def list_instruments() -> list[str]:
    """Ids of the shipped instruments, sorted.

    Example:
        >>> from psyscreen import list_instruments
        >>> list_instruments()[:1]  # doctest: +SKIP
        ['asq']
    """
    return DEFAULT_LIBRARY.ids(INSTRUMENT)


def load_instrument(id_or_path: str | Path | Instrument) -> Instrument:
    """Load a shipped instrument by id, or any definition file by path.

    The file is read with a safe YAML loader, validated against the published
    JSON Schema and then against the cross-field rules of the model. Errors are
    one :class:`~psyscreen.errors.DefinitionError` listing every problem with its
    file and path; an unknown id is an :class:`~psyscreen.errors.UnknownIdError`.

    Example:
        >>> from psyscreen import load_instrument
        >>> load_instrument("phq9").informant
        'self'
    """
    if isinstance(id_or_path, Instrument):
        return id_or_path
    return DEFAULT_LIBRARY.load(INSTRUMENT, id_or_path)


def instrument_from_data(
    data: object, file: str = "<data>", digest: str | None = None
) -> Instrument:
    """Validate already-parsed definition data into an :class:`Instrument`.

    Example:
        >>> from psyscreen.yamlio import read_yaml
        >>> data, _ = read_yaml(data_dir("instruments") / "gad7.yaml")
        >>> instrument_from_data(data).id
        'gad7'
    """
    return DEFAULT_LIBRARY.from_data(INSTRUMENT, data, file, digest)


def validate_file(path: str | Path) -> Instrument:
    """Validate a definition file; return the instrument or raise DefinitionError.

    Example:
        >>> validate_file(data_dir("instruments") / "phq9.yaml").id
        'phq9'
    """
    p = Path(path)
    data, digest = read_yaml(p)
    return instrument_from_data(data, str(p), digest)
