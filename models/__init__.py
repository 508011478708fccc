"""The database: typed ORM classes, engine and session factory."""

from models.db import create_engine_for, make_session_factory
from models.entities import (
    AuditEntry,
    Base,
    ClosedPeriod,
    KilometreRate,
    Library,
    LibraryContact,
    PartyState,
    Region,
    StaffProfile,
    Topic,
    TopicCategory,
    TopicStatus,
    Visit,
    VisitDate,
    VisitDecision,
    VisitMessage,
    VisitStatus,
)

__all__ = [
    "AuditEntry",
    "Base",
    "ClosedPeriod",
    "KilometreRate",
    "Library",
    "LibraryContact",
    "PartyState",
    "Region",
    "StaffProfile",
    "Topic",
    "TopicCategory",
    "TopicStatus",
    "Visit",
    "VisitDate",
    "VisitDecision",
    "VisitMessage",
    "VisitStatus",
    "create_engine_for",
    "make_session_factory",
]
