"""Finding and loading instrument definitions (shipped or your own).

Shipped definitions live in ``instruments/`` of the source tree and are
installed as package data (``psyscreen/_data/instruments``), so they are
found from any working directory.

Example:
    >>> import psyscreen
    >>> "phq9" in psyscreen.list_instruments()
    True
    >>> psyscreen.load_instrument("gad7").scale("total").items[-1]
    'gad7_7'
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from .definitions import Instrument
from .errors import UnknownIdError
from .yamlio import DefinitionError, pydantic_error, read_yaml, validate_json_schema

_PKG = Path(__file__).resolve().parent
M = TypeVar("M", bound=BaseModel)


def data_dir(kind: str) -> Path:
    """Directory of shipped ``kind`` files ('instruments', 'norms' or 'profiles').

    Installed wheels carry them in ``psyscreen/_data/<kind>``; a source checkout
    (editable install, running from the repository) has them at the top level.
    """
    installed = Path(str(resources.files("psyscreen"))) / "_data" / kind
    if installed.is_dir():
        return installed
    return _PKG.parent / kind


def validated(
    data: object,
    model: type[M],
    schema_name: str,
    file: str,
    what: str,
    to_error: Callable[[ValidationError, str], DefinitionError] = pydantic_error,
) -> M:
    """Check parsed YAML ``data`` against the published schema, then build ``model``.

    Shared by instruments, norm tables and risk profiles; errors are
    :class:`DefinitionError` naming ``file``, the path inside it and the problem.
    """
    if not isinstance(data, dict):
        raise DefinitionError(file, "", f"{what} must be a YAML mapping")
    validate_json_schema(data, schema(schema_name), file)
    try:
        return model.model_validate(data)
    except ValidationError as e:
        raise to_error(e, file) from None


@functools.cache
def schema(name: str) -> dict:
    """A published JSON Schema shipped in ``psyscreen/schemas`` (e.g. 'instrument')."""
    return json.loads((_PKG / "schemas" / f"{name}.schema.json").read_text("utf-8"))


def list_instruments() -> list[str]:
    """Ids of the shipped instruments, sorted.

    Example:
        >>> from psyscreen import list_instruments
        >>> list_instruments()[:1]  # doctest: +SKIP
        ['asq']
    """
    d = data_dir("instruments")
    return sorted(p.stem for p in d.glob("*.yaml"))


def resolve_file(id_or_path: str | Path, kind: str, what: str) -> Path:
    """The file of a definition given by path, or by id of a shipped ``kind`` file.

    ``kind`` is 'instruments', 'norms' or 'profiles'; ``what`` names it in the error
    (e.g. 'instrument'). An unknown id raises UnknownIdError (a KeyError) listing the shipped ids.
    """
    p = Path(id_or_path)
    if p.suffix in (".yaml", ".yml") or p.exists():
        if not p.is_file():
            raise DefinitionError(str(p), "", "no such file")
        return p.resolve()
    shipped = data_dir(kind) / f"{id_or_path}.yaml"
    if shipped.is_file():
        return shipped
    known = ", ".join(sorted(q.stem for q in data_dir(kind).glob("*.yaml")))
    raise UnknownIdError(
        f"unknown {what} {str(id_or_path)!r}; shipped: {known}", what, str(id_or_path)
    )


def load_instrument(id_or_path: str | Path | Instrument) -> Instrument:
    """Load a shipped instrument by id, or any definition file by path.

    The file is read with a safe YAML loader, validated against the published
    JSON Schema and then against the cross-field rules of the model. Errors are
    :class:`~psyscreen.yamlio.DefinitionError` naming file, path and problem.

    Example:
        >>> from psyscreen import load_instrument
        >>> load_instrument("phq9").informant
        'self'
    """
    if isinstance(id_or_path, Instrument):
        return id_or_path
    path = resolve_file(id_or_path, "instruments", "instrument")
    return _load_file(str(path), path.stat().st_mtime_ns)


@functools.lru_cache(maxsize=256)
def _load_file(path: str, _mtime: int) -> Instrument:
    data, digest = read_yaml(path)
    return instrument_from_data(data, path, digest)


def instrument_from_data(
    data: object, file: str = "<data>", digest: str | None = None
) -> Instrument:
    """Validate already-parsed definition data into an :class:`Instrument`."""
    inst = validated(data, Instrument, "instrument", file, "a definition")
    inst._source = file
    inst._sha256 = digest
    return inst


def validate_file(path: str | Path) -> Instrument:
    """Validate a definition file; return the instrument or raise DefinitionError."""
    p = Path(path)
    data, digest = read_yaml(p)
    return instrument_from_data(data, str(p), digest)
