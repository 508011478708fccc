"""Ports: what the domain needs from the outside world, as protocols.

The Slack side implements them (`bot.notifier`); tests use recording fakes. A Microsoft Teams
adapter would implement the same protocols.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True)
class UserInfo:
    """What the chat platform tells about a person."""

    user_id: str
    locale: str | None
    display_name: str | None
    deleted: bool = False
    is_bot: bool = False


class Directory(Protocol):
    """Looks people up on the chat platform."""

    def user_info(self, user_id: str) -> UserInfo | None: ...


@dataclass(frozen=True)
class Outgoing:
    """A message to one person: a message key, its parameters, and optional attachments."""

    recipient: str
    kind: str
    params: dict[str, object] = field(default_factory=dict)


class Notifier(Protocol):
    """Sends messages to people; raises DeliveryError when it cannot (for now or for good)."""

    def send(self, message: Outgoing) -> str | None: ...


class DeliveryError(Exception):
    """A message could not be sent. `permanent`: the recipient cannot be reached (retrying will
    not help); `outage`: the bot itself cannot send (a revoked token, a missing scope);
    `retry_after`: seconds the platform asked us to wait; `waiting`: it waits for a person to act
    (the bot invited to the idea-bank channel): retried every hour for as long as it takes."""

    def __init__(
        self,
        reason: str,
        *,
        permanent: bool,
        retry_after: float | None = None,
        outage: bool = False,
        waiting: bool = False,
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent
        self.retry_after = retry_after
        self.outage = outage
        self.waiting = waiting


class VisitNotifier(Protocol):
    """Tells everyone involved in a visit what changed: re-renders each person's message about the
    visit, posts it the first time, and sends calendar invites (`change` is a services.visits.state_machine.Change).
    `publish` returns False when something must wait for a retry (the change's outbox row)."""

    def publish(self, change: object) -> bool: ...

    def refresh(self, visit_id: int) -> None: ...
