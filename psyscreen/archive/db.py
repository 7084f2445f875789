"""Opening, creating and upgrading an archive database.

An archive is any SQLAlchemy URL (``postgresql+psycopg://...``) or a path to a
SQLite file. :func:`create_archive` makes a new one (a SQLite file is created
with owner-only permissions, 0600, before SQLite opens it) and runs the Alembic
migrations shipped in ``psyscreen/archive/migrations``; :func:`open_archive`
checks the schema revision and never migrates: an older archive is refused
until :func:`upgrade_archive` (``psyscreen archive upgrade``) is run, and an
archive written by a newer psyscreen is refused.

Example:
    >>> engine_url("out/a.sqlite")
    'sqlite:///out/a.sqlite'
    >>> engine_url("postgresql+psycopg://u@h/db")
    'postgresql+psycopg://u@h/db'
"""

from __future__ import annotations

import datetime as dt
import getpass
import json
import os
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from ..errors import PsyscreenError
from . import schema as S

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


class ArchiveError(PsyscreenError, ValueError):
    """The archive cannot be used as asked; the message says what to do."""


class ArchiveVersionError(ArchiveError):
    """The archive's schema is older (needs ``upgrade``) or newer than this psyscreen."""


def engine_url(target: str | Path) -> str:
    """A SQLAlchemy URL for ``target`` (a URL as is, anything else a SQLite file path)."""
    t = str(target)
    return t if "://" in t else f"sqlite:///{t}"


def _sqlite_path(url: str) -> Path | None:
    u = sa.engine.make_url(url)
    if u.get_backend_name() != "sqlite" or not u.database or u.database == ":memory:":
        return None
    return Path(u.database)


def make_engine(target: str | Path) -> sa.Engine:
    """An engine; for SQLite: WAL journal, a 60 s busy wait, foreign-key checks."""
    url = engine_url(target)
    if url.startswith("sqlite"):
        engine = sa.create_engine(url, connect_args={"timeout": 60})

        @sa.event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _rec: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA busy_timeout=60000")
            cur.execute("PRAGMA cache_size=-262144")  # 256 MiB: index pages of a large archive
            cur.close()

        return engine
    return sa.create_engine(url, pool_pre_ping=True)


def _alembic_config(conn: sa.Connection) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = conn
    return cfg


def current_revision(conn: sa.Connection) -> str | None:
    """The Alembic revision the database is at (``None``: not an archive yet)."""
    return MigrationContext.configure(conn).get_current_revision()


def known_revisions() -> set[str]:
    """Every revision this psyscreen ships."""
    script = ScriptDirectory(str(MIGRATIONS))
    return {r.revision for r in script.walk_revisions()}


def migrate(engine: sa.Engine, to: str = "head") -> None:
    """Run the shipped migrations up to revision ``to`` in one transaction."""
    with engine.begin() as conn:
        command.upgrade(_alembic_config(conn), to)


def now() -> str:
    """The current UTC time, ISO 8601 to the second."""
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat()


def os_user() -> str:
    """The operating-system user doing a write (for the audit table)."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (containers)
        return str(os.getuid()) if hasattr(os, "getuid") else "unknown"


def audit(conn: sa.Connection, action: str, counts: dict[str, Any]) -> None:
    """Record one write, export or erasure: action, time, OS user and counts only."""
    conn.execute(
        S.audit.insert().values(
            at=now(), os_user=os_user(), action=action, counts=json.dumps(counts, sort_keys=True)
        )
    )


def create_file_0600(path: Path) -> None:
    """Create an empty file readable and writable by its owner only (fails if it exists)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.close(fd)


def create_database(
    target: str | Path, fingerprint: str, clear_ids: bool, to: str = "head"
) -> sa.Engine:
    """Create the schema (migrations up to ``to``) and the settings of a new archive."""
    url = engine_url(target)
    path = _sqlite_path(url)
    if path is not None:
        if path.exists():
            raise ArchiveError(f"{path} exists already: an archive is created only once")
        create_file_0600(path)
    engine = make_engine(url)
    with engine.connect() as conn:
        if current_revision(conn) is not None or sa.inspect(conn).has_table("meta"):
            raise ArchiveError("this database holds an archive already")
    migrate(engine, to)
    with engine.begin() as conn:
        settings = {
            "key_fingerprint": fingerprint,
            "clear_ids": "1" if clear_ids else "0",
            "created_at": now(),
            "created_by": os_user(),
        }
        conn.execute(S.meta.insert(), [{"name": k, "value": v} for k, v in settings.items()])
        audit(conn, "create", {"clear_ids": int(clear_ids)})
    return engine


def check_revision(engine: sa.Engine) -> None:
    """Refuse an archive whose schema is not the one this psyscreen reads."""
    with engine.connect() as conn:
        rev = current_revision(conn)
    if rev is None:
        raise ArchiveError(
            "not a psyscreen archive (no schema revision); create one with "
            "'psyscreen archive init' / 不是 psyscreen 档案库"
        )
    if rev == S.HEAD:
        return
    if rev in known_revisions():
        raise ArchiveVersionError(
            f"the archive's schema is at revision {rev}, this psyscreen needs {S.HEAD}: "
            "back it up, then run 'psyscreen archive upgrade' "
            f"/ 档案库结构版本 {rev} 较旧，请备份后运行 psyscreen archive upgrade"
        )
    raise ArchiveVersionError(
        f"the archive's schema revision {rev} is newer than this psyscreen knows: "
        "install a newer psyscreen; the archive was not changed "
        f"/ 档案库结构版本 {rev} 比本程序新，请升级 psyscreen"
    )


def upgrade_database(target: str | Path) -> tuple[str | None, str]:
    """Migrate an older archive to this psyscreen's schema; return (from, to)."""
    engine = make_engine(target)
    with engine.connect() as conn:
        rev = current_revision(conn)
    if rev is None:
        raise ArchiveError("not a psyscreen archive (no schema revision)")
    if rev not in known_revisions():
        check_revision(engine)
    if rev != S.HEAD:
        migrate(engine)
        with engine.begin() as conn:
            audit(conn, "upgrade", {"from": rev, "to": S.HEAD})
    engine.dispose()
    return rev, S.HEAD


def settings(conn: sa.Connection) -> dict[str, str]:
    """The archive's settings (``meta`` table)."""
    return {r.name: r.value for r in conn.execute(sa.select(S.meta))}
