"""build_app(settings, deps, client=None) -> App: the Bolt app with every listener registered."""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from slack_bolt import App, BoltRequest, BoltResponse
from slack_bolt.listener import Listener
from slack_bolt.listener.thread_runner import ThreadListenerRunner
from slack_bolt.listener_matcher import ListenerMatcher
from slack_bolt.listener_matcher.builtins import BuiltinListenerMatcher
from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import ConnectionErrorRetryHandler

from bot import errors, ids, middleware, replays
from bot.config import Settings
from bot.deps import Deps
from bot.directory import SlackDirectory
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
from handlers import propose as propose_feature
from handlers import reminders as reminders_feature
from handlers import settings as settings_feature
from handlers import soon
from handlers import topics as topics_feature
from handlers import writeups as writeups_feature
from handlers.router import CommandRouter


class VertaisApp(App):
    """Bolt's App with one log line per request (works for HTTP and Socket Mode alike), and the
    answer of each first delivery kept for its replays (bot/replays.py)."""

    replay_cache: replays.ReplayCache | None = None

    def dispatch(self, req: BoltRequest) -> BoltResponse:
        started = time.perf_counter()
        response: BoltResponse | None = None
        try:
            response = super().dispatch(req)
            return response
        finally:
            if self.replay_cache is not None:
                replays.finish(self.replay_cache, req, response)
            log_request(req, response, (time.perf_counter() - started) * 1000)


class BodyMatcher(ListenerMatcher):
    """A built-in matcher (`action_id == ...`, `callback_id == ...`) called with the body only.

    Bolt checks every registered listener's matchers in turn, and each built-in matcher first
    builds the full set of listener arguments (about 30 entries, the payload parsed several
    times) just to pass it `body`. With our ~60 listeners that was half a millisecond of CPU per
    request, more than the bare app's whole request; this calls the same function directly.
    """

    def __init__(self, original: BuiltinListenerMatcher) -> None:
        self.func = original.func

    def matches(self, req: BoltRequest, resp: BoltResponse) -> bool:
        return bool(self.func(req.body))


class SelectiveRunner(ThreadListenerRunner):
    """Bolt's listener runner, except that a request whose listener does all its work before its
    ack (typeahead, help) runs on the request thread itself.

    Bolt (without `process_before_response`) runs every listener on its thread pool and the
    request thread waits for the ack; for a listener that only computes its answer, that
    hand-over between two threads costs more than the answer. Everything else (a listener with
    work after its ack: Slack calls, messages) still runs on the pool, so the answer goes back
    as soon as it is acked.

    A request whose ack says nothing is answered before its listener even starts, as Bolt does
    for events: every button press (Slack ignores the body of a `block_actions` ack) and the
    subcommands whose first step is a bare ack (`ack_first_if`). Its answer then never waits
    for a free pool thread; the listener's own ack() later changes nothing, and a failure is
    told to the person as any failure after an ack is."""

    def __init__(
        self,
        threaded: ThreadListenerRunner,
        *,
        inline_if: Callable[[BoltRequest], bool],
        ack_first_if: Callable[[BoltRequest], bool],
    ) -> None:
        self.__dict__.update(threaded.__dict__)
        self.threaded = threaded
        self.inline_if = inline_if
        self.ack_first_if = ack_first_if
        self.inline = copy.copy(threaded)
        self.inline.process_before_response = True

    def run(
        self,
        request: BoltRequest,
        response: BoltResponse,
        listener_name: str,
        listener: Listener,
        starting_time: float | None = None,
    ) -> BoltResponse | None:
        if not request.lazy_only and self.inline_if(request):
            ack = request.context.ack
            if isinstance(ack, middleware.StickyAck):
                ack.answer_without_waiting()  # the listener has run when its answer is read
            return self.inline.run(request, response, listener_name, listener, starting_time)
        if not request.lazy_only and (
            (request.body or {}).get("type") == "block_actions" or self.ack_first_if(request)
        ):
            ack = request.context.ack
            ack()
            answer = ack.response
            if listener.lazy_functions:  # none of ours has any; Bolt's runner knows them
                self.threaded.run(request, response, listener_name, listener, starting_time)
                return answer
            self.listener_executor.submit(self._run_acked, request, listener)
            return answer
        return self.threaded.run(request, response, listener_name, listener, starting_time)

    def _run_acked(self, request: BoltRequest, listener: Listener) -> None:
        """Run a listener whose answer has gone: a failure is told by the error handler (with no
        response to fill, it writes to the person). Bolt's own runner shares its answer variable
        with the listener's thread and could, for a moment, answer 500 while a listener failed."""
        try:
            self.listener_start_handler.handle(request=request, response=None)
            listener.run_ack_function(request=request, response=None)  # type: ignore[arg-type]
        except Exception as error:
            self.listener_error_handler.handle(error=error, request=request, response=None)
        finally:
            self.listener_completion_handler.handle(request=request, response=None)


def use_body_matchers(app: App) -> int:
    """Swap every built-in matcher that only takes `body` for a BodyMatcher; returns how many."""
    swapped = 0
    for listener in app._listeners:  # Bolt keeps its listeners here (stable across 1.x)
        matchers = list(listener.matchers)
        for index, matcher in enumerate(matchers):
            if isinstance(matcher, BuiltinListenerMatcher) and list(matcher.arg_names) == ["body"]:
                matchers[index] = BodyMatcher(matcher)
                swapped += 1
        listener.matchers = matchers
    return swapped


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
    # Work an inline listener leaves for after its answer (see SelectiveRunner) runs on the pool.
    # Looked up at each call, so that whoever wraps the pool's submit (the replay tests) sees this work.
    deps.extras.setdefault("background", lambda work: listeners.submit(work))
    if deps.directory is None:
        # The locale look-up runs before the ack: give it little time, no retries; on failure
        # the person is answered in the default language and looked up again next time.
        lookup = WebClient(token=client.token, base_url=client.base_url, timeout=2, retry_handlers=[])
        deps.directory = SlackDirectory(lookup)
    app.replay_cache = deps.replays
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
    ):
        feature.register(app, deps, router)
    claimed = {ids.OPEN_PROPOSE, ids.PROPOSE_HOST, ids.OPEN_MINE, ids.OPEN_FIND, ids.OPEN_OFFER}
    claimed |= {ids.OPEN_IDEAS, ids.WRITEUP_OPEN}
    claimed |= reminders_feature.CLAIMED
    claimed |= desk_feature.CLAIMED
    soon.register(app, deps, router, claimed=claimed)
    use_body_matchers(app)
    app._listener_runner = SelectiveRunner(
        app._listener_runner, inline_if=router.answers_inline, ack_first_if=router.acks_first
    )
    return app
