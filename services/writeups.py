"""Write-ups and the idea bank.

A seam for now: the reminders ask `has_writeup` to know when to stop nagging. The write-ups
feature replaces this module with the real thing (same function, same signature)."""

from __future__ import annotations

from sqlalchemy.orm import Session


def has_writeup(session: Session, visit_id: int) -> bool:
    """Has the visitor published (or at least submitted) their write-up of this visit?"""
    return False
