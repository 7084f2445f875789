"""The :class:`Archive` handle: one database, one key; the methods of the public API.

Example:
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> a = create_archive(d / "a.sqlite", key=b"0123456789abcdef")
    >>> a.add_results(pd.DataFrame({"id": ["S1"], "assessment_date": ["2024-10-08"],
    ...                             "risk.level_code": ["normal"]})).stored
    1
    >>> len(a.history("S1").screenings), a.history("S2").screenings.empty
    (1, True)
    >>> a.forget("S1")["screenings"]
    1
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import sqlalchemy as sa

from . import db
from . import schema as S
from .keys import KEY_ENV, ArchiveKey, archive_key


def _key(key: bytes | ArchiveKey | None, key_file: str | Path | None) -> ArchiveKey:
    if isinstance(key, ArchiveKey):
        return key
    if key is not None:
        return ArchiveKey(key)
    return archive_key(key_file, env=KEY_ENV)


class Archive:
    """An opened archive. Use :func:`open_archive` / :func:`create_archive`."""

    def __init__(self, engine: sa.Engine, key: ArchiveKey):
        self.engine = engine
        self.key = key
        with engine.connect() as conn:
            self.settings = db.settings(conn)
        if self.settings.get("key_fingerprint") != key.fingerprint:
            raise db.ArchiveError(
                "this key is not the archive's key (fingerprints differ) "
                "/ 密钥与档案库不符"
            )
        self.clear_ids = self.settings.get("clear_ids") == "1"

    def __repr__(self) -> str:
        return f"Archive({self.engine.url.render_as_string(hide_password=True)!r})"

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self.engine.dialect.name

    def close(self) -> None:
        """Release the connections."""
        self.engine.dispose()

    def __enter__(self) -> Archive:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def child_key(self, clear_id: str) -> str:
        """The keyed hash the archive files a child under."""
        return self.key.child_key(clear_id)

    # -- writing -------------------------------------------------------------
    def add_results(self, results: Any, **kw: Any):
        """Add a results DataFrame or file; see :func:`psyscreen.archive.store.add_results`."""
        from .store import add_results

        return add_results(self, results, **kw)

    def record_event(self, clear_id: str, kind: str, on: Any, **kw: Any):
        """Record one follow-up event; see :func:`psyscreen.archive.events.record_event`."""
        from .events import record_event

        return record_event(self, clear_id, kind, on, **kw)

    def add_events(self, events: Any, **kw: Any):
        """Add follow-up events in bulk; see :func:`psyscreen.archive.events.add_events`."""
        from .events import add_events

        return add_events(self, events, **kw)

    def forget(self, clear_id: str) -> dict[str, int]:
        """Erase a child's screenings, events and identity; keep a tombstone of the hash.

        The audit table records the erasure and its counts, not the child.
        """
        ck = self.child_key(clear_id)
        with self.engine.begin() as conn:
            counts = {}
            for name, table in (
                ("screenings", S.screenings),
                ("events", S.events),
                ("children", S.children),
            ):
                counts[name] = conn.execute(table.delete().where(table.c.child_key == ck)).rowcount
            done = conn.execute(
                sa.select(sa.func.count()).select_from(S.forgotten).where(
                    S.forgotten.c.child_key == ck
                )
            ).scalar_one()
            if not done:
                conn.execute(S.forgotten.insert().values(child_key=ck, at=db.now()))
            db.audit(conn, "forget", counts)
        return counts

    # -- reading -------------------------------------------------------------
    def history(self, clear_id: str | None = None, *, child_key: str | None = None):
        """A child's screenings, events and changes; see :mod:`psyscreen.archive.history`."""
        from .history import history

        return history(self, child_key or self.child_key(str(clear_id)))

    def due(self, on: Any, **kw: Any) -> pd.DataFrame:
        """The due list (预警台账) on a date; see :func:`psyscreen.archive.due.due_list`."""
        from .due import due_list

        return due_list(self, on, **kw)

    def cohort(self, from_year: int, to_year: int, **kw: Any) -> pd.DataFrame:
        """Level transitions between two school years; see :mod:`psyscreen.archive.cohort`."""
        from .cohort import transitions

        return transitions(self, from_year, to_year, **kw)

    def export_bundle(self, path: str | Path, **kw: Any) -> dict[str, int]:
        """Write a signed transfer bundle; see :func:`psyscreen.archive.bundle.export_bundle`."""
        from .bundle import export_bundle

        return export_bundle(self, path, **kw)

    def import_bundle(self, path: str | Path, **kw: Any):
        """Verify and merge a bundle; see :func:`psyscreen.archive.bundle.import_bundle`."""
        from .bundle import import_bundle

        return import_bundle(self, path, **kw)

    def import_log(self) -> pd.DataFrame:
        """The import log: one row per import with its counts."""
        with self.engine.connect() as conn:
            return pd.read_sql(sa.select(S.imports).order_by(S.imports.c.import_id), conn)

    def audit_log(self) -> pd.DataFrame:
        """The audit table: what, when, which OS user, counts."""
        with self.engine.connect() as conn:
            return pd.read_sql(sa.select(S.audit).order_by(S.audit.c.audit_id), conn)

    def content(self) -> dict[str, list[tuple]]:
        """Every content table as sorted tuples (logs and import ids left out).

        Two archives with the same content hold the same children, screenings
        and events, whatever order they were added in.
        """
        out = {}
        with self.engine.connect() as conn:
            for name in S.CONTENT_TABLES:
                t = S.metadata.tables[name]
                cols = [c for c in t.c if c.name not in ("import_id", "at")]
                rows = conn.execute(sa.select(*cols)).all()
                out[name] = sorted(tuple(r) for r in rows)
        return out


def open_archive(
    target: str | Path, *, key: bytes | ArchiveKey | None = None, key_file: str | Path | None = None
) -> Archive:
    """Open an existing archive (SQLite path or SQLAlchemy URL); never migrates.

    The key comes from ``key`` / ``key_file`` or the environment variable
    ``PSYSCREEN_ARCHIVE_KEY`` and must be the one the archive was created with.
    """
    url = db.engine_url(target)
    path = db._sqlite_path(url)
    if path is not None and not path.exists():
        raise db.ArchiveError(
            f"no archive at {path}: create it with 'psyscreen archive init' / 档案库不存在"
        )
    k = _key(key, key_file)
    engine = db.make_engine(url)
    try:
        db.check_revision(engine)
        return Archive(engine, k)
    except Exception:
        engine.dispose()
        raise


def create_archive(
    target: str | Path,
    *,
    key: bytes | ArchiveKey | None = None,
    key_file: str | Path | None = None,
    clear_ids: bool = False,
) -> Archive:
    """Create a new archive keyed by ``key``; ``clear_ids=True`` also keeps ids and names."""
    k = _key(key, key_file)
    engine = db.create_database(target, k.fingerprint, clear_ids)
    return Archive(engine, k)
