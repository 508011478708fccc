"""Engine and session factory, the same code for SQLite and PostgreSQL (psycopg 3)."""

from __future__ import annotations

import time
import weakref
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import Session, sessionmaker

SQLITE_BUSY_TIMEOUT_MS = 10_000


def normalise_url(url: str) -> str:
    """Let `postgresql://` and `postgres://` mean psycopg 3, the driver we ship."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def create_engine_for(url: str, **kwargs: Any) -> Engine:
    url = normalise_url(url)
    # A database error's message never carries the statement's parameters: they are what people
    # typed (a visit's "learn", a decline's reason), and the message reaches the logs.
    kwargs.setdefault("hide_parameters", True)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        on_disk = bool(database) and database != ":memory:" and not str(database).startswith("file:")
        if on_disk:
            Path(str(database)).parent.mkdir(parents=True, exist_ok=True)
        # Connections are cheap but each new one runs the PRAGMAs: keep enough for every thread.
        kwargs.setdefault("pool_size", 20)
        kwargs.setdefault("max_overflow", 60)
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
            **kwargs,
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    # Enough kept open for the listener and server threads at once: a connection opened
    # beyond pool_size is closed on return, and opening one costs milliseconds.
    kwargs.setdefault("pool_size", 20)
    kwargs.setdefault("max_overflow", 30)
    engine = create_engine(url, **kwargs)
    if not kwargs.get("pool_pre_ping"):
        event.listen(engine, "connect", _note_idle)  # a new connection needs no ping
        event.listen(engine, "checkin", _note_idle)
        event.listen(engine, "checkout", _ping_if_idle(engine))
    return engine


PING_AFTER_IDLE = 5.0  # seconds
_IDLE_SINCE = "vertaisbot_idle_since"


def _note_idle(_dbapi_connection: Any, record: Any) -> None:
    record.info[_IDLE_SINCE] = time.monotonic()


def _ping_if_idle(engine: Engine) -> Any:
    """Pessimistic disconnect handling, as `pool_pre_ping` does, but only for a connection that
    has rested in the pool for PING_AFTER_IDLE seconds or more: after a database restart the
    first use of each old connection is caught, while a busy server does not pay a round trip to
    the database before every statement. (A connection broken within its last seconds of use
    fails that one request, as it would have with the ping too: the break can come just after.)"""

    def ping(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get(_IDLE_SINCE)
        if since is not None and time.monotonic() - since < PING_AFTER_IDLE:
            return
        try:
            alive = engine.dialect.do_ping(dbapi_connection)
        except Exception as exc:
            raise DisconnectionError() from exc
        if not alive:
            raise DisconnectionError()

    return ping


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy issue BEGIN itself (see _sqlite_begin), so that a write transaction
    # takes the database lock at its start and waits out the busy timeout instead of
    # failing half-way with "database is locked".
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()
    # SQLite's own lower() folds ASCII only; searches must treat Ä and ä alike, as PostgreSQL does.
    dbapi_connection.create_function("lower", 1, _lower, deterministic=True)


def _lower(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


def _sqlite_begin(connection: Any) -> None:
    options = connection.get_execution_options()
    if options.get(ONE_STATEMENT):
        return  # each statement its own transaction (read_connection)
    if options.get(READ_ONLY):
        connection.exec_driver_sql("BEGIN")
    else:
        # SQLite serves one process (bot.config.check_credentials); its writers queue in
        # SQLite's own busy handler, for up to SQLITE_BUSY_TIMEOUT_MS.
        connection.exec_driver_sql("BEGIN IMMEDIATE")


READ_ONLY = "vertaisbot_read_only"
ONE_STATEMENT = "vertaisbot_one_statement"


class UnitOfWorkSession(Session):
    """A session that reads with a plain BEGIN unless it was opened as a unit of work.

    `session_factory.begin()` (or `session.begin()`) marks a unit of work that may write: on
    SQLite it starts with BEGIN IMMEDIATE, taking the write lock at once and waiting out the busy
    timeout, so it can never fail half-way. A session used without `begin()` only reads and
    starts with a plain BEGIN, so readers never queue behind writers (WAL). PostgreSQL is the
    same either way.
    """

    writes = False

    def begin(self, nested: bool = False) -> Any:
        self.writes = True
        return super().begin(nested=nested)

    def get_bind(self, *args: Any, **kwargs: Any) -> Any:
        bind = super().get_bind(*args, **kwargs)
        if not self.writes and isinstance(bind, Engine) and bind.dialect.name == "sqlite":
            return _read_only(bind)
        return bind


_VARIANTS: weakref.WeakKeyDictionary[Engine, dict[tuple[tuple[str, Any], ...], Engine]] = (
    weakref.WeakKeyDictionary()
)


def _with_options(engine: Engine, **options: Any) -> Engine:
    """The same engine (same pool) with these execution options; one object per engine and
    options, because a session keeps one connection per bind object and a new object each time
    would check out a new connection for every statement."""
    variants = _VARIANTS.setdefault(engine, {})
    key = tuple(sorted(options.items()))
    found = variants.get(key)
    if found is None:
        found = variants.setdefault(key, engine.execution_options(**options))
    return found


def _read_only(engine: Engine) -> Engine:
    return _with_options(engine, **{READ_ONLY: True})


def read_connection(session_factory: sessionmaker[Session]) -> Connection:
    """A connection for one hot read that needs neither the ORM nor a transaction around it:
    `with read_connection(f) as c: c.execute(...)`. Each statement runs on its own (autocommit),
    so there is no BEGIN and no ROLLBACK to send; on SQLite it never queues behind writers."""
    engine = session_factory.kw["bind"]
    if engine.dialect.name == "sqlite":
        # SQLite's connections are in autocommit already (isolation_level None, see
        # _sqlite_pragmas): only the BEGIN that _sqlite_begin would send is left out. Switching
        # their isolation level would be undone at check-in with statements of its own.
        return _with_options(engine, **{ONE_STATEMENT: True}).connect()
    return _with_options(engine, isolation_level="AUTOCOMMIT").connect()


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False, class_=UnitOfWorkSession)
