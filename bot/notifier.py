"""The Slack implementation of the visit notifier port: one message per person and role per visit
(posted once as a DM to the user id, then kept current with chat.update), short notices for
events that must notify, and .ics invites uploaded with files_upload_v2."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import UTC, date, datetime

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy.orm import Session, sessionmaker

from bot.i18n import Translator, translator
from bot.views.visit import invite_texts, notice, visit_message
from services import invites, staff, visits, workdays
from services.ports import Directory
from services.visits import Change, VisitCard

log = logging.getLogger(__name__)
NOTIFYING_EVENTS = {
    "confirmed",
    "supervisor_declined",
    "host_declined",
    "funding_declined",
    "cancelled",
    "moved",
}
VISITOR_EVENTS = {"host_countered"}


def recipients(card: VisitCard, coordinators: Iterable[str]) -> list[tuple[str, str]]:
    """(user id, role) of everyone with a message about the visit."""
    result = [(card.visitor_id, "visitor"), (card.supervisor_id, "supervisor")]
    result += [(user, "host") for user in card.host_contacts]
    result += [(user, "funding") for user in coordinators]
    return list(dict.fromkeys(result))


class SlackVisitNotifier:
    def __init__(
        self,
        client: WebClient,
        session_factory: sessionmaker[Session],
        *,
        coordinators: Iterable[str],
        default_language: str,
        clock: object = None,
        directory: Directory | None = None,
    ) -> None:
        self.client = client
        self.session_factory = session_factory
        # Kept as given: the app passes a live view of the coordinators (those added in the bot too).
        self.coordinators = coordinators
        self.default_language = default_language
        self.clock = clock
        self.directory = directory

    def _now(self) -> datetime:
        return self.clock() if callable(self.clock) else datetime.now(UTC)

    def refresh(self, visit_id: int) -> None:
        """Re-render every stored message of the visit from its current state (no new posts)."""
        card = visits.card_of(self.session_factory, visit_id)
        self._render_all(Change(card, "refresh", "", None, changed=False), post_new=False)

    def publish(self, change: object) -> None:
        assert isinstance(change, Change)
        self._render_all(change, post_new=True)

    def _render_all(self, change: Change, *, post_new: bool) -> None:
        card = change.card
        people = recipients(card, tuple(self.coordinators))
        with self.session_factory() as session:
            refs = visits.message_refs(session, card.id)
            languages, known = visits.languages_of(
                session, [user for user, _ in people], self.default_language
            )
        now = self._now()
        for user in {user for user, _ in people} - known:
            try:  # first contact with this person: learn their language from the platform
                languages[user] = staff.identify(
                    self.session_factory,
                    self.directory,
                    user,
                    now=now,
                    default_language=self.default_language,
                ).language
            except Exception:
                log.warning("visit %s: could not identify a recipient", card.id, exc_info=True)
        today = workdays.local_today(now)
        new_refs: list[tuple[str, str, str, str]] = []
        channels: dict[str, str] = {}
        for user, role in people:
            t = translator(languages.get(user))
            message = visit_message(card, role, t, today=today)
            ref = refs.get((user, role))
            try:
                if ref is not None:
                    self.client.chat_update(channel=ref[0], ts=ref[1], **message)
                    channels[user] = ref[0]
                elif post_new:
                    response = self.client.chat_postMessage(channel=user, **message)
                    channel, ts = str(response["channel"]), str(response["ts"])
                    new_refs.append((user, role, channel, ts))
                    channels[user] = channel
            except SlackApiError as exc:
                log.warning(
                    "visit %s: could not show %s message: %s", card.id, role, exc.response.get("error")
                )
        if new_refs:
            visits.save_message_refs(self.session_factory, card.id, new_refs)
        if not change.changed:
            return
        notified: set[str] = set()
        day = card.chosen_date or (card.shown_dates[0] if card.shown_dates else None)
        send_invite = change.invite is not None and day is not None
        for user, role in people:
            if user in notified or user not in channels:
                continue
            wants_notice = change.event in NOTIFYING_EVENTS or (
                change.event in VISITOR_EVENTS and role == "visitor"
            )
            if not send_invite and (not wants_notice or user == change.actor):
                continue  # nothing to send; the one who acted knows what they did
            notified.add(user)
            t = translator(languages.get(user))
            text = notice(card, change.event, t) if wants_notice else ""
            try:
                if send_invite:
                    self._upload_invite(card, change, day, channels[user], t, text, now)  # type: ignore[arg-type]
                else:
                    self.client.chat_postMessage(channel=channels[user], text=text)
            except SlackApiError as exc:
                log.warning("visit %s: could not notify: %s", card.id, exc.response.get("error"))
            except OSError:
                log.warning("visit %s: could not notify", card.id, exc_info=True)

    def _upload_invite(
        self,
        card: VisitCard,
        change: Change,
        day: date,
        channel: str,
        t: Translator,
        text: str,
        now: datetime,
    ) -> None:
        summary, location, description = invite_texts(card, t)
        ics = invites.build_ics(
            invites.Invite(
                visit_id=card.id,
                day=day,
                length=card.length,
                summary=summary,
                location=location,
                description=description,
                sequence=card.sequence,
                cancelled=change.invite == "cancel",
            ),
            now=now,
        )
        self.client.files_upload_v2(
            channel=channel,
            content=ics,
            filename=f"vierailu-{card.id}.ics",
            title=summary,
            initial_comment=text or summary,
        )
