"""What the listeners need, built once by the composition root."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy.orm import Session, sessionmaker

from bot.config import Settings
from services.ports import Directory
from services.staff import StaffCache


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

    def now(self) -> datetime:
        return self.clock()

    def is_coordinator(self, user_id: str | None) -> bool:
        return bool(user_id) and user_id in self.settings.coordinator_user_ids
