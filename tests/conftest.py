"""Shared fixtures: the database (SQLite by default, PostgreSQL with TEST_DATABASE_URL), the fake
Slack Web API, a controllable clock, and the real bot served over HTTP (by waitress, in this process)."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import waitress
from slack_bolt import App
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from bot.app import build_app
from bot.authenticity import MAX_BODY
from bot.config import Settings
from bot.deps import Deps
from bot.server import WsgiApp
from models import Base, create_engine_for, make_session_factory
from models.migrate import upgrade
from services.catalogue.libraries import LibraryNames
from services.catalogue.seed import ensure_seeded
from services.people.staff import StaffCache
from tests.fakes.slack_api import FakeSlackApi
from tests.fakes.slack_requests import SlackClient

SECRET = "test-signing-secret"
HELSINKI_NOON = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)  # a Tuesday, 12:00 in Helsinki
COORDINATOR = "U0COORD"


def pytest_configure(config: pytest.Config) -> None:
    if os.environ.get("CI", "").lower() == "true" and not os.environ.get("TEST_DATABASE_URL"):
        raise pytest.UsageError(
            "CI=true needs TEST_DATABASE_URL: the PostgreSQL tests must not be skipped in CI"
        )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if is_postgres():
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL: set TEST_DATABASE_URL")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


def is_postgres() -> bool:
    return os.environ.get("TEST_DATABASE_URL", "").startswith("postgres")


@pytest.fixture(scope="session")
def db_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        return url
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"


@pytest.fixture(scope="session")
def engine(db_url: str) -> Iterator[Engine]:
    engine = create_engine_for(db_url)
    if engine.dialect.name == "postgresql":
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
    upgrade(engine)
    yield engine
    engine.dispose()


def wipe(engine: Engine) -> None:
    tables = [table.name for table in Base.metadata.sorted_tables]
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            for name in reversed(tables):
                connection.execute(text(f"DELETE FROM {name}"))


class Clock:
    def __init__(self, now: datetime = HELSINKI_NOON) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def session_factory(engine: Engine, clock: Clock) -> sessionmaker[Session]:
    wipe(engine)
    factory = make_session_factory(engine)
    ensure_seeded(factory, now=clock(), region_key="savo")
    return factory


@pytest.fixture(scope="session")
def fake_slack() -> Iterator[FakeSlackApi]:
    fake = FakeSlackApi()
    yield fake
    fake.close()


@pytest.fixture
def slack_api(fake_slack: FakeSlackApi) -> FakeSlackApi:
    fake_slack.reset()
    return fake_slack


def make_settings(db_url: str, api_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "slack_bot_token": "xoxb-test-token",
        "slack_signing_secret": SECRET,
        "slack_api_url": api_url,
        "database_url": db_url,
        "coordinator_user_ids": COORDINATOR,
        "scheduler_enabled": False,
        "idea_bank_channel": "C0IDEAS",
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@dataclass
class Bot:
    """The real bot behind its production HTTP server, with what tests need to drive it."""

    slack: SlackClient
    api: FakeSlackApi
    deps: Deps
    clock: Clock
    url: str
    app: App | None = None

    @property
    def session_factory(self) -> sessionmaker[Session]:
        return self.deps.session_factory


def serve_until_closed(server: Any) -> None:
    try:
        server.run()
    except OSError:  # closing the server's sockets ends its poll loop this way
        pass


@pytest.fixture
def bot_settings() -> dict[str, Any]:
    """Settings the `bot` fixture overrides (a test module may override this fixture)."""
    return {}


@pytest.fixture
def bot(
    db_url: str,
    engine: Engine,
    session_factory: sessionmaker[Session],
    slack_api: FakeSlackApi,
    clock: Clock,
    bot_settings: dict[str, Any],
) -> Iterator[Bot]:
    settings = make_settings(db_url, slack_api.url, **bot_settings)
    # No profile caching in end-to-end tests: they change profiles behind the bot's back.
    deps = Deps(
        settings=settings, session_factory=session_factory, clock=clock, staff_cache=StaffCache(timedelta(0))
    )
    deps.library_names = LibraryNames(session_factory, ttl=0)  # nor of the library list
    app = build_app(settings, deps)
    # In this process, so that the test drives the bot's clock: waitress, a WSGI server that
    # serves from a thread (production's gunicorn runs the same WsgiApp in worker processes).
    server = waitress.create_server(
        WsgiApp(app, engine, SECRET),
        host="127.0.0.1",
        port=0,
        threads=settings.http_threads,
        max_request_body_size=MAX_BODY,  # waitress reads a body before the app sees it
    )
    thread = threading.Thread(target=serve_until_closed, args=(server,), daemon=True)
    thread.start()
    port = server.effective_port
    url = f"http://127.0.0.1:{port}"
    slack_api.calls.clear()  # auth.test at construction is not part of any test
    yield Bot(
        SlackClient(f"{url}/slack/events", SECRET, slack_api.response_url()),
        slack_api,
        deps,
        clock,
        url,
        app,
    )
    server.close()
    thread.join(timeout=5)
    server.task_dispatcher.shutdown()  # waitress's close() leaves its request threads running
    # Let the listeners' work after their acks end here, so that none of it reaches the fake
    # Slack API during the next test (Bolt keeps its executor on the listener runner).
    app.listener_pool.shutdown(wait=True)


@pytest.fixture
def repo_root() -> Path:
    return Path(__file__).parent.parent
