"""Reminders that reach the right person once, survive restarts and several replicas.

What is due lives in the `reminders` table. A sweep (every minute from APScheduler, or
`python -m bot sweep`) does three things, each in its own short transaction:

1. **claim** due reminders: on PostgreSQL `SELECT … FOR UPDATE SKIP LOCKED`, on SQLite a
   conditional UPDATE inside `BEGIN IMMEDIATE`; the claim stamps `claimed_at` and a random
   `claim_token`, so several sweepers never take the same reminder, and a crashed sweeper's
   claims expire after CLAIM_TTL and are taken again;
2. **check** each one still makes sense (the registry's `still_due`: the decision is still
   waiting, the write-up is still missing…) and that it is office hours, else re-plan it;
3. **deliver** it through the Delivery port and mark it sent — or, on a passing failure (429,
   5xx, time-out), leave it pending with a backoff; on a permanent one (the person has left),
   mark it failed and tell the coordinators instead.

A claim is renewed just before its reminder is delivered, and a sweep hands back the rest of
its batch once half of CLAIM_TTL has passed, so no live sweeper's claim can expire under it.
A crash after Slack has taken a message and before the reminder is marked sent (see the comment
in `sweep`) lets the claim expire; the next sweep takes the reminder over with `reclaimed_from`
set, and the delivery looks for the message it may have sent then before it sends it again
(the Slack delivery tags each message with the reminder's id in its metadata).
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from sqlalchemy import CursorResult, Engine, and_, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from models import Library, Reminder, ReminderStatus, Visit
from services.common.office_hours import next_office_time
from services.common.ports import DeliveryError
from services.people.coordinators import of_region_or

log = logging.getLogger(__name__)

CLAIM_TTL = timedelta(minutes=5)
BATCH = 1000
MAX_BACKOFF = timedelta(hours=1)
MAX_ATTEMPTS = 12  # about half a day of passing failures, then the coordinators are told
RECIPIENT_GONE = "recipient_gone"
NOT_IN_CHANNEL = "not_in_channel"  # the coordinators are asked to invite the bot to a channel


@dataclass(frozen=True)
class DueReminder:
    """What a delivery needs: who, what kind, about which visit, with which parameters."""

    id: int
    kind: str
    recipient: str
    visit_id: int | None
    params: dict[str, Any]
    due_at: datetime
    # When the claim this sweep took over had been taken (by a sweeper that crashed or hung):
    # the reminder may have reached Slack then, so a delivery should check before sending again.
    reclaimed_from: datetime | None = None


class Delivery(Protocol):
    """Sends one reminder; raises DeliveryError (permanent or not) when it cannot."""

    def deliver(self, reminder: DueReminder) -> None: ...


StillDue = Callable[[Session, DueReminder, datetime], bool]


@dataclass
class Kinds:
    """Per reminder kind: is it still due (its thing not yet done)? Unknown kinds always are."""

    still_due: dict[str, StillDue] = field(default_factory=dict)
    anytime: set[str] = field(default_factory=set)  # kinds that do not wait for office hours

    def register(self, kind: str, predicate: StillDue, *, anytime: bool = False) -> None:
        self.still_due[kind] = predicate
        if anytime:
            self.anytime.add(kind)

    def check(self, session: Session, reminder: DueReminder, now: datetime) -> bool:
        predicate = self.still_due.get(reminder.kind)
        return True if predicate is None else predicate(session, reminder, now)


@dataclass
class SweepResult:
    sent: list[DueReminder] = field(default_factory=list)
    retried: list[tuple[DueReminder, str]] = field(default_factory=list)
    failed: list[tuple[DueReminder, str]] = field(default_factory=list)
    cancelled: list[DueReminder] = field(default_factory=list)
    postponed: list[DueReminder] = field(default_factory=list)
    deferred: list[DueReminder] = field(default_factory=list)
    lost: list[DueReminder] = field(default_factory=list)
    outage: str | None = None

    def summary(self) -> str:
        lines = [
            f"sent {len(self.sent)}, retry later {len(self.retried)}, failed {len(self.failed)}, "
            f"no longer needed {len(self.cancelled)}, postponed to office hours {len(self.postponed)}, "
            f"left for the next sweep {len(self.deferred)}"
        ]
        if self.outage:
            lines.append(f"  paused: Slack refuses the bot ({self.outage})")
        lines += [f"  sent {r.kind} to {r.recipient} (visit {r.visit_id})" for r in self.sent]
        lines += [f"  retry {r.kind} to {r.recipient}: {why}" for r, why in self.retried]
        lines += [f"  failed {r.kind} to {r.recipient}: {why}" for r, why in self.failed]
        return "\n".join(lines)


# --- planning ----------------------------------------------------------------------------------
def plan(
    session: Session,
    *,
    kind: str,
    recipient: str,
    due_at: datetime,
    now: datetime,
    tz: ZoneInfo,
    visit_id: int | None = None,
    key: str | None = None,
    params: dict[str, Any] | None = None,
) -> Reminder:
    """Plan a reminder (idempotent by its key: planning the same one twice changes nothing).
    The due time is moved into office hours."""
    dedupe_key = key or f"{visit_id}:{kind}:{recipient}"
    existing = session.scalar(select(Reminder).where(Reminder.dedupe_key == dedupe_key))
    if existing is not None:
        return existing
    reminder = add(
        session,
        key=dedupe_key,
        kind=kind,
        recipient=recipient,
        due_at=due_at,
        now=now,
        tz=tz,
        visit_id=visit_id,
        params=params,
    )
    session.flush()
    return reminder


def add(
    session: Session,
    *,
    key: str,
    kind: str,
    recipient: str,
    due_at: datetime,
    now: datetime,
    tz: ZoneInfo,
    visit_id: int | None = None,
    params: dict[str, Any] | None = None,
) -> Reminder:
    """Add a reminder whose key the caller knows to be new (no look-up, no flush: planners that
    add many at once let the unit of work insert them in one batch). Due time as in `plan`."""
    due = next_office_time(due_at, tz)
    reminder = Reminder(
        dedupe_key=key[:200],
        visit_id=visit_id,
        kind=kind,
        recipient=recipient,
        due_at=due,
        next_attempt_at=due,
        status=ReminderStatus.PENDING,
        attempts=0,
        params=params or {},
        created_at=now,
    )
    session.add(reminder)
    return reminder


def cancel_for_visit(
    session: Session, visit_id: int, kinds: Iterable[str] | None = None, *, keep: Iterable[str] = ()
) -> int:
    """Cancel the pending reminders of a visit (all, or of the given kinds; never those of `keep`)."""
    stmt = (
        update(Reminder)
        .where(Reminder.visit_id == visit_id, Reminder.status == ReminderStatus.PENDING)
        .values(status=ReminderStatus.CANCELLED)
    )
    if kinds is not None:
        stmt = stmt.where(Reminder.kind.in_(list(kinds)))
    if keep:
        stmt = stmt.where(Reminder.kind.not_in(list(keep)))
    result: CursorResult[Any] = session.execute(stmt)  # type: ignore[assignment]
    return result.rowcount or 0


def snooze(session: Session, reminder_id: int, recipient: str, until: datetime, tz: ZoneInfo) -> bool:
    """ "Remind me in a week": only the recipient can move their own pending reminder."""
    reminder = session.get(Reminder, reminder_id)
    if reminder is None or reminder.recipient != recipient or reminder.status != ReminderStatus.PENDING:
        return False
    reminder.next_attempt_at = next_office_time(until, tz)
    reminder.claimed_at = None
    reminder.claim_token = None
    return True


# --- the sweep -----------------------------------------------------------------------------------
def sweep(session_factory: sessionmaker[Session], delivery: Delivery, **options: Any) -> SweepResult:
    """Claim what is due at `now`, check it, deliver it; returns what happened (see `_sweep`).

    The sweep keeps one database connection for its short transactions, instead of taking one
    from the pool (and pinging it) for each of them: a sweep of 1,000 reminders commits 2,000
    times."""
    bind = session_factory.kw.get("bind")
    if not isinstance(bind, Engine):
        return _sweep(session_factory, delivery, **options)
    with bind.connect() as connection:
        # The same `info` (who coordinates a region, see services.people.coordinators.of_region).
        pinned = sessionmaker(bind=connection, expire_on_commit=False, info=session_factory.kw.get("info"))
        return _sweep(pinned, delivery, **options)


def _sweep(
    session_factory: sessionmaker[Session],
    delivery: Delivery,
    *,
    now: datetime,
    tz: ZoneInfo,
    kinds: Kinds | None = None,
    coordinators: Iterable[str] = (),
    batch: int = BATCH,
    clock: Callable[[], datetime] | None = None,
    claim_ttl: timedelta = CLAIM_TTL,
    stopping: Callable[[], bool] = lambda: False,
) -> SweepResult:
    """Claim what is due at `now`, check it, deliver it; returns what happened.

    `stopping` says the process is shutting down (SIGTERM): the sweep then hands back the rest
    of its batch at once, unclaimed, so that another process or replica sends it without waiting
    for the claims to expire.

    `clock` is the wall clock that stamps and renews claims (default: `now` itself). A sweep
    stops taking new reminders from its batch once half of CLAIM_TTL has passed, and renews
    each claim just before it delivers, so a claim is never older than CLAIM_TTL / 2 plus one
    delivery (a Slack call has a 10-second timeout) when another sweeper could take it over.
    """
    kinds = kinds or Kinds()
    clock = clock or (lambda: now)
    result = SweepResult()
    token = secrets.token_hex(8)
    started = clock()
    claimed = _claim(session_factory, now=now, stamp=started, token=token, batch=batch, claim_ttl=claim_ttl)
    delivered: DueReminder | None = None  # sent to Slack, to be marked in the next transaction

    def mark_delivered(session: Session) -> None:
        # The duplicate window: a crash after Slack has taken the message and before this is
        # committed leaves the reminder claimed but not sent; its claim expires after claim_ttl
        # and another sweep takes it over with `reclaimed_from` set, so that the delivery first
        # looks whether the message is already there (Slack's chat.postMessage takes no
        # idempotency key). The mark rides on the next reminder's transaction, which begins
        # right after the delivery: one commit per reminder.
        nonlocal delivered
        if delivered is not None:
            if not _finish(session, delivered.id, token, status=ReminderStatus.SENT, sent_at=now):
                log.warning("reminder %s was delivered after its claim was taken over", delivered.id)
            delivered = None

    for index, reminder in enumerate(claimed):
        if clock() - started > claim_ttl / 2 or stopping():
            with session_factory.begin() as session:
                mark_delivered(session)
            _release_rest(session_factory, claimed[index:], token)
            result.deferred.extend(claimed[index:])
            break
        with session_factory.begin() as session:
            mark_delivered(session)
            if not _renew(session, reminder.id, token, clock()):
                result.lost.append(reminder)  # another sweeper has it now
                continue
            if not kinds.check(session, reminder, now):
                _finish(session, reminder.id, token, status=ReminderStatus.CANCELLED)
                result.cancelled.append(reminder)
                continue
            opening = now if reminder.kind in kinds.anytime else next_office_time(now, tz)
            if opening > now:
                _release(session, reminder.id, token, next_attempt_at=opening)
                result.postponed.append(reminder)
                continue
        try:
            delivery.deliver(reminder)
        except DeliveryError as exc:
            if exc.outage:  # the bot itself cannot send (token revoked, scope missing): stop
                log.error("reminders paused: Slack refuses the bot (%s)", exc.reason)
                _release_rest(session_factory, claimed[index:], token)
                result.outage = exc.reason
                result.deferred.extend(claimed[index:])
                break
            with session_factory.begin() as session:
                attempts = _attempts(session, reminder.id) + 1
                if exc.permanent:
                    log.warning(
                        "reminder %s (%s) cannot be delivered: %s", reminder.id, reminder.kind, exc.reason
                    )
                    _finish(session, reminder.id, token, status=ReminderStatus.FAILED, error=exc.reason)
                    _escalate(session, reminder, exc.reason, now=now, tz=tz, coordinators=coordinators)
                    result.failed.append((reminder, exc.reason))
                elif exc.waiting:  # nothing is failing: someone has to act first; never given up
                    _release(session, reminder.id, token, next_attempt_at=now + MAX_BACKOFF, error=exc.reason)
                    result.retried.append((reminder, exc.reason))
                elif attempts >= MAX_ATTEMPTS:
                    log.error(
                        "reminder %s given up after %s attempts (%s)", reminder.id, attempts, exc.reason
                    )
                    _finish(session, reminder.id, token, status=ReminderStatus.FAILED, error=exc.reason)
                    result.failed.append((reminder, exc.reason))
                else:
                    wait = _backoff(attempts, exc.retry_after)
                    _release(
                        session,
                        reminder.id,
                        token,
                        next_attempt_at=now + wait,
                        error=exc.reason,
                        attempts=attempts,
                    )
                    result.retried.append((reminder, exc.reason))
            if exc.retry_after:  # rate limited: the rest of the batch waits as long, uncounted
                rest = claimed[index + 1 :]
                _release_rest(
                    session_factory, rest, token, next_attempt_at=now + _backoff(1, exc.retry_after)
                )
                result.deferred.extend(rest)
                break
            continue
        except Exception as exc:  # a bug in rendering must not stop the other reminders
            log.exception("reminder %s could not be delivered", reminder.id)
            with session_factory.begin() as session:
                attempts = _attempts(session, reminder.id) + 1
                _release(
                    session,
                    reminder.id,
                    token,
                    next_attempt_at=now + _backoff(attempts, None),
                    error=type(exc).__name__,
                    attempts=attempts,
                )
            result.retried.append((reminder, type(exc).__name__))
            continue
        delivered = reminder
        result.sent.append(reminder)
    if delivered is not None:
        with session_factory.begin() as session:
            mark_delivered(session)
    return result


def _claim(
    session_factory: sessionmaker[Session],
    *,
    now: datetime,
    stamp: datetime,
    token: str,
    batch: int,
    claim_ttl: timedelta = CLAIM_TTL,
) -> list[DueReminder]:
    """Take up to `batch` reminders due at `now`, stamping the claims with `stamp`."""
    expired = stamp - claim_ttl
    due = and_(
        Reminder.status == ReminderStatus.PENDING,
        Reminder.next_attempt_at <= now,
        or_(Reminder.claimed_at.is_(None), Reminder.claimed_at < expired),
    )
    with session_factory.begin() as session:
        ids_stmt = (
            select(Reminder.id, Reminder.claimed_at)
            .where(due)
            .order_by(Reminder.next_attempt_at, Reminder.id)
            .limit(batch)
        )
        if session.get_bind().dialect.name == "postgresql":
            ids_stmt = ids_stmt.with_for_update(skip_locked=True)
        earlier_claims = {rid: claimed for rid, claimed in session.execute(ids_stmt)}
        ids = list(earlier_claims)
        if not ids:
            return []
        # On SQLite this transaction began with BEGIN IMMEDIATE, so nobody else is claiming now;
        # on PostgreSQL the rows are locked. The conditions are repeated for safety either way.
        session.execute(
            update(Reminder).where(Reminder.id.in_(ids), due).values(claimed_at=stamp, claim_token=token)
        )
        rows = session.execute(
            select(
                Reminder.id,
                Reminder.kind,
                Reminder.recipient,
                Reminder.visit_id,
                Reminder.params,
                Reminder.due_at,
            )
            .where(Reminder.claim_token == token, Reminder.id.in_(ids))
            .order_by(Reminder.next_attempt_at, Reminder.id)
        ).all()
    return [
        DueReminder(
            r.id, r.kind, r.recipient, r.visit_id, dict(r.params or {}), r.due_at, earlier_claims.get(r.id)
        )
        for r in rows
    ]


def _renew(session: Session, reminder_id: int, token: str, stamp: datetime) -> bool:
    """Still ours? Then stamp the claim afresh. False if another sweeper has taken it over."""
    result: CursorResult[Any] = session.execute(  # type: ignore[assignment]
        update(Reminder)
        .where(
            Reminder.id == reminder_id,
            Reminder.claim_token == token,
            Reminder.status == ReminderStatus.PENDING,
        )
        .values(claimed_at=stamp)
    )
    return result.rowcount == 1


def _release_rest(
    session_factory: sessionmaker[Session],
    reminders: list[DueReminder],
    token: str,
    *,
    next_attempt_at: datetime | None = None,
) -> None:
    """Give back claims this sweep will not use (without counting an attempt)."""
    if not reminders:
        return
    values: dict[str, Any] = {"claimed_at": None, "claim_token": None}
    if next_attempt_at is not None:
        values["next_attempt_at"] = next_attempt_at
    with session_factory.begin() as session:
        session.execute(
            update(Reminder)
            .where(Reminder.id.in_([r.id for r in reminders]), Reminder.claim_token == token)
            .values(**values)
        )


def _finish(
    session: Session,
    reminder_id: int,
    token: str,
    *,
    status: ReminderStatus,
    sent_at: datetime | None = None,
    error: str | None = None,
) -> bool:
    values: dict[str, Any] = {"status": status}
    if sent_at is not None:
        values["sent_at"] = sent_at
    return _unclaim(session, reminder_id, token, error=error, **values)


def _release(
    session: Session,
    reminder_id: int,
    token: str,
    *,
    next_attempt_at: datetime,
    error: str | None = None,
    attempts: int | None = None,
) -> None:
    values: dict[str, Any] = {"next_attempt_at": next_attempt_at}
    if attempts is not None:
        values["attempts"] = attempts
    _unclaim(session, reminder_id, token, error=error, **values)


def _unclaim(session: Session, reminder_id: int, token: str, *, error: str | None, **values: Any) -> bool:
    """Give up this sweep's claim on a reminder, setting `values`; False if it was not ours."""
    values.update(claimed_at=None, claim_token=None)
    if error is not None:
        values["last_error"] = error[:200]
    result: CursorResult[Any] = session.execute(  # type: ignore[assignment]
        update(Reminder).where(Reminder.id == reminder_id, Reminder.claim_token == token).values(**values)
    )
    return result.rowcount == 1


def _attempts(session: Session, reminder_id: int) -> int:
    return session.scalar(select(Reminder.attempts).where(Reminder.id == reminder_id)) or 0


def _backoff(attempts: int, retry_after: float | None) -> timedelta:
    """Slack's Retry-After when it gives one, else 1, 2, 4 … minutes up to an hour."""
    if retry_after is not None and retry_after > 0:
        return min(timedelta(seconds=retry_after), MAX_BACKOFF)
    return min(timedelta(minutes=2 ** max(0, attempts - 1)), MAX_BACKOFF)


def _escalate(
    session: Session,
    reminder: DueReminder,
    reason: str,
    *,
    now: datetime,
    tz: ZoneInfo,
    coordinators: Iterable[str],
) -> None:
    """The recipient has left: tell the coordinators once instead of retrying forever: those of
    the reminder's visit's region (`coordinators` are the configured ones, told when there is no
    visit or the unit of work does not know the regions' coordinators). A message to a
    coordinator that cannot be delivered is never escalated again."""
    if reminder.kind == RECIPIENT_GONE:
        log.error("could not tell coordinator %s that a recipient has left", reminder.recipient)
        return
    region_id = None
    if reminder.visit_id is not None:
        region_id = session.scalar(
            select(Library.region_id)
            .join(Visit, Visit.home_library_id == Library.id)
            .where(Visit.id == reminder.visit_id)
        )
    coordinators = [c for c in of_region_or(session, region_id, coordinators) if c != reminder.recipient]
    if not coordinators:
        log.error(
            "reminder %s: its recipient cannot be reached and no coordinator is configured", reminder.id
        )
    for coordinator in coordinators:
        plan(
            session,
            kind=RECIPIENT_GONE,
            recipient=coordinator,
            due_at=now,
            now=now,
            tz=tz,
            visit_id=reminder.visit_id,
            key=f"gone:{reminder.id}:{coordinator}",
            params={"kind": reminder.kind, "recipient": reminder.recipient, "reason": reason},
        )
