"""Teams (issue 20): a visit's message can live in a Teams chat, whose conversation id
("a:1Xk…", often over 100 characters) and activity id do not fit Slack's 32-character channel
and ts columns.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-08 00:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("visit_messages", schema=None) as batch_op:
        batch_op.alter_column("channel", existing_type=sa.String(length=32), type_=sa.String(length=400))
        batch_op.alter_column("ts", existing_type=sa.String(length=32), type_=sa.String(length=400))


def downgrade() -> None:
    with op.batch_alter_table("visit_messages", schema=None) as batch_op:
        batch_op.alter_column("ts", existing_type=sa.String(length=400), type_=sa.String(length=32))
        batch_op.alter_column("channel", existing_type=sa.String(length=400), type_=sa.String(length=32))
