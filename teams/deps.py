"""What the Teams handlers need, built once by the composition root (the Slack side's
`bot.deps.Deps` carries Slack's parts, so the Teams side has its own)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.orm import Session, sessionmaker


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class TeamsDeps:
    """What the Teams handlers need (the Slack side's `bot.deps.Deps` carries Slack's parts)."""

    session_factory: sessionmaker[Session]
    clock: Callable[[], datetime] = utc_now
    default_language: str = "fi"
