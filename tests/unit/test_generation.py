"""The cache generation in the database: what two replicas of the bot agree on."""

from __future__ import annotations

import threading

from services.common.generation import Generation


class Ticks:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_change_in_one_replica_is_seen_by_another_within_the_refresh(session_factory) -> None:
    ticks = Ticks()
    here = Generation(session_factory, "profiles", refresh=2.0, clock=ticks)
    there = Generation(session_factory, "profiles", refresh=2.0, clock=ticks)
    elsewhere = Generation(session_factory, "coordinators", refresh=2.0, clock=ticks)
    before = there.value
    changed = here.change()
    assert here.value == changed != before  # at once where it was made
    assert there.value == before  # the other replica read it a moment ago
    ticks.now += 2.0
    assert there.value == changed  # ... and sees it once its copy is two seconds old
    assert elsewhere.value == 0  # another name is another number


def test_changes_made_at_once_are_all_counted(session_factory) -> None:
    replicas = [Generation(session_factory, "coordinators", refresh=0.0) for _ in range(4)]
    start = replicas[0].value

    def change(generation: Generation) -> None:
        for _ in range(5):
            generation.change()

    threads = [threading.Thread(target=change, args=(g,)) for g in replicas]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(g.value == start + 20 for g in replicas)


def test_without_a_database_it_is_a_number_of_this_process() -> None:
    local = Generation()
    assert local.value == 0
    assert local.change() == 1 and local.value == 1
