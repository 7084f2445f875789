"""一人一档: an archive per child of screenings and follow-up (needs ``psyscreen[archive]``).

See ``docs/archive.md``. The public API:

* :func:`create_archive`, :func:`open_archive` -> :class:`Archive`
  (``add_results``, ``record_event``, ``add_events``, ``history``, ``due``,
  ``cohort``, ``export_bundle``, ``import_bundle``, ``forget``);
* :func:`upgrade_archive` migrates an older archive's schema (never done silently);
* :func:`reliable_change` (Jacobson & Truax 1991).
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .change import reliable_change
    from .core import Archive, create_archive, open_archive
    from .db import ArchiveError, ArchiveVersionError
    from .db import upgrade_database as upgrade_archive

# SQLAlchemy and Alembic take ~0.6 s to import: the CLI registers the archive
# sub-commands on every run, so the API is imported when first used, not here
_LAZY = {
    "reliable_change": ("change", "reliable_change"),
    "Archive": ("core", "Archive"),
    "create_archive": ("core", "create_archive"),
    "open_archive": ("core", "open_archive"),
    "ArchiveError": ("db", "ArchiveError"),
    "ArchiveVersionError": ("db", "ArchiveVersionError"),
    "upgrade_archive": ("db", "upgrade_database"),
}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module, attr = _LAZY[name]
    value = getattr(import_module(f"{__name__}.{module}"), attr)
    globals()[name] = value
    return value


__all__ = [
    "Archive",
    "ArchiveError",
    "ArchiveVersionError",
    "create_archive",
    "open_archive",
    "reliable_change",
    "upgrade_archive",
]
