"""Who manages the coordinators, and the changes to them (the coordinator's desk).

A coordinator adds, moves and removes those of the regions their Scope covers (`may_manage`; a
move needs both the old region and the new one); the configured ones, the installation's admins,
manage every region, so that a new region's first coordinator can always be added.

A change of coordinators sends the pending suggested topics to whoever now hears of them and did
not (`topics.resend_to_new`), in the same unit of work: see `add_coordinator`'s `resent`."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from models import Coordinator, Region
from services.catalogue import topics
from services.catalogue.topics import Resent
from services.common import audit
from services.common.errors import Conflict, NotAllowed
from services.people.coordinators import EVERYWHERE, NOBODY, Scope, regions, require

MANAGE_OTHER_REGION = "desk.coordinator.other_region"


def may_manage(is_coordinator: bool | Scope, regions: Scope, *, configured: bool = False) -> bool:
    """May the person add, move or remove the coordinators who act for `regions`? A configured
    coordinator (`configured`) those of every region; another those of the regions their Scope
    covers (a bool: everywhere or nowhere). Someone who acts for every region (a configured one
    when the default region is unknown) is managed only by a coordinator of every region."""
    if not is_coordinator:
        return False
    if configured or not isinstance(is_coordinator, Scope):
        return True
    if regions.regions is None:
        return is_coordinator.regions is None
    return all(is_coordinator.covers(region) for region in regions.regions)


def _require_manages(is_coordinator: bool | Scope, admin: bool, *where: Scope) -> None:
    """NotAllowed unless the person manages the coordinators of each of these (`may_manage`;
    a Scope of no region asks for nothing)."""
    if not all(may_manage(is_coordinator, scope, configured=admin) for scope in where if scope):
        raise NotAllowed(MANAGE_OTHER_REGION)


def _acts_for(
    session: Session, row: Coordinator | None, configured: bool, default_region_key: str | None
) -> Scope:
    """Where a coordinator acts now, by the module's rule, from the database: one added in the bot
    for their row's region; a configured one without a row for the default region, or for every
    region if that is not in the database (or not known: a script); anybody else nowhere."""
    if row is not None:
        return Scope(frozenset({row.region_id}))
    if not configured:
        return NOBODY
    default = (
        session.scalar(select(Region.id).where(Region.key == default_region_key))
        if default_region_key
        else None
    )
    return EVERYWHERE if default is None else Scope(frozenset({default}))


def manageable_regions(
    session_factory: sessionmaker[Session],
    is_coordinator: bool | Scope,
    *,
    actor: str,
    configured: Iterable[str],
) -> list[tuple[int, str]]:
    """The regions (id, name, by name) into which the person may add coordinators."""
    admin = actor in set(configured)
    return [
        (region_id, name)
        for region_id, name in regions(session_factory)
        if may_manage(is_coordinator, Scope(frozenset({region_id})), configured=admin)
    ]


def add_coordinator(
    session_factory: sessionmaker[Session],
    *,
    actor: str,
    is_coordinator: bool | Scope,
    user_id: str,
    region_id: int,
    now: datetime,
    configured: Iterable[str] = (),
    default_region_key: str | None = None,
    resent: list[Resent] | None = None,
) -> bool:
    """A coordinator adds (or moves to another region) a coordinator. True if something changed.

    Into a region the actor manages (`may_manage`; `configured` are COORDINATOR_USER_IDS, who
    manage every region), and someone who already coordinates elsewhere only from a region the
    actor manages too (for a configured one without a row: the default region, found by
    `default_region_key`); otherwise NotAllowed and nothing changes.

    The pending suggestions that now go to someone they did not go to (the region the person
    joins, the one they leave if it falls back to the configured ones) are owed to the new ones
    (`topics.resend_to_new`): their outbox rows are put in `resent`, claimed, for the caller to
    deliver after the commit; without `resent` they are left for the sweep."""
    require(is_coordinator)
    configured = tuple(configured)
    admins = set(configured)
    with session_factory.begin() as session:
        if session.get(Region, region_id) is None:
            raise Conflict("desk.coordinator.no_region")
        row = session.scalar(
            select(Coordinator).where(Coordinator.slack_user_id == user_id).with_for_update()
        )
        current = _acts_for(session, row, user_id in admins, default_region_key)
        _require_manages(is_coordinator, actor in admins, Scope(frozenset({region_id})), current)
        if row is not None and row.region_id == region_id:
            return False
        before = topics.pending_recipients(session, configured, default_region_key)
        if row is None:
            session.add(Coordinator(slack_user_id=user_id, region_id=region_id, added_by=actor, added_at=now))
        else:
            row.region_id = region_id
        topics.resend_to_new(
            session,
            before,
            configured=configured,
            default_region_key=default_region_key,
            now=now,
            resent=resent,
        )
        audit.record(
            session,
            now=now,
            actor=actor,
            action="coordinator.added",
            entity="coordinator",
            entity_id=user_id,
            details={"region_id": region_id},
        )
    return True


def remove_coordinator(
    session_factory: sessionmaker[Session],
    *,
    actor: str,
    is_coordinator: bool | Scope,
    user_id: str,
    configured: Iterable[str],
    now: datetime,
    default_region_key: str | None = None,
    resent: list[Resent] | None = None,
) -> int:
    """A coordinator removes a coordinator who was added in the bot; returns the region they had.
    The configured ones (COORDINATOR_USER_IDS) are removed only from the environment, and someone
    who is no coordinator is said to be none; either way nothing changes. A configured
    coordinator who was also added in the bot (moved to another region) is moved back (to the
    default region, by `default_region_key`). Only a coordinator who manages their region (and
    the one they go back to) removes them (`may_manage`); otherwise NotAllowed, nothing changes.
    Pending suggestions now owed to someone new are handled as in `add_coordinator` (`resent`)."""
    require(is_coordinator)
    configured = tuple(configured)
    admins = set(configured)
    with session_factory.begin() as session:
        row = session.scalar(
            select(Coordinator).where(Coordinator.slack_user_id == user_id).with_for_update()
        )
        if row is None:
            if user_id in admins:
                raise Conflict("desk.coordinator.configured")
            raise Conflict("desk.coordinator.not_one")
        back = _acts_for(session, None, user_id in admins, default_region_key)
        _require_manages(is_coordinator, actor in admins, Scope(frozenset({row.region_id})), back)
        region_id = row.region_id
        before = topics.pending_recipients(session, configured, default_region_key)
        session.delete(row)
        topics.resend_to_new(
            session,
            before,
            configured=configured,
            default_region_key=default_region_key,
            now=now,
            resent=resent,
        )
        audit.record(
            session,
            now=now,
            actor=actor,
            action="coordinator.removed",
            entity="coordinator",
            entity_id=user_id,
            details={"region_id": region_id, "added_by": row.added_by},
        )
    return region_id
