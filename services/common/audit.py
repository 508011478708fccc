"""The audit log: every decision and change, by whom and when."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from models import AuditEntry


def record(
    session: Session,
    *,
    now: datetime,
    actor: str,
    action: str,
    entity: str,
    entity_id: object,
    details: dict[str, Any] | None = None,
) -> AuditEntry:
    entry = AuditEntry(
        at=now,
        actor=actor,
        action=action,
        entity=entity,
        entity_id=str(entity_id),
        details=details or {},
    )
    session.add(entry)
    return entry
