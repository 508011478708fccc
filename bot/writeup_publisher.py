"""The Slack side of a submitted write-up: its post in the idea-bank channel (posted once, then
kept current with chat.update) and the notices to the host contacts and the coordinators of the
visit's region; and of a coordinator hiding or publishing one: the post brought up to date and
the author told.

The change is saved before any of this; its outbox row (`services.outbox.visit_outbox`) says what is
owed. Right after the change `show` delivers it; what fails for a passing reason (429, 5xx, a
time-out, a closed connection) the reminder sweep delivers later (`deliver_owed`), posting the
idea-bank message only if it has not been posted and telling only those not yet told.

The idea-bank post carries Slack message metadata (`WRITEUP_EVENT`, with the write-up's id) and
is noted on the write-up before it is made (`writeups.begin_post`). A post whose answer never came
(a time-out, a lost connection, a crash before its ts was saved) may be in the channel all the
same: the next attempt (the sweep's, or a later edit's) looks for it in the channel's history
(`conversations.history`, scope channels:history) and keeps it instead of posting again.

Each notice carries metadata too (`WRITEUP_NOTICE_EVENT`: the write-up, which notice it is, and
its outbox row), so that a later notice about the same write-up (published after hidden) is not
taken for it. A notice whose answer never came is noted in the outbox row (`unsure`); the sweep
looks for it in the person's DM (`find_in_dm`, scope im:history) before sending it again, and
for every notice not yet done of a row taken over from a request or sweep that died. The first
attempt makes no look-up. Posts go through a client that does not retry them itself: a retry
after a lost answer would post twice.

Where TEAMS_IDEA_BANK_CONVERSATION is set, the idea bank is a Teams channel too (or only, with
IDEA_BANK_CHANNEL empty): the same rendered post goes there through the `Elsewhere` port
(teams/outbound.py), after the notices, so that a Teams failure holds back nothing on Slack. Its
activity id is saved on the write-up at once; the post is claimed before it is made
(`writeups.begin_teams_post`), so that two deliveries of one outbox row post it once."""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import Any
from zoneinfo import ZoneInfo

from slack_sdk import WebClient
from sqlalchemy.orm import Session, sessionmaker

from bot.elsewhere import Elsewhere
from bot.i18n import Translator, translator
from bot.notifier import NOT_IN_CHANNEL, Outcome, OwedRow, _from_ts, unless_refused
from bot.reminder_delivery import find_in_channel, find_in_dm, tagged
from bot.views import writeups as views
from services.common.errors import NotFound
from services.common.ports import DeliveryError, Directory
from services.common.workdays import HELSINKI
from services.ideas import writeups
from services.ideas.writeups import Submitted, WriteUpStatus, WriteUpView
from services.outbox import reminders
from services.outbox.reminders import DueReminder
from services.people import coordinators, identity, staff

log = logging.getLogger(__name__)
# Slack message metadata of the idea-bank post: event type, payload {"writeup_id": id}.
WRITEUP_EVENT = "vertais_writeup"
# Of a notice: payload {"writeup_id": id, "notice": TELL | "hidden" | "published", "outbox_id": id}.
WRITEUP_NOTICE_EVENT = "vertais_writeup_notice"
TELL = "tell"  # the notice to the host contacts and coordinators (the author's is hidden | published)


class SlackWriteUpPublisher:
    def __init__(
        self,
        client: WebClient,
        session_factory: sessionmaker[Session],
        *,
        channel: str,
        coordinators: Iterable[str],
        default_language: str,
        directory: Directory | None = None,
        clock: Callable[[], object] | None = None,
        tz: ZoneInfo = HELSINKI,
        elsewhere: Elsewhere | None = None,
        teams_channel: str = "",
    ) -> None:
        self.client = client
        # The idea bank in Teams as well (or instead): its channel's conversation, reached through
        # `elsewhere` (teams/outbound.py), which the composition root gives.
        self.elsewhere = elsewhere
        self.teams_channel = teams_channel
        self.tz = tz
        # Posts are not retried by the client: a retry after a lost answer would post twice.
        self.poster = copy.copy(client)
        self.poster.retry_handlers = []
        self.session_factory = session_factory
        self.channel = channel
        self.coordinators = tuple(coordinators)
        self.default_language = default_language
        self.directory = directory
        self.clock = clock
        self.channel_t = translator(default_language)

    def t_for(self, user_id: str) -> Translator:
        """Someone who did not press anything: their language (learnt on first contact)."""
        try:
            me = staff.identify(
                self.session_factory,
                self.directory,
                user_id,
                now=self._now(),
                default_language=self.default_language,
            )
            return translator(me.language)
        except Exception:
            log.warning("could not identify %s", user_id, exc_info=True)
            return self.channel_t

    def _now(self):
        from bot.deps import utc_now

        return self.clock() if callable(self.clock) else utc_now()

    # --- the idea-bank post ----------------------------------------------------------------
    def follow_post(self, w: WriteUpView, outcome: Outcome | None = None) -> WriteUpView:
        """Make the idea-bank channels (Slack's, Teams') show the write-up as it is now (post,
        update or hide). A failure in one does not keep the other from it."""
        outcome = outcome if outcome is not None else Outcome()
        w = self._follow_slack_post(w, outcome)
        return self._follow_teams_post(w, outcome)  # show and deliver_owed call it after the notices

    def _follow_slack_post(self, w: WriteUpView, outcome: Outcome) -> WriteUpView:
        noted = False  # this call noted the post it is making
        try:
            if w.channel == writeups.UNCONFIRMED and w.ts and self.channel:
                # An earlier post went unanswered: if it is in the channel, it is the post.
                found = self._find_post(w)
                if found is not None:
                    log.info("write-up %s: its idea-bank post had reached Slack; not posting it again", w.id)
                    writeups.remember_post(self.session_factory, w.id, self.channel, found)
                    w = replace(w, channel=self.channel, ts=found)
            metadata = {"event_type": WRITEUP_EVENT, "event_payload": {"writeup_id": w.id}}
            if w.status == WriteUpStatus.PUBLISHED:
                message = views.channel_message(w, self.channel_t, self.author_names(w))
                if w.channel and w.ts:
                    self.client.chat_update(channel=w.channel, ts=w.ts, metadata=metadata, **message)
                    return w
                if not self.channel:
                    if not self.teams_channel:
                        log.warning("a write-up was published but no idea-bank channel is set")
                    return w
                if w.channel is None:
                    writeups.begin_post(self.session_factory, w.id, since=self._now())
                    noted = True
                response = self.poster.chat_postMessage(channel=self.channel, metadata=metadata, **message)
                posted_channel, ts = str(response["channel"]), str(response["ts"])
                writeups.remember_post(self.session_factory, w.id, posted_channel, ts)
                return replace(w, channel=posted_channel, ts=ts)
            if w.channel and w.ts:  # hidden by a coordinator, or withdrawn by the author
                message = views.hidden_channel_message(
                    self.channel_t, withdrawn=w.status != WriteUpStatus.HIDDEN
                )
                self.client.chat_update(channel=w.channel, ts=w.ts, metadata=metadata, **message)
        except Exception as exc:
            if not outcome.add(exc, "could not show a write-up in the idea bank") and noted:
                writeups.forget_post(self.session_factory, w.id)  # Slack answered: it is not there
            if outcome.waiting:
                self.ask_for_invite(w)
        return w

    def author_names(self, w: WriteUpView) -> dict[str, str]:
        """The names of the write-up's authors known only on another platform (no Slack mention)."""
        others = [a for a in w.authors or (w.author_id,) if identity.is_own_id(a)]
        if not others:
            return {}
        with self.session_factory() as session:
            return identity.display_names(session, others)

    def _follow_teams_post(self, w: WriteUpView, outcome: Outcome) -> WriteUpView:
        """The same in the Teams idea-bank channel: posted once (claimed first, the activity id
        saved at once, so that a second delivery of the outbox row updates it instead), updated
        on an edit, replaced by the hidden message when hidden or withdrawn. The connector's
        failures are the port's DeliveryError: passing ones leave the row owed."""
        if self.elsewhere is None or not self.teams_channel:
            return w
        claimed = False
        try:
            if w.status == WriteUpStatus.PUBLISHED:
                message = views.channel_message(w, self.channel_t, self.author_names(w))
                posted = w.teams_activity_id or writeups.teams_post_of(self.session_factory, w.id)
                if posted:
                    self.elsewhere.update(self.teams_channel, posted, message)
                    return replace(w, teams_activity_id=posted)
                claimed = writeups.begin_teams_post(self.session_factory, w.id, now=self._now())
                if not claimed:  # another attempt is posting it right now
                    raise DeliveryError("teams_post_in_flight", permanent=False)
                activity_id = self.elsewhere.post_to_channel(self.teams_channel, message)
                writeups.remember_teams_post(self.session_factory, w.id, activity_id)
                return replace(w, teams_activity_id=activity_id)
            posted = w.teams_activity_id or writeups.teams_post_of(self.session_factory, w.id)
            if posted:  # hidden by a coordinator, or withdrawn by the author
                message = views.hidden_channel_message(
                    self.channel_t, withdrawn=w.status != WriteUpStatus.HIDDEN
                )
                self.elsewhere.update(self.teams_channel, posted, message)
        except Exception as exc:
            outcome.add(exc, "could not show a write-up in the Teams idea bank")
            if claimed and answered(exc):
                writeups.forget_teams_post(self.session_factory, w.id)  # refused: it is not there
        return w

    def ask_for_invite(self, w: WriteUpView) -> None:
        """The bot is not in the idea-bank channel: the write-up's moderators are asked, once per
        write-up, to invite it (`/invite @vertaisbot`); the post waits in the outbox meanwhile."""
        log.warning("write-up %s waits: the bot is not in the idea-bank channel (invite it there)", w.id)
        now = self._now()
        with self.session_factory.begin() as session:
            for coordinator in self.moderators(w):
                reminders.plan(
                    session,
                    kind=reminders.NOT_IN_CHANNEL,
                    recipient=coordinator,
                    due_at=now,
                    now=now,
                    tz=self.tz,
                    key=f"invite:{w.id}:{coordinator}",
                    params={"channel": self.channel},
                )

    def _find_post(self, w: WriteUpView) -> str | None:
        """The ts of the write-up's post in the idea-bank channel since its unanswered post began.
        A look-up Slack refuses for good (a missing scope, say) finds nothing: the post is made,
        twice being better than never; a passing failure is raised (the retry looks again)."""

        def is_it(payload: dict[str, Any]) -> bool:
            return payload.get("writeup_id") == w.id

        return unless_refused(
            lambda: find_in_channel(
                self.client, self.channel, tagged(WRITEUP_EVENT, is_it), since=_from_ts(w.ts or "")
            ),
            f"write-up {w.id}: its idea-bank post",
        )

    # --- notices ---------------------------------------------------------------------------
    def moderators(self, w: WriteUpView) -> tuple[str, ...]:
        """Who is told as a coordinator (and may hide or publish it): the coordinators of the
        write-up's visit's region (else the configured ones, see coordinators.of_region_or),
        less its author, who does not moderate their own write-up."""
        with self.session_factory() as session:
            found = coordinators.of_region_or(session, w.region_id, self.coordinators)
        return tuple(c for c in found if c != w.author_id)

    def tell_people(
        self,
        w: WriteUpView,
        contacts: Iterable[str],
        outcome: Outcome,
        *,
        outbox_id: int | None,
        owed: OwedRow | None = None,
    ) -> None:
        moderators = self.moderators(w)
        people = [(u, False) for u in contacts if u != w.author_id and u not in moderators]
        people += [(u, True) for u in moderators]
        done = owed.done if owed is not None else set()
        for user_id, is_coordinator in people:
            if user_id in done or user_id in outcome.notified:
                continue
            if not is_coordinator and w.status != WriteUpStatus.PUBLISHED:
                continue  # a private write-up goes to the coordinators only
            if outcome.stopped:
                break  # Slack is failing: the retry tells the rest
            message = views.notice_message(w, self.t_for(user_id), coordinator=is_coordinator)
            self._tell(w, user_id, TELL, message, outcome, outbox_id=outbox_id, owed=owed)

    def tell_author(
        self,
        w: WriteUpView,
        notice: str,
        outcome: Outcome,
        *,
        outbox_id: int | None,
        owed: OwedRow | None = None,
    ) -> None:
        """Tell the author that a coordinator hid or published their write-up, unless it has
        changed again since (a later change has its own notice)."""
        still = WriteUpStatus.HIDDEN if notice == "hidden" else WriteUpStatus.PUBLISHED
        author = w.author_id
        done = owed.done if owed is not None else set()
        if w.status != still or author in done or author in outcome.notified or outcome.stopped:
            return
        t = self.t_for(author)
        message = (
            views.author_hidden_notice(w, t) if notice == "hidden" else views.author_published_notice(w, t)
        )
        self._tell(w, author, notice, message, outcome, outbox_id=outbox_id, owed=owed)

    def _tell(
        self,
        w: WriteUpView,
        user_id: str,
        notice: str,
        message: dict[str, Any],
        outcome: Outcome,
        *,
        outbox_id: int | None,
        owed: OwedRow | None,
    ) -> None:
        """Send one notice as a DM, unless an earlier attempt of the outbox row (unanswered, or
        cut short by a crash) put it in the person's DM already."""
        payload = {"writeup_id": w.id, "notice": notice, "outbox_id": outbox_id}
        try:
            if self.elsewhere is not None and self.elsewhere.reachable([user_id]):
                self.elsewhere.post(user_id, message)  # in Teams (no history there to look in)
            elif self.elsewhere is None and identity.is_own_id(user_id):
                raise DeliveryError("no_teams_port", permanent=False)  # retried by a process that has it
            elif (
                owed is not None
                and owed.may_have_reached(user_id)
                and self._find_notice(user_id, payload, owed)
            ):
                log.info("write-up %s: the %s notice had reached Slack; not sending it again", w.id, notice)
            else:
                metadata = {"event_type": WRITEUP_NOTICE_EVENT, "event_payload": payload}
                self.poster.chat_postMessage(channel=user_id, metadata=metadata, **message)
        except Exception as exc:
            what = f"write-up {w.id}: could not send the {notice} notice"
            outcome.not_told(self.session_factory, owed, user_id, exc, what)
            return
        outcome.told(self.session_factory, owed, user_id)

    def _find_notice(self, user_id: str, payload: dict[str, Any], owed: OwedRow) -> bool:
        """Is this notice (the same write-up, notice and outbox row) in the person's DM?"""

        def is_it(found: dict[str, Any]) -> bool:
            return all(found.get(key) == value for key, value in payload.items())

        found = unless_refused(
            lambda: find_in_dm(self.client, user_id, WRITEUP_NOTICE_EVENT, is_it, since=owed.since),
            f"write-up {payload['writeup_id']}: the {payload['notice']} notice",
        )
        return found is not None

    # --- delivery --------------------------------------------------------------------------
    def show(self, submitted: Submitted) -> bool:
        """Right after the change: post or update, tell who must be told; what fails is left
        in the outbox row for the sweep. Never raises."""
        outcome = Outcome()
        try:
            w = self._follow_slack_post(submitted.writeup, outcome)
            outbox_id = submitted.outbox.id if submitted.outbox is not None else None
            if submitted.first_submission or submitted.newly_published:
                self.tell_people(w, submitted.host_contacts, outcome, outbox_id=outbox_id)
            if submitted.author_notice:
                self.tell_author(w, submitted.author_notice, outcome, outbox_id=outbox_id)
            self._follow_teams_post(w, outcome)  # last: its failure holds back no Slack notice
        except Exception:
            log.exception("could not show a write-up")
            outcome.failures.append("error")
        owed = submitted.outbox
        if owed is None:
            return outcome.ok
        if not outcome.ok:
            log.warning("write-up %s: will retry later: %s", submitted.writeup.id, outcome.reason)
        return outcome.settle(self.session_factory, owed, self._now())

    def deliver_owed(self, row: DueReminder) -> None:
        """The sweep's delivery of a write-up's outbox row (raises DeliveryError while Slack fails)."""
        try:
            with self.session_factory() as session:
                w = writeups.get(session, int(row.params.get("writeup") or 0))
        except NotFound:
            return
        outcome = Outcome()
        owed = OwedRow.of(row)
        w = self._follow_slack_post(w, outcome)
        if row.params.get("tell"):
            contacts = [str(c) for c in row.params.get("contacts") or []]
            self.tell_people(w, contacts, outcome, outbox_id=row.id, owed=owed)
        if row.params.get("author"):
            self.tell_author(w, str(row.params["author"]), outcome, outbox_id=row.id, owed=owed)
        self._follow_teams_post(w, outcome)
        if outcome.outage:
            raise DeliveryError(outcome.outage, permanent=False, outage=True)
        if not outcome.ok:
            waits = outcome.waiting and set(outcome.failures) == {NOT_IN_CHANNEL}
            raise DeliveryError(
                outcome.reason, permanent=False, retry_after=outcome.retry_after, waiting=waits
            )


def answered(exc: Exception) -> bool:
    """Did the other platform answer the failed post (so it is not there), as teams/outbound.py
    names its failures: an HTTP status or a 429; a time-out or a lost connection may have posted it."""
    return isinstance(exc, DeliveryError) and (exc.reason.startswith("http_") or exc.reason == "ratelimited")
