"""Travel invoices (kilometre allowance claimed afterwards): not needed / waiting / received / paid.

A confirmed visit travelled by own car waits for the visitor's travel invoice until a
coordinator of the visit's region marks it received (the "invoice received" button) and, once
received, paid (the "paid" button). Other travel modes need none unless a coordinator says
otherwise. `invoice_outstanding` is what the reminders ask to know when to stop reminding the
visitor."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from models import InvoiceStatus, Visit, VisitCost, VisitStatus
from services.catalogue.libraries import region_of
from services.common import audit
from services.common.errors import Conflict, NotFound
from services.money.costs import cost_row
from services.people.coordinators import Scope, require, require_region

ORDER = (InvoiceStatus.NOT_NEEDED, InvoiceStatus.WAITING, InvoiceStatus.RECEIVED, InvoiceStatus.PAID)


def status_of(visit: Visit, cost: VisitCost | None) -> InvoiceStatus:
    """The invoice status a coordinator set, else what the visit implies."""
    if cost is not None and cost.invoice_changed_at is not None:
        return cost.invoice_status
    if visit.travel_mode == "car" and visit.status == VisitStatus.CONFIRMED:
        return InvoiceStatus.WAITING
    return InvoiceStatus.NOT_NEEDED


def invoice_status(session: Session, visit_id: int) -> InvoiceStatus | None:
    visit = session.get(Visit, visit_id)
    if visit is None:
        return None
    return status_of(visit, session.get(VisitCost, visit_id))


def invoice_outstanding(session: Session, visit_id: int) -> bool:
    """Does the visitor still owe a travel invoice for this visit (own car, not yet received)?"""
    return invoice_status(session, visit_id) == InvoiceStatus.WAITING


def set_status(
    session_factory: sessionmaker[Session],
    visit_id: int,
    status: InvoiceStatus,
    *,
    actor: str,
    is_coordinator: bool | Scope,
    now: datetime,
    only_from: tuple[InvoiceStatus, ...] | None = None,
    refused: str = "desk.error.not_confirmed",
) -> tuple[bool, InvoiceStatus]:
    """A coordinator of the visit's region sets its invoice status. Returns (changed, the status
    now). With `only_from`, any other status than those (or `status` itself) is refused with the
    message `refused`, all in one unit of work with the visit locked."""
    require(is_coordinator)
    with session_factory.begin() as session:
        visit = session.get(Visit, visit_id, with_for_update=True)
        if visit is None:
            raise NotFound()
        require_region(is_coordinator, region_of(session, visit))
        if visit.status not in (VisitStatus.CONFIRMED, VisitStatus.CANCELLED):
            raise Conflict("desk.error.not_confirmed")
        before = status_of(visit, session.get(VisitCost, visit_id))
        if before == status:
            return False, before
        if only_from is not None and before not in only_from:
            raise Conflict(refused)
        row = cost_row(session, visit_id)
        row.invoice_status, row.invoice_changed_by, row.invoice_changed_at = status, actor, now
        audit.record(
            session,
            now=now,
            actor=actor,
            action="visit.invoice",
            entity="visit",
            entity_id=visit_id,
            details={"status": status.value, "before": before.value},
        )
        return True, status


def mark_received(
    session_factory: sessionmaker[Session],
    visit_id: int,
    *,
    actor: str,
    is_coordinator: bool | Scope,
    now: datetime,
) -> tuple[bool, InvoiceStatus]:
    """The "invoice received" button: a press after it was received or paid changes nothing."""
    try:
        return set_status(
            session_factory,
            visit_id,
            InvoiceStatus.RECEIVED,
            actor=actor,
            is_coordinator=is_coordinator,
            now=now,
            only_from=(InvoiceStatus.NOT_NEEDED, InvoiceStatus.WAITING),
            refused="desk.invoice.already",
        )
    except Conflict as exc:
        if exc.key == "desk.invoice.already":
            return False, InvoiceStatus.PAID
        raise


def mark_paid(
    session_factory: sessionmaker[Session],
    visit_id: int,
    *,
    actor: str,
    is_coordinator: bool | Scope,
    now: datetime,
) -> tuple[bool, InvoiceStatus]:
    """The "paid" button: only a received invoice can be paid (a waiting one is refused with a
    reason); a second press changes nothing."""
    return set_status(
        session_factory,
        visit_id,
        InvoiceStatus.PAID,
        actor=actor,
        is_coordinator=is_coordinator,
        now=now,
        only_from=(InvoiceStatus.RECEIVED,),
        refused="desk.invoice.not_received",
    )
