"""Who is a coordinator: the configured COORDINATOR_USER_IDS (of the default region) plus those a
coordinator adds in the bot, each with a region.

`CoordinatorDirectory` answers "is this user a coordinator?" from a short-lived in-memory copy of
the `coordinators` table, so a request does not cost a database round trip; a change made in
this process refreshes it at once, other replicas see it within `ttl` seconds."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from models import Coordinator, Region
from services import audit
from services.errors import Conflict, NotAllowed

ONLY_COORDINATORS = "desk.only_coordinators"
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CoordinatorInfo:
    user_id: str
    region_id: int | None
    configured: bool


class CoordinatorDirectory:
    def __init__(
        self,
        session_factory: sessionmaker[Session],
        configured: Iterable[str],
        *,
        default_region_key: str,
        ttl: float = 30.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.session_factory = session_factory
        self.configured = frozenset(u for u in configured if u)
        self.default_region_key = default_region_key
        self.ttl = ttl
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._added: dict[str, int] = {}
        self._default_region_id: int | None = None
        self._loaded_at: float | None = None

    def refresh(self) -> None:
        with self.session_factory() as session:
            added = {c.slack_user_id: c.region_id for c in session.scalars(select(Coordinator))}
            default = session.scalar(select(Region.id).where(Region.key == self.default_region_key))
        with self._lock:
            self._added = added
            self._default_region_id = default
            self._loaded_at = self._monotonic()

    def _fresh(self) -> None:
        loaded = self._loaded_at
        if loaded is None or self._monotonic() - loaded > self.ttl:
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

    def all(self) -> list[CoordinatorInfo]:
        self._fresh()
        users = sorted(self.configured | set(self._added))
        return [c for c in (self.info(u) for u in users) if c is not None]


def require(is_coordinator: bool) -> None:
    if not is_coordinator:
        raise NotAllowed(ONLY_COORDINATORS)


def add_coordinator(
    session_factory: sessionmaker[Session],
    *,
    actor: str,
    is_coordinator: bool,
    user_id: str,
    region_id: int,
    now: datetime,
) -> bool:
    """A coordinator adds (or moves to another region) a coordinator. True if something changed."""
    require(is_coordinator)
    with session_factory.begin() as session:
        if session.get(Region, region_id) is None:
            raise Conflict("desk.coordinator.no_region")
        row = session.scalar(select(Coordinator).where(Coordinator.slack_user_id == user_id))
        if row is not None and row.region_id == region_id:
            return False
        if row is None:
            session.add(Coordinator(slack_user_id=user_id, region_id=region_id, added_by=actor, added_at=now))
        else:
            row.region_id = region_id
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


def regions(session_factory: sessionmaker[Session]) -> list[tuple[int, str]]:
    with session_factory() as session:
        return [(r.id, r.name) for r in session.scalars(select(Region).order_by(Region.name))]
