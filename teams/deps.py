"""What the Teams handlers need, built once by the composition root (the Slack side's
`bot.deps.Deps` carries Slack's parts, so the Teams side has its own). The notifiers are the
ports the Slack side implements (services.common.ports; bot.writeup_publisher), given by the root,
so that a Teams visitor's proposal reaches a Slack host and the other way round."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from sqlalchemy.orm import Session, sessionmaker

from bot.config import Settings
from services.catalogue.libraries import LibraryNames
from services.common.ports import VisitNotifier
from services.people import coordinators
from services.people.coordinators import CoordinatorDirectory, Scope


def utc_now() -> datetime:
    return datetime.now(UTC)


class WriteUpShower(Protocol):
    """Shows a submitted write-up (the idea-bank post, the notices); False when some waits."""

    def show(self, submitted: Any) -> bool: ...


@dataclass
class TeamsDeps:
    """What the Teams handlers need (the Slack side's `bot.deps.Deps` carries Slack's parts)."""

    session_factory: sessionmaker[Session]
    clock: Callable[[], datetime] = utc_now
    default_language: str = "fi"
    settings: Settings | None = None
    visit_notifier: VisitNotifier | None = None
    writeup_publisher: WriteUpShower | None = None
    coordinator_directory: CoordinatorDirectory | None = field(default=None)
    library_names: LibraryNames = field(init=False)  # the offer form's library choices

    def __post_init__(self) -> None:
        self.library_names = LibraryNames(self.session_factory)
        if self.coordinator_directory is None and self.settings is not None:
            self.coordinator_directory = CoordinatorDirectory(
                self.session_factory,
                self.settings.coordinator_user_ids,
                default_region_key=self.settings.default_region,
            )
        directory = self.coordinator_directory
        if directory is not None:  # units of work learn who coordinates a region (a visit's card)
            coordinators.configure(self.session_factory, directory.of_region)

    def now(self) -> datetime:
        return self.clock()

    def is_coordinator(self, person: str) -> bool:
        """A coordinator (configured or added), as the Slack side's `Deps.is_coordinator`."""
        return (
            bool(person)
            and self.coordinator_directory is not None
            and (self.coordinator_directory.is_coordinator(person))
        )

    def scope(self, person: str) -> Scope:
        if self.coordinator_directory is None or not person:
            return coordinators.NOBODY
        return self.coordinator_directory.scope(person)
