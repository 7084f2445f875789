"""Safe YAML reading and definition errors that name file, path and problem.

Every definition file in psyscreen (instruments, norm tables, risk profiles)
is read with :func:`read_yaml`, which uses PyYAML's ``SafeLoader`` (libyaml's
``CSafeLoader`` when available; no Python objects, no code execution) and
rejects duplicate keys, which plain YAML loaders silently overwrite.

Reading is bounded, so that a hostile or broken file costs little: a file over
:data:`MAX_YAML_BYTES` is refused unread, and the composed document is measured
before any Python object is built: more than :data:`MAX_ALIAS_NODES` nodes added
by aliases (a "billion laughs" file of a few hundred bytes would expand to
billions), a recursive alias, or nesting deeper than :data:`MAX_YAML_DEPTH` is
refused. Aliases stay allowed within those bounds.

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

from .errors import DefinitionError, DefinitionProblems, TableError

#: definition files larger than this are refused unread (the largest shipped is ~15 KB)
MAX_YAML_BYTES = 8 << 20
#: nodes that aliases may add when expanded (each alias counts its whole subtree)
MAX_ALIAS_NODES = 100_000
#: deepest nesting of mappings and lists
MAX_YAML_DEPTH = 200


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
    """Parse YAML text safely; syntax errors and unbounded documents become
    :class:`DefinitionError` (see the module docstring for the bounds).

    Example:
        >>> parse_yaml("a: &x [1, 2]\\nb: *x\\n")
        {'a': [1, 2], 'b': [1, 2]}
        >>> parse_yaml("a: &a [*a]")
        Traceback (most recent call last):
        ...
        psyscreen.errors.DefinitionError: <string>: line 1, column 4: recursive YAML alias
    """
    if len(text) > MAX_YAML_BYTES:
        raise DefinitionError(file, "", _too_large(len(text)))
    try:
        loader = _UniqueKeyLoader(text)
        try:
            node = loader.get_single_node()
            if node is None:
                return None
            _check_bounds(node, file)
            return loader.construct_document(node)
        finally:
            loader.dispose()
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(e, "problem", None) or str(e)
        raise DefinitionError(file, where, f"invalid YAML: {problem}") from None


def read_yaml(path: str | Path) -> tuple[Any, str]:
    """Read a YAML file safely. Returns (data, sha256 of the file bytes)."""
    p = Path(path)
    try:
        with open(p, "rb") as f:
            raw = f.read(MAX_YAML_BYTES + 1)  # never more than the bound into memory
    except OSError as e:
        raise DefinitionError(str(p), "", f"cannot read file: {e.strerror}") from None
    return parse_yaml(raw, str(p)), hashlib.sha256(raw).hexdigest()


def _too_large(n: int) -> str:
    return (
        f"文件过大 / the file is too large (over {MAX_YAML_BYTES // (1 << 20)} MiB; "
        "a definition or mapping file is a few KB): check that this is the right file"
    )


def _check_bounds(root: yaml.Node, file: str) -> None:
    """Refuse a composed document whose aliases expand too far, recursive aliases and
    deep nesting; one pass over the distinct nodes (aliases are shared nodes)."""
    sizes: dict[int, int] = {}  # id(node) -> nodes in its expanded subtree
    on_path: set[int] = set()
    stack: list[tuple[yaml.Node, int, bool]] = [(root, 0, False)]
    limit = MAX_ALIAS_NODES
    while stack:
        node, depth, done = stack.pop()
        key = id(node)
        kids = _children(node)
        if done:
            on_path.discard(key)
            sizes[key] = 1 + sum(sizes[id(k)] for k in kids)
            if sizes[key] - len(sizes) > limit:
                raise DefinitionError(file, _where(node), _bomb())
            continue
        if key in sizes:
            continue
        if key in on_path:
            raise DefinitionError(file, _where(node), "recursive YAML alias")
        if depth > MAX_YAML_DEPTH:
            raise DefinitionError(file, _where(node), f"nested deeper than {MAX_YAML_DEPTH} levels")
        on_path.add(key)
        stack.append((node, depth, True))
        stack.extend((k, depth + 1, False) for k in kids if id(k) not in sizes)


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def _where(node: yaml.Node) -> str:
    m = node.start_mark
    return f"line {m.line + 1}, column {m.column + 1}" if m is not None else ""


def _bomb() -> str:
    return (
        f"YAML 别名展开过大 / YAML aliases expand to more than {MAX_ALIAS_NODES:,} nodes "
        "(an alias 'bomb'?): write the content out, or use fewer aliases"
    )


def format_path(parts: Iterable[Any]) -> str:
    """Render a JSON/pydantic location as ``a.b[0].c``.

    Example:
        >>> format_path(["scales", 2, "bands", 0])
        'scales[2].bands[0]'
    """
    out = ""
    for p in parts:
        if isinstance(p, int):
            out += f"[{p}]"
        else:
            out += ("." if out else "") + str(p)
    return out


def join_path(outer: str, inner: str) -> str:
    """A path inside a model (``inner``) placed under the model's own location (``outer``).

    Example:
        >>> join_path("scales[2]", "bands[0]"), join_path("rows", "[3]"), join_path("", "id")
        ('scales[2].bands[0]', 'rows[3]', 'id')
    """
    if not outer or not inner:
        return outer or inner
    return outer + inner if inner.startswith("[") else f"{outer}.{inner}"


def validate_json_schema(data: Any, schema: dict, file: str) -> None:
    """Validate ``data`` against ``schema``; raise one DefinitionError listing every error.

    The most relevant error (jsonschema's ``best_match``) comes first; each other
    independent error follows with its own path.
    """
    import jsonschema

    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(data), key=lambda e: (len(e.absolute_path), e.message))
    if not errors:
        return
    best = jsonschema.exceptions.best_match(errors)
    found = [(format_path(best.absolute_path), best.message)]
    for e in errors:
        pick = jsonschema.exceptions.best_match([e])
        if (
            pick is not None
            and (where := (format_path(pick.absolute_path), pick.message)) not in found
        ):
            found.append(where)
    raise DefinitionError(file, *found[0], found[1:])


def definition_error(e: Any, file: str) -> DefinitionError:
    """One DefinitionError listing every error of a pydantic ``ValidationError``, each
    at its full path: a cross-field check's own paths (:class:`DefinitionProblems`,
    :class:`TableError`) are placed under the location of the model that raised them.

    Example:
        >>> from pydantic import ValidationError
        >>> from psyscreen.definitions import Interval
        >>> try:
        ...     Interval.model_validate({"ge": 1, "gt": 2})
        ... except ValidationError as err:
        ...     print(definition_error(err, "x.yaml"))
        x.yaml: interval: give 'ge' or 'gt', not both
    """
    found: list[tuple[str, str]] = []
    for err in e.errors():
        loc = format_path(err["loc"])
        cause = (err.get("ctx") or {}).get("error")
        if isinstance(cause, DefinitionProblems):
            found += [(join_path(loc, p), q) for p, q in cause.problems]
        elif isinstance(cause, TableError):
            found.append((join_path(loc, cause.path), cause.problem))
        else:
            found.append((loc, str(err["msg"]).removeprefix("Value error, ")))
    return DefinitionError(file, *found[0], found[1:])
