"""The migrations build exactly the tables the models describe (a model changed without its
migration fails here, before a deployment's `db upgrade` would leave it out)."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.engine import Engine

from models import Base


def test_the_migrations_build_the_models_tables(engine: Engine) -> None:
    with engine.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), Base.metadata) == []


def test_existing_visits_carry_over_with_their_visitor_as_the_one_traveller(tmp_path) -> None:
    """A database made before travellers (revision 0008) keeps its visits as they were: each gets
    its visitor as its only traveller, consented for as the supervisor had decided."""
    from sqlalchemy import text

    from models import create_engine_for
    from models.migrate import upgrade

    engine = create_engine_for(f"sqlite:///{tmp_path / 'old.sqlite3'}")
    upgrade(engine, "0008")
    now = "2026-11-24 10:00:00+00:00"
    with engine.begin() as c:
        c.execute(text("INSERT INTO regions (id, key, name) VALUES (1, 'savo', 'Savo')"))
        for n in (1, 2):
            c.execute(
                text(
                    "INSERT INTO libraries (id, key, name, municipality, province, lat, lon, region_id) "
                    "VALUES (:n, :key, :key, 'K', 'P', 62.0, 27.0, 1)"
                ),
                {"n": n, "key": f"lib{n}"},
            )
        c.execute(
            text(
                "INSERT INTO topic_categories (id, key, name_fi, name_sv, name_en, position) VALUES (1, 'c', 'c', 'c', 'c', 0)"
            )
        )
        c.execute(
            text(
                "INSERT INTO topics (id, key, category_id, name_fi, name_sv, name_en, synonyms, status, position, created_at) "
                "VALUES (1, 't', 1, 't', 't', 't', '', 'active', 0, :now)"
            ),
            {"now": now},
        )
        for visit_id, state in (
            (1, "approved"),
            (2, "pending"),
            (3, "declined"),
            (4, "approved"),
            (5, "approved"),
        ):
            c.execute(
                text(
                    "INSERT INTO visits (id, visitor_id, home_library_id, host_library_id, topic_id, learn, length, "
                    "travel_mode, estimated_km, ticket_cost, accommodation_cost, supervisor_id, note_to_host, status, "
                    "supervisor_state, host_state, funding_state, round, ics_sequence, invite_sent, version, "
                    "created_at, updated_at) VALUES (:id, 'U0V', 1, 2, 1, '', 'day', 'car', 120, 0, 0, 'U0B', '', "
                    "'proposed', :state, 'pending', 'pending', 1, 0, 0, 1, :now, :now)"
                ),
                {"id": visit_id, "state": state, "now": now},
            )
        # two agreed visits: one long past (it happened, as the bot took it to), one far ahead
        c.execute(text("UPDATE visits SET status = 'confirmed', chosen_date = '2020-03-03' WHERE id = 4"))
        c.execute(text("UPDATE visits SET status = 'confirmed', chosen_date = '2099-03-03' WHERE id = 5"))
    upgrade(engine)
    with engine.connect() as c:
        happened = c.execute(text("SELECT id, happened FROM visits ORDER BY id")).all()
        assert [tuple(r) for r in happened] == [(1, None), (2, None), (3, None), (4, 1), (5, None)]
        rows = c.execute(
            text(
                "SELECT visit_id, position, user_id, supervisor_id, consent FROM visit_travellers ORDER BY visit_id"
            )
        ).all()
        paid = c.execute(text("SELECT pays_passenger_supplement FROM regions")).scalar()
    assert [tuple(r) for r in rows] == [
        (1, 0, "U0V", "U0B", "approved"),
        (2, 0, "U0V", "U0B", "pending"),
        (3, 0, "U0V", "U0B", "declined"),
        (4, 0, "U0V", "U0B", "approved"),
        (5, 0, "U0V", "U0B", "approved"),
    ]
    assert not paid  # a region pays the passenger supplement only once a coordinator says so
    engine.dispose()
