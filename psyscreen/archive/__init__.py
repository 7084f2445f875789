"""一人一档: an archive per child of screenings and follow-up (needs ``psyscreen[archive]``).

See ``docs/archive.md``. The public API:

* :func:`create_archive`, :func:`open_archive` -> :class:`Archive`
  (``add_results``, ``record_event``, ``add_events``, ``history``, ``due``,
  ``cohort``, ``export_bundle``, ``import_bundle``, ``forget``);
* :func:`upgrade_archive` migrates an older archive's schema (never done silently);
* :func:`reliable_change` (Jacobson & Truax 1991).
"""

from __future__ import annotations

from .change import reliable_change
from .core import Archive, create_archive, open_archive
from .db import ArchiveError, ArchiveVersionError
from .db import upgrade_database as upgrade_archive

__all__ = [
    "Archive",
    "ArchiveError",
    "ArchiveVersionError",
    "create_archive",
    "open_archive",
    "reliable_change",
    "upgrade_archive",
]
