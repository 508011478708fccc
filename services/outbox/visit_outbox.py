"""A transactional outbox for what a change owes people on Slack: a visit's messages, notices and
invites (`visit_sync`), a write-up's idea-bank post and notices (`writeup_sync`), a suggested
topic's DMs to the coordinators (`suggestion_sync`). The visit's case in detail:

Every transition of `services.visits.state_machine` adds, in its own unit of work, one `visit_sync` row to the
`reminders` table: "the messages of this visit must show its new state, and this event's notice
(and calendar invite) is owed to those it concerns". The row is born *claimed* by the request
that made the change, so the request delivers it at once (the notifier, right after the commit)
and no sweep takes it meanwhile:

* everything went out: the notifier marks the row sent;
* a passing failure (429, 5xx, a time-out, a closed connection): the notifier gives the claim
  back with a short wait, and the reminder sweep delivers it later, re-rendering every message
  of the visit from its current state;
* the process died in between: the claim expires after `reminders.CLAIM_TTL` and the sweep
  takes the row over.

Who has already had the event's notice is written into the row's params (`done`), so a retry
sends it only to the others: by the sweep as each one goes out, by the request (to keep a press
cheap) once, when it gives the row back. A crash of the request in the middle of its notices
leaves those it had sent unrecorded: the sweep that takes the row over looks for each in the
person's DM before sending it. Messages are idempotent by themselves: a message already
posted (its channel and ts are in `visit_messages`, saved right after each post) is updated,
never posted again.

A post whose answer never came (a time-out, a connection closed mid-answer, a crash) may have
reached Slack all the same. chat.postMessage takes no idempotency key, so each visit message and
notice carries Slack message metadata (the visit and role; the visit and this row), and what may
have landed is looked for in the person's DM history (`im:history`) before it is sent again: a
visit message's post is noted in `visit_messages` before it is made (channel empty until Slack
answers), a notice that went unanswered is noted in the row's params (`unsure`), and a row taken
over from a request or sweep that died has all its not-yet-done notices looked for. The normal
path makes no extra Slack call: the look-ups happen only after such a failure.

A calendar invite (files_upload_v2) cannot carry message metadata: its file's name is unique to
the visit and the invite's SEQUENCE, and an invite whose upload went unanswered (`unsure`), or
that a crash interrupted, is looked for by that name in the person's DM before it is uploaded
again. A write-up's idea-bank post is noted on the write-up before it is made and
looked for in the channel the same way (`bot.writeup_publisher`); a write-up's notices and a
suggestion's DMs carry metadata and are noted `unsure` and looked for like a visit's notices.

The row knows nothing of Slack: it says what is owed, not how to send it.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from models import Reminder, ReminderStatus, TopicSuggestion, Visit, WriteUp
from services.outbox.reminders import DueReminder, Kinds, StillDue

SYNC = "visit_sync"
WRITEUP_SYNC = "writeup_sync"  # a submitted write-up: its idea-bank post and who must be told
SUGGESTION_SYNC = "suggestion_sync"  # a suggested topic: the coordinators' DMs
EVERYONE = "*"  # the row's recipient: it concerns everyone with a message about the visit
RETRY_AFTER = timedelta(minutes=1)  # the first retry when Slack did not say how long to wait


@dataclass(frozen=True)
class Owed:
    """The outbox row of one change, and the claim the request that made the change holds on it."""

    id: int
    token: str


def owe(session: Session, visit: Visit, *, event: str, actor: str, invite: str | None, now: datetime) -> Owed:
    """Add the visit's outbox row for this change, claimed by the caller (inside its unit of work)."""
    params = {"event": event, "actor": actor, "invite": invite, "sequence": visit.ics_sequence}
    return owe_row(session, kind=SYNC, visit_id=visit.id, params=params, now=now)


def owe_row(
    session: Session,
    *,
    kind: str,
    visit_id: int | None,
    params: dict[str, Any],
    now: datetime,
    done: Iterable[str] = (),
    claimed: bool = True,
) -> Owed:
    """Add an outbox row of any kind (inside the caller's unit of work): claimed by the caller,
    who delivers it right after the commit, or (`claimed` False) left for the sweep. `done` are
    those who need not be told (they have had the notice already)."""
    token = secrets.token_hex(8)
    row = Reminder(
        dedupe_key=f"{kind}:{visit_id}:{token}",
        visit_id=visit_id,
        kind=kind,
        recipient=EVERYONE,
        due_at=now,
        next_attempt_at=now,
        status=ReminderStatus.PENDING,
        attempts=0,
        params={**params, "done": sorted(set(done))},
        created_at=now,
        claimed_at=now if claimed else None,
        claim_token=token if claimed else None,
    )
    session.add(row)
    session.flush()
    return Owed(row.id, token)


def owe_suggestion(
    session: Session, suggestion_id: int, *, now: datetime, done: Iterable[str] = (), claimed: bool = True
) -> Owed:
    """The outbox row of a suggested topic's DMs to the coordinators (all but `done`)."""
    params = {"suggestion": suggestion_id}
    return owe_row(
        session, kind=SUGGESTION_SYNC, visit_id=None, params=params, now=now, done=done, claimed=claimed
    )


def mark_done(session_factory: sessionmaker[Session], row_id: int, users: Iterable[str]) -> None:
    """Record that these people have had the row's notice (the sweep: each right after it went
    out, so that a crash in the middle resends to nobody who had it)."""
    _add_people(session_factory, row_id, "done", users)


def mark_unsure(session_factory: sessionmaker[Session], row_id: int, users: Iterable[str]) -> None:
    """Record that these people's notice was sent without an answer: it may have reached them,
    so the next delivery looks for it before sending it again."""
    _add_people(session_factory, row_id, "unsure", users)


def _add_people(session_factory: sessionmaker[Session], row_id: int, key: str, users: Iterable[str]) -> None:
    with session_factory.begin() as session:
        row = session.get(Reminder, row_id, with_for_update=True)
        if row is None:
            return
        params: dict[str, Any] = dict(row.params or {})
        params[key] = sorted(set(params.get(key) or []) | set(users))
        row.params = params


def delivered(session_factory: sessionmaker[Session], owed: Owed, *, now: datetime) -> bool:
    """The request delivered everything: the row is sent (False if its claim was taken over)."""
    return _unclaim(session_factory, owed, status=ReminderStatus.SENT, sent_at=now)


def retry_later(
    session_factory: sessionmaker[Session],
    owed: Owed,
    *,
    now: datetime,
    error: str,
    done: Iterable[str] = (),
    unsure: Iterable[str] = (),
    retry_after: float | None = None,
) -> bool:
    """Something did not go out: record who has had the notice already (and whose notice went
    out unanswered) and give the claim back, so that the sweep delivers the rest later."""
    wait = timedelta(seconds=retry_after) if retry_after and retry_after > 0 else RETRY_AFTER
    with session_factory.begin() as session:
        row = session.get(Reminder, owed.id, with_for_update=True)
        if row is None or row.claim_token != owed.token:
            return False  # taken over by a sweep (this request took longer than a claim lasts)
        params: dict[str, Any] = dict(row.params or {})
        params["done"] = sorted(set(params.get("done") or []) | set(done))
        if unsure:
            params["unsure"] = sorted(set(params.get("unsure") or []) | set(unsure))
        row.params = params
        row.next_attempt_at = now + wait
        row.last_error = error[:200]
        row.claimed_at = None
        row.claim_token = None
    return True


def _unclaim(session_factory: sessionmaker[Session], owed: Owed, **values: Any) -> bool:
    with session_factory.begin() as session:
        result = session.execute(
            update(Reminder)
            .where(Reminder.id == owed.id, Reminder.claim_token == owed.token)
            .values(claimed_at=None, claim_token=None, **values)
        )
    return bool(getattr(result, "rowcount", 0) == 1)


def register(registry: Kinds) -> None:
    """The outbox kinds for the sweep: owed while their thing exists, at any hour."""

    def exists(model: type, key: str | None) -> StillDue:
        def still_due(session: Session, row: DueReminder, now: datetime) -> bool:
            ident = row.visit_id if key is None else row.params.get(key)
            return isinstance(ident, int) and session.get(model, ident) is not None

        return still_due

    registry.register(SYNC, exists(Visit, None), anytime=True)
    registry.register(WRITEUP_SYNC, exists(WriteUp, "writeup"), anytime=True)
    registry.register(SUGGESTION_SYNC, exists(TopicSuggestion, "suggestion"), anytime=True)
