"""Teams (issue 20): where the bot reaches a person on another platform (chat_accounts: the
conversation reference stored at install or at the first message), and the directory identity
of a staff profile (e-mail, Entra object id) that links such an account to it.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 21:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ADD COLUMN (nullable, no default): no batch copy of staff_profiles (see 0009, 0010).
    op.add_column("staff_profiles", sa.Column("email", sa.String(length=254), nullable=True))
    op.add_column("staff_profiles", sa.Column("directory_id", sa.String(length=64), nullable=True))
    op.create_index("ix_staff_profiles_email", "staff_profiles", ["email"])
    op.create_index("ix_staff_profiles_directory_id", "staff_profiles", ["directory_id"])
    op.create_table(
        "chat_accounts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("user_id", sa.String(length=200), nullable=False),
        sa.Column("directory_id", sa.String(length=64), nullable=True),
        sa.Column("tenant_id", sa.String(length=64), nullable=True),
        sa.Column("conversation_id", sa.String(length=400), nullable=False),
        sa.Column("service_url", sa.String(length=400), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("display_name", sa.String(length=200), nullable=True),
        sa.Column("staff_profile_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["staff_profile_id"], ["staff_profiles.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("platform", "user_id", name="uq_chat_accounts_platform_user"),
    )
    op.create_index("ix_chat_accounts_directory", "chat_accounts", ["directory_id"])
    op.create_index("ix_chat_accounts_staff", "chat_accounts", ["staff_profile_id"])


def downgrade() -> None:
    op.drop_index("ix_chat_accounts_staff", table_name="chat_accounts")
    op.drop_index("ix_chat_accounts_directory", table_name="chat_accounts")
    op.drop_table("chat_accounts")
    op.drop_index("ix_staff_profiles_directory_id", table_name="staff_profiles")
    op.drop_index("ix_staff_profiles_email", table_name="staff_profiles")
    op.drop_column("staff_profiles", "directory_id")
    op.drop_column("staff_profiles", "email")
