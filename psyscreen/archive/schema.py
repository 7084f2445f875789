"""The archive's tables (SQLAlchemy Core) and its schema revision.

The tables here describe the newest schema; the Alembic migrations in
``psyscreen/archive/migrations/versions`` build them step by step and are the
only way a database's schema changes (:mod:`psyscreen.archive.db`).

Dates are stored as ISO text (``YYYY-MM-DD``) so that SQLite and PostgreSQL
compare and sort them the same way; scores are one JSON text per screening
(``{instrument}.{scale}.{field}`` -> value, the flat result columns).

Example:
    >>> sorted(t for t in metadata.tables)[:3]
    ['audit', 'children', 'events']
    >>> HEAD
    '0003'
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Float,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
)

#: the Alembic revision this code reads and writes
HEAD = "0003"

metadata = MetaData()

#: archive settings: key fingerprint, whether clear ids are kept, creation time and user
meta = Table(
    "meta",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

#: one row per child: the keyed hash of the id; clear id and name only if the archive keeps them
children = Table(
    "children",
    metadata,
    Column("child_key", String(32), primary_key=True),
    Column("clear_id", Text),
    Column("name", Text),
)

#: one row per screening (one results row); keyed by the hash of its source file and row
screenings = Table(
    "screenings",
    metadata,
    Column("screening_key", String(40), primary_key=True),
    Column("child_key", String(32), nullable=False),
    Column("source_sha256", String(64), nullable=False),
    Column("source_row", Integer, nullable=False),
    Column("assessment_date", String(10), nullable=False),
    Column("school", Text),
    Column("grade", Text),
    Column("class_name", Text),
    Column("sex", Text),
    Column("age", Float),
    Column("profile", Text),
    Column("profile_sha256", String(64)),
    Column("risk_status", Text),
    Column("level_code", Text),
    Column("level", Float),
    Column("needs_confirmation", Boolean),
    Column("referral", Boolean),
    Column("retest_days", Float),
    Column("contact_days", Float),
    Column("visit_days", Float),
    Column("rules", Text),
    Column("reasons", Text),
    Column("reasons_zh", Text),
    Column("flags", Text),
    Column("layout", String(16)),
    Column("scores", LargeBinary),
    Column("import_id", Integer),
    Index("ix_screenings_child", "child_key", "assessment_date"),
    Index("ix_screenings_school", "school"),
)

#: follow-up events; keyed by a hash of their content so the same event twice is one event
events = Table(
    "events",
    metadata,
    Column("event_key", String(40), primary_key=True),
    Column("child_key", String(32), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("on_date", String(10), nullable=False),
    Column("outcome", String(32)),
    Column("level_code", Text),
    Column("note", Text),
    Column("import_id", Integer),
    Index("ix_events_child", "child_key", "on_date"),
)

#: a profile's levels and follow-up intervals, for a confirmed level that differs from the screen
profile_levels = Table(
    "profile_levels",
    metadata,
    Column("profile", String(200), primary_key=True),
    Column("level_code", String(64), primary_key=True),
    Column("level", Float),
    Column("zh", Text),
    Column("en", Text),
    Column("retest_days", Float),
    Column("contact_days", Float),
    Column("visit_days", Float),
    Column("needs_confirmation", Boolean),
    Column("referral", Boolean),
)

#: score layouts: the column names behind the short keys of ``screenings.scores`` and the
#: versions and hashes of the profile, instruments and norm tables that scored them
layouts = Table(
    "layouts",
    metadata,
    Column("layout", String(16), primary_key=True),
    Column("columns", Text, nullable=False),
    Column("provenance", Text, nullable=False),
)

#: one row per import: counts in / stored / already present / skipped by reason
imports = Table(
    "imports",
    metadata,
    Column("import_id", Integer, primary_key=True, autoincrement=True),
    Column("at", String(32), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("source", Text),
    Column("source_sha256", String(64)),
    Column("rows_in", Integer, nullable=False),
    Column("stored", Integer, nullable=False),
    Column("already", Integer, nullable=False),
    Column("skipped", Text, nullable=False),
)

#: every write, export and erasure: what, when, which OS user, counts (never a child's data)
audit = Table(
    "audit",
    metadata,
    Column("audit_id", Integer, primary_key=True, autoincrement=True),
    Column("at", String(32), nullable=False),
    Column("os_user", Text, nullable=False),
    Column("action", String(32), nullable=False),
    Column("counts", Text, nullable=False),
)

#: children erased on request: their keyed hash, so an old file added again stays erased
forgotten = Table(
    "forgotten",
    metadata,
    Column("child_key", String(32), primary_key=True),
    Column("at", String(32), nullable=False),
)

#: tables whose content is the archive (the logs are not compared by the property tests)
CONTENT_TABLES = (
    "children", "screenings", "events", "profile_levels", "layouts", "forgotten"
)
