"""The Slack side of reminders: render each kind in the recipient's language and send it as a
direct message; Slack's failures become DeliveryError (passing or permanent).

Each message carries the reminder's id in its Slack message metadata. When a sweep takes over a
reminder whose earlier claim expired (the sweeper crashed, perhaps after Slack had the message
and before it was marked sent), the delivery first reads the direct message's recent history
(`conversations.history`, scope im:history; the DM's id from `conversations.open`, im:write) and
does not send it again if it is there. If that look-up fails, the reminder is sent: twice is
better than never."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.elsewhere import Elsewhere, mentioned, unmention
from bot.i18n import Translator, translator
from bot.views import blocks as b
from bot.views import reminders as views
from models import StaffProfile
from services.common.errors import NotFound
from services.common.ports import DeliveryError
from services.outbox.reminders import NOT_IN_CHANNEL, DueReminder
from services.outbox.reminders import RECIPIENT_GONE as RECIPIENT_GONE_KIND
from services.people.identity import is_own_id
from services.people.staff import negotiate
from services.visits import substitution, visit_lists
from services.visits import visit_reminders as kinds
from services.visits.visit_card import VisitCard

log = logging.getLogger(__name__)

# Slack errors that say the recipient cannot be messaged (a DM to a deleted or unknown user).
RECIPIENT_GONE = {
    "channel_not_found",
    "user_not_found",
    "user_disabled",
    "is_archived",
    "messages_tab_disabled",
}
# Errors that say the bot itself cannot send anything: pause all reminders, count no attempts.
BOT_REFUSED = {
    "not_authed",
    "invalid_auth",
    "account_inactive",  # the bot's own token belongs to a deleted user or workspace
    "token_revoked",
    "token_expired",
    "no_permission",
    "missing_scope",
    "not_allowed_token_type",
    "team_access_not_granted",
    "ekm_access_denied",
}

Renderer = Callable[[DueReminder, Translator], dict[str, Any]]

METADATA_EVENT = "vertais_reminder"  # Slack message metadata event_type; payload {"reminder_id": id}
HISTORY_MARGIN = timedelta(minutes=1)  # clocks differ: look a little further back than the claim
HISTORY_PAGES = 5


def render_recipient_gone(reminder: DueReminder, t: Translator) -> dict[str, Any]:
    params = reminder.params
    text = t(
        "reminder.recipient_gone",
        user=f"<@{params.get('recipient', '')}>",
        visit="–",
        reason=b.escape(str(params.get("reason", ""))),
    )
    return b.message(text, [b.section(text)])


def render_not_in_channel(reminder: DueReminder, t: Translator) -> dict[str, Any]:
    text = t("reminder.not_in_channel", channel=f"<#{reminder.params.get('channel', '')}>")
    return b.message(text, [b.section(text)])


def render_generic(reminder: DueReminder, t: Translator) -> dict[str, Any]:
    text = t("reminder.generic", visit="–")
    return b.message(text, [b.section(text)])


class SlackReminderDelivery:
    def __init__(
        self,
        client: WebClient,
        session_factory: sessionmaker[Session],
        *,
        default_language: str,
        renderers: dict[str, Renderer] | None = None,
        senders: dict[str, Callable[[DueReminder], None]] | None = None,
        elsewhere: Elsewhere | None = None,
    ) -> None:
        self.client = client
        self.elsewhere = elsewhere  # where the people not on Slack are reached (Teams)
        self.session_factory = session_factory
        self.default_language = default_language
        self.renderers: dict[str, Renderer] = {
            RECIPIENT_GONE_KIND: render_recipient_gone,
            NOT_IN_CHANNEL: render_not_in_channel,
            **(renderers or {}),
        }
        # Kinds that deliver themselves (a visit's outbox row re-renders all its messages).
        self.senders = dict(senders or {})

    def language_of(self, user_id: str) -> str:
        with self.session_factory() as session:
            row = session.execute(
                select(StaffProfile.language, StaffProfile.slack_locale).where(
                    StaffProfile.slack_user_id == user_id
                )
            ).first()
        if row is None:
            return self.default_language
        return row.language or negotiate(row.slack_locale, self.default_language)

    def deliver(self, reminder: DueReminder) -> None:
        sender = self.senders.get(reminder.kind)
        if sender is not None:  # an outbox row: its sender re-renders and knows what went out
            sender(reminder)
            return
        if self.elsewhere is None and is_own_id(reminder.recipient):
            # A Teams-only person and no port to Teams in this process: retried (by one that has).
            raise DeliveryError("no_teams_port", permanent=False)
        if self.elsewhere is not None and self.elsewhere.reachable([reminder.recipient]):
            # Sent there once: the sweep's claim makes it once; a sweep that died after the post
            # and before marking it sent sends it again (that platform keeps no history to read).
            t = translator(self.language_of(reminder.recipient))
            message = self.renderers.get(reminder.kind, render_generic)(reminder, t)
            self.elsewhere.post(reminder.recipient, message)
            return
        if reminder.reclaimed_from is not None and self.already_sent(reminder):
            log.info("reminder %s had reached Slack before the crash; not sending it again", reminder.id)
            return
        t = translator(self.language_of(reminder.recipient))
        message = self.renderers.get(reminder.kind, render_generic)(reminder, t)
        if self.elsewhere is not None:  # Teams-only people in it are named, not mentioned
            message = unmention(message, self.elsewhere.names(mentioned(message)))
        metadata = {"event_type": METADATA_EVENT, "event_payload": {"reminder_id": reminder.id}}
        try:
            self.client.chat_postMessage(channel=reminder.recipient, metadata=metadata, **message)
        except SlackApiError as exc:
            status = exc.response.status_code
            error = str(exc.response.get("error") or f"http_{status}")
            if status == 429:
                retry_after = _seconds(exc.response.headers.get("Retry-After"))
                raise DeliveryError("ratelimited", permanent=False, retry_after=retry_after) from None
            if error in BOT_REFUSED:
                raise DeliveryError(error, permanent=False, outage=True) from None
            raise DeliveryError(error, permanent=error in RECIPIENT_GONE) from None
        except (SlackClientError, OSError, TimeoutError) as exc:
            raise DeliveryError(type(exc).__name__, permanent=False) from None

    def already_sent(self, reminder: DueReminder) -> bool:
        """Is a message of this reminder in the recipient's DM since its earlier claim?"""
        assert reminder.reclaimed_from is not None

        def is_it(payload: dict[str, Any]) -> bool:
            return payload.get("reminder_id") == reminder.id

        try:
            return (
                find_in_dm(
                    self.client, reminder.recipient, METADATA_EVENT, is_it, since=reminder.reclaimed_from
                )
                is not None
            )
        except (SlackApiError, SlackClientError, OSError, TimeoutError, KeyError, TypeError, AttributeError):
            log.warning("could not check whether reminder %s was sent before; sending it", reminder.id)
        return False


MessageTest = Callable[[dict[str, Any]], bool]


def tagged(event_type: str, matches: Callable[[dict[str, Any]], bool]) -> MessageTest:
    """A test of a message from conversations.history: its metadata is of `event_type`, with a
    payload that `matches`."""

    def test(message: dict[str, Any]) -> bool:
        metadata = message.get("metadata") or {}
        return metadata.get("event_type") == event_type and matches(metadata.get("event_payload") or {})

    return test


def with_file(name: str) -> MessageTest:
    """A test of a message from conversations.history: it shares a file named `name` (a file
    uploaded with files_upload_v2 carries no message metadata; its name is what can be found)."""

    def test(message: dict[str, Any]) -> bool:
        return any(isinstance(f, dict) and f.get("name") == name for f in message.get("files") or [])

    return test


def find_in_channel(client: WebClient, channel: str, test: MessageTest, *, since: datetime) -> str | None:
    """The ts of the newest message in `channel` posted since `since` (less a margin) that passes
    `test`; None if there is none. Costs a page or more of conversations.history (with every
    message's metadata); the Web API's errors are raised to the caller."""
    oldest = (since - HISTORY_MARGIN).timestamp()
    cursor: str | None = None
    for _ in range(HISTORY_PAGES):
        page = client.conversations_history(
            channel=channel,
            oldest=f"{oldest:.6f}",
            limit=200,
            include_all_metadata=True,
            cursor=cursor,
        )
        for message in page.get("messages") or []:
            if test(message):
                return str(message["ts"])
        cursor = (page.get("response_metadata") or {}).get("next_cursor")
        if not cursor:
            break
    return None


def find_in_dm(
    client: WebClient,
    user: str,
    event_type: str,
    matches: Callable[[dict[str, Any]], bool],
    *,
    since: datetime,
) -> tuple[str, str] | None:
    """(channel, ts) of the newest message in the bot's DM with `user`, posted since `since`
    (less a margin), whose metadata is of `event_type` with a payload that `matches`; None if
    there is none. Costs conversations.open and a page or more of conversations.history; the
    Web API's errors are raised to the caller."""
    channel = str(client.conversations_open(users=user)["channel"]["id"])
    ts = find_in_channel(client, channel, tagged(event_type, matches), since=since)
    return (channel, ts) if ts is not None else None


def _seconds(value: Any) -> float | None:
    if isinstance(value, list):
        value = value[0] if value else None
    try:
        return float(value) if value is not None else None
    except (TypeError, ValueError):
        return None


VisitRenderer = Callable[[DueReminder, VisitCard, Translator], dict[str, Any]]


def visit_renderers(session_factory: sessionmaker[Session]) -> dict[str, Renderer]:
    """The renderers of the visit reminder kinds: each reads the visit as it is now."""

    def back(reminder: DueReminder, t: Translator) -> dict[str, Any]:
        report = substitution.back_report(session_factory, reminder, reminder.due_at)
        if report is None:
            return render_generic(reminder, t)
        return views.substitute_back(report, t)

    def with_card(view: VisitRenderer) -> Renderer:
        def render(reminder: DueReminder, t: Translator) -> dict[str, Any]:
            try:
                card = visit_lists.card_of(session_factory, reminder.visit_id or 0)
            except NotFound:
                return views.gone(reminder, t)
            return view(reminder, card, t)

        return render

    return {
        kinds.DECISION_NUDGE: with_card(views.decision_nudge),
        kinds.DECISION_STUCK: with_card(views.decision_stuck),
        kinds.DECISION_DEADLINE: with_card(views.decision_deadline),
        kinds.DAY_BEFORE: with_card(views.day_before),
        kinds.WRITEUP_NAG: with_card(views.writeup_nag),
        kinds.WRITEUP_OVERDUE: with_card(views.writeup_overdue),
        kinds.TRAVEL_INVOICE: with_card(views.travel_invoice),
        kinds.TIP_REQUEST: with_card(views.tip_request),
        RECIPIENT_GONE_KIND: with_card(views.recipient_gone),  # a visit's: named by its topic, host, date
        substitution.SUBSTITUTE_BACK: back,
    }
