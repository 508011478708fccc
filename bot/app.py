"""build_app(settings, deps, client=None) -> App: the Bolt app with every listener registered."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

from slack_bolt import App, BoltRequest, BoltResponse
from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import ConnectionErrorRetryHandler

from bot import errors, ids, middleware, replays
from bot.config import Settings
from bot.deps import Deps
from bot.directory import SlackDirectory
from bot.elsewhere import Elsewhere
from bot.notifier import SlackVisitNotifier
from bot.request_log import bolt_logger, log_request
from bot.suggestion_notifier import SlackSuggestionNotifier
from bot.writeup_publisher import SlackWriteUpPublisher
from handlers import decide as decide_feature
from handlers import desk as desk_feature
from handlers import find as find_feature
from handlers import help as help_feature
from handlers import home as home_feature
from handlers import mine as mine_feature
from handlers import offer as offer_feature
from handlers import privacy as privacy_feature
from handlers import propose as propose_feature
from handlers import reminders as reminders_feature
from handlers import settings as settings_feature
from handlers import soon
from handlers import topics as topics_feature
from handlers import writeups as writeups_feature
from handlers.router import CommandRouter


class VertaisApp(App):
    """Bolt's App with one log line per request (works for HTTP and Socket Mode alike), the
    answer of each first delivery kept for its replays (bot/replays.py), and the answer a
    listener gave kept even when it failed after giving it.

    Bolt's thread runner (1.x) shares its answer object with the listener's thread: a listener
    that raises after its ack (a refusal told politely by the error handler) sets that object's
    status to 500, possibly after the request thread returned it and before the server sent
    it. So what goes to Slack is a copy, taken at once, of the answer the listener gave (its
    StickyAck, bot/middleware.py, holds it), or of Bolt's answer when there was no ack."""

    replay_cache: replays.Replays | None = None
    listener_pool: ThreadPoolExecutor | None = None  # the listener_executor given to Bolt

    def dispatch(self, req: BoltRequest) -> BoltResponse:
        started = time.perf_counter()
        response: BoltResponse | None = None
        try:
            answered = super().dispatch(req)
            acked = req.context.get("ack")
            given = acked.given if isinstance(acked, middleware.StickyAck) else None
            # A copy, taken now: the listener's thread may still change Bolt's object.
            chosen = given or answered
            response = BoltResponse(status=chosen.status, body=chosen.body, headers=dict(chosen.headers))
            return response
        finally:
            if self.replay_cache is not None:
                replays.finish(self.replay_cache, req, response)
            log_request(req, response, (time.perf_counter() - started) * 1000)


def make_client(settings: Settings) -> WebClient:
    """The one place where the bot's Web API clients are made: slack_sdk's WebClient with its
    own transport and its own retry handler for connection errors (retried once). Rate limits
    and server errors are not retried inside a request: the outbox retries them later, after
    Slack's `Retry-After`, in whichever process sweeps next (bot/notifier.py); posts, which
    must never go twice, are made by a copy without retries (the notifiers' `poster`)."""
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None
    return WebClient(
        token=token,
        base_url=settings.slack_api_url,
        timeout=settings.slack_timeout,  # type: ignore[arg-type]  # urllib takes fractions too
        retry_handlers=[ConnectionErrorRetryHandler(max_retry_count=1)],
    )


def elsewhere_of(deps: Deps) -> Elsewhere | None:
    """Where the people not on Slack are reached (Teams), when the composition root gave it."""
    return deps.extras.get("elsewhere")  # type: ignore[return-value]


def install_notifiers(client: WebClient, deps: Deps) -> None:
    """The three Slack notifiers of the outbox (visits, write-ups, topic suggestions) in
    `deps.extras`, unless a test put its own there: the app's listeners and the reminder sweep
    (`python -m bot` and `python -m bot sweep`) use the same ones."""
    settings = deps.settings
    if deps.directory is None:
        deps.directory = SlackDirectory(client)
    deps.extras.setdefault(
        "visit_notifier",
        SlackVisitNotifier(
            client,
            deps.session_factory,
            coordinators=desk_feature.LiveCoordinators(deps),
            default_language=settings.default_language,
            clock=deps.now,
            directory=deps.directory,
            elsewhere=elsewhere_of(deps),
        ),
    )
    deps.extras.setdefault(
        "writeup_publisher",
        SlackWriteUpPublisher(
            client,
            deps.session_factory,
            channel=settings.idea_bank_channel,
            coordinators=settings.coordinator_user_ids,
            default_language=settings.default_language,
            directory=deps.directory,
            clock=deps.now,
            tz=settings.tz,
            elsewhere=elsewhere_of(deps),
            teams_channel=settings.teams_idea_bank_conversation,
        ),
    )
    deps.extras.setdefault(
        "suggestion_notifier",
        SlackSuggestionNotifier(
            client,
            deps.session_factory,
            coordinators=settings.coordinator_user_ids,
            default_language=settings.default_language,
            clock=deps.now,
        ),
    )


def build_app(settings: Settings, deps: Deps, client: WebClient | None = None) -> App:
    client = client or make_client(settings)
    secret = settings.signing_secret
    listeners = ThreadPoolExecutor(max_workers=settings.listener_threads, thread_name_prefix="listener")
    app = VertaisApp(
        client=client,
        signing_secret=secret,
        request_verification_enabled=not settings.socket_mode or bool(secret),
        listener_executor=listeners,
        raise_error_for_unhandled_request=False,
        logger=bolt_logger(),
    )
    # Work a listener leaves for after its answer runs on the pool too. Looked up at each call,
    # so that whoever wraps the pool's submit (the replay tests) sees this work.
    deps.extras.setdefault("background", lambda work: listeners.submit(work))
    if deps.directory is None:
        # The locale look-up runs before the ack: give it little time, no retries; on failure
        # the person is answered in the default language and looked up again next time.
        lookup = WebClient(token=client.token, base_url=client.base_url, timeout=2, retry_handlers=[])
        deps.directory = SlackDirectory(lookup)
    app.replay_cache = deps.replays
    app.listener_pool = listeners
    errors.register(app, deps)
    middleware.register(app, deps)
    router = CommandRouter(deps)
    # Bolt tries listeners in the order they were registered: the one command comes first
    # (subcommands are looked up when a command arrives, so features may add them later).
    router.register(app)
    install_notifiers(client, deps)
    for feature in (
        help_feature,
        settings_feature,
        home_feature,
        propose_feature,
        decide_feature,
        mine_feature,
        find_feature,
        offer_feature,
        topics_feature,
        writeups_feature,
        reminders_feature,
        desk_feature,
        privacy_feature,
    ):
        feature.register(app, deps, router)
    claimed = {ids.OPEN_PROPOSE, ids.PROPOSE_HOST, ids.OPEN_MINE, ids.OPEN_FIND, ids.OPEN_OFFER}
    claimed |= {ids.OPEN_IDEAS, ids.WRITEUP_OPEN}
    claimed |= reminders_feature.CLAIMED
    claimed |= desk_feature.CLAIMED
    soon.register(app, deps, router, claimed=claimed)
    return app
