"""What every way of running the bot shares: logging, settings, the database (migrated and
seeded), Slack reached once, and one process's running parts (`start`: the app, its scheduler,
its listener pool) with how they let go at shutdown (`Running.close`)."""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.error import URLError

from pydantic import ValidationError
from slack_bolt.error import BoltError
from slack_sdk.errors import SlackApiError

from bot import request_log
from bot.config import ConfigError, Settings
from bot.deps import Deps, utc_now
from bot.elsewhere import ElsewhereFactory
from services.common.generation import Generation

EXIT_CONFIG = 2
log = logging.getLogger("vertaisbot")

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"


def configure_logging(level: str, fmt: str = "text") -> None:
    """Every line to standard output: readable text, or with LOG_FORMAT=json one JSON object per
    line (python-json-logger; a traceback stays inside its record's `exc_info`)."""
    # One line per request is logged: skip what the format never shows (thread and process
    # names), as the logging HOWTO's "Optimization" section suggests.
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    handler = logging.StreamHandler(sys.stdout)
    if fmt == "json":
        from pythonjsonlogger.json import JsonFormatter

        handler.setFormatter(
            JsonFormatter(TEXT_FORMAT, rename_fields={"asctime": "time", "levelname": "level"})
        )
    else:
        handler.setFormatter(logging.Formatter(TEXT_FORMAT))
    logging.basicConfig(level=getattr(logging, level.upper(), logging.INFO), handlers=[handler], force=True)
    request_log.keep_libraries_quiet(logging.getLogger().level)
    for chatty in ("alembic", "matplotlib"):  # migrations run, a chart is drawn: nothing to tell
        logging.getLogger(chatty).setLevel(logging.WARNING)
    request_log.write_in_background(logging.getLogger().handlers)


def load_settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        first = exc.errors()[0]
        name = str(first["loc"][0]).upper() if first.get("loc") else "a setting"
        raise ConfigError(f"{name} is malformed: {first['msg']} (see .env.example)") from None


def fail(message: str) -> int:
    print(f"vertaisbot: {message}", file=sys.stderr)
    return EXIT_CONFIG


def open_database(settings: Settings):  # noqa: ANN201 - returns (engine, session_factory)
    """Connect, migrate and (once) seed; a database that cannot be reached is a ConfigError."""
    from sqlalchemy.exc import ArgumentError, OperationalError

    from models import create_engine_for, make_session_factory
    from models.migrate import migration_lock, upgrade
    from services.catalogue.seed import ensure_seeded

    try:
        engine = create_engine_for(settings.database_url)
        session_factory = make_session_factory(engine)
        with migration_lock(engine):  # replicas starting together migrate and seed one at a time
            upgrade(engine)
            ensure_seeded(session_factory, now=utc_now(), region_key=settings.default_region)
    except (OperationalError, ArgumentError) as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        raise ConfigError(f"DATABASE_URL cannot be used: {reason}") from None
    return engine, session_factory


def reminder_sweeper(
    settings: Settings,
    session_factory: Any,
    client: Any,
    *,
    notifier: Any = None,
    publisher: Any = None,
    suggestions: Any = None,
    clock: Callable[[], datetime] = utc_now,
    stopping: Callable[[], bool] = lambda: False,
    elsewhere: Any = None,
) -> Callable[[datetime], Any]:
    """One sweep at a given time, wired to Slack: the scheduler and `sweep` both use it. The
    visit notifier delivers the visits' outbox rows (the app's own, or one built here); once
    `stopping()` the sweep hands back what it has not sent yet."""
    from bot.reminder_delivery import SlackReminderDelivery, visit_renderers
    from services.outbox import visit_outbox
    from services.outbox.reminders import sweep
    from services.visits import substitution, visit_reminders

    if notifier is None or publisher is None or suggestions is None:
        from bot.app import install_notifiers

        deps = Deps(settings=settings, session_factory=session_factory, clock=clock)
        if elsewhere is not None:  # the people reached in Teams (bot/elsewhere.py)
            deps.extras["elsewhere"] = elsewhere
        install_notifiers(client, deps)
        notifier = notifier or deps.extras["visit_notifier"]
        publisher = publisher or deps.extras["writeup_publisher"]
        suggestions = suggestions or deps.extras["suggestion_notifier"]
    visit_reminders.configure(coordinators=settings.coordinator_user_ids, tz=settings.tz)
    kinds = visit_reminders.kinds()
    delivery = SlackReminderDelivery(
        client,
        session_factory,
        default_language=settings.default_language,
        renderers=visit_renderers(session_factory),
        elsewhere=getattr(notifier, "elsewhere", None),
        senders={
            visit_outbox.SYNC: notifier.deliver_owed,
            visit_outbox.WRITEUP_SYNC: publisher.deliver_owed,
            visit_outbox.SUGGESTION_SYNC: suggestions.deliver_owed,
            substitution.SUBSTITUTE_SYNC: lambda row: substitution.sync_period(session_factory, row, clock()),
        },
    )

    def run_sweep(now: datetime) -> Any:
        return sweep(
            session_factory,
            delivery,
            now=now,
            tz=settings.tz,
            kinds=kinds,
            coordinators=settings.coordinator_user_ids,
            clock=clock,
            claim_ttl=timedelta(seconds=settings.reminder_claim_seconds),
            stopping=stopping,
        )

    return run_sweep


@dataclass
class Running:
    """One process's bot: what `start` built and what `close` lets go of."""

    app: Any
    engine: Any
    scheduler: Any = None
    stopping: threading.Event = field(default_factory=threading.Event)

    def close(self, within: float = 8.0) -> None:
        """Stop in order, within about `within` seconds: a sweep under way hands back the
        reminders it has not sent (released, not left to expire), the scheduler ends, the
        listeners finish the work they took (a post after an ack), the database lets go."""
        self.stopping.set()
        done = threading.Event()

        def stop() -> None:
            if self.scheduler is not None:
                self.scheduler.shutdown(wait=True)
            pool = getattr(self.app, "listener_pool", None)
            if pool is not None:
                pool.shutdown(wait=True)
            done.set()

        threading.Thread(target=stop, name="shutdown", daemon=True).start()
        if not done.wait(within):
            log.warning("stopping: work still under way after %.0f s is left unfinished", within)
        self.engine.dispose()


def start(
    settings: Settings, *, with_scheduler: bool = True, elsewhere: ElsewhereFactory | None = None
) -> Running:
    """The app, its database engine and the scheduler (when on); a ConfigError when the
    database or Slack refuses. `elsewhere` makes the port to Teams (the composition root's, when
    Teams is configured), so that this process's messages reach the people who are there."""
    from bot.app import build_app
    from services.people.staff import StaffCache

    engine, session_factory = open_database(settings)
    # In the database, so that every process and replica drops its cached copies within seconds.
    profiles = Generation(session_factory, "profiles")
    coordinators = Generation(session_factory, "coordinators")
    deps = Deps(
        settings=settings,
        session_factory=session_factory,
        staff_cache=StaffCache(generation=profiles),
        coordinator_changes=coordinators,
    )
    if elsewhere is not None:
        deps.extras["elsewhere"] = elsewhere(session_factory)
    reach_slack(settings)
    try:
        app = build_app(settings, deps)
    except (URLError, OSError) as exc:  # reached a moment ago, gone now
        raise ConfigError(unreachable(settings, exc)) from None
    except BoltError as exc:
        raise ConfigError(f"Slack did not accept SLACK_BOT_TOKEN ({exc}); check the token in .env") from None
    except SlackApiError as exc:
        raise ConfigError(
            f"Slack did not accept SLACK_BOT_TOKEN ({exc.response.get('error')}); check the token in .env"
        ) from None

    import scheduler

    running = Running(app, engine)
    run_sweep = reminder_sweeper(
        settings,
        session_factory,
        app.client,
        notifier=deps.extras.get("visit_notifier"),
        publisher=deps.extras.get("writeup_publisher"),
        suggestions=deps.extras.get("suggestion_notifier"),
        stopping=running.stopping.is_set,
    )
    if settings.scheduler_enabled and with_scheduler:
        # The first sweep at once: what fell due while the bot was down goes out now.
        jobs = [scheduler.Job("reminder-sweep", lambda: run_sweep(utc_now()), seconds=60, at_start=True)]
        running.scheduler = scheduler.start(jobs, settings.timezone)
    return running


def reach_slack(settings: Settings) -> None:
    """One auth.test, with no retries and nothing logged, before the app is built: a Slack that
    cannot be reached (no network, a wrong SLACK_API_URL) is a ConfigError of one line, not
    slack_sdk's retries and a traceback. Bolt asks auth.test again as it builds the app."""
    from slack_sdk import WebClient

    quiet = logging.getLogger("vertaisbot.startup")
    quiet.propagate = False  # what failed is said once, in the ConfigError
    if not quiet.handlers:
        quiet.addHandler(logging.NullHandler())
    client = WebClient(
        token=settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None,
        base_url=settings.slack_api_url,
        timeout=settings.slack_timeout,  # type: ignore[arg-type]  # urllib takes fractions too
        retry_handlers=[],
        logger=quiet,
    )
    try:
        client.auth_test()
    except SlackApiError as exc:
        raise ConfigError(
            f"Slack did not accept SLACK_BOT_TOKEN ({exc.response.get('error')}); check the token in .env"
        ) from None
    except (URLError, OSError) as exc:
        raise ConfigError(unreachable(settings, exc)) from None


def unreachable(settings: Settings, exc: Exception) -> str:
    reason = getattr(exc, "reason", None) or exc
    return (
        f"cannot reach Slack at {settings.slack_api_url} ({reason}); check the machine's network "
        "connection (and proxy) and SLACK_API_URL in .env"
    )
