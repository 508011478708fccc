"""The idea bank in Teams: a write-up's post in the Teams idea-bank channel (its activity id,
up to 400 characters as 0014's), and when a post was begun that has not been answered yet.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-08 01:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("writeups", schema=None) as batch_op:
        batch_op.add_column(sa.Column("teams_activity_id", sa.String(length=400), nullable=True))
        batch_op.add_column(sa.Column("teams_post_begun_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("writeups", schema=None) as batch_op:
        batch_op.drop_column("teams_post_begun_at")
        batch_op.drop_column("teams_activity_id")
