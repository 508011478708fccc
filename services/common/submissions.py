"""Once per submission: what a form creates is created once, however often it is delivered.

The in-memory replay cache (bot/replays.py) answers a replay without running anything, but it
is empty after a restart, and two copies may reach two replicas. A service that creates
something from a form is therefore given `once(session_factory, key, now)` instead of the
plain session factory: its unit of work then begins by saving a `Submission` row with that key
(unique), in the same transaction as what it creates. A second delivery of the same submission
fails on that row before it writes anything and raises AlreadySubmitted; on PostgreSQL a copy
arriving while the first is still in its transaction waits for it and then fails the same way.
The service itself needs no change and knows nothing of this.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from models import Submission


class AlreadySubmitted(Exception):
    """This submission has been saved before: nothing was changed now."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


class _Once(sessionmaker[Session]):
    def __init__(self, factory: sessionmaker[Session], key: str, now: datetime) -> None:
        super().__init__(class_=factory.class_, **factory.kw)
        self.key = key
        self.now = now
        self.saved = False

    @contextmanager
    def begin(self) -> Iterator[Session]:
        if self.saved:  # the key rides on the first unit of work only; later ones are plain
            with super().begin() as session:
                yield session
            return
        with super().begin() as session:
            self.saved = True
            session.add(Submission(key=self.key, created_at=self.now))
            try:
                session.flush()
            except IntegrityError:
                if self._seen():
                    raise AlreadySubmitted(self.key) from None
                raise
            yield session

    def _seen(self) -> bool:
        with self() as session:
            return session.scalar(select(Submission.id).where(Submission.key == self.key)) is not None


def once(session_factory: sessionmaker[Session], key: str | None, now: datetime) -> sessionmaker[Session]:
    """The session factory whose transactions save `key` first (plain when there is no key)."""
    if not key:
        return session_factory
    return _Once(session_factory, key[:200], now)
