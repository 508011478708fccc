"""Global middleware: it only adds to the context (who is asking, in which language)."""

from __future__ import annotations

from collections.abc import Callable

from slack_bolt import App, BoltContext, BoltRequest

from bot.deps import Deps
from bot.i18n import translator
from services import staff


def register(app: App, deps: Deps) -> None:
    @app.middleware
    def identify(context: BoltContext, req: BoltRequest, next: Callable[[], None]) -> None:
        user_id = context.user_id
        if user_id:
            me = staff.identify(
                deps.session_factory,
                deps.directory,
                user_id,
                now=deps.now(),
                default_language=deps.settings.default_language,
            )
            context["staff"] = me
            context["t"] = translator(me.language)
        else:
            context["t"] = translator(deps.settings.default_language)
        next()
