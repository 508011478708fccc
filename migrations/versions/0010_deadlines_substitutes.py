"""Nobody waits forever: the region's time to answer a request (working days, default 5), and
substitutes (sijainen): a supervisor or a host contact away for a period names who decides for
them meanwhile.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 16:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ADD COLUMN with a default (see 0009: a batch copy of regions trips on foreign keys).
    op.add_column(
        "regions",
        sa.Column("answer_days", sa.Integer(), nullable=False, server_default="5"),
    )
    op.create_table(
        "substitutes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("substitute_id", sa.String(length=32), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("back_told_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_substitutes_user", "substitutes", ["user_id", "ends_on"])
    op.create_index("ix_substitutes_substitute", "substitutes", ["substitute_id", "ends_on"])
    # A decision a substitute took: whose it was (the person away).
    op.add_column("visit_decisions", sa.Column("on_behalf_of", sa.String(length=32), nullable=True))


def downgrade() -> None:
    op.drop_column("visit_decisions", "on_behalf_of")
    op.drop_index("ix_substitutes_substitute", table_name="substitutes")
    op.drop_index("ix_substitutes_user", table_name="substitutes")
    op.drop_table("substitutes")
    op.drop_column("regions", "answer_days")
