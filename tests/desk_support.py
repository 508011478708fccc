"""A fixed data set for the desk's tests: visits put straight into the database."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from models import Library, PartyState, Region, Topic, Visit, VisitDate, VisitDecision, VisitStatus

COORD = "U0COORD"
STRANGER = "U0STRANGER"


def lib(session: Session, key: str) -> Library:
    found = session.scalar(select(Library).where(Library.key == key))
    assert found is not None
    return found


def region_id(session_factory: sessionmaker[Session]) -> int:
    with session_factory() as session:
        rid = session.scalar(select(Region.id).where(Region.key == "savo"))
        assert rid is not None
        return rid


def topics(session: Session) -> dict[str, Topic]:
    """A1, A2: two topics of the first category; B1: a topic of another category."""
    all_topics = list(session.scalars(select(Topic).order_by(Topic.category_id, Topic.id)))
    first = [t for t in all_topics if t.category_id == all_topics[0].category_id]
    other = next(t for t in all_topics if t.category_id != all_topics[0].category_id)
    return {"A1": first[0], "A2": first[1], "B1": other}


def add_visit(
    session: Session,
    *,
    home: str,
    host: str,
    topic: Topic,
    status: VisitStatus,
    day: date,
    funded: str | None = None,
    created: datetime = datetime(2027, 1, 10, 10, 0, tzinfo=UTC),
    confirmed_at: datetime | None = None,
    travel_mode: str = "car",
    km: str = "100",
    chosen: bool | None = None,
    visitor: str = "U0VISITOR",
) -> Visit:
    funding = PartyState.APPROVED if funded is not None else PartyState.PENDING
    if status == VisitStatus.DECLINED:
        funding = PartyState.DECLINED if funded is None else funding
    visit = Visit(
        visitor_id=visitor,
        home_library_id=lib(session, home).id,
        host_library_id=lib(session, host).id,
        topic_id=topic.id,
        learn="Mitä opin",
        length="day",
        travel_mode=travel_mode,
        estimated_km=Decimal(km),
        ticket_cost=Decimal("0"),
        accommodation_cost=Decimal("0"),
        funded_cost=Decimal(funded) if funded is not None else None,
        supervisor_id="U0BOSS",
        status=status,
        supervisor_state=PartyState.APPROVED,
        host_state=PartyState.APPROVED if status == VisitStatus.CONFIRMED else PartyState.PENDING,
        funding_state=funding,
        chosen_date=day if (chosen if chosen is not None else status == VisitStatus.CONFIRMED) else None,
        created_at=created,
        updated_at=created,
    )
    session.add(visit)
    session.flush()
    session.add(VisitDate(visit_id=visit.id, day=day, source="visitor", active=True))
    if confirmed_at is not None:
        for party, at in (("supervisor", created), ("funding", created), ("host", confirmed_at)):
            session.add(
                VisitDecision(
                    visit_id=visit.id, round=1, party=party, decided_by="U0X", outcome="approved", at=at
                )
            )
    session.flush()
    return visit


def visit_ids_by_status(session: Session) -> dict[str, list[int]]:
    result: dict[str, list[int]] = {}
    for visit in session.scalars(select(Visit).order_by(Visit.id)):
        result.setdefault(visit.status.value, []).append(visit.id)
    return result


def values(**blocks: Any) -> dict[str, dict[str, Any]]:
    return {block: {block: value} for block, value in blocks.items()}
