"""`python -m bot [run|manifest|sweep|db upgrade|import libraries FILE|export writeups|report|forget-user|export-user]`
(also the `vertaisbot` script)."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.error import URLError

from pydantic import ValidationError
from slack_bolt.error import BoltError
from slack_sdk.errors import SlackApiError

from bot import request_log
from bot.config import ConfigError, Settings, check_credentials
from bot.deps import Deps, utc_now
from services.common.generation import Generation

EXIT_CONFIG = 2
log = logging.getLogger("vertaisbot")


def configure_logging(level: str) -> None:
    # One line per request is logged: skip what the format never shows (thread and process
    # names), as the logging HOWTO's "Optimization" section suggests.
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    logging.basicConfig(
        level=getattr(logging, level.upper(), logging.INFO),
        stream=sys.stdout,
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
    )
    request_log.keep_libraries_quiet(logging.getLogger().level)
    for chatty in ("alembic", "matplotlib"):  # migrations run, a chart is drawn: nothing to tell
        logging.getLogger(chatty).setLevel(logging.WARNING)
    request_log.quiet_server_queue()
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


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(
        prog="python -m bot", description="vertaisbot: peer-learning visits in Slack"
    )
    commands = root.add_subparsers(dest="command")
    commands.add_parser("run", help="start the bot (the default)")
    commands.add_parser("manifest", help="print the Slack app manifest (JSON)")
    db = commands.add_parser("db", help="database migrations")
    db.add_argument("action", choices=["upgrade", "current"])
    sweep = commands.add_parser(
        "sweep", help="send the reminders that are due, once, and print what was sent"
    )
    sweep.add_argument("--now", default=None, help="ISO 8601 time (local TIMEZONE if it has no offset)")
    imp = commands.add_parser("import", help="load region data")
    imp.add_argument("what", choices=["libraries"])
    imp.add_argument("file", type=Path)
    imp.add_argument("--region", default=None, help="region key (default: DEFAULT_REGION)")
    export = commands.add_parser("export", help="write the idea bank's write-ups for the newsletter")
    export.add_argument("what", choices=["writeups"])
    export.add_argument(
        "--since", required=True, type=date.fromisoformat, help="YYYY-MM-DD (published on or after)"
    )
    export.add_argument("--format", choices=["md", "html"], default="md", dest="fmt")
    export.add_argument("--output", type=Path, default=None, help="a file (default: standard output)")
    export.add_argument("--language", choices=["fi", "sv", "en"], default=None)
    rep = commands.add_parser("report", help="the yearly report as CSV (UTF-8 with BOM, ';', decimal comma)")
    rep.add_argument("--year", type=int, required=True)
    rep.add_argument("--csv", type=Path, required=True, help="the CSV file to write ('-' for stdout)")
    rep.add_argument("--region", default=None, help="region key (default: DEFAULT_REGION)")
    rep.add_argument("--lang", default=None, choices=["fi", "sv", "en"], help="language of the labels")
    rep.add_argument("--chart", type=Path, default=None, help="also write the chart as PNG")
    forget = commands.add_parser("forget-user", help="forget a person's personal data (keeps the numbers)")
    forget.add_argument("slack_id")
    export_user = commands.add_parser("export-user", help="print a person's data as JSON")
    export_user.add_argument("slack_id")
    return root


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        settings = load_settings()
    except ConfigError as exc:
        return fail(str(exc))
    configure_logging(settings.log_level)
    command = args.command or "run"
    if command == "manifest":
        from bot.manifest import manifest_json

        sys.stdout.write(manifest_json(settings))
        return 0
    if command == "db":
        return db_command(settings, args.action)
    if command == "sweep":
        return sweep_command(settings, args.now)
    if command == "export":
        return export_command(settings, args.since, args.fmt, args.output, args.language)
    if command == "import":
        return import_command(settings, args.file, args.region or settings.default_region)
    if command == "report":
        return report_command(settings, args)
    if command in ("forget-user", "export-user"):
        return person_command(settings, command, args.slack_id)
    return run(settings)


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


def db_command(settings: Settings, action: str) -> int:
    from models import create_engine_for
    from models.migrate import current_revision, head_revision, upgrade

    engine = create_engine_for(settings.database_url)
    if action == "upgrade":
        upgrade(engine)
    print(f"database at revision {current_revision(engine)} (head {head_revision()})")
    return 0


def export_command(
    settings: Settings, since: date, fmt: str, output: Path | None, language: str | None
) -> int:
    from bot.i18n import translator
    from bot.views.writeups import export_html, export_markdown
    from services.ideas.idea_search import for_export

    try:
        _engine, session_factory = open_database(settings)
    except ConfigError as exc:
        return fail(str(exc))
    t = translator(language or settings.default_language)
    with session_factory() as session:
        items = for_export(session, since)
    text = (export_html if fmt == "html" else export_markdown)(items, t, since)
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text, encoding="utf-8")
        print(f"{len(items)} write-ups written to {output}", file=sys.stderr)
    return 0


def import_command(settings: Settings, file: Path, region: str) -> int:
    from services.catalogue.libraries import import_libraries

    try:
        text = file.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        return fail(f"cannot read {file}: {exc}")
    try:
        _engine, session_factory = open_database(settings)
    except ConfigError as exc:
        return fail(str(exc))
    with session_factory.begin() as session:
        report = import_libraries(session, text, region_key=region, now=utc_now(), actor="cli")
    print(report.summary())
    return 1 if report.rejected else 0  # the good rows are loaded; a cron job still sees the bad ones


def report_command(settings: Settings, args: argparse.Namespace) -> int:
    from bot.i18n import translator
    from bot.views.desk import csv_labels
    from services.common import workdays
    from services.money import reports

    try:
        _engine, session_factory = open_database(settings)
    except ConfigError as exc:
        return fail(str(exc))
    region_key = args.region or settings.default_region
    region_id = reports.region_id_of(session_factory, region_key)
    if region_id is None:
        return fail(f"no region {region_key!r}")
    t = translator(args.lang or settings.default_language)
    data = reports.report(session_factory, region_id, args.year, today=workdays.local_today(utc_now()))
    labels = csv_labels(t)
    content = reports.to_csv(data, t.lang, labels)
    if str(args.csv) == "-":
        sys.stdout.buffer.write(content)
    else:
        args.csv.write_bytes(content)
        print(f"wrote {args.csv}: {data.total} visits in {args.year}")
    if args.chart:
        args.chart.write_bytes(reports.chart_png(data, labels))
    return 0


def person_command(settings: Settings, command: str, slack_id: str) -> int:
    import json

    from services.admin import personal_data

    if not slack_id.strip() or len(slack_id) > 32:
        return fail(f"{slack_id!r} is not a Slack user id")
    try:
        _engine, session_factory = open_database(settings)
    except ConfigError as exc:
        return fail(str(exc))
    if command == "export-user":
        data = personal_data.export(session_factory, slack_id, now=utc_now())
        print(json.dumps(data, ensure_ascii=False, indent=2))
        return 0
    pseudonym, rows = personal_data.forget(session_factory, slack_id, now=utc_now())
    print(f"forgot {slack_id}: {rows} rows now refer to {pseudonym}")
    return 0


def parse_now(value: str | None, settings: Settings) -> datetime:
    if not value:
        return utc_now()
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=settings.tz)
    return moment.astimezone(UTC)


def reminder_sweeper(
    settings: Settings,
    session_factory: Any,
    client: Any,
    *,
    notifier: Any = None,
    publisher: Any = None,
    suggestions: Any = None,
    clock: Callable[[], datetime] = utc_now,
) -> Callable[[datetime], Any]:
    """One sweep at a given time, wired to Slack: the scheduler and `sweep` both use it. The
    visit notifier delivers the visits' outbox rows (the app's own, or one built here)."""
    from bot.reminder_delivery import SlackReminderDelivery, visit_renderers
    from services.outbox import visit_outbox
    from services.outbox.reminders import sweep
    from services.visits import visit_reminders

    if notifier is None or publisher is None or suggestions is None:
        from bot.app import install_notifiers

        deps = Deps(settings=settings, session_factory=session_factory, clock=clock)
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
        senders={
            visit_outbox.SYNC: notifier.deliver_owed,
            visit_outbox.WRITEUP_SYNC: publisher.deliver_owed,
            visit_outbox.SUGGESTION_SYNC: suggestions.deliver_owed,
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
        )

    return run_sweep


def sweep_command(settings: Settings, now_text: str | None) -> int:
    try:
        now = parse_now(now_text, settings)
    except ValueError:
        return fail(f"--now must be an ISO 8601 time like 2027-03-15T09:00, not {now_text!r}")
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else ""
    if not token.startswith("xoxb-"):
        return fail("SLACK_BOT_TOKEN is not set: the sweep sends messages as the bot (see .env.example)")
    from bot.app import make_client

    try:
        _engine, session_factory = open_database(settings)
    except ConfigError as exc:
        return fail(str(exc))
    # The clock that stamps and takes over claims (a dead process's outbox row, a crashed
    # sweep's reminders) runs from --now when that is ahead of the machine's clock, so that an
    # operator can run a recovery at once with a --now past the claims' lifetime; a --now in the
    # past leaves it on the machine's clock (claims made by real time expire by real time).
    began = utc_now()

    def clock() -> datetime:
        wall = utc_now()
        return max(wall, now + (wall - began))

    run_sweep = reminder_sweeper(settings, session_factory, make_client(settings), clock=clock)
    result = run_sweep(now)
    # A sweep hands back what it could not reach within half a claim's lifetime; run from the
    # command line, go on while each pass still delivers something, so that all that is due goes.
    while result.deferred and not result.outage:
        more = run_sweep(now)
        if not (more.sent or more.retried or more.failed or more.cancelled or more.postponed or more.lost):
            result.deferred = more.deferred
            break
        for name in ("sent", "retried", "failed", "cancelled", "postponed", "lost"):
            getattr(result, name).extend(getattr(more, name))
        result.deferred, result.outage = more.deferred, more.outage
    print(result.summary())
    return 0


def start(settings: Settings, *, with_scheduler: bool = True) -> tuple[Any, Any, Any]:
    """The app, its database engine and the scheduler (None when off); a ConfigError when the
    database or Slack refuses."""
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

    run_sweep = reminder_sweeper(
        settings,
        session_factory,
        app.client,
        notifier=deps.extras.get("visit_notifier"),
        publisher=deps.extras.get("writeup_publisher"),
        suggestions=deps.extras.get("suggestion_notifier"),
    )
    jobs = [scheduler.Job("reminder-sweep", lambda: run_sweep(utc_now()), seconds=60)]
    on = settings.scheduler_enabled and with_scheduler
    return app, engine, scheduler.start(jobs, settings.timezone) if on else None


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


def serve_http(app: Any, engine: Any, settings: Settings, **where: Any) -> None:
    """Serve until SIGTERM: on HOST:PORT, or on the `sockets` a worker was given."""
    from bot.server import WsgiApp, create_server

    server = create_server(
        WsgiApp(app, engine, settings.signing_secret),
        threads=settings.http_threads,
        **where,
    )
    signal.signal(signal.SIGTERM, lambda *_: server.close())
    try:
        server.run()
    except OSError:
        pass  # closed by SIGTERM


def run(settings: Settings) -> int:
    try:
        check_credentials(settings)
    except ConfigError as exc:
        return fail(str(exc))
    if not settings.socket_mode and settings.http_processes > 1:
        return run_workers(settings)
    try:
        app, engine, background = start(settings)
    except ConfigError as exc:
        return fail(str(exc))
    try:
        if settings.socket_mode:
            from slack_bolt.adapter.socket_mode import SocketModeHandler

            assert settings.slack_app_token is not None
            log.info("starting in Socket Mode")
            signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
            try:
                SocketModeHandler(app, settings.slack_app_token.get_secret_value()).start()
            except SlackApiError as exc:
                return fail(
                    f"Slack did not accept SLACK_APP_TOKEN ({exc.response.get('error')}): it must be an "
                    "app-level token with the connections:write scope ('Basic Information' > 'App-Level Tokens')"
                )
        else:
            log.info("serving HTTP on %s:%s (POST /slack/events, GET /healthz)", settings.host, settings.port)
            serve_http(app, engine, settings, host=settings.host, port=settings.port)
    except KeyboardInterrupt:
        pass
    finally:
        if background is not None:
            background.shutdown(wait=False)
    return 0


def run_workers(settings: Settings) -> int:
    """HTTP mode in HTTP_PROCESSES worker processes (bot/processes.py)."""
    import socket

    from bot import processes

    try:
        engine, _ = open_database(settings)  # migrated and seeded once, before any worker starts
    except ConfigError as exc:
        return fail(str(exc))
    engine.dispose()  # no connection may be shared across the fork
    try:
        sock = processes.listen(settings.host, settings.port)
    except OSError as exc:
        return fail(f"cannot listen on {settings.host}:{settings.port} ({exc.strerror})")
    request_log.stop_background()  # nor a thread: each worker starts its own log writer
    # Everything a worker imports is imported here once and frozen out of the garbage
    # collector's reach, so that the workers share those pages instead of each copying them.
    import gc

    import bot.app  # noqa: F401

    gc.collect()
    gc.freeze()

    def worker(number: int, listening: socket.socket, ready: Callable[[], None]) -> int:
        request_log.write_in_background(logging.getLogger().handlers)
        try:
            app, engine, background = start(settings, with_scheduler=number == 0)
        except ConfigError as exc:
            return fail(str(exc))
        gc.freeze()  # what the worker built at its start is never collected either
        ready()
        try:
            serve_http(app, engine, settings, sockets=[listening])
        finally:
            if background is not None:
                background.shutdown(wait=False)
            request_log.stop_background()
        return 0

    log.info(
        "serving HTTP on %s:%s in %s processes (POST /slack/events, GET /healthz)",
        settings.host,
        settings.port,
        settings.http_processes,
    )
    return processes.serve(sock, settings.http_processes, worker)


if __name__ == "__main__":
    sys.exit(main())
