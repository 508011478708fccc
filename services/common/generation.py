"""A number every process and replica of the bot sees: raised when something that processes
cache has changed (profiles, coordinators), so that each drops its copy at its next look instead
of when the copy expires.

With a session factory it lives in the database (`cache_generations`, one row per name), so two
replicas on two machines agree on it: a change is seen at once in the process that made it and
within `refresh` seconds everywhere else (each process reads the row again at most that often).
Without one it is simply a number in this process (tests, one-off commands). A change raises the
stored number by one in a single UPDATE, so two processes that change things at once never hide
one another's change."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from models import CacheGeneration

REFRESH = 2.0  # seconds: how stale another replica's change may be when it is seen here


class Generation:
    def __init__(
        self,
        session_factory: sessionmaker[Session] | None = None,
        name: str = "",
        *,
        refresh: float = REFRESH,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.session_factory = session_factory
        self.name = name
        self.refresh = refresh
        self.clock = clock
        self._lock = threading.Lock()
        self._value = 0
        self._read_at: float | None = None

    @property
    def value(self) -> int:
        if self.session_factory is None:
            return self._value
        now = self.clock()
        if self._read_at is None or now - self._read_at >= self.refresh:
            with self.session_factory() as session:
                stored = session.scalar(
                    select(CacheGeneration.value).where(CacheGeneration.name == self.name)
                )
            with self._lock:
                self._value, self._read_at = int(stored or 0), now
        return self._value

    def change(self) -> int:
        """Mark a change; the new value (seen here at once, elsewhere within `refresh`)."""
        if self.session_factory is None:
            with self._lock:
                self._value += 1
                return self._value
        raise_it = (
            update(CacheGeneration)
            .where(CacheGeneration.name == self.name)
            .values(value=CacheGeneration.value + 1)
            .returning(CacheGeneration.value)
        )
        for _ in range(3):
            try:
                with self.session_factory.begin() as session:
                    value = session.scalar(raise_it)
                    if value is None:  # the first change of this name: its row is made
                        session.add(CacheGeneration(name=self.name, value=1))
                        value = 1
            except IntegrityError:  # another process made the row just now: raise it instead
                continue
            with self._lock:
                self._value, self._read_at = int(value), self.clock()
            return self._value
        raise RuntimeError(f"could not raise the cache generation {self.name!r}")
