"""The database: typed ORM classes, engine and session factory."""

from models.db import create_engine_for, make_session_factory
from models.entities import (
    AuditEntry,
    Base,
    ClosedPeriod,
    HostOffer,
    Library,
    LibraryContact,
    Region,
    StaffProfile,
    SuggestionStatus,
    Topic,
    TopicCategory,
    TopicStatus,
    TopicSuggestion,
    offer_topics,
)

__all__ = [
    "AuditEntry",
    "Base",
    "ClosedPeriod",
    "HostOffer",
    "Library",
    "LibraryContact",
    "Region",
    "StaffProfile",
    "SuggestionStatus",
    "Topic",
    "TopicCategory",
    "TopicStatus",
    "TopicSuggestion",
    "create_engine_for",
    "make_session_factory",
    "offer_topics",
]
