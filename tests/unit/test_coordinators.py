"""Who coordinates which region: the configured ones (default region) and those added in the bot."""

from __future__ import annotations

from services.people.coordinators import EVERYWHERE, NOBODY, Scope, covers, members


def test_members_of_a_region() -> None:
    configured = ("U0A", "U0B")
    added = {"U0B": 2, "U0C": 2, "U0D": 1}  # U0B, configured, was moved to region 2 in the bot
    assert members(configured, added, 1, 1) == ["U0A", "U0D"]
    assert members(configured, added, 1, 2) == ["U0B", "U0C"]
    assert members(configured, added, 1, 3) == []
    # The default region is not in the database: the configured ones act for every region.
    assert members(configured, {}, None, 7) == ["U0A", "U0B"]


def test_scope() -> None:
    one = Scope(frozenset({2}))
    assert one and one.covers(2) and not one.covers(1) and not one.covers(None)
    assert not NOBODY and not NOBODY.covers(2)
    assert EVERYWHERE and EVERYWHERE.covers(5)
    assert covers(True, 9) and not covers(False, 9) and covers(one, 2) and not covers(one, 3)


def test_a_coordinator_added_in_one_worker_counts_in_the_others_at_once(session_factory) -> None:
    """Two directories that share one Generation (as two processes share one in the database): a coordinator
    added through one is known to the other at its next look, not after its cache's ttl."""
    from datetime import UTC, datetime

    from sqlalchemy import select

    from models import Region
    from services.admin.appointments import add_coordinator
    from services.common.generation import Generation
    from services.people.coordinators import CoordinatorDirectory

    with session_factory() as session:
        region_id = session.scalars(select(Region.id)).first()
    assert region_id is not None
    shared = Generation()
    frozen = lambda: 100.0  # noqa: E731 - no ttl ever runs out in this test
    mine, other = (
        CoordinatorDirectory(session_factory, (), default_region_key="savo", monotonic=frozen, changes=shared)
        for _ in range(2)
    )
    assert not other.is_coordinator("U0NEWCOORD")  # loaded, and cached
    add_coordinator(
        session_factory,
        actor="U0ADMIN",
        is_coordinator=True,
        user_id="U0NEWCOORD",
        region_id=region_id,
        now=datetime(2026, 11, 25, tzinfo=UTC),
    )
    mine.changed()
    assert mine.is_coordinator("U0NEWCOORD")
    assert other.is_coordinator("U0NEWCOORD")


def test_a_change_of_coordinators_owes_the_pending_suggestions_to_the_new_ones(session_factory) -> None:
    """In the change's unit of work: a pending suggestion from a region whose recipients gain
    someone gets an outbox row whose `done` lists who had it; claimed for the caller if it asks
    (`resent`), else left for the sweep. A decided one gets nothing."""
    from datetime import UTC, datetime

    from sqlalchemy import select

    from models import Library, Region, Reminder, SuggestionStatus, TopicSuggestion
    from services.admin.appointments import add_coordinator, remove_coordinator
    from services.outbox import visit_outbox
    from services.people import staff

    now = datetime(2026, 11, 25, tzinfo=UTC)
    with session_factory.begin() as session:
        region = Region(key="pohjois-karjala", name="Pohjois-Karjala")
        session.add(region)
        session.flush()
        library = Library(
            key="joensuu-unit",
            name="Joensuun kirjasto",
            municipality="Joensuu",
            province="Pohjois-Karjala",
            lat=62.6,
            lon=29.76,
            region_id=region.id,
        )
        session.add(library)
        session.flush()
        region_id, library_id = region.id, library.id
    staff.update_settings(
        session_factory,
        "U0SUGGESTS",
        home_library_id=library_id,
        language=None,
        now=now,
        default_language="fi",
    )
    with session_factory.begin() as session:
        pending = TopicSuggestion(
            text="Sirkus", library_id=library_id, suggested_by="U0SUGGESTS", created_at=now
        )
        decided = TopicSuggestion(
            text="Kupla",
            library_id=library_id,
            suggested_by="U0SUGGESTS",
            created_at=now,
            status=SuggestionStatus.REJECTED,
            decided_by="U0ADMIN",
        )
        session.add_all([pending, decided])
        session.flush()
        pending_id = pending.id

    def rows() -> list[Reminder]:
        with session_factory() as session:
            return list(
                session.scalars(
                    select(Reminder)
                    .where(Reminder.kind == visit_outbox.SUGGESTION_SYNC)
                    .order_by(Reminder.id)
                )
            )

    common = {"actor": "U0ADMIN", "is_coordinator": True, "now": now, "default_region_key": "savo"}
    add_coordinator(
        session_factory, user_id="U0NORTH", region_id=region_id, configured=("U0ADMIN",), **common
    )
    [row] = rows()
    assert row.params == {"suggestion": pending_id, "done": ["U0ADMIN"]}
    assert row.claim_token is None  # nobody asked: the sweep delivers it
    resent: list = []
    remove_coordinator(session_factory, user_id="U0NORTH", configured=("U0ADMIN",), resent=resent, **common)
    [_, row] = rows()
    assert row.params == {"suggestion": pending_id, "done": ["U0NORTH"]}
    [item] = resent
    assert (item.suggestion_id, item.owed.id, item.done) == (pending_id, row.id, frozenset({"U0NORTH"}))
    assert row.claim_token == item.owed.token
