"""`python -m bot [run|health|manifest|sweep|db upgrade|import libraries FILE|export writeups|report|
forget-user|export-user|link-account|teams [serve|package]]` (also the `vertaisbot` script). Serving is in bot/serving.py, what
every command shares (logging, the database, Slack reached once) in bot/startup.py."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.config import ConfigError, Settings
from bot.deps import utc_now
from bot.elsewhere import ElsewhereFactory
from bot.startup import configure_logging, fail, load_settings, open_database, reminder_sweeper

if TYPE_CHECKING:
    from services.people.chat_accounts import LinkResult


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(
        prog="python -m bot", description="vertaisbot: peer-learning visits in Slack"
    )
    commands = root.add_subparsers(dest="command")
    commands.add_parser("run", help="start the bot (the default)")
    commands.add_parser("health", help="exit 0 while the bot on this machine serves (for HEALTHCHECK)")
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
    link_account = commands.add_parser(
        "link-account", help="link a Teams account to a person's staff profile by hand (or --unlink)"
    )
    link_account.add_argument("account", help="the Teams user id (29:...) or the account's e-mail")
    link_account.add_argument("slack_id", help="the person's staff profile id (their Slack user id)")
    link_account.add_argument("--unlink", action="store_true", help="take the account off that profile")
    teams = commands.add_parser(
        "teams", help="Microsoft Teams: serve /api/messages, or build the app package"
    )
    teams.add_argument("action", nargs="?", choices=["serve", "package"], default="serve")
    teams.add_argument(
        "--output", type=Path, default=None, help="the package zip (default var/vertaisbot-teams.zip)"
    )
    return root


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        settings = load_settings()
    except ConfigError as exc:
        return fail(str(exc))
    configure_logging(settings.log_level, settings.log_format)
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
    if command == "link-account":
        return link_account_command(settings, args.account, args.slack_id, unlink=args.unlink)
    if command == "teams":
        return teams_command(settings, args.action, args.output)
    if command == "health":
        from bot.serving import health

        return health(settings)
    from bot.serving import run

    return run(settings, teams_outbound(settings))


def teams_outbound(settings: Settings) -> ElsewhereFactory | None:
    """The port to Teams for the Slack side's messages when Teams is configured (teams/cli.py);
    None for a Slack-only deployment, which never imports the Teams side."""
    if not (settings.teams_client_id or settings.teams_dev_insecure):
        return None
    from teams.cli import outbound_factory

    return outbound_factory(settings)


def slack_notifiers(settings: Settings) -> Callable[[Any, Any], tuple[Any, Any]]:
    """For the Teams endpoint's process: the visit notifier and write-up publisher over its
    session factory and port to Teams, so that a Teams person's change reaches Slack people too."""

    def make(session_factory: Any, elsewhere: Any) -> tuple[Any, Any]:
        from bot.app import install_notifiers, make_client
        from bot.deps import Deps

        deps = Deps(settings=settings, session_factory=session_factory)
        deps.extras["elsewhere"] = elsewhere
        install_notifiers(make_client(settings), deps)
        return deps.extras["visit_notifier"], deps.extras["writeup_publisher"]

    return make


def teams_command(settings: Settings, action: str, output: Path | None) -> int:
    """The Teams side (teams/cli.py), only here: the Slack bot never imports it."""
    from teams.cli import run

    try:
        return run(settings, action, output, open_database, slack_notifiers(settings))
    except ConfigError as exc:
        return fail(str(exc))


def db_command(settings: Settings, action: str) -> int:
    from models import create_engine_for
    from models.migrate import current_revision, head_revision, migration_lock, upgrade

    engine = create_engine_for(settings.database_url)
    if action == "upgrade":
        with migration_lock(engine):  # never at the same time as a starting replica's
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
    from services.money import report_files, reports

    try:
        _engine, session_factory = open_database(settings)
    except ConfigError as exc:
        return fail(str(exc))
    region_key = args.region or settings.default_region
    region_id = reports.region_id_of(session_factory, region_key)
    if region_id is None:
        return fail(f"no region {region_key!r}")
    t = translator(args.lang or settings.default_language)
    tz = settings.tz
    data = reports.report(session_factory, region_id, args.year, today=utc_now().astimezone(tz).date(), tz=tz)
    labels = csv_labels(t, year=args.year, region=data.region_name)
    content = report_files.to_csv(data, t.lang, labels)
    if str(args.csv) == "-":
        sys.stdout.buffer.write(content)
    else:
        args.csv.write_bytes(content)
        print(f"wrote {args.csv}: {data.total} visits in {args.year}")
    if args.chart:
        args.chart.write_bytes(report_files.chart_png(data, labels))
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


def link_account_command(settings: Settings, account: str, slack_id: str, *, unlink: bool) -> int:
    """Link a Teams account to a staff profile by hand (services/people/chat_accounts.py): one line
    for IT; a refusal (nothing changed) is said on stderr in English, exit code 1."""
    from bot.i18n import translator
    from services.common.errors import DomainError, InvalidInput
    from services.people import chat_accounts

    if not account.strip() or len(account) > 254:
        return fail(f"{account!r} is not a Teams user id (29:...) or an e-mail")
    if not slack_id.strip() or len(slack_id) > 32:
        return fail(f"{slack_id!r} is not a Slack user id")
    try:
        _engine, session_factory = open_database(settings)
    except ConfigError as exc:
        return fail(str(exc))
    operation = chat_accounts.unlink if unlink else chat_accounts.link
    try:
        result = operation(
            session_factory, platform="teams", account=account, person=slack_id, actor="cli", now=utc_now()
        )
    except DomainError as exc:
        key, params = exc.key, exc.params
        if isinstance(exc, InvalidInput) and exc.fields:
            key, params = next(iter(exc.fields.values()))
        print(f"vertaisbot: {translator('en')(key, **params)}", file=sys.stderr)
        return 1
    print(link_summary(result))
    return 0


def link_summary(result: LinkResult) -> str:
    name = f"{result.platform} account {result.user_id} (account #{result.account_id})"
    if result.action == "linked":
        line = f"linked {name} to {result.person}"
        if result.previous:
            line += f" (it was linked to {result.previous}"
            if result.removed_profile:
                line += ", an empty Teams-only profile, now removed"
            line += ")"
        return line
    if result.action == "unlinked":
        line = f"unlinked {name} from {result.previous}"
    elif result.person:
        return f"{name} was already linked to {result.person}: nothing changed"
    else:
        line = f"{name} was not linked: nothing changed"
    if result.relinks_to:
        line += (
            f"; note: its Entra id or e-mail matches {result.relinks_to}, so it is linked to that profile"
            " again at its next message (link it to the right person instead, or correct that profile)"
        )
    return line


def parse_now(value: str | None, settings: Settings) -> datetime:
    if not value:
        return utc_now()
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=settings.tz)
    return moment.astimezone(UTC)


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

    factory = teams_outbound(settings)
    elsewhere = factory(session_factory) if factory is not None else None
    run_sweep = reminder_sweeper(
        settings, session_factory, make_client(settings), clock=clock, elsewhere=elsewhere
    )
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


if __name__ == "__main__":
    sys.exit(main())
