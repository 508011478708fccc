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
