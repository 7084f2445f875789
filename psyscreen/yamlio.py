"""Safe YAML reading and definition errors that name file, path and problem.

Every definition file in psyscreen (instruments, norm tables, risk profiles)
is read with :func:`read_yaml`, which uses PyYAML's ``SafeLoader`` (libyaml's
``CSafeLoader`` when available; no Python objects, no code execution) and
rejects duplicate keys, which plain YAML loaders silently overwrite.

Example:
    >>> from psyscreen.yamlio import parse_yaml
    >>> parse_yaml("a: 1\\nb: [x, y]\\n")
    {'a': 1, 'b': ['x', 'y']}
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

from .errors import DefinitionError

#: libyaml's parser when PyYAML has it (same safe constructor, about 10x faster)
_SafeBase = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _UniqueKeyLoader(_SafeBase):  # type: ignore[misc, valid-type]
    """SafeLoader (libyaml's when available) that refuses duplicate mapping keys."""


def _construct_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode, deep: bool = False):
    loader.flatten_mapping(node)
    mapping: dict[Any, Any] = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in mapping:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark
            )
        mapping[key] = loader.construct_object(value_node, deep=deep)
    return mapping


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def parse_yaml(text: str | bytes, file: str = "<string>") -> Any:
    """Parse YAML text safely; syntax errors become :class:`DefinitionError`."""
    try:
        return yaml.load(text, Loader=_UniqueKeyLoader)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(e, "problem", None) or str(e)
        raise DefinitionError(file, where, f"invalid YAML: {problem}") from None


def read_yaml(path: str | Path) -> tuple[Any, str]:
    """Read a YAML file safely. Returns (data, sha256 of the file bytes)."""
    p = Path(path)
    try:
        raw = p.read_bytes()
    except OSError as e:
        raise DefinitionError(str(p), "", f"cannot read file: {e.strerror}") from None
    return parse_yaml(raw, str(p)), hashlib.sha256(raw).hexdigest()


def format_path(parts: Iterable[Any]) -> str:
    """Render a JSON/pydantic location as ``a.b[0].c``."""
    out = ""
    for p in parts:
        if isinstance(p, int):
            out += f"[{p}]"
        else:
            out += ("." if out else "") + str(p)
    return out


def validate_json_schema(data: Any, schema: dict, file: str) -> None:
    """Validate ``data`` against ``schema``; raise DefinitionError for the first error."""
    import jsonschema

    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(data), key=lambda e: (len(e.absolute_path), e.message))
    if errors:
        best = jsonschema.exceptions.best_match(errors)
        raise DefinitionError(file, format_path(best.absolute_path), best.message)


def pydantic_error(e: Any, file: str) -> DefinitionError:
    """Turn a pydantic ValidationError into a DefinitionError (first error)."""
    err = e.errors()[0]
    msg = err["msg"]
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, ") :]
    return DefinitionError(file, format_path(err["loc"]), msg)
