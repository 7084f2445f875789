"""Finding, loading, validating and saving norm tables.

Shipped tables live in ``norms/`` of the source tree (``psyscreen/_data/norms``
when installed), one YAML file per table named ``<id>.yaml``. Any table file
can be loaded by path. Loading reads the file with the safe YAML loader,
checks it against the published JSON Schema
(``psyscreen/schemas/norm_table.schema.json``), then against the model's
rules (strata, lookups, quantiles) and finally against its instrument
(version, scales, coverage of every possible raw score). Every problem is a
:class:`~psyscreen.yamlio.DefinitionError` naming file, path (``rows[3]``)
and problem.

Example:
    >>> from psyscreen import list_norms, load_norms
    >>> "sdq_p_cn_du2008" in list_norms()
    True
    >>> load_norms("sdq_p_cn_du2008").form
    'bands'
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from ..definitions import Instrument
from ..loader import DEFAULT_LIBRARY, Kind
from ..registry import load_instrument
from ..yamlio import DefinitionError
from .models import NormTable, TableError, check_instrument

NormLike = str | Path | NormTable


#: norm tables: ``norms/*.yaml``, schema ``norm_table``
NORM_TABLE: Kind[NormTable] = Kind("norm table", NormTable, "norm_table", "a norm table", "norms")


def list_norms(instrument: str | None = None) -> list[str]:
    """Ids of the shipped norm tables (of one instrument if given), sorted.

    Example:
        >>> from psyscreen import list_norms
        >>> list_norms("scared_c")
        ['scared_c_cn_12city2008']
    """
    ids = DEFAULT_LIBRARY.ids(NORM_TABLE)
    if instrument is None:
        return ids
    return [i for i in ids if _read_shipped(i).instrument == instrument]


def read_table(id_or_path: NormLike) -> NormTable:
    """Load and check a table *without* checking it against its instrument.

    Example:
        >>> read_table("sdq_p_cn_du2008").instrument
        'sdq_p'
    """
    if isinstance(id_or_path, NormTable):
        return id_or_path
    return DEFAULT_LIBRARY.load(NORM_TABLE, id_or_path)


def _read_shipped(table_id: str) -> NormTable:
    return DEFAULT_LIBRARY.load(NORM_TABLE, table_id)


def table_from_data(data: Any, file: str = "<data>", digest: str | None = None) -> NormTable:
    """Validate parsed YAML data into a :class:`NormTable` (schema, then model rules)."""
    return DEFAULT_LIBRARY.from_data(NORM_TABLE, data, file, digest)


def checked(table: NormTable, inst: Instrument) -> NormTable:
    """Check ``table`` against ``inst``; raise DefinitionError naming file, path, problem."""
    try:
        check_instrument(table, inst)
    except TableError as e:
        raise DefinitionError(table.source_path or f"<{table.id}>", e.path, e.problem) from None
    return table


def load_norms(
    id_or_path: NormLike, instrument: str | Path | Instrument | None = None
) -> NormTable:
    """Load a shipped norm table by id, or any table file by path, fully checked.

    ``instrument`` is the definition to check the table against; by default the
    shipped instrument named in the table.

    Example:
        >>> from psyscreen import load_norms
        >>> t = load_norms("scared_c_cn_12city2008")
        >>> t.ref, t.form, t.covers.sex
        ('scared_c_cn_12city2008@1', 'mean_sd', ['female', 'male'])
    """
    table = read_table(id_or_path)
    try:
        inst = load_instrument(instrument if instrument is not None else table.instrument)
    except KeyError:
        raise DefinitionError(
            table.source_path or f"<{table.id}>",
            "instrument",
            f"instrument {table.instrument!r} is not shipped; pass instrument= (a definition "
            "file or Instrument) to check the table against",
        ) from None
    return checked(table, inst)


class _Dumper(yaml.SafeDumper):
    """Block style, but small mappings of scalars on one line (``age: {ge: 8, lt: 10}``)."""


def _represent_dict(dumper: yaml.SafeDumper, data: dict) -> yaml.Node:
    flow = len(data) <= 8 and all(not isinstance(v, (dict, list)) for v in data.values())
    return dumper.represent_mapping("tag:yaml.org,2002:map", data.items(), flow_style=flow)


_Dumper.add_representer(dict, _represent_dict)


def table_yaml(table: NormTable) -> str:
    """The table as YAML text (the format of the files in ``norms/``).

    Example:
        >>> from psyscreen import load_norms
        >>> text = table_yaml(load_norms("scared_c_cn_12city2008"))
        >>> text.splitlines()[0]
        'id: scared_c_cn_12city2008'
    """
    data = table.model_dump(mode="json", exclude_none=True, exclude_defaults=True, by_alias=True)
    # keep the required fields that equal their defaults
    for key in ("id", "version", "form", "rows"):
        data.setdefault(key, getattr(table, key))
    order = list(NormTable.model_fields)
    data = {k: data[k] for k in order if k in data}
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)


def save_norms(table: NormTable, path: str | Path) -> Path:
    """Write ``table`` to ``path`` as YAML; :func:`load_norms` reads it back unchanged.

    Example:
        >>> import tempfile, pathlib
        >>> from psyscreen import load_norms
        >>> from psyscreen.norms import save_norms
        >>> t = load_norms("scared_c_cn_12city2008")
        >>> p = save_norms(t, pathlib.Path(tempfile.mkdtemp()) / "copy.yaml")
        >>> load_norms(p).model_dump() == t.model_dump()
        True
    """
    p = Path(path)
    p.write_text(table_yaml(table), encoding="utf-8")
    return p
