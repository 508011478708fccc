"""Global middleware: it only adds to the context (who is asking, in which language)."""

from __future__ import annotations

from collections.abc import Callable

from slack_bolt import Ack, App, BoltContext, BoltRequest, BoltResponse

from bot import replays
from bot.deps import Deps
from bot.i18n import translator
from services import staff


class StickyAck(Ack):
    """An ack whose answer, once given, stays given.

    When a listener raises after it has acked, Bolt 1.30's thread runner sets `ack.response`
    back to None; if that happens before the request thread has polled the ack (it polls every
    10 ms), Slack gets a 404 after 3 s although the listener had answered. Keeping the first
    answer makes the request's outcome what the listener said, and the error handler still
    tells the user about the failure.
    """

    @property
    def response(self) -> BoltResponse | None:
        return self.__dict__.get("_response")

    @response.setter
    def response(self, value: BoltResponse | None) -> None:
        if value is None and self.__dict__.get("_response") is not None:
            return
        self.__dict__["_response"] = value


def register(app: App, deps: Deps) -> None:
    replays.register(app, deps.replays)  # first: a replayed delivery gets the first answer, runs nothing

    @app.middleware
    def sticky_ack(context: BoltContext, next: Callable[[], None]) -> None:
        # Bolt has already made a plain Ack (it builds every middleware's arguments eagerly);
        # nobody has acked yet, so it can be swapped.
        if context.get("ack") is None or context["ack"].response is None:
            context["ack"] = StickyAck()
        next()

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
                cache=deps.staff_cache,
            )
            context["staff"] = me
            context["t"] = translator(me.language)
        else:
            context["t"] = translator(deps.settings.default_language)
        next()
