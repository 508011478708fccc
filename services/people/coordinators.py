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

Who manages the coordinators, and the changes themselves, are in services/admin/appointments.py."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from models import Coordinator, Region
from services.common.errors import NotAllowed
from services.common.generation import Generation

ONLY_COORDINATORS = "desk.only_coordinators"
OTHER_REGION = "desk.other_region"
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


def regions(session_factory: sessionmaker[Session]) -> list[tuple[int, str]]:
    with session_factory() as session:
        return [(r.id, r.name) for r in session.scalars(select(Region).order_by(Region.name))]
