"""The Alembic migrations build exactly the tables of ``psyscreen.archive.schema``.

The migrations are the only way a database's schema changes, and ``schema.py`` is what
the code reads and writes; the two are kept by hand (a migration must stay frozen once
released, so it cannot be generated from the current tables), and this test is what
keeps them equal: upgrading an empty database to head gives no difference from
``schema.metadata`` (tables, columns, types, nullability, indexes), on SQLite here and on
PostgreSQL in ``tests/test_archive_pg.py``.
"""

from __future__ import annotations

import pytest

pytest.importorskip("sqlalchemy")
pytest.importorskip("alembic")

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from psyscreen.archive import db as adb
from psyscreen.archive import schema as S


def schema_differences(engine: sa.Engine) -> list:
    """Alembic's autogenerate diff between a migrated database and ``schema.metadata``."""
    with engine.connect() as conn:
        ctx = MigrationContext.configure(
            conn, opts={"compare_type": True, "compare_server_default": True}
        )
        diff = compare_metadata(ctx, S.metadata)
    # alembic's own bookkeeping table is not part of the archive's schema
    return [d for d in diff if not (d[0] == "remove_table" and d[1].name == "alembic_version")]


def test_upgrading_an_empty_database_gives_exactly_the_schema(tmp_path):
    engine = adb.make_engine(tmp_path / "a.sqlite")
    try:
        adb.migrate(engine)
        assert schema_differences(engine) == []
        with engine.connect() as conn:
            assert adb.current_revision(conn) == S.HEAD
    finally:
        engine.dispose()


def test_the_check_sees_a_drifted_schema(tmp_path):
    """The comparison is not vacuous: a column the migrations lack is reported."""
    engine = adb.make_engine(tmp_path / "a.sqlite")
    try:
        adb.migrate(engine)
        with engine.begin() as conn:
            conn.execute(sa.text("DROP INDEX ix_screenings_school"))
            conn.execute(sa.text("ALTER TABLE events ADD COLUMN extra TEXT"))
        kinds = sorted(d[0] for d in schema_differences(engine))
        assert kinds == ["add_index", "remove_column"]
    finally:
        engine.dispose()
