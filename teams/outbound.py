"""What the bot sends to people in Teams on its own (not as an answer): visit messages kept
current, notices, invites and reminders. It is the Slack side's `bot.elsewhere.Elsewhere` port,
given to the notifiers by the composition root, so that one deployment serves a region's Slack
and Teams people side by side.

The notifiers are sync (a listener's thread, the reminder sweep's); the SDK is async. Every call
goes through one dedicated event loop in a thread of its own, with an App of its own (initialised,
never serving), so that the HTTP client the SDK keeps is only ever used from that loop.

A message is rendered as for Slack (bot.views) and turned into an Adaptive Card by the generic
renderer (teams/cards/blockkit.py). The connector's failures become DeliveryError: a 429 with
its Retry-After and 5xx, time-outs and lost connections are passing (the outbox retries them,
after Retry-After, and a refused send was not delivered, so the retry sends it once); 401/403/404
(the app removed by the person, the conversation gone) are permanent."""

from __future__ import annotations

import asyncio
import functools
import logging
import threading
from collections.abc import Callable, Coroutine, Iterable, Mapping
from concurrent.futures import TimeoutError as FutureTimeout
from datetime import UTC, datetime
from typing import Any, TypeVar

import httpx
from fastapi import FastAPI
from microsoft_teams.api.activities.message import MessageActivityInput
from microsoft_teams.api.auth.cloud_environment import CloudEnvironment
from microsoft_teams.api.auth.credentials import TokenProvider
from microsoft_teams.apps import App
from microsoft_teams.cards import AdaptiveCard
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.config import Settings
from bot.elsewhere import mentioned
from bot.i18n import translator
from models import ChatAccount
from services.common.ports import DeliveryError
from services.people import identity
from teams.cards.blockkit import message_card
from teams.cards.common import CARD_VERSION
from teams.dialogs import DIALOG_ACTIONS

log = logging.getLogger(__name__)
Result = TypeVar("Result")
PERMANENT = {401, 403, 404}
TIMEOUT = 30.0


Method = TypeVar("Method", bound=Callable[..., Any])


def delivery_errors(method: Method) -> Method:
    """A port method whose every failure is a DeliveryError, as the notifiers expect: one that is
    not the connector's (a card the models refuse, a setting missing, the database) is this
    platform's failure, never taken for Slack's: permanent when retrying cannot help."""

    @functools.wraps(method)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        try:
            return method(*args, **kwargs)
        except DeliveryError:
            raise
        except Exception as exc:
            log.warning("teams: could not send: %s", type(exc).__name__)
            raise DeliveryError(type(exc).__name__, permanent=isinstance(exc, ValueError)) from None

    return wrapped  # type: ignore[return-value]


def is_teams_channel(channel: str) -> bool:
    """A stored channel that is a Teams conversation ("a:…", "19:…"): Slack's ids have no colon."""
    return ":" in channel


class TeamsOutbound:
    def __init__(
        self,
        settings: Settings,
        session_factory: sessionmaker[Session],
        *,
        cloud: CloudEnvironment | None = None,
        token: TokenProvider | None = None,
        environ: Mapping[str, str] | None = None,
        clock: Any = None,
    ) -> None:
        from teams.app import sdk_app

        self.settings = settings
        self.session_factory = session_factory
        self.clock = clock
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="teams-outbound", daemon=True)
        self.thread.start()
        app, _insecure = sdk_app(settings, FastAPI(), cloud=cloud, token=token, environ=environ)
        self.app: App = app
        self.call(app.initialize())

    def now(self) -> datetime:
        return self.clock() if callable(self.clock) else datetime.now(UTC)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=5)

    def call(self, work: Coroutine[Any, Any, Result]) -> Result:
        """Run `work` on the outbound loop and wait for it (from any thread but that loop's)."""
        future = asyncio.run_coroutine_threadsafe(work, self.loop)
        try:
            return future.result(TIMEOUT)
        except FutureTimeout:
            future.cancel()
            raise DeliveryError("timeout", permanent=False) from None

    # --- the port ------------------------------------------------------------------------------
    def reachable(self, people: Iterable[str]) -> set[str]:
        with self.session_factory() as session:
            return set(identity.reached_elsewhere(session, people))

    def owns(self, channel: str) -> bool:
        return is_teams_channel(channel)

    def names(self, people: Iterable[str]) -> dict[str, str]:
        with self.session_factory() as session:
            return identity.display_names(session, people)

    @delivery_errors
    def post(self, person: str, message: Mapping[str, Any]) -> tuple[str, str]:
        with self.session_factory() as session:
            reach = identity.reached_elsewhere(session, [person]).get(person)
        if reach is None:
            raise DeliveryError("no_teams_conversation", permanent=True)
        activity = self.activity(message)
        sent = self.send(reach.conversation_id, activity, reach.service_url)
        return reach.conversation_id, sent

    @delivery_errors
    def post_to_channel(self, conversation: str, message: Mapping[str, Any]) -> str:
        """A new post in a team's channel (a "19:…@thread.tacv2" conversation of a team the bot is
        installed in); no chat account names its service URL: TEAMS_SERVICE_URL's."""
        return self.send(conversation, self.activity(message), self.service_url_of(conversation))

    @delivery_errors
    def update(self, channel: str, ts: str, message: Mapping[str, Any]) -> None:
        activity = self.activity(message)
        activity.id = ts
        self.send(channel, activity, self.service_url_of(channel))

    @delivery_errors
    def invite(
        self, channel: str, *, visit_id: int, sequence: int, kind: str, lang: str, title: str, text: str
    ) -> None:
        from teams import ics_links

        link = ics_links.link_for(
            self.settings, visit_id=visit_id, sequence=sequence, kind=kind, lang=lang, now=self.now()
        )
        t = translator(lang)
        card: dict[str, Any] = {
            "type": "AdaptiveCard",
            "version": CARD_VERSION,
            "lang": lang,
            "body": [
                {"type": "TextBlock", "text": title, "weight": "Bolder", "wrap": True},
                {"type": "TextBlock", "text": text, "wrap": True},
            ],
        }
        if link is not None:
            card["actions"] = [{"type": "Action.OpenUrl", "title": t("teams.invite.open"), "url": link}]
        activity = MessageActivityInput().add_card(AdaptiveCard.model_validate(card))
        self.send(channel, activity, self.service_url_of(channel))

    # --- sending ---------------------------------------------------------------------------------
    def activity(self, message: Mapping[str, Any]) -> MessageActivityInput:
        names = self.names(mentioned(message))
        card = message_card(message, lang=self.settings.default_language, names=names, dialogs=DIALOG_ACTIONS)
        return MessageActivityInput().add_card(AdaptiveCard.model_validate(card))

    def service_url_of(self, conversation_id: str) -> str:
        with self.session_factory() as session:
            found = session.scalars(
                select(ChatAccount.service_url)
                .where(ChatAccount.conversation_id == conversation_id)
                .order_by(ChatAccount.updated_at.desc())
            ).first()
        return found or self.settings.teams_service_url

    def send(self, conversation_id: str, activity: MessageActivityInput, service_url: str) -> str:
        """Post (or, with an id, update) the activity; its activity id. Raises DeliveryError."""
        try:
            sent = self.call(self.app.send(conversation_id, activity, service_url=service_url))
        except httpx.HTTPStatusError as exc:
            status = exc.response.status_code
            if status == 429:
                raise DeliveryError(
                    "ratelimited", permanent=False, retry_after=retry_after(exc.response)
                ) from None
            raise DeliveryError(f"http_{status}", permanent=status in PERMANENT) from None
        except (httpx.TransportError, OSError, TimeoutError) as exc:
            raise DeliveryError(type(exc).__name__, permanent=False) from None
        return str(sent.id)


def retry_after(response: httpx.Response) -> float | None:
    try:
        return float(response.headers.get("Retry-After", ""))
    except ValueError:
        return None
