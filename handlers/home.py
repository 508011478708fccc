"""App Home: published on `app_home_opened`."""

from __future__ import annotations

from typing import Any

from slack_bolt import App, BoltContext
from slack_sdk import WebClient

from bot.deps import Deps
from bot.views.home import home_view
from handlers.context import staff_of, t_of
from handlers.router import CommandRouter


def register(app: App, deps: Deps, router: CommandRouter) -> None:
    @app.event("app_home_opened")
    def on_home_opened(event: dict[str, Any], client: WebClient, context: BoltContext) -> None:
        if event.get("tab") != "home":
            return
        view = home_view(t_of(context), staff_of(context), command=deps.settings.vertais_command)
        client.views_publish(user_id=event["user"], view=view)
