"""`python -m bot teams [serve|package]`: serve the Teams endpoint (POST /api/messages) with
uvicorn on TEAMS_HOST:TEAMS_PORT, or build the app package zip. The SDK is imported only to serve,
so that `package` and the Slack bot work without the `teams` extra."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from bot.config import ConfigError, Settings

log = logging.getLogger("vertaisbot.teams")
DEFAULT_PACKAGE = Path("var") / "vertaisbot-teams.zip"
NO_EXTRA = "the Teams SDK is not installed: pip install '.[teams]' (or 'vertaisbot[teams]')"


def package(settings: Settings, output: Path | None) -> Path:
    from teams.package import build_package

    return build_package(settings, output or DEFAULT_PACKAGE)


def require_sdk() -> None:
    """ConfigError saying how to install the `teams` extra, when it is not installed."""
    try:
        import fastapi  # noqa: F401
        import microsoft_teams.apps  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError as exc:
        if (exc.name or "").split(".")[0] in ("microsoft_teams", "uvicorn", "fastapi"):
            raise ConfigError(NO_EXTRA) from None
        raise


def only_problems(record: logging.LogRecord) -> bool:
    return record.levelno >= logging.WARNING


def keep_sdk_quiet() -> None:
    """httpx logs every call's URL (the conversation's id) at INFO, and the SDK sets httpx's level
    to its own each time it makes a client: a filter (which it leaves alone) keeps httpx to
    problems. The SDK's own loggers stay at INFO or above whatever LOG_LEVEL says (at DEBUG they
    would log activities)."""
    httpx_logger = logging.getLogger("httpx")
    if only_problems not in httpx_logger.filters:
        httpx_logger.addFilter(only_problems)
    logging.getLogger("microsoft_teams").setLevel(max(logging.INFO, logging.getLogger().level))


Notifiers = Callable[[sessionmaker[Session], Any], tuple[Any, Any]]


def outbound_factory(settings: Settings) -> Callable[[sessionmaker[Session]], Any] | None:
    """What makes the port to Teams (teams/outbound.py) in a process of the Slack bot, or None
    when the Teams extra is not installed (then Teams people are not reached from there: logged)."""
    try:
        require_sdk()
    except ConfigError:
        log.warning("Teams is configured but its SDK is not installed: messages to Teams people wait")
        return None

    def make(session_factory: sessionmaker[Session]) -> Any:
        from teams.outbound import TeamsOutbound

        keep_sdk_quiet()
        return TeamsOutbound(settings, session_factory)

    return make


def serve(
    settings: Settings, session_factory: sessionmaker[Session], notifiers: Notifiers | None = None
) -> None:
    """Serve until SIGINT/SIGTERM (uvicorn's own handling). Raises ConfigError. `notifiers` makes
    the Slack side's visit notifier and write-up publisher over this process's port to Teams."""
    require_sdk()
    import uvicorn

    from teams.app import build_teams_app
    from teams.deps import TeamsDeps
    from teams.outbound import TeamsOutbound

    keep_sdk_quiet()

    async def main() -> None:
        outbound = TeamsOutbound(settings, session_factory)
        visit_notifier, writeup_publisher = (
            notifiers(session_factory, outbound) if notifiers else (None, None)
        )
        deps = TeamsDeps(
            session_factory=session_factory,
            default_language=settings.default_language,
            settings=settings,
            visit_notifier=visit_notifier,
            writeup_publisher=writeup_publisher,
        )
        bot = await build_teams_app(settings, deps)
        if settings.teams_dev_insecure:
            log.warning(
                "TEAMS_DEV_INSECURE=1: requests without a Bot Framework token are accepted (local trial only)"
            )
        config = uvicorn.Config(
            bot.asgi,
            host=settings.teams_host,
            port=settings.teams_port,
            log_config=None,  # our logging (bot.startup.configure_logging)
            access_log=False,  # no per-request line with client addresses; the guard logs refusals
            server_header=False,
        )
        log.info("teams endpoint on http://%s:%d/api/messages", settings.teams_host, settings.teams_port)
        await uvicorn.Server(config).serve()

    asyncio.run(main())


def run(
    settings: Settings,
    action: str,
    output: Path | None,
    open_database: Callable[[Settings], tuple[Any, sessionmaker[Session]]],
    notifiers: Notifiers | None = None,
) -> int:
    """The command's body; `open_database` connects and migrates (bot.startup.open_database)."""
    if action == "package":
        path = package(settings, output)
        print(f"wrote {path}: upload it in Teams (Apps > Manage your apps > Upload an app)")
        return 0
    require_sdk()
    _engine, session_factory = open_database(settings)
    serve(settings, session_factory, notifiers)
    return 0


__all__ = ["DEFAULT_PACKAGE", "outbound_factory", "package", "run", "serve"]
