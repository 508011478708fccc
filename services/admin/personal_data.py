"""A person's data: export it as JSON, or forget it while keeping the report's numbers.

`forget` replaces the person's Slack id everywhere by one random pseudonym (so their visits,
decisions and texts stay counted but no longer point at them), deletes their profile (name,
language, locale), their library-contact and coordinator rows and the message references (those
of the suggested topics' DMs too), and drops their pending reminders. Both actions are written
to the audit log."""

from __future__ import annotations

import secrets
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import CursorResult, delete, inspect, select, update
from sqlalchemy.orm import InstrumentedAttribute, Session, sessionmaker

from models import (
    AuditEntry,
    Budget,
    Coordinator,
    HostOffer,
    LibraryContact,
    Reminder,
    ReminderStatus,
    StaffProfile,
    TopicSuggestion,
    Visit,
    VisitCost,
    VisitDecision,
    VisitMessage,
    WriteUp,
)
from services.catalogue import topics
from services.common import audit

# Every column that holds a person's Slack id and stays (pseudonymised) for the numbers.
PSEUDONYMISED: tuple[InstrumentedAttribute[Any], ...] = (
    Visit.visitor_id,
    Visit.supervisor_id,
    VisitDecision.decided_by,
    HostOffer.created_by,
    TopicSuggestion.suggested_by,
    TopicSuggestion.decided_by,
    Budget.set_by,
    Coordinator.added_by,
    VisitCost.settled_by,
    VisitCost.tickets_bought_by,
    VisitCost.invoice_changed_by,
    AuditEntry.actor,
    Reminder.recipient,
    WriteUp.author_id,
    WriteUp.hidden_by,
)
# Rows that are only about the person: deleted.
DELETED: tuple[InstrumentedAttribute[Any], ...] = (
    StaffProfile.slack_user_id,
    LibraryContact.slack_user_id,
    Coordinator.slack_user_id,
    VisitMessage.recipient,
)
EXPORTED: tuple[InstrumentedAttribute[Any], ...] = DELETED[:3] + PSEUDONYMISED


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if hasattr(value, "value") and isinstance(value.value, str):
        return value.value
    return value


def _row(obj: Any) -> dict[str, Any]:
    return {c.key: _plain(getattr(obj, c.key)) for c in inspect(obj).mapper.column_attrs}


def export(
    session_factory: sessionmaker[Session], user_id: str, *, now: datetime, actor: str = "cli"
) -> dict[str, Any]:
    """Everything stored about a person, grouped by table (and the column that names them)."""
    data: dict[str, Any] = {"slack_user_id": user_id, "exported_at": now.isoformat(), "tables": {}}
    with session_factory.begin() as session:
        for column in EXPORTED:
            model = column.class_
            rows = [_row(r) for r in session.scalars(select(model).where(column == user_id))]
            if rows:
                data["tables"].setdefault(model.__tablename__, {})[column.key] = rows
        dms = topics.dms_to(session, user_id)
        if dms:  # the suggestions' DMs that went to them (`messages` names the recipient)
            data["tables"].setdefault(TopicSuggestion.__tablename__, {})["messages"] = dms
        audit.record(
            session, now=now, actor=actor, action="person.exported", entity="person", entity_id=user_id
        )
    return data


def forget(
    session_factory: sessionmaker[Session], user_id: str, *, now: datetime, actor: str = "cli"
) -> tuple[str, int]:
    """Forget a person. Returns (their pseudonym, rows changed)."""
    pseudonym = "X" + secrets.token_hex(6).upper()
    changed = 0
    with session_factory.begin() as session:
        session.execute(
            update(Reminder)
            .where(Reminder.recipient == user_id, Reminder.status == ReminderStatus.PENDING)
            .values(status=ReminderStatus.CANCELLED)
        )
        for column in DELETED:
            changed += _count(session.execute(delete(column.class_).where(column == user_id)))
        changed += topics.forget_dms(session, user_id)
        for column in PSEUDONYMISED:
            statement = update(column.class_).where(column == user_id).values({column.key: pseudonym})
            changed += _count(session.execute(statement))
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


def _count(result: Any) -> int:
    return int(result.rowcount or 0) if isinstance(result, CursorResult) else 0
