"""The database: typed ORM classes, engine and session factory."""

from models.db import create_engine_for, make_session_factory
from models.entities import (
    AuditEntry,
    Base,
    ClosedPeriod,
    Library,
    LibraryContact,
    Region,
    Reminder,
    ReminderStatus,
    StaffProfile,
    Topic,
    TopicCategory,
    TopicStatus,
)

__all__ = [
    "AuditEntry",
    "Base",
    "ClosedPeriod",
    "Library",
    "LibraryContact",
    "Region",
    "Reminder",
    "ReminderStatus",
    "StaffProfile",
    "Topic",
    "TopicCategory",
    "TopicStatus",
    "create_engine_for",
    "make_session_factory",
]
