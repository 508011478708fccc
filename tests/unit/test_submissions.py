"""A form's key is saved with the first unit of work of what it creates, once."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from models import AuditEntry, Submission
from services.common import audit, submissions


def create_in_two_steps(session_factory, clock) -> None:
    """A service that writes twice (as one that saves, then records a follow-up)."""
    for step in ("made", "followed up"):
        with session_factory.begin() as session:
            audit.record(session, now=clock(), actor="U1", action=step, entity="thing", entity_id=1)


def count(session_factory, entity) -> int:
    with session_factory() as session:
        return session.scalar(select(func.count()).select_from(entity)) or 0


def test_a_service_with_two_units_of_work_runs_once_per_submission(session_factory, clock) -> None:
    entries = count(session_factory, AuditEntry)
    create_in_two_steps(submissions.once(session_factory, "form:V1", clock()), clock)
    with pytest.raises(submissions.AlreadySubmitted):
        create_in_two_steps(submissions.once(session_factory, "form:V1", clock()), clock)
    create_in_two_steps(submissions.once(session_factory, "form:V2", clock()), clock)
    assert count(session_factory, Submission) == 2
    assert count(session_factory, AuditEntry) == entries + 4
