"""Driving the real Teams app in process: built by `build_teams_app` against the `teamssim`
key set and connector, requests through httpx's ASGI transport (no port, no uvicorn)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

import httpx
from sqlalchemy.orm import Session, sessionmaker

from bot.config import Settings
from teams.app import TeamsBot, build_teams_app
from teams.deps import TeamsDeps
from tests.conftest import Clock


def teams_settings(sim: Any, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "slack_bot_token": "xoxb-test-token",
        "teams_client_id": sim.client_id,
        "teams_tenant_id": sim.tenant_id,
        "teams_service_url": sim.service_url,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def run(scenario: Callable[..., Coroutine[Any, Any, Any]], *args: Any, **kwargs: Any) -> Any:
    return asyncio.run(scenario(*args, **kwargs))


async def build(sim: Any, session_factory: sessionmaker[Session], clock: Clock, **overrides: Any) -> TeamsBot:
    settings = teams_settings(sim, **overrides)
    deps = TeamsDeps(session_factory=session_factory, clock=clock, settings=settings)
    return await build_teams_app(settings, deps, cloud=sim.cloud, token=sim.app_token)


def client(bot: TeamsBot) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=bot.asgi), base_url="http://teams.test")
