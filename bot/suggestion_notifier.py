"""The Slack side of a suggested topic: a DM to each coordinator of the suggester's region (see
`topics.suggestion_coordinators`; the message is remembered, so that a decision can update it).
The suggestion is saved before any of this; what fails for a passing reason stays in its outbox
row (`services.outbox.visit_outbox`) and the sweep sends it later, only to the coordinators who have
not had it.

Each DM carries Slack message metadata (`SUGGESTION_EVENT`, with the suggestion's id). A DM whose
answer never came (a time-out, a closed connection) is noted in the outbox row (`unsure`), and the
sweep looks for it in the coordinator's DM (`find_in_dm`, scope im:history) before sending it
again, as it does for every DM not yet done of a row taken over from a request or sweep that
died; a DM found there is remembered like a posted one (a decision updates it). The first attempt
makes no look-up. DMs go through a client that does not retry them itself: a retry after a lost
answer would post twice."""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from slack_sdk import WebClient
from sqlalchemy.orm import Session, sessionmaker

from bot.deps import utc_now
from bot.i18n import translator
from bot.notifier import Outcome, OwedRow, unless_refused
from bot.reminder_delivery import find_in_dm
from bot.views.topics import suggestion_message
from models import SuggestionStatus
from services.catalogue import topics
from services.common.errors import NotFound
from services.common.ports import DeliveryError
from services.outbox import visit_outbox
from services.outbox.reminders import DueReminder

log = logging.getLogger(__name__)
# Slack message metadata of a suggestion's DM: event type, payload {"suggestion_id": id}.
SUGGESTION_EVENT = "vertais_suggestion"


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
        # Posts are not retried by the client: a retry after a lost answer would post twice.
        self.poster = copy.copy(client)
        self.poster.retry_handlers = []
        self.session_factory = session_factory
        self.coordinators = tuple(coordinators)
        self.t = translator(default_language)
        self.clock = clock

    def _send(self, suggestion_id: int, owed: OwedRow | None, done: Iterable[str] = ()) -> Outcome:
        outcome = Outcome()
        with self.session_factory() as session:
            info = topics.suggestion_info(session, suggestion_id, self.t.lang)
            recipients = topics.suggestion_coordinators(session, info.suggested_by, self.coordinators)
        message = suggestion_message(info, self.t)
        metadata = {"event_type": SUGGESTION_EVENT, "event_payload": {"suggestion_id": suggestion_id}}
        if not recipients:
            log.warning("a topic was suggested but no coordinators are configured")
        # and nobody who has had it by another row (sent after a change of coordinators)
        done = (owed.done if owed is not None else set(done)) | info.told
        for coordinator in recipients:
            if coordinator in done:
                continue
            if outcome.stopped:
                break  # Slack is failing: the retry tells the rest
            try:
                found = None
                if owed is not None and owed.may_have_reached(coordinator):
                    found = self._find(coordinator, suggestion_id, owed)
                if found is None:
                    response = self.poster.chat_postMessage(channel=coordinator, metadata=metadata, **message)
                    where = (str(response["channel"]), str(response["ts"]))
                else:
                    log.info("suggestion %s: its DM had reached Slack; not sending it again", suggestion_id)
                    where = found
            except Exception as exc:
                what = "could not send a topic suggestion to a coordinator"
                outcome.not_told(self.session_factory, owed, coordinator, exc, what)
                continue
            # found ones too
            topics.remember_messages(self.session_factory, suggestion_id, [(*where, coordinator)])
            outcome.told(self.session_factory, owed, coordinator)
            if found is not None and info.status != SuggestionStatus.PENDING:
                self._show_decided(found, message)
        return outcome

    def _show_decided(self, where: tuple[str, str], message: dict[str, Any]) -> None:
        """A DM found after the suggestion was decided (the decision did not know of it): show
        the decision in it too."""
        try:
            self.client.chat_update(channel=where[0], ts=where[1], **message)
        except Exception:
            log.warning("could not update a topic suggestion message", exc_info=True)

    def _find(self, coordinator: str, suggestion_id: int, owed: OwedRow) -> tuple[str, str] | None:
        """(channel, ts) of the suggestion's DM to this coordinator, if it is in Slack already."""

        def is_it(payload: dict[str, Any]) -> bool:
            return payload.get("suggestion_id") == suggestion_id

        return unless_refused(
            lambda: find_in_dm(self.client, coordinator, SUGGESTION_EVENT, is_it, since=owed.since),
            f"suggestion {suggestion_id}: its DM",
        )

    def show(self, suggestion_id: int, owed: visit_outbox.Owed | None, done: Iterable[str] = ()) -> bool:
        """Right after the offer is saved (or the coordinators changed: to those not `done`, who
        had it already); never raises. What fails is left for the sweep."""
        try:
            outcome = self._send(suggestion_id, None, done)
        except Exception:
            log.exception("could not send a topic suggestion")
            outcome = Outcome(failures=["error"])
        if owed is None:
            return outcome.ok
        return outcome.settle(self.session_factory, owed, self.clock())

    def deliver_owed(self, row: DueReminder) -> None:
        try:
            outcome = self._send(int(row.params.get("suggestion") or 0), OwedRow.of(row))
        except NotFound:
            return
        if outcome.outage:
            raise DeliveryError(outcome.outage, permanent=False, outage=True)
        if not outcome.ok:
            raise DeliveryError(outcome.reason, permanent=False, retry_after=outcome.retry_after)
