"""Who is a coordinator: the configured COORDINATOR_USER_IDS (of the default region) plus those a
coordinator adds in the bot, each with a region. A coordinator acts for their own region only:
they decide the funding of its visits (visitor's home library's region) and keep its desk.

`CoordinatorDirectory` answers "is this user a coordinator, and where?" from a short-lived
in-memory copy of the `coordinators` table, so a request does not cost a database round trip; a
change made in this process refreshes it at once, the other worker processes of this server at
their next look (`changes`), other replicas within `ttl` seconds.
`of_region` answers "who coordinates this region?" inside a unit of work (a visit's card), with
what the composition root put in the session factory's `info` (`configure`: the directory).

One rule for both: a configured coordinator belongs to the default region, unless added in the
bot with a region (then to that one). If the default region is not in the database at all (a
single-region deployment whose region has another key), the configured coordinators act for
every region, as they did before regions mattered: nobody is silently left without them.

Who manages the coordinators (`may_manage`): a coordinator adds, moves and removes those of the
regions their Scope covers (a move needs both the old region and the new one); the configured
ones, the installation's admins, manage every region, so that a new region's first coordinator
can always be added.

A change of coordinators sends the pending suggested topics to whoever now hears of them and did
not (`topics.resend_to_new`), in its own unit of work: see `add_coordinator`'s `resent`."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from models import Coordinator, Region
from services import audit
from services.errors import Conflict, NotAllowed
from services.generation import Generation

if TYPE_CHECKING:
    from services.topics import Resent

ONLY_COORDINATORS = "desk.only_coordinators"
OTHER_REGION = "desk.other_region"
MANAGE_OTHER_REGION = "desk.coordinator.other_region"
SESSION_KEY = "vertaisbot.coordinators"
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CoordinatorInfo:
    user_id: str
    region_id: int | None
    configured: bool


@dataclass(frozen=True)
class Scope:
    """Where a person acts as a coordinator: `regions` None for every region, empty for none.

    Services take `is_coordinator: bool | Scope`: a bool means everywhere or nowhere (scripts and
    unit tests), the app passes the person's Scope. Its truth value is "a coordinator somewhere",
    so `require(scope)` still refuses non-coordinators; `covers` is asked about a visit's region."""

    regions: frozenset[int] | None

    def __bool__(self) -> bool:
        return self.regions is None or bool(self.regions)

    def covers(self, region_id: int | None) -> bool:
        return self.regions is None or (region_id is not None and region_id in self.regions)


NOBODY = Scope(frozenset())
EVERYWHERE = Scope(None)


def covers(is_coordinator: bool | Scope, region_id: int | None) -> bool:
    """Is the person a coordinator of `region_id`?"""
    if isinstance(is_coordinator, Scope):
        return is_coordinator.covers(region_id)
    return bool(is_coordinator)


def require_region(is_coordinator: bool | Scope, region_id: int | None) -> None:
    """Only coordinators, and of that region; another region's coordinator is told whose it is."""
    require(bool(is_coordinator))
    if not covers(is_coordinator, region_id):
        raise NotAllowed(OTHER_REGION)


def members(
    configured: Iterable[str], added: Mapping[str, int], default_region_id: int | None, region_id: int
) -> list[str]:
    """The coordinators of `region_id`: the configured ones (in their order) when it is the
    default region (or the default region is unknown), then those added in the bot with it."""
    result = [
        user
        for user in dict.fromkeys(configured)
        if user not in added and (default_region_id is None or default_region_id == region_id)
    ]
    result += sorted(user for user, region in added.items() if region == region_id)
    return result


def on_record(session: Session, default_region_key: str | None) -> tuple[dict[str, int], int | None]:
    """The coordinators added in the bot (user -> region) and the default region's id, as this
    unit of work sees them: what `members` needs besides the configured ones."""
    added = {c.slack_user_id: c.region_id for c in session.scalars(select(Coordinator))}
    default = (
        session.scalar(select(Region.id).where(Region.key == default_region_key))
        if default_region_key
        else None
    )
    return added, default


def configure(session_factory: sessionmaker[Session], members_of: Callable[[int], Iterable[str]]) -> None:
    """Let units of work know who coordinates a region (see `of_region`): the app passes its
    directory's `of_region`, so a visit's card costs no extra statement."""
    info = dict(session_factory.kw.get("info") or {})
    info[SESSION_KEY] = members_of
    session_factory.configure(info=info)


def of_region(session: Session, region_id: int) -> tuple[str, ...] | None:
    """The coordinators of a region, or None if the session factory was not configured (a
    script: nobody there knows the configured coordinators)."""
    members_of = session.info.get(SESSION_KEY)
    if not callable(members_of):
        return None
    return tuple(members_of(region_id))


def of_region_or(session: Session, region_id: int | None, configured: Iterable[str]) -> tuple[str, ...]:
    """The coordinators of a region as the unit of work knows them (`of_region`), else (a script,
    or no region known) the configured ones: who is told about a visit, a write-up, a reminder."""
    found = of_region(session, region_id) if region_id is not None else None
    return found if found is not None else tuple(configured)


class CoordinatorDirectory:
    def __init__(
        self,
        session_factory: sessionmaker[Session],
        configured: Iterable[str],
        *,
        default_region_key: str,
        ttl: float = 30.0,
        monotonic: Callable[[], float] = time.monotonic,
        changes: Generation | None = None,
    ) -> None:
        self.session_factory = session_factory
        self.order = tuple(dict.fromkeys(u for u in configured if u))
        self.configured = frozenset(self.order)
        self.default_region_key = default_region_key
        self.ttl = ttl
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._added: dict[str, int] = {}
        self._default_region_id: int | None = None
        self._loaded_at: float | None = None
        self.changes = changes or Generation()
        self._seen = self.changes.value

    def changed(self) -> None:
        """A coordinator was added, moved or removed here: this process reads the list again at
        once, and the other worker processes (sharing `changes`) at their next look."""
        self.changes.change()
        self.refresh()

    def refresh(self) -> None:
        seen = self.changes.value  # read first: a change during the query is seen next time
        with self.session_factory() as session:
            added, default = on_record(session, self.default_region_key)
        with self._lock:
            self._added = added
            self._default_region_id = default
            self._loaded_at = self._monotonic()
            self._seen = seen

    def _fresh(self) -> None:
        loaded = self._loaded_at
        if loaded is None or self._monotonic() - loaded > self.ttl or self.changes.value != self._seen:
            try:
                self.refresh()
            except SQLAlchemyError:
                # The database is away: keep what we knew (the configured ones always work) and
                # try again after the next ttl rather than on every request.
                log.warning("could not read the coordinators; using the last known list", exc_info=True)
                with self._lock:
                    self._loaded_at = self._monotonic()

    def is_coordinator(self, user_id: str | None) -> bool:
        if not user_id:
            return False
        if user_id in self.configured:
            return True
        self._fresh()
        return user_id in self._added

    def info(self, user_id: str | None) -> CoordinatorInfo | None:
        if not user_id:
            return None
        self._fresh()
        if user_id in self._added:
            return CoordinatorInfo(user_id, self._added[user_id], user_id in self.configured)
        if user_id in self.configured:
            return CoordinatorInfo(user_id, self._default_region_id, True)
        return None

    def region_of(self, user_id: str | None) -> int | None:
        found = self.info(user_id)
        return found.region_id if found else None

    def scope(self, user_id: str | None) -> Scope:
        """Where the person acts as a coordinator (see the module's rule)."""
        found = self.info(user_id)
        if found is None:
            return NOBODY
        if found.region_id is None:
            return EVERYWHERE if found.configured else NOBODY
        return Scope(frozenset({found.region_id}))

    def of_region(self, region_id: int) -> list[str]:
        self._fresh()
        return members(self.order, self._added, self._default_region_id, region_id)

    def all(self) -> list[CoordinatorInfo]:
        self._fresh()
        users = sorted(self.configured | set(self._added))
        return [c for c in (self.info(u) for u in users) if c is not None]


def require(is_coordinator: bool | Scope) -> None:
    if not is_coordinator:
        raise NotAllowed(ONLY_COORDINATORS)


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
    from services import topics  # topics needs this module

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
    from services import topics  # topics needs this module

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


def regions(session_factory: sessionmaker[Session]) -> list[tuple[int, str]]:
    with session_factory() as session:
        return [(r.id, r.name) for r in session.scalars(select(Region).order_by(Region.name))]
