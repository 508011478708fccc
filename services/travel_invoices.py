"""Travel invoices (kilometre allowance claimed afterwards for own-car travel).

A seam for now: the reminders ask `invoice_outstanding` to know when to stop reminding. The
coordinator's desk replaces the body with the real invoice status (same signature)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from models import Visit


def invoice_outstanding(session: Session, visit_id: int) -> bool:
    """Does the visitor still owe a travel invoice for this visit (own car, not yet received)?"""
    visit = session.get(Visit, visit_id)
    return visit is not None and visit.travel_mode == "car"
