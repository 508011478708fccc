"""The Slack implementation of the visit notifier port: one message per person and role per visit
(posted once as a DM to the user id, then kept current with chat.update), short notices for
events that must notify, and .ics invites uploaded with files_upload_v2.

A change is shown right after its commit (`publish`); what fails for a passing reason (429,
5xx, a time-out, a closed connection) stays owed in the change's outbox row
(`services.outbox.visit_outbox`) and the reminder sweep delivers it later (`deliver_owed`).

Every visit message and notice carries Slack message metadata (`VISIT_EVENT` with the visit and
the role; `NOTICE_EVENT` with the visit and the outbox row). A post whose answer never came (a
time-out, a lost connection, a crash) may have reached Slack: before posting it again, the
notifier looks for it in the person's DM (`bot.reminder_delivery.find_in_dm`), and if it is
there keeps it (a message is then updated to the current state). A calendar invite is a file
(files_upload_v2 carries no message metadata): its name is unique to the visit and the invite's
SEQUENCE (`invite_filename`), and an invite whose upload may have reached Slack is looked for by
that name in the DM. Posts go through a client that does not retry them itself: slack_sdk's
retry of a lost connection would post a second time."""

from __future__ import annotations

import copy
import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, TypeVar

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy.orm import Session, sessionmaker

from bot.elsewhere import Elsewhere, is_teams_channel, mentioned, unmention
from bot.i18n import Translator, translator
from bot.reminder_delivery import BOT_REFUSED, _seconds, find_in_channel, find_in_dm, with_file
from bot.views import blocks as b
from bot.views import stops as stops_view
from bot.views.visit import invite_file, invite_texts, notice, visit_message
from services.common import workdays
from services.common.errors import NotFound
from services.common.ports import DeliveryError, Directory
from services.outbox import visit_outbox
from services.outbox.reminders import DueReminder
from services.people import staff
from services.people.identity import is_own_id
from services.visits import sent_messages, visit_lists
from services.visits.visit_card import Change, VisitCard

log = logging.getLogger(__name__)
# Slack errors worth trying again later (besides HTTP 429 and 5xx, time-outs and lost connections).
NOT_IN_CHANNEL = "not_in_channel"  # Slack's error for a post to a channel the bot is not a member of
PASSING_ERRORS = {"ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"}
NOTIFYING_EVENTS = {
    "confirmed",
    "supervisor_declined",
    "host_declined",
    "funding_declined",
    "cancelled",
    "moved",
    "traveller_withdrew",  # one fewer comes: the host, the supervisors and funding hear it too
    "not_happened",  # after the day: it did not take place, its budget is released
}
VISITOR_EVENTS = {"host_countered", "dates_lapsed", "colleagues_declined", "date_gone", "stop_declined"}
TRAVELLER_EVENTS = {"colleagues_declined"}  # the colleagues hear that not all of them go
HOST_EVENTS = {"redated", "date_gone"}  # the host is asked again (new dates, or the agreed one passed)
# The day is agreed (again, after a move): a study trip's further stops are asked for it.
STOP_EVENTS = {"host_approved", "visitor_picked"}
# Slack message metadata event types: a visit message {"visit_id", "role"}; a notice
# {"visit_id", "outbox_id"} (the outbox row whose notice it is).
VISIT_EVENT = "vertais_visit"
# A change's invite as the other platform's invite link names it (bot.elsewhere.Elsewhere.invite).
INVITE_KINDS = {"send": "confirmed"}
NOTICE_EVENT = "vertais_visit_notice"
# Renders of one visit take turns (a lock per stripe of visit ids, so memory stays bounded):
# two presses in a row must not show their messages in the wrong order.
_RENDER_LOCKS = tuple(threading.Lock() for _ in range(64))


def render_lock(visit_id: int) -> threading.Lock:
    return _RENDER_LOCKS[visit_id % len(_RENDER_LOCKS)]


@dataclass
class Outcome:
    """What went wrong while showing a visit: passing failures (retry later), and whether Slack
    refuses the bot itself. Permanent per-person failures (a deleted user) are only logged."""

    failures: list[str] = field(default_factory=list)
    retry_after: float | None = None
    outage: str | None = None
    notified: set[str] = field(default_factory=set)  # who has had the change's notice
    unsure: set[str] = field(default_factory=set)  # whose notice may have reached Slack unanswered
    waiting: bool = False  # a channel the bot is not in: the post waits for the bot to be invited
    # Which platform is failing: the other one's people are still sent theirs at once.
    slack_failed: bool = False
    elsewhere_failed: bool = False

    @property
    def ok(self) -> bool:
        return not self.failures and self.outage is None

    @property
    def stopped(self) -> bool:
        """Slack is failing (or asked us to wait): make no more calls now, the retry does them."""
        return not self.ok

    def stops(self, elsewhere: bool) -> bool:
        """Make no more calls to this platform now (Slack, or the other: bot.elsewhere): it is
        failing or asked us to wait; the retry makes them."""
        return self.elsewhere_failed if elsewhere else (self.slack_failed or self.outage is not None)

    @property
    def reason(self) -> str:
        return self.outage or ", ".join(dict.fromkeys(self.failures)) or "ok"

    def settle(self, session_factory: sessionmaker[Session], owed: visit_outbox.Owed, now: datetime) -> bool:
        """Close the request's outbox row: sent if everything went out, else given back to the
        sweep with who has had the notice already. Returns whether everything went out."""
        if self.ok:
            visit_outbox.delivered(session_factory, owed, now=now)
            return True
        visit_outbox.retry_later(
            session_factory,
            owed,
            now=now,
            error=self.reason,
            done=self.notified,
            unsure=self.unsure,
            retry_after=self.retry_after,
        )
        return False

    def told(self, session_factory: sessionmaker[Session], owed: OwedRow | None, user: str) -> None:
        """`user` has had the notice: noted here, and on the sweep's outbox row at once (so that
        a crash in the middle resends to nobody who had it)."""
        self.notified.add(user)
        if owed is not None:
            visit_outbox.mark_done(session_factory, owed.id, [user])

    def not_told(
        self,
        session_factory: sessionmaker[Session],
        owed: OwedRow | None,
        user: str,
        exc: Exception,
        what: str,
    ) -> None:
        """Sending `user` the notice failed: recorded; if it may have reached Slack all the same
        (no answer came), `user` is noted unsure, here and on the outbox row, and the retry looks
        for it before sending it again."""
        if self.add(exc, what):
            self.unsure.add(user)
            if owed is not None:
                visit_outbox.mark_unsure(session_factory, owed.id, [user])

    def add(self, exc: Exception, what: str) -> bool:
        """Record a failed call; True if it may have reached Slack all the same (no answer came)."""
        if isinstance(exc, DeliveryError):  # the other platform's (bot.elsewhere) failure
            log.warning("%s: %s", what, exc.reason)
            if exc.permanent:
                return False  # that person cannot be reached there: only logged
            self.elsewhere_failed = True
            self.failures.append(exc.reason)
            if exc.retry_after is not None:
                self.retry_after = max(self.retry_after or 0.0, exc.retry_after)
            return True
        if not isinstance(exc, SlackApiError):  # a time-out, a closed connection, a bad answer
            log.warning("%s: %s", what, type(exc).__name__)
            self.failures.append(type(exc).__name__)
            self.slack_failed = True
            return True
        status = exc.response.status_code
        error = str(exc.response.get("error") or f"http_{status}")
        log.warning("%s: %s", what, error)
        if error in BOT_REFUSED:
            self.outage = error
        elif status == 429 or error == "ratelimited":
            self.failures.append("ratelimited")
            wait = _seconds(exc.response.headers.get("Retry-After"))
            if wait is not None:
                self.retry_after = max(self.retry_after or 0.0, wait)
        elif status >= 500 or error in PASSING_ERRORS:
            self.failures.append(error)
        elif error == NOT_IN_CHANNEL:
            self.failures.append(error)
            self.waiting = True
        else:
            return False  # refused for this one person (a deleted user): only logged
        self.slack_failed = True
        return False


@dataclass(frozen=True)
class OwedRow:
    """The outbox row the sweep delivers: who has had its notice, whose notice may have reached
    Slack without an answer, whether it was taken over from a request or sweep that died, and
    since when its notices can be in Slack."""

    id: int
    done: set[str]
    unsure: set[str]
    crashed: bool
    since: datetime

    @classmethod
    def of(cls, row: DueReminder) -> OwedRow:
        params = row.params
        return cls(
            row.id,
            done=set(params.get("done") or []),
            # Whose notice may have reached Slack before: those whose post went unanswered,
            # and, if this row was taken over from a request or sweep that died, anyone's.
            unsure=set(params.get("unsure") or []),
            crashed=row.reclaimed_from is not None,
            since=min(row.due_at, row.reclaimed_from or row.due_at),
        )

    def may_have_reached(self, user: str) -> bool:
        """May this person's notice be in Slack already (to be looked for before it is sent)?"""
        return self.crashed or user in self.unsure


Found = TypeVar("Found")


def unless_refused(look: Callable[[], Found], what: str) -> Found | None:
    """What a look-up for a message that may have reached Slack finds. A look-up Slack refuses
    for good (an install without the history scope: missing_scope, say) finds nothing, so the
    message is sent, twice being better than never; a passing failure (429, 5xx, a time-out, a
    closed connection) is raised, and the retry looks again."""
    try:
        return look()
    except SlackApiError as exc:
        status = exc.response.status_code
        error = str(exc.response.get("error") or f"http_{status}")
        if status == 429 or status >= 500 or error in PASSING_ERRORS:
            raise
        log.warning("%s: could not look for it in Slack (%s); sending it", what, error)
        return None


def invite_filename(visit_id: int, sequence: int) -> str:
    """The name of a visit's invite file: unique to the invite (each invite of a visit has its
    own SEQUENCE), so that one whose upload went unanswered can be found in the DM by its name."""
    return f"vierailu-{visit_id}-{sequence}.ics"


def _from_ts(ts: str) -> datetime:
    """A Slack ts (seconds since the epoch, as text) as a time."""
    try:
        return datetime.fromtimestamp(float(ts), UTC)
    except ValueError:
        return datetime.fromtimestamp(0, UTC)


def recipients(
    card: VisitCard, coordinators: Iterable[str], today: date | None = None
) -> list[tuple[str, str]]:
    """(user id, role) of everyone with a message about the visit: the visitor, each colleague who
    comes along (`traveller`, a withdrawn one's message kept current), each supervisor once, the
    host's contacts, the coordinators who may decide the funding, and (`today` given) the
    substitutes of the supervisors and host contacts away today whose decision the visit awaits.

    The funding message goes to the coordinators of the visit's region who may decide it
    (`card.funding_deciders`: not the visitor, not the visitor's supervisor, who see the visit in
    their own message). A card read without that knowledge (a script) falls back to the
    coordinators given, less those two."""
    result = [(card.visitor_id, "visitor")]
    result += [(t.user_id, "traveller") for t in card.travellers if t.user_id != card.visitor_id]
    bosses = [card.supervisor_id, *(t.supervisor_id for t in card.travellers)]
    result += [(user, "supervisor") for user in dict.fromkeys(bosses)]
    result += [(user, "host") for user in card.host_contacts]
    if card.stops_asked:  # a study trip's further stops: their hosts, once the day is agreed
        result += [(user, stops_view.role_of(s.position)) for s in card.trip_stops for user in s.contacts]
    deciders = card.funding_deciders
    if deciders is None:
        deciders = tuple(u for u in coordinators if u not in card.involved)
    result += [(user, "funding") for user in deciders]
    if today is not None:
        for role in ("supervisor", "host"):
            result += [(user, role) for user in card.stand_ins(role, today)]
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
        elsewhere: Elsewhere | None = None,
    ) -> None:
        self.client = client
        # Posts are not retried by the client: a retry after a lost answer would post twice.
        self.poster = copy.copy(client)
        self.poster.retry_handlers = []
        self.session_factory = session_factory
        # Where the people not on Slack are reached (Teams), when the deployment has them.
        self.elsewhere = elsewhere
        # Kept as given: the app passes a live view of the coordinators (those added in the bot too).
        self.coordinators = coordinators
        self.default_language = default_language
        self.clock = clock
        self.directory = directory

    def _now(self) -> datetime:
        return self.clock() if callable(self.clock) else datetime.now(UTC)

    def refresh(self, visit_id: int) -> None:
        """Re-render every stored message of the visit from its current state (no new posts)."""
        card = visit_lists.card_of(self.session_factory, visit_id)
        outcome = self._render_all(Change(card, "refresh", "", None, changed=False), post_new=False)
        if not outcome.ok:  # the visit's pending outbox rows, if any, bring them up to date later
            log.warning("visit %s: could not refresh every message: %s", visit_id, outcome.reason)

    def publish(self, change: object) -> bool:
        """Show a change at once (right after its commit). What cannot go out now stays in the
        change's outbox row for the sweep; nothing here raises into the listener."""
        assert isinstance(change, Change)
        owed = change.outbox
        try:
            outcome = self._render_all(change, post_new=True)
        except Exception:
            log.exception("visit %s: could not show the change", change.card.id)
            outcome = Outcome(failures=["error"])
        if owed is None:
            return outcome.ok
        if not outcome.ok:
            log.warning("visit %s: will retry later: %s", change.card.id, outcome.reason)
        return outcome.settle(self.session_factory, owed, self._now())

    def deliver_owed(self, row: DueReminder) -> None:
        """The sweep's delivery of a visit's outbox row: every message of the visit re-rendered
        from its current state (the missing ones posted), and the row's notice sent to those who
        have not had it. Raises DeliveryError while anything passing still fails."""
        try:
            card = visit_lists.card_of(self.session_factory, row.visit_id or 0)
        except NotFound:
            return
        params = row.params
        invite = params.get("invite")
        # A later confirmation or cancellation has its own row and invite: this one's is stale.
        superseded = invite is not None and params.get("sequence") != card.sequence
        change = Change(
            card,
            str(params.get("event") or "refresh"),
            str(params.get("actor") or ""),
            None if superseded else invite,
            changed=not superseded,
        )
        outcome = self._render_all(change, post_new=True, owed=OwedRow.of(row))
        if outcome.outage:
            raise DeliveryError(outcome.outage, permanent=False, outage=True)
        if not outcome.ok:
            raise DeliveryError(outcome.reason, permanent=False, retry_after=outcome.retry_after)

    def _render_all(self, change: Change, *, post_new: bool, owed: OwedRow | None = None) -> Outcome:
        with render_lock(change.card.id):
            return self._render_all_locked(change, post_new=post_new, owed=owed)

    def _render_all_locked(self, change: Change, *, post_new: bool, owed: OwedRow | None) -> Outcome:
        # The messages show the visit as it is now, not as it was when the change committed: a
        # later change may have committed (and shown itself) while this one waited for the lock.
        version = visit_lists.version_of(self.session_factory, change.card.id)
        if version is None:  # deleted meanwhile: nothing left to show
            return Outcome()
        card = change.card
        if version != card.version:
            try:
                card = visit_lists.card_of(self.session_factory, card.id)
            except NotFound:
                return Outcome()
        if change.changed and card.sequence != change.card.sequence:
            # A later confirmation, move or cancellation has its own notice and invite and tells
            # everyone: this change's would arrive after it and contradict it.
            change = Change(
                change.card, change.event, change.actor, None, changed=False, outbox=change.outbox
            )
        outcome = Outcome()
        done = owed.done if owed is not None else set()
        now = self._now()
        today = workdays.local_today(now)
        people = recipients(card, tuple(self.coordinators), today)
        with self.session_factory() as session:
            refs = sent_messages.message_refs(session, card.id)
            # Funding messages of those who no longer coordinate the region, supervisor messages
            # of those whose decision was handed to another, host messages of a library the request
            # was sent on from, and the messages of substitutes whose period is over or whose
            # decision is taken: updated, no buttons. (A study trip's stop host who has been asked
            # keeps their message while the stop is on the trip, though the day is being agreed
            # again: they hear of the move, and of the new day.)
            people += stops_view.still_on_the_trip(card, refs, set(people))
            current = set(people)
            former = [
                (user, role)
                for (user, role), (channel, _ts) in refs.items()
                if (role in ("funding", "supervisor", "host") or stops_view.position_of(role) is not None)
                and (user, role) not in current
                and channel != sent_messages.UNCONFIRMED
            ]
            languages, known = sent_messages.languages_of(
                session, [user for user, _ in people] + [user for user, _ in former], self.default_language
            )
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
        stand_ins = {role: card.stand_ins(role, today) for role in ("supervisor", "host")}
        away = self.elsewhere.reachable({user for user, _ in people}) if self.elsewhere else set()
        names: dict[str, str] = {}
        channels: dict[str, str] = {}
        # New posts are noted before they are made (one write), so that a post left unanswered
        # (a time-out, a lost connection, a crash) is looked for in Slack before it is made again.
        new = [who for who in people if who not in refs] if post_new else []
        if new:
            sent_messages.begin_posts(self.session_factory, card.id, new, since=now)
            refs.update({who: (sent_messages.UNCONFIRMED, f"{now.timestamp():.6f}") for who in new})
        unanswered: set[tuple[str, str]] = set()  # posts that may have reached Slack
        posted: set[tuple[str, str]] = set()
        for user, role in people:
            t = translator(languages.get(user))
            behalf = stand_ins.get(role, {}).get(user, ())
            message = visit_message(card, role, t, today=today, reader=user, on_behalf=behalf)
            metadata = {"event_type": VISIT_EVENT, "event_payload": {"visit_id": card.id, "role": role}}
            ref = refs.get((user, role))
            if ref is not None and ref[0] != sent_messages.UNCONFIRMED:
                channels[user] = ref[0]
            # Where this message is: a message sent before stays where it is; a new one goes
            # where the person is reached (a Teams-only person is never posted on Slack).
            if ref is not None and ref[0] != sent_messages.UNCONFIRMED:
                on_teams = is_teams_channel(ref[0])
            else:
                on_teams = user in away or is_own_id(user)
            if not on_teams:
                message = self._for_slack(message, names)
            if ref is None or outcome.stops(on_teams):
                continue
            channel, ts = ref
            if on_teams and self.elsewhere is None:  # this process cannot reach Teams: retried
                outcome.add(DeliveryError("no_teams_port", permanent=False), f"visit {card.id}: {role}")
                continue
            try:
                if channel == sent_messages.UNCONFIRMED:
                    if not post_new:
                        continue
                    if (
                        user,
                        role,
                    ) not in new and user not in away:  # an earlier post went unanswered: is it there?
                        found = self._find(user, VISIT_EVENT, card.id, "role", role, since=_from_ts(ts))
                        if found is not None:
                            sent_messages.save_message_refs(
                                self.session_factory, card.id, [(user, role, *found)]
                            )
                            channel, ts = found
                            channels[user] = channel
                if channel != sent_messages.UNCONFIRMED:
                    self._update(channel, ts, metadata, message)
                elif on_teams and self.elsewhere is not None:
                    channel, ts = self.elsewhere.post(user, message)
                    sent_messages.save_message_refs(
                        self.session_factory, card.id, [(user, role, channel, ts)]
                    )
                    channels[user] = channel
                    posted.add((user, role))
                else:
                    response = self.poster.chat_postMessage(channel=user, metadata=metadata, **message)
                    channel, ts = str(response["channel"]), str(response["ts"])
                    # Saved at once, so that a retry (or a crash now) updates it, never reposts it.
                    sent_messages.save_message_refs(
                        self.session_factory, card.id, [(user, role, channel, ts)]
                    )
                    channels[user] = channel
                    posted.add((user, role))
            except Exception as exc:
                if outcome.add(exc, f"visit {card.id}: could not show the {role} message"):
                    unanswered.add((user, role))
        for user, role in former:
            channel, ts = refs[(user, role)]
            if outcome.stops(self._is_elsewhere(channel)):
                continue
            t = translator(languages.get(user))
            message = visit_message(card, role, t, today=today, former=role != "supervisor", reader=user)
            metadata = {"event_type": VISIT_EVENT, "event_payload": {"visit_id": card.id, "role": role}}
            try:
                shown = message if self._is_elsewhere(channel) else self._for_slack(message, names)
                self._update(channel, ts, metadata, shown)
            except Exception as exc:
                outcome.add(exc, f"visit {card.id}: could not update a former {role}'s message")
        # Posts that were never made, or that Slack answered with an error, did not land.
        unmade = [who for who in new if who not in posted and who not in unanswered]
        if unmade:
            sent_messages.forget_posts(self.session_factory, card.id, unmade)
        if not change.changed:
            return outcome
        card = change.card  # the notice and the invite are about the change itself
        outbox_id = owed.id if owed is not None else (change.outbox.id if change.outbox is not None else None)
        notice_metadata = {
            "event_type": NOTICE_EVENT,
            "event_payload": {"visit_id": card.id, "outbox_id": outbox_id},
        }
        notified: set[str] = set()
        going = {t.user_id for t in card.going}
        answering = {t.supervisor_id for t in card.going}  # supervisors with someone still on it
        day = card.chosen_date or (card.shown_dates[0] if card.shown_dates else None)
        send_invite = change.invite is not None and day is not None
        for user, role in people:
            if user in notified or user in done:
                continue
            # A colleague who withdrew gets their calendar's cancellation, nobody else an invite.
            invite_here = send_invite and (change.invite != "withdrawn" or user == change.actor)
            wants_notice = change.event in NOTIFYING_EVENTS or (
                (change.event in VISITOR_EVENTS and role == "visitor")
                or (change.event in HOST_EVENTS and role == "host")
                or (change.event in STOP_EVENTS and stops_view.asks(card, role) and (user, role) not in new)
                or (change.event in TRAVELLER_EVENTS and role == "traveller")
            )
            if not invite_here and (not wants_notice or user == change.actor):
                continue  # nothing to send; the one who acted knows what they did
            off_the_trip = (role == "traveller" and user not in going) or (
                role == "supervisor" and user not in answering and user != card.supervisor_id
            )
            if off_the_trip and not invite_here and change.event != "colleagues_declined":
                continue  # off the trip: an up-to-date message, no more notices
            notified.add(user)
            if user not in channels or outcome.stops(self._is_elsewhere(channels[user])):
                # retried later (with their message)
                continue
            t = translator(languages.get(user))
            event = "stop_asked" if change.event in STOP_EVENTS else change.event  # only a stop hears it
            text = notice(card, event, t) if wants_notice else ""
            try:
                # A notice or invite sent before without an answer (or by a request or sweep that
                # died) may be in the DM: looked for there (a notice by its metadata, an invite by
                # its file's name) before it is sent again.
                elsewhere = self._port_for(channels[user])
                if elsewhere is not None:  # no history to look in there: sent (again)
                    if invite_here:
                        summary = invite_texts(card, t)[0]
                        elsewhere.invite(
                            channels[user],
                            visit_id=card.id,
                            sequence=card.sequence,
                            kind=INVITE_KINDS.get(str(change.invite), str(change.invite)),
                            lang=t.lang,
                            title=summary,
                            text=text or summary,
                        )
                    else:
                        elsewhere.post(user, b.message(text, [b.section(text)]))
                elif (
                    owed is not None
                    and owed.may_have_reached(user)
                    and (
                        self._find_invite(channels[user], card, since=owed.since)
                        if invite_here
                        else self._find(user, NOTICE_EVENT, card.id, "outbox_id", owed.id, since=owed.since)
                    )
                ):
                    log.info(
                        "visit %s: the %s to %s had reached Slack; not sending it again",
                        card.id,
                        "invite" if invite_here else "notice",
                        user,
                    )
                elif invite_here:
                    self._upload_invite(card, change, day, channels[user], t, text, now)  # type: ignore[arg-type]
                else:
                    text = str(self._for_slack({"text": text}, names)["text"])
                    self.poster.chat_postMessage(channel=channels[user], text=text, metadata=notice_metadata)
            except Exception as exc:
                outcome.not_told(self.session_factory, owed, user, exc, f"visit {card.id}: could not notify")
                continue
            outcome.told(self.session_factory, owed, user)
        return outcome

    def _is_elsewhere(self, channel: str) -> bool:
        return is_teams_channel(channel)

    def _port_for(self, channel: str) -> Elsewhere | None:
        """The port to Teams for a Teams conversation (None for a Slack one); DeliveryError (passing:
        retried) when this process has none."""
        if not is_teams_channel(channel):
            return None
        if self.elsewhere is None:
            raise DeliveryError("no_teams_port", permanent=False)
        return self.elsewhere

    def _update(self, channel: str, ts: str, metadata: dict[str, Any], message: dict[str, Any]) -> None:
        port = self._port_for(channel)
        if port is not None:
            port.update(channel, ts, message)
        else:
            self.client.chat_update(channel=channel, ts=ts, metadata=metadata, **message)

    def _for_slack(self, message: dict[str, Any], names: dict[str, str]) -> dict[str, Any]:
        """The message with the people Slack does not know (Teams-only) named instead of mentioned;
        their names read once per render (`names`), only when someone such is in it."""
        own = {person for person in mentioned(message) if is_own_id(person)}
        if not own:
            return message
        missing = own - names.keys()
        if missing and self.elsewhere is not None:
            names.update(self.elsewhere.names(missing))
        return unmention(message, names)

    def _find(
        self, user: str, event_type: str, visit_id: int, key: str, value: object, *, since: datetime
    ) -> tuple[str, str] | None:
        """(channel, ts) of the visit's message of this event type in the user's DM whose
        metadata has `key` = `value`, posted since `since`; None if Slack has none, or refuses
        the look-up for good (then it is sent again, see `unless_refused`)."""

        def matches(payload: dict[str, object]) -> bool:
            return payload.get("visit_id") == visit_id and payload.get(key) == value

        return unless_refused(
            lambda: find_in_dm(self.client, user, event_type, matches, since=since),
            f"visit {visit_id}: a message to {user}",
        )

    def _find_invite(self, channel: str, card: VisitCard, *, since: datetime) -> bool:
        """Is the invite of this card (its file, by name: the visit and its SEQUENCE) in the DM
        `channel` since `since`?"""
        name = invite_filename(card.id, card.sequence)
        found = unless_refused(
            lambda: find_in_channel(self.client, channel, with_file(name), since=since),
            f"visit {card.id}: the invite {name}",
        )
        return found is not None

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
        summary = invite_texts(card, t)[0]
        ics = invite_file(
            card,
            t,
            day=day,
            tentative=change.invite == "tentative",
            cancelled=change.invite in ("cancel", "withdrawn"),
            now=now,
        )
        self.poster.files_upload_v2(
            channel=channel,
            content=ics,
            filename=invite_filename(card.id, card.sequence),
            title=summary,
            initial_comment=text or summary,
        )
