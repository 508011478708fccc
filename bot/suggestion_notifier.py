"""The Slack side of a suggested topic: a DM to each coordinator of the suggester's region (see
`topics.suggestion_coordinators`; the message is remembered, so that a decision can update it).
The suggestion is saved before any of this; what fails for a passing reason stays in its outbox
row (`services.visit_outbox`) and the sweep sends it later, only to the coordinators who have
not had it."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import datetime

from slack_sdk import WebClient
from sqlalchemy.orm import Session, sessionmaker

from bot.deps import utc_now
from bot.i18n import translator
from bot.notifier import Outcome
from bot.views.topics import suggestion_message
from services import topics, visit_outbox
from services.errors import NotFound
from services.ports import DeliveryError
from services.reminders import DueReminder

log = logging.getLogger(__name__)


class SlackSuggestionNotifier:
    def __init__(
        self,
        client: WebClient,
        session_factory: sessionmaker[Session],
        *,
        coordinators: Iterable[str],
        default_language: str,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.client = client
        self.session_factory = session_factory
        self.coordinators = tuple(coordinators)
        self.t = translator(default_language)
        self.clock = clock

    def _send(self, suggestion_id: int, done: set[str], row_id: int | None) -> Outcome:
        outcome = Outcome()
        with self.session_factory() as session:
            info = topics.suggestion_info(session, suggestion_id, self.t.lang)
            recipients = topics.suggestion_coordinators(session, info.suggested_by, self.coordinators)
        message = suggestion_message(info, self.t)
        if not recipients:
            log.warning("a topic was suggested but no coordinators are configured")
        for coordinator in recipients:
            if coordinator in done:
                continue
            if outcome.stopped:
                break  # Slack is failing: the retry tells the rest
            try:
                response = self.client.chat_postMessage(channel=coordinator, **message)
            except Exception as exc:
                outcome.add(exc, "could not send a topic suggestion to a coordinator")
                continue
            topics.remember_messages(
                self.session_factory, suggestion_id, [(str(response["channel"]), str(response["ts"]))]
            )
            outcome.notified.add(coordinator)
            if row_id is not None:
                visit_outbox.mark_done(self.session_factory, row_id, [coordinator])
        return outcome

    def show(self, suggestion_id: int, owed: visit_outbox.Owed | None) -> bool:
        """Right after the offer is saved; never raises. What fails is left for the sweep."""
        try:
            outcome = self._send(suggestion_id, set(), None)
        except Exception:
            log.exception("could not send a topic suggestion")
            outcome = Outcome(failures=["error"])
        if owed is None:
            return outcome.ok
        return outcome.settle(self.session_factory, owed, self.clock())

    def deliver_owed(self, row: DueReminder) -> None:
        try:
            outcome = self._send(
                int(row.params.get("suggestion") or 0), set(row.params.get("done") or []), row.id
            )
        except NotFound:
            return
        if outcome.outage:
            raise DeliveryError(outcome.outage, permanent=False, outage=True)
        if not outcome.ok:
            raise DeliveryError(outcome.reason, permanent=False, retry_after=outcome.retry_after)
