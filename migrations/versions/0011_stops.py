"""Study trips to several libraries: a visit's further stops (2-4), each a library with its topic,
its host's answer (a time slot of the agreed day) and whether the visitor left it out. Existing
visits have none and are carried over unchanged (their host is the trip's only stop).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 21:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "visit_stops",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("visit_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("library_id", sa.Integer(), nullable=False),
        sa.Column("topic_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("slot", sa.String(length=16), nullable=False),
        sa.Column("decided_by", sa.String(length=32), nullable=True),
        sa.Column("removed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["visit_id"], ["visits.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["library_id"], ["libraries.id"]),
        sa.ForeignKeyConstraint(["topic_id"], ["topics.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("visit_id", "position"),
    )
    op.create_index("ix_visit_stops_visit_id", "visit_stops", ["visit_id"])
    op.create_index("ix_visit_stops_library", "visit_stops", ["library_id"])


def downgrade() -> None:
    op.drop_index("ix_visit_stops_library", table_name="visit_stops")
    op.drop_index("ix_visit_stops_visit_id", table_name="visit_stops")
    op.drop_table("visit_stops")
