"""What the listeners need, built once by the composition root."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy.orm import Session, sessionmaker

from bot.config import Settings
from bot.replays import ReplayCache, Replays, ReplayStore, SplitReplays
from services.catalogue.libraries import LibraryNames
from services.common.generation import Generation
from services.common.ports import Directory
from services.people import coordinators
from services.people.coordinators import CoordinatorDirectory, Scope
from services.people.staff import StaffCache


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Deps:
    settings: Settings
    session_factory: sessionmaker[Session]
    clock: Callable[[], datetime] = utc_now
    directory: Directory | None = None
    staff_cache: StaffCache = field(default_factory=StaffCache)
    extras: dict[str, object] = field(default_factory=dict)
    coordinator_directory: CoordinatorDirectory | None = None
    # Slack's retries, recognised by every replica (PostgreSQL) or by this one process (SQLite).
    replays: Replays | None = None
    coordinator_changes: Generation = field(default_factory=Generation)  # shared by worker processes
    library_names: LibraryNames = field(init=False)

    def __post_init__(self) -> None:
        self.library_names = LibraryNames(self.session_factory)
        if self.replays is None:
            with self.session_factory() as session:
                shared = session.get_bind().dialect.name == "postgresql"
            self.replays = (
                SplitReplays(ReplayCache(), ReplayStore.on(self.session_factory)) if shared else ReplayCache()
            )
        # Units of work learn who coordinates a region (a visit's card) from the session's info.
        coordinators.configure(self.session_factory, lambda region_id: self.coordinators.of_region(region_id))

    def now(self) -> datetime:
        return self.clock()

    @property
    def coordinators(self) -> CoordinatorDirectory:
        """COORDINATOR_USER_IDS plus those added in the bot (a short cache of the table)."""
        if self.coordinator_directory is None:
            self.coordinator_directory = CoordinatorDirectory(
                self.session_factory,
                self.settings.coordinator_user_ids,
                default_region_key=self.settings.default_region,
                changes=self.coordinator_changes,
            )
        return self.coordinator_directory

    def is_coordinator(self, user_id: str | None) -> bool:
        if not user_id:
            return False
        if user_id in self.settings.coordinator_user_ids:
            return True
        return self.coordinators.is_coordinator(user_id)

    def coordinator_scope(self, user_id: str | None) -> Scope:
        """Where the person acts as a coordinator (their region; see services.people.coordinators)."""
        if not user_id:
            return coordinators.NOBODY
        return self.coordinators.scope(user_id)
