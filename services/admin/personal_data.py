"""A person's data: export it as JSON, or forget it while keeping the report's numbers.

Both look at every string and JSON column of every table (`_naming`), not at a list of columns:
a Slack id is found in an id column, in a key (a reminder's dedupe key), in an audit row's entity
or details, in an outbox row's parameters or in a text, and a new table that stores people is
covered the day it is made. `export` lists every row that names the person, by table and column.
`forget` deletes the rows that are only about the person (their profile: name, language, locale;
their library-contact and coordinator rows; the visits' message references; the suggested
topics' DMs to them; their accounts on other platforms linked to the profile, such as a Teams
conversation reference), cancels their pending reminders, and writes one random pseudonym wherever
the id is still named, so that their visits, decisions and texts stay counted but no longer point
at them. Both actions are written to the audit log (the export's row names the person until they
are forgotten)."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    CursorResult,
    Enum,
    MetaData,
    String,
    Table,
    Text,
    cast,
    delete,
    select,
    update,
)
from sqlalchemy.orm import InstrumentedAttribute, Session, sessionmaker

from models import (
    Base,
    ChatAccount,
    Coordinator,
    LibraryContact,
    Reminder,
    ReminderStatus,
    StaffProfile,
    TopicSuggestion,
    VisitMessage,
)
from services.catalogue import topics
from services.common import audit

# Rows that are only about the person: deleted.
DELETED: tuple[InstrumentedAttribute[Any], ...] = (
    StaffProfile.slack_user_id,
    LibraryContact.slack_user_id,
    Coordinator.slack_user_id,
    VisitMessage.recipient,
)
# Columns whose records name people in a shape of their own, read and forgotten by their owner
# (a suggested topic's DMs: `topics.dms_to`, `topics.forget_dms`).
OWN_SHAPE = {(TopicSuggestion.__tablename__, "messages")}


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if hasattr(value, "value") and isinstance(value.value, str):
        return value.value
    return value


def export(
    session_factory: sessionmaker[Session], user_id: str, *, now: datetime, actor: str = "cli"
) -> dict[str, Any]:
    """Everything stored about a person, grouped by table (and the column that names them)."""
    data: dict[str, Any] = {"slack_user_id": user_id, "exported_at": now.isoformat(), "tables": {}}
    with session_factory.begin() as session:
        for table, column, row in _naming(session, user_id):
            data["tables"].setdefault(table.name, {}).setdefault(column.name, []).append(
                {key: _plain(value) for key, value in row.items()}
            )
        linked = [
            {column.name: _plain(getattr(account, column.name)) for column in ChatAccount.__table__.columns}
            for account in session.scalars(
                select(ChatAccount).where(ChatAccount.staff_profile_id.in_(_profile_of(user_id)))
            )
        ]
        if linked:  # their accounts on other platforms, linked to the profile (not by the Slack id)
            data["tables"].setdefault(ChatAccount.__tablename__, {})["staff_profile_id"] = linked
        dms = topics.dms_to(session, user_id)
        if dms:  # the suggestions' DMs that went to them (`messages` names the recipient)
            data["tables"].setdefault(TopicSuggestion.__tablename__, {})["messages"] = dms
        audit.record(
            session, now=now, actor=actor, action="person.exported", entity="person", entity_id=user_id
        )
    return data


# A person id as a whole word (a Slack user id, bot/ids.SLACK_USER's shape, or a Teams-only one): in one's own export, the ids of
# the other people in the same rows are masked.
SLACK_USER = re.compile(r"(?<![A-Za-z0-9])(?:[UW][A-Z0-9]{2,30}|T[0-9a-f]{12})(?![A-Za-z0-9])")
SOMEONE_ELSE = "(someone else)"


def own_export(session_factory: sessionmaker[Session], user_id: str, *, now: datetime) -> dict[str, Any]:
    """What a person is given when they ask for their own data: `export`, with every other
    person's Slack id in those rows masked (a visit names its supervisor and hosts too)."""
    data = export(session_factory, user_id, now=now, actor=user_id)
    return _masked(data, user_id)


def _masked(value: Any, user_id: str) -> Any:
    if isinstance(value, str):
        return SLACK_USER.sub(lambda m: m.group(0) if m.group(0) == user_id else SOMEONE_ELSE, value)
    if isinstance(value, dict):
        return {_masked(k, user_id): _masked(v, user_id) for k, v in value.items()}
    if isinstance(value, list):
        return [_masked(v, user_id) for v in value]
    return value


def forget(
    session_factory: sessionmaker[Session], user_id: str, *, now: datetime, actor: str = "cli"
) -> tuple[str, int]:
    """Forget a person. Returns (their pseudonym, rows changed)."""
    with session_factory.begin() as session:
        return forget_in(session, user_id, now=now, actor=actor)


def forget_in(session: Session, user_id: str, *, now: datetime, actor: str) -> tuple[str, int]:
    """`forget` inside the caller's unit of work (a confirmed request: services.admin.forget_requests)."""
    pseudonym = "X" + secrets.token_hex(6).upper()
    changed = 0
    session.execute(
        update(Reminder)
        .where(Reminder.recipient == user_id, Reminder.status == ReminderStatus.PENDING)
        .values(status=ReminderStatus.CANCELLED)
    )
    linked = delete(ChatAccount).where(ChatAccount.staff_profile_id.in_(_profile_of(user_id)))
    changed += _count(session.execute(linked))  # before the profile goes (its link would be NULLed)
    for column in DELETED:
        changed += _count(session.execute(delete(column.class_).where(column == user_id)))
    changed += topics.forget_dms(session, user_id)
    changed += _replace(session, user_id, pseudonym)
    audit.record(
        session,
        now=now,
        actor=actor,
        action="person.forgotten",
        entity="person",
        entity_id=pseudonym,
        details={"rows": changed},
    )
    return pseudonym, changed


def _profile_of(user_id: str) -> Any:
    return select(StaffProfile.id).where(StaffProfile.slack_user_id == user_id).scalar_subquery()


def _count(result: Any) -> int:
    return int(result.rowcount or 0) if isinstance(result, CursorResult) else 0


def _texts(metadata: MetaData) -> Iterator[tuple[Table, Column[Any]]]:
    """Every column that can hold a Slack id: strings (not enums) and JSON, of every table."""
    for table in metadata.sorted_tables:
        for column in table.columns:
            kind = column.type
            if isinstance(kind, JSON) or (isinstance(kind, String) and not isinstance(kind, Enum)):
                if (table.name, column.name) not in OWN_SHAPE:
                    yield table, column


def _pattern(user_id: str) -> re.Pattern[str]:
    """The id as a whole word: `U0HOST` in `<@U0HOST>` or `v1:host:U0HOST`, not in `U0HOST2`."""
    return re.compile(rf"(?<![A-Za-z0-9]){re.escape(user_id)}(?![A-Za-z0-9])")


def _names(value: Any, pattern: re.Pattern[str]) -> bool:
    if isinstance(value, str):
        return bool(pattern.search(value))
    if isinstance(value, dict):
        return any(_names(k, pattern) or _names(v, pattern) for k, v in value.items())
    if isinstance(value, list):
        return any(_names(v, pattern) for v in value)
    return False


def _swap(value: Any, pattern: re.Pattern[str], pseudonym: str) -> Any:
    if isinstance(value, str):
        return pattern.sub(pseudonym, value)
    if isinstance(value, dict):
        return {_swap(k, pattern, pseudonym): _swap(v, pattern, pseudonym) for k, v in value.items()}
    if isinstance(value, list):
        return [_swap(v, pattern, pseudonym) for v in value]
    return value


def _naming(session: Session, user_id: str) -> Iterator[tuple[Table, Column[Any], dict[str, Any]]]:
    """(table, column, row) of every row that names `user_id` in a column: in any table, so that a
    new table that stores people is exported and forgotten without a list to keep up to date."""
    pattern = _pattern(user_id)
    for table, column in _texts(Base.metadata):
        candidates = select(table).where(cast(column, Text).contains(user_id, autoescape=True))
        for row in session.execute(candidates).mappings():
            if _names(row[column.name], pattern):
                yield table, column, dict(row)


def _replace(session: Session, user_id: str, pseudonym: str) -> int:
    """Write `pseudonym` for `user_id` wherever it is still named; how many values changed."""
    pattern = _pattern(user_id)
    found = list(_naming(session, user_id))
    for table, column, row in found:
        key = [c == row[c.name] for c in table.primary_key.columns]
        session.execute(
            update(table).where(*key).values({column.name: _swap(row[column.name], pattern, pseudonym)})
        )
    return len(found)
