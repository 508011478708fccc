"""Host offers (topics, description, capacity, weekdays) and topic suggestions for coordinators.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "host_offers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("library_id", sa.Integer(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("monthly_capacity", sa.Integer(), nullable=False),
        sa.Column("weekdays", sa.Integer(), nullable=False),
        sa.Column("search_terms", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["library_id"], ["libraries.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("host_offers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_host_offers_library_id"), ["library_id"], unique=False)

    op.create_table(
        "host_offer_topics",
        sa.Column("offer_id", sa.Integer(), nullable=False),
        sa.Column("topic_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["offer_id"], ["host_offers.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["topic_id"],
            ["topics.id"],
        ),
        sa.PrimaryKeyConstraint("offer_id", "topic_id"),
    )
    with op.batch_alter_table("host_offer_topics", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_host_offer_topics_topic_id"), ["topic_id"], unique=False)

    op.create_table(
        "topic_suggestions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("text", sa.String(length=200), nullable=False),
        sa.Column("offer_id", sa.Integer(), nullable=True),
        sa.Column("library_id", sa.Integer(), nullable=True),
        sa.Column("suggested_by", sa.String(length=32), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "approved",
                "merged",
                "rejected",
                name="suggestionstatus",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("topic_id", sa.Integer(), nullable=True),
        sa.Column("decided_by", sa.String(length=32), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("messages", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["library_id"],
            ["libraries.id"],
        ),
        sa.ForeignKeyConstraint(["offer_id"], ["host_offers.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(
            ["topic_id"],
            ["topics.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("topic_suggestions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_topic_suggestions_offer_id"), ["offer_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("topic_suggestions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_topic_suggestions_offer_id"))

    op.drop_table("topic_suggestions")
    with op.batch_alter_table("host_offer_topics", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_host_offer_topics_topic_id"))

    op.drop_table("host_offer_topics")
    with op.batch_alter_table("host_offers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_host_offers_library_id"))

    op.drop_table("host_offers")
