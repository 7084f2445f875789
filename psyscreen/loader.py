"""One loader for every kind of definition: instruments, norm tables, risk profiles, mappings.

Each kind is described once by a :class:`Kind` (its pydantic model, its published JSON
Schema, the folder of its shipped files); a :class:`Library` reads any of them the same
way: bounded safe YAML (:func:`psyscreen.yamlio.read_yaml`), then the JSON Schema, then
the model's own rules, and every problem found at a stage is reported at once as one
:class:`~psyscreen.errors.DefinitionError`, each with its path (``scales[2].bands[0]``).

The library owns its cache (files by path and modification time, the parsed schemas);
there is no module-level cache. :data:`DEFAULT_LIBRARY` serves ``load_instrument``,
``load_norms``, ``load_profile`` and ``load_mapping``; a :class:`Library` of your own
gives an isolated cache (e.g. per run) and :meth:`Library.clear` empties it.

Example:
    >>> from psyscreen.registry import INSTRUMENT
    >>> lib = Library()
    >>> lib.load(INSTRUMENT, "gad7") is lib.load(INSTRUMENT, "gad7")
    True
    >>> lib.load(INSTRUMENT, "gad8")
    Traceback (most recent call last):
    ...
    psyscreen.errors.UnknownIdError: unknown instrument 'gad8' (did you mean 'gad7'?); shipped: ...
"""

from __future__ import annotations

import difflib
import json
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ValidationError

from .definitions import SourcedModel
from .errors import DefinitionError, UnknownIdError
from .yamlio import definition_error, read_yaml, validate_json_schema

__all__ = ["DEFAULT_LIBRARY", "Kind", "Library", "data_dir"]

_PKG = Path(__file__).resolve().parent
M = TypeVar("M", bound=BaseModel)


def data_dir(folder: str) -> Path:
    """Directory of shipped ``folder`` files ('instruments', 'norms' or 'profiles').

    Installed wheels carry them in ``psyscreen/_data/<folder>``; a source checkout
    (editable install, running from the repository) has them at the top level.

    Example:
        >>> (data_dir("instruments") / "phq9.yaml").is_file()
        True
    """
    installed = Path(str(resources.files("psyscreen"))) / "_data" / folder
    if installed.is_dir():
        return installed
    return _PKG.parent / folder


@dataclass(frozen=True)
class Kind(Generic[M]):
    """One kind of definition file and how to build it.

    ``name`` names it in messages ('instrument'); ``schema`` is the published schema
    (``psyscreen/schemas/<schema>.schema.json``); ``folder`` the shipped files (None:
    nothing shipped, paths only); ``prepare`` adjusts parsed data before validation;
    a ``SourcedModel`` gets its file and hash; ``finish`` completes a validated model
    (checks across files) and may
    raise :class:`DefinitionError`; ``cached`` whether loaded files are kept; ``what``
    names a whole file in messages ('a norm table').
    """

    name: str
    model: type[M]
    schema: str
    what: str
    folder: str | None = None
    prepare: Callable[[dict[str, Any]], dict[str, Any]] | None = None
    finish: Callable[[M, str, str | None], M] | None = None
    cached: bool = True


class Library:
    """Loads definitions of every :class:`Kind` and keeps what it loaded.

    ``cache_size`` bounds the files kept (least recently used go first). A file is
    read again when its modification time changes.

    Example:
        >>> from psyscreen.registry import INSTRUMENT
        >>> lib = Library()
        >>> lib.ids(INSTRUMENT)[:2]  # doctest: +SKIP
        ['asq', 'cdi2_sr']
        >>> lib.load(INSTRUMENT, "phq9").id
        'phq9'
    """

    def __init__(self, cache_size: int = 512) -> None:
        self.cache_size = cache_size
        self._files: OrderedDict[tuple[str, str, int], Any] = OrderedDict()
        self._schemas: dict[str, dict[str, Any]] = {}
        # the batch pipeline loads from several threads; reading a file happens outside it
        self._lock = threading.Lock()

    def clear(self) -> None:
        """Forget every loaded file and schema."""
        with self._lock:
            self._files.clear()
            self._schemas.clear()

    def schema(self, name: str) -> dict[str, Any]:
        """A published JSON Schema shipped in ``psyscreen/schemas`` (e.g. 'instrument')."""
        with self._lock:
            found = self._schemas.get(name)
        if found is None:
            found = json.loads((_PKG / "schemas" / f"{name}.schema.json").read_text("utf-8"))
            with self._lock:
                found = self._schemas.setdefault(name, found)
        return found

    def ids(self, kind: Kind[Any]) -> list[str]:
        """Ids of the shipped files of ``kind``, sorted."""
        if kind.folder is None:
            return []
        return sorted(p.stem for p in data_dir(kind.folder).glob("*.yaml"))

    def resolve(self, kind: Kind[Any], id_or_path: str | Path) -> Path:
        """The file of a definition given by path, or by id of a shipped file.

        An unknown id raises :class:`UnknownIdError` (a ``KeyError``) naming the
        closest shipped ids and listing them all.
        """
        p = Path(id_or_path)
        if kind.folder is None or p.suffix in (".yaml", ".yml") or p.exists():
            if not p.is_file():
                raise DefinitionError(str(p), "", "no such file")
            return p.resolve()
        shipped = data_dir(kind.folder) / f"{id_or_path}.yaml"
        if shipped.is_file():
            return shipped
        known = self.ids(kind)
        close = difflib.get_close_matches(str(id_or_path), known, n=3)
        hint = f" (did you mean {' or '.join(repr(c) for c in close)}?)" if close else ""
        raise UnknownIdError(
            f"unknown {kind.name} {str(id_or_path)!r}{hint}; shipped: {', '.join(known)}",
            kind.name,
            str(id_or_path),
        )

    def load(self, kind: Kind[M], id_or_path: str | Path) -> M:
        """Load a shipped definition by id, or any file of ``kind`` by path."""
        path = self.resolve(kind, id_or_path)
        if not kind.cached:
            return self.read(kind, path)
        key = (kind.name, str(path), path.stat().st_mtime_ns)
        with self._lock:
            hit: M | None = self._files.get(key)
            if hit is not None:
                self._files.move_to_end(key)
                return hit
        out = self.read(kind, path)
        with self._lock:
            out = self._files.setdefault(key, out)  # a thread that read it first wins
            while len(self._files) > self.cache_size:
                self._files.popitem(last=False)
        return out

    def read(self, kind: Kind[M], path: str | Path) -> M:
        """Read and validate one file (not cached)."""
        data, digest = read_yaml(path)
        return self.from_data(kind, data, str(path), digest)

    def from_data(
        self, kind: Kind[M], data: object, file: str = "<data>", digest: str | None = None
    ) -> M:
        """Validate already-parsed data: JSON Schema, then the model, then ``kind.finish``.

        Every problem of the failing stage is reported in one :class:`DefinitionError`.
        """
        if not isinstance(data, dict):
            raise DefinitionError(file, "", f"{kind.what} must be a YAML mapping")
        if kind.prepare is not None:
            data = kind.prepare(data)
        validate_json_schema(data, self.schema(kind.schema), file)
        try:
            out = kind.model.model_validate(data)
        except ValidationError as e:
            raise definition_error(e, file) from None
        if isinstance(out, SourcedModel):
            out._source, out._sha256 = file, digest
        return out if kind.finish is None else kind.finish(out, file, digest)


#: the library behind ``load_instrument``, ``load_norms``, ``load_profile`` and ``load_mapping``
DEFAULT_LIBRARY = Library()
