"""The Teams composition root: `build_teams_app(settings, deps)` gives the SDK's App, initialised
(its `/api/messages` route and token checks wired) but not serving, behind our inbound guard on a
FastAPI app of our own. No module-level App. `python -m bot teams` serves `TeamsBot.asgi` with
uvicorn (teams/cli.py); tests drive it in process through httpx's ASGI transport."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from fastapi import FastAPI
from microsoft_teams.api.auth.cloud_environment import PUBLIC, CloudEnvironment
from microsoft_teams.api.auth.credentials import TokenProvider
from microsoft_teams.apps import App, AppOptions, FastAPIAdapter

from bot.config import Settings
from teams import handlers
from teams.deps import TeamsDeps
from teams.guard import InboundGuard
from teams.ics_links import register_ics_route
from teams.settings import resolve

MESSAGING_ENDPOINT = "/api/messages"


@dataclass(frozen=True)
class TeamsBot:
    app: App
    asgi: FastAPI  # the guard, then the SDK's route


def sdk_app(
    settings: Settings,
    web: FastAPI,
    *,
    cloud: CloudEnvironment | None = None,
    token: TokenProvider | None = None,
    environ: Mapping[str, str] | None = None,
) -> tuple[App, bool]:
    """The SDK's App with our settings as its options (never its own environment variables), its
    HTTP routes on `web`; and whether unauthenticated requests are allowed (dev mode)."""
    credentials = resolve(
        settings, os.environ if environ is None else environ, has_token_provider=token is not None
    )
    options: AppOptions = {
        "dangerously_allow_unauthenticated_requests": credentials.insecure,
        "http_server_adapter": FastAPIAdapter(app=web),
        "messaging_endpoint": MESSAGING_ENDPOINT,
        "service_url": credentials.service_url,
        "cloud": cloud or PUBLIC,
    }
    if credentials.client_id:
        options["client_id"] = credentials.client_id
    if credentials.client_secret:
        options["client_secret"] = credentials.client_secret
    if credentials.tenant_id:
        options["tenant_id"] = credentials.tenant_id
    if token is not None:
        options["token"] = token
    return App(**options), credentials.insecure


async def build_teams_app(
    settings: Settings,
    deps: TeamsDeps,
    *,
    cloud: CloudEnvironment | None = None,
    token: TokenProvider | None = None,
    environ: Mapping[str, str] | None = None,
) -> TeamsBot:
    """The Teams bot over `deps`. `cloud` points the token checks elsewhere (tests: a loopback key
    set); `token` replaces MSAL's client-credentials flow (tests: any syntactically valid JWT).
    Raises bot.config.ConfigError when the settings would let the SDK's environment decide."""
    web = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    register_ics_route(web, settings, deps)  # GET /ics/{token}: calendar invites as links
    app, insecure = sdk_app(settings, web, cloud=cloud, token=token, environ=environ)
    handlers.register(app, deps)
    await app.initialize()
    web.add_middleware(InboundGuard, path=MESSAGING_ENDPOINT, require_bearer=not insecure)
    return TeamsBot(app, web)
