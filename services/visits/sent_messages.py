"""Where a visit's messages are in Slack: (recipient, role) -> (channel, ts), with a note made
before a post begins, so that a post whose answer never came is looked for before it is posted
again; and the languages of the people a message goes to."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from models import (
    StaffProfile,
    VisitMessage,
)
from services.people.staff import negotiate

UNCONFIRMED = ""  # the channel of a message whose post has begun and has not been answered


def message_refs(session: Session, visit_id: int) -> dict[tuple[str, str], tuple[str, str]]:
    """(recipient, role) -> (channel, ts) of the visit's stored messages. A post that began and
    was never answered has the channel UNCONFIRMED and, as ts, the time it began (a Slack ts)."""
    rows = session.execute(
        select(VisitMessage.recipient, VisitMessage.role, VisitMessage.channel, VisitMessage.ts).where(
            VisitMessage.visit_id == visit_id
        )
    ).all()
    return {(r, role): (channel, ts) for r, role, channel, ts in rows}


def begin_posts(
    session_factory: sessionmaker[Session], visit_id: int, who: Iterable[tuple[str, str]], *, since: datetime
) -> None:
    """Note, before posting them, that the (recipient, role) messages are being posted: if the
    answer never comes (a time-out, a lost connection, a crash), the message may be in Slack all
    the same, and the next render looks for it there before posting again. One that is already
    stored (a concurrent publish) is left as it is."""
    ts = f"{since.timestamp():.6f}"
    pending = [(r, role) for r, role in who]
    try:
        with session_factory.begin() as session:
            session.add_all(
                VisitMessage(visit_id=visit_id, recipient=r, role=role, channel=UNCONFIRMED, ts=ts)
                for r, role in pending
            )
        return
    except IntegrityError:
        pass
    for r, role in pending:
        try:
            with session_factory.begin() as session:
                session.add(
                    VisitMessage(visit_id=visit_id, recipient=r, role=role, channel=UNCONFIRMED, ts=ts)
                )
        except IntegrityError:
            continue


def forget_posts(
    session_factory: sessionmaker[Session], visit_id: int, who: Iterable[tuple[str, str]]
) -> None:
    """The (recipient, role) posts were not made, or Slack refused them: nothing to look for."""
    with session_factory.begin() as session:
        for r, role in who:
            session.execute(
                delete(VisitMessage).where(
                    VisitMessage.visit_id == visit_id,
                    VisitMessage.recipient == r,
                    VisitMessage.role == role,
                    VisitMessage.channel == UNCONFIRMED,
                )
            )


def save_message_refs(
    session_factory: sessionmaker[Session], visit_id: int, refs: Iterable[tuple[str, str, str, str]]
) -> None:
    """Store (recipient, role, channel, ts) of posted (or found) messages, each in its own
    transaction, over the note that its post had begun; a message already stored (a concurrent
    publish) is kept."""
    for r, role, channel, ts in refs:
        where = (VisitMessage.visit_id == visit_id, VisitMessage.recipient == r, VisitMessage.role == role)
        try:
            with session_factory.begin() as session:
                result = session.execute(
                    update(VisitMessage)
                    .where(*where, VisitMessage.channel == UNCONFIRMED)
                    .values(channel=channel, ts=ts)
                )
                if (
                    not getattr(result, "rowcount", 0)
                    and session.scalar(select(VisitMessage.id).where(*where)) is None
                ):
                    session.add(
                        VisitMessage(visit_id=visit_id, recipient=r, role=role, channel=channel, ts=ts)
                    )
        except IntegrityError:
            continue


def languages_of(session: Session, user_ids: Iterable[str], default: str) -> tuple[dict[str, str], set[str]]:
    """Each user's language (chosen, else from their Slack locale, else `default`), and the set
    of users the bot already knows."""
    ids = sorted(set(user_ids))
    rows = session.execute(
        select(StaffProfile.slack_user_id, StaffProfile.language, StaffProfile.slack_locale).where(
            StaffProfile.slack_user_id.in_(ids)
        )
    ).all()
    found = {user: language or negotiate(locale, default) for user, language, locale in rows}
    return {user: found.get(user, default) for user in ids}, set(found)
