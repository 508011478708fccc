"""Who coordinates which region: the configured ones (default region) and those added in the bot."""

from __future__ import annotations

from services.coordinators import EVERYWHERE, NOBODY, Scope, covers, members


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
    """Two worker processes' directories share one Generation (bot/processes.py): a coordinator
    added through one is known to the other at its next look, not after its cache's ttl."""
    from datetime import UTC, datetime

    from sqlalchemy import select

    from models import Region
    from services.coordinators import CoordinatorDirectory, add_coordinator
    from services.generation import Generation

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
