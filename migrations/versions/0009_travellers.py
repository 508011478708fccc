"""Travellers: the colleagues who come along on a visit (each with the supervisor who consents for
them), the region's passenger supplement setting and the year's passenger rate. Every existing
visit gets its one traveller, the visitor, with the supervisor's decision as it stands. And
whether an agreed visit happened (asked after its day).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 12:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PARTY_STATES = ("pending", "approved", "declined", "countered", "lapsed")


def upgrade() -> None:
    op.create_table(
        "visit_travellers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("visit_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("supervisor_id", sa.String(length=32), nullable=False),
        sa.Column(
            "consent",
            sa.Enum(*PARTY_STATES, name="partystate", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["visit_id"], ["visits.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("visit_id", "user_id"),
    )
    op.create_index("ix_visit_travellers_visit_id", "visit_travellers", ["visit_id"])
    op.create_index("ix_visit_travellers_supervisor_id", "visit_travellers", ["supervisor_id"])
    op.create_index("ix_visit_travellers_user", "visit_travellers", ["user_id"])
    # Each visit so far: its visitor, consented for as the supervisor decided.
    op.execute(
        "INSERT INTO visit_travellers (visit_id, position, user_id, supervisor_id, consent) "
        "SELECT id, 0, visitor_id, supervisor_id, "
        "CASE WHEN supervisor_state IN ('approved', 'declined') THEN supervisor_state ELSE 'pending' END "
        "FROM visits"
    )
    # Plain ADD COLUMN (with a default, so NOT NULL holds for the rows there): SQLite's batch mode
    # would copy and drop `regions`, which the libraries' foreign keys forbid.
    op.add_column(
        "regions",
        sa.Column("pays_passenger_supplement", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.add_column(
        "kilometre_rates",
        sa.Column("passenger_eur_per_km", sa.Numeric(6, 3), nullable=False, server_default="0.04"),
    )
    # Did it happen? The visits agreed before this asked nobody: those whose day has passed
    # happened, as the bot took them to.
    op.add_column("visits", sa.Column("happened", sa.Boolean(), nullable=True))
    visits = sa.table(
        "visits",
        sa.column("happened", sa.Boolean),
        sa.column("status", sa.String),
        sa.column("chosen_date", sa.Date),
    )
    op.execute(
        visits.update()
        .where(visits.c.status == "confirmed", visits.c.chosen_date < sa.func.current_date())
        .values(happened=True)
    )


def downgrade() -> None:
    # Plain DROP COLUMN (SQLite 3.35 and later have it): a batch copy of regions or visits would
    # trip over the foreign keys that point at them.
    op.drop_column("visits", "happened")
    op.drop_column("kilometre_rates", "passenger_eur_per_km")
    op.drop_column("regions", "pays_passenger_supplement")
    op.drop_index("ix_visit_travellers_user", table_name="visit_travellers")
    op.drop_index("ix_visit_travellers_supervisor_id", table_name="visit_travellers")
    op.drop_index("ix_visit_travellers_visit_id", table_name="visit_travellers")
    op.drop_table("visit_travellers")
