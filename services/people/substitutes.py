"""Substitutes (sijainen): a supervisor or a host contact away for a period names who decides for
them meanwhile. The period is in local dates (Europe/Helsinki), both ends inclusive.

The rules of a period, whatever the platform: it ends on or after it starts, has not ended yet,
lasts at most `MAX_DAYS`, names someone else, does not overlap another of the same person's
periods, and its substitute is not away themselves meanwhile (a substitute's substitute is not
followed). Who decides what for whom during it is `services.visits.substitution`'s.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from models import Substitute
from services.common.errors import InvalidInput, NotAllowed, NotFound

MAX_DAYS = 183  # about six months
Errors = dict[str, tuple[str, dict[str, object]]]


@dataclass(frozen=True)
class Away:
    """A period away, as the views and the visit cards show it."""

    id: int
    user_id: str
    substitute_id: str
    starts_on: date
    ends_on: date

    def on(self, day: date) -> bool:
        return self.starts_on <= day <= self.ends_on

    @classmethod
    def of(cls, row: Substitute) -> Away:
        return cls(row.id, row.user_id, row.substitute_id, row.starts_on, row.ends_on)


def check(
    user: str, substitute: str | None, starts_on: date | None, ends_on: date | None, *, today: date
) -> Errors:
    """The field errors of a period as the form gives it (empty: it is good)."""
    errors: Errors = {}
    if starts_on is None:
        errors["starts_on"] = ("substitutes.error.required", {})
    if ends_on is None:
        errors["ends_on"] = ("substitutes.error.required", {})
    if starts_on is not None and ends_on is not None:
        if ends_on < starts_on:
            errors["ends_on"] = ("substitutes.error.order", {})
        elif ends_on < today:
            errors["ends_on"] = ("substitutes.error.past", {})
        elif (ends_on - starts_on).days + 1 > MAX_DAYS:
            errors["ends_on"] = ("substitutes.error.too_long", {"days": MAX_DAYS})
    if not substitute:
        errors["substitute"] = ("substitutes.error.required", {})
    elif substitute == user:
        errors["substitute"] = ("substitutes.error.self", {})
    return errors


def _overlapping(session: Session, user: str, starts_on: date, ends_on: date) -> list[Substitute]:
    return list(
        session.scalars(
            select(Substitute).where(
                Substitute.user_id == user,
                Substitute.starts_on <= ends_on,
                Substitute.ends_on >= starts_on,
            )
        )
    )


def set_away(
    session: Session,
    user: str,
    substitute: str | None,
    starts_on: date | None,
    ends_on: date | None,
    *,
    now: datetime,
    today: date,
) -> Away:
    """Add a period (inside the caller's unit of work); InvalidInput with the field errors."""
    errors = check(user, substitute, starts_on, ends_on, today=today)
    if not errors:
        assert substitute and starts_on and ends_on
        if _overlapping(session, user, starts_on, ends_on):
            errors["starts_on"] = ("substitutes.error.overlap", {})
        elif _overlapping(session, substitute, starts_on, ends_on):
            errors["substitute"] = ("substitutes.error.substitute_away", {})
        elif session.scalar(
            select(Substitute.id).where(
                Substitute.substitute_id == user,
                Substitute.starts_on <= ends_on,
                Substitute.ends_on >= starts_on,
            )
        ):
            errors["starts_on"] = ("substitutes.error.you_substitute", {})
    if errors:
        raise InvalidInput(errors)
    assert substitute and starts_on and ends_on
    row = Substitute(
        user_id=user,
        substitute_id=substitute,
        starts_on=max(starts_on, today),
        ends_on=ends_on,
        created_at=now,
    )
    session.add(row)
    session.flush()
    return Away.of(row)


def remove(session: Session, user: str, period_id: int, *, today: date) -> tuple[Away, bool]:
    """Take a period back (only one's own). One not yet begun is deleted; one under way ends
    yesterday (what the substitute decided stays theirs, and is told as usual). Returns the
    period as it was and whether it was deleted."""
    row = session.get(Substitute, period_id)
    if row is None or row.ends_on < today:
        raise NotFound()
    if row.user_id != user:
        raise NotAllowed("substitutes.not_yours")
    was = Away.of(row)
    if row.starts_on >= today:
        session.execute(delete(Substitute).where(Substitute.id == row.id))
        return was, True
    row.ends_on = today - timedelta(days=1)
    return was, False


def of_user(session: Session, user: str, *, today: date) -> list[Away]:
    """A person's periods under way or ahead, the earliest first."""
    rows = session.scalars(
        select(Substitute)
        .where(Substitute.user_id == user, Substitute.ends_on >= today)
        .order_by(Substitute.starts_on)
    )
    return [Away.of(r) for r in rows]


def substituting(session: Session, user: str, *, today: date) -> list[Away]:
    """The periods, under way or ahead, in which `user` is someone's substitute."""
    rows = session.scalars(
        select(Substitute)
        .where(Substitute.substitute_id == user, Substitute.ends_on >= today)
        .order_by(Substitute.starts_on)
    )
    return [Away.of(r) for r in rows]


def on_home(session: Session, user: str, *, today: date) -> tuple[list[Away], list[Away]]:
    """In one query: a person's own periods under way or ahead, and those in which they stand
    in for someone (each the earliest first)."""
    rows = session.scalars(
        select(Substitute)
        .where(or_(Substitute.user_id == user, Substitute.substitute_id == user), Substitute.ends_on >= today)
        .order_by(Substitute.starts_on, Substitute.id)
    )
    periods = [Away.of(r) for r in rows]
    return [a for a in periods if a.user_id == user], [a for a in periods if a.substitute_id == user]


def standing_in_for(session: Session, user: str, today: date) -> list[str]:
    """Those `user` stands in for today."""
    return list(
        session.scalars(
            select(Substitute.user_id).where(
                Substitute.substitute_id == user, Substitute.starts_on <= today, Substitute.ends_on >= today
            )
        )
    )


def periods_of(session: Session, users: Iterable[str], *, since: date) -> list[Away]:
    """The periods of these people that end on or after `since` (for a visit's card)."""
    people = sorted(set(users))
    if not people:
        return []
    rows = session.scalars(
        select(Substitute)
        .where(Substitute.user_id.in_(people), Substitute.ends_on >= since)
        .order_by(Substitute.starts_on, Substitute.id)
    )
    return [Away.of(r) for r in rows]


def acting_for(session: Session, user: str, today: date) -> str | None:
    """Who decides for `user` today (None: they are not away)."""
    return session.scalar(
        select(Substitute.substitute_id)
        .where(Substitute.user_id == user, Substitute.starts_on <= today, Substitute.ends_on >= today)
        .order_by(Substitute.id)
        .limit(1)
    )


def on_behalf_of(session: Session, actor: str, users: Collection[str], today: date) -> list[str]:
    """Those of `users` whom `actor` substitutes today, in the order given."""
    if not users:
        return []
    away = set(
        session.scalars(
            select(Substitute.user_id).where(
                Substitute.substitute_id == actor,
                Substitute.user_id.in_(list(users)),
                Substitute.starts_on <= today,
                Substitute.ends_on >= today,
            )
        )
    )
    return [u for u in dict.fromkeys(users) if u in away]
