"""Initial archive schema: children, screenings, events, profile levels, imports, audit.

Revision ID: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "meta",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
    )
    op.create_table(
        "children",
        sa.Column("child_key", sa.String(32), primary_key=True),
        sa.Column("clear_id", sa.Text),
        sa.Column("name", sa.Text),
    )
    op.create_table(
        "screenings",
        sa.Column("screening_key", sa.String(40), primary_key=True),
        sa.Column("child_key", sa.String(32), nullable=False),
        sa.Column("source_sha256", sa.String(64), nullable=False),
        sa.Column("source_row", sa.Integer, nullable=False),
        sa.Column("assessment_date", sa.String(10), nullable=False),
        sa.Column("school", sa.Text),
        sa.Column("grade", sa.Text),
        sa.Column("class_name", sa.Text),
        sa.Column("sex", sa.Text),
        sa.Column("age", sa.Float),
        sa.Column("profile", sa.Text),
        sa.Column("profile_sha256", sa.String(64)),
        sa.Column("risk_status", sa.Text),
        sa.Column("level_code", sa.Text),
        sa.Column("level", sa.Float),
        sa.Column("needs_confirmation", sa.Boolean),
        sa.Column("referral", sa.Boolean),
        sa.Column("retest_days", sa.Float),
        sa.Column("contact_days", sa.Float),
        sa.Column("visit_days", sa.Float),
        sa.Column("rules", sa.Text),
        sa.Column("reasons", sa.Text),
        sa.Column("reasons_zh", sa.Text),
        sa.Column("flags", sa.Text),
        sa.Column("layout", sa.String(16)),
        sa.Column("scores", sa.LargeBinary),
        sa.Column("import_id", sa.Integer),
    )
    op.create_index("ix_screenings_child", "screenings", ["child_key", "assessment_date"])
    op.create_table(
        "events",
        sa.Column("event_key", sa.String(40), primary_key=True),
        sa.Column("child_key", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("on_date", sa.String(10), nullable=False),
        sa.Column("outcome", sa.String(32)),
        sa.Column("level_code", sa.Text),
        sa.Column("note", sa.Text),
        sa.Column("import_id", sa.Integer),
    )
    op.create_index("ix_events_child", "events", ["child_key", "on_date"])
    op.create_table(
        "profile_levels",
        sa.Column("profile", sa.String(200), primary_key=True),
        sa.Column("level_code", sa.String(64), primary_key=True),
        sa.Column("level", sa.Float),
        sa.Column("zh", sa.Text),
        sa.Column("en", sa.Text),
        sa.Column("retest_days", sa.Float),
        sa.Column("contact_days", sa.Float),
        sa.Column("visit_days", sa.Float),
        sa.Column("needs_confirmation", sa.Boolean),
        sa.Column("referral", sa.Boolean),
    )
    op.create_table(
        "layouts",
        sa.Column("layout", sa.String(16), primary_key=True),
        sa.Column("columns", sa.Text, nullable=False),
        sa.Column("provenance", sa.Text, nullable=False),
    )
    op.create_table(
        "imports",
        sa.Column("import_id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("source", sa.Text),
        sa.Column("source_sha256", sa.String(64)),
        sa.Column("rows_in", sa.Integer, nullable=False),
        sa.Column("stored", sa.Integer, nullable=False),
        sa.Column("already", sa.Integer, nullable=False),
        sa.Column("skipped", sa.Text, nullable=False),
    )
    op.create_table(
        "audit",
        sa.Column("audit_id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", sa.String(32), nullable=False),
        sa.Column("os_user", sa.Text, nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("counts", sa.Text, nullable=False),
    )
