"""Screening keys become the source's prefix and the row number (one import: one key range).

A key was the first 40 hex digits of SHA-256 of ``source:row``: random, so each
import's rows went to random pages of the primary-key index. It is now
:func:`psyscreen.archive.store.screening_keys`: 28 hex digits derived from the
source hash and the row number as 12 hex digits, still 40 hex digits (the bundle
schema is unchanged). Every stored key is rewritten from the row's own
``source_sha256`` and ``source_row``, so adding a file archived before the
upgrade again still finds its screenings. No table or column changes.

Revision ID: 0003
Revises: 0002
"""

import hashlib

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


#: frozen copy of ``store.source_prefix`` (a migration must not change when the code does)
def _prefix(source_sha256: str) -> str:
    return hashlib.sha256(f"psyscreen-screening:{source_sha256}".encode()).hexdigest()[:28]


def upgrade() -> None:
    conn = op.get_bind()
    sources = [r[0] for r in conn.execute(sa.text("SELECT DISTINCT source_sha256 FROM screenings"))]
    if not sources:
        return
    op.create_table(
        "_rekey",
        sa.Column("source_sha256", sa.String(64), primary_key=True),
        sa.Column("prefix", sa.String(28), nullable=False),
    )
    conn.execute(
        sa.text("INSERT INTO _rekey (source_sha256, prefix) VALUES (:s, :p)"),
        [{"s": s, "p": _prefix(s)} for s in sources],
    )
    # rows whose number a key cannot hold keep their old key (psyscreen never wrote such rows)
    if conn.dialect.name == "postgresql":
        conn.execute(
            sa.text(
                "UPDATE screenings AS s "
                "SET screening_key = r.prefix || lpad(to_hex(s.source_row), 12, '0') "
                "FROM _rekey AS r WHERE r.source_sha256 = s.source_sha256 "
                "AND s.source_row BETWEEN 0 AND 281474976710655"
            )
        )
    else:
        conn.execute(
            sa.text(
                "UPDATE screenings SET screening_key = (SELECT prefix FROM _rekey AS r "
                "WHERE r.source_sha256 = screenings.source_sha256) || printf('%012x', source_row) "
                "WHERE source_row BETWEEN 0 AND 281474976710655"
            )
        )
    op.drop_table("_rekey")


def downgrade() -> None:
    raise NotImplementedError("the old keys are hashes that cannot be restored from the new ones")
