"""The tables of the bot, as SQLAlchemy 2 typed ORM classes.

Times are stored as timezone-aware UTC (`UTCDateTime`); ids are integers, with a stable
string `key` where people or files refer to a row (libraries, topics, regions).
"""

from __future__ import annotations

import enum
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    Date,
    DateTime,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class UTCDateTime(TypeDecorator[datetime]):
    """A datetime that is always UTC-aware in Python, on SQLite and on PostgreSQL alike."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; services must pass aware datetimes")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime, dict[str, Any]: JSON}


class TopicStatus(enum.StrEnum):
    ACTIVE = "active"
    RETIRED = "retired"


class Region(Base):
    """A regional development task (AKE) area: its libraries share a grant and coordinators."""

    __tablename__ = "regions"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))

    libraries: Mapped[list[Library]] = relationship(back_populates="region")


class Library(Base):
    __tablename__ = "libraries"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    municipality: Mapped[str] = mapped_column(String(100))
    province: Mapped[str] = mapped_column(String(100))
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    region_id: Mapped[int] = mapped_column(ForeignKey("regions.id"), index=True)

    region: Mapped[Region] = relationship(back_populates="libraries")
    contacts: Mapped[list[LibraryContact]] = relationship(
        back_populates="library", cascade="all, delete-orphan", order_by="LibraryContact.id"
    )
    closed_periods: Mapped[list[ClosedPeriod]] = relationship(
        back_populates="library", cascade="all, delete-orphan", order_by="ClosedPeriod.starts_on"
    )


class LibraryContact(Base):
    """A person who answers for a library as a host (yhteyshenkilö). A library may have several."""

    __tablename__ = "library_contacts"
    __table_args__ = (UniqueConstraint("library_id", "slack_user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    library_id: Mapped[int] = mapped_column(ForeignKey("libraries.id", ondelete="CASCADE"), index=True)
    slack_user_id: Mapped[str] = mapped_column(String(32), index=True)
    added_at: Mapped[datetime] = mapped_column()

    library: Mapped[Library] = relationship(back_populates="contacts")


class ClosedPeriod(Base):
    """Days when a library takes no visitors ("not until 2027-01-15"), both ends inclusive."""

    __tablename__ = "closed_periods"

    id: Mapped[int] = mapped_column(primary_key=True)
    library_id: Mapped[int] = mapped_column(ForeignKey("libraries.id", ondelete="CASCADE"), index=True)
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    note: Mapped[str] = mapped_column(String(300), default="")

    library: Mapped[Library] = relationship(back_populates="closed_periods")


class TopicCategory(Base):
    __tablename__ = "topic_categories"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    name_fi: Mapped[str] = mapped_column(String(200))
    name_sv: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(Integer, default=0)

    topics: Mapped[list[Topic]] = relationship(back_populates="category", order_by="Topic.position")


class Topic(Base):
    """A thing one library can teach another. Its id never changes: renames keep history."""

    __tablename__ = "topics"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    category_id: Mapped[int] = mapped_column(ForeignKey("topic_categories.id"), index=True)
    name_fi: Mapped[str] = mapped_column(String(200))
    name_sv: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    synonyms: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[TopicStatus] = mapped_column(
        Enum(TopicStatus, native_enum=False, length=16, values_callable=lambda e: [m.value for m in e]),
        default=TopicStatus.ACTIVE,
    )
    position: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column()

    category: Mapped[TopicCategory] = relationship(back_populates="topics")

    def name(self, lang: str) -> str:
        return {"fi": self.name_fi, "sv": self.name_sv, "en": self.name_en}.get(lang) or self.name_fi


class StaffProfile(Base):
    """A Slack user as the bot knows them: home library and language."""

    __tablename__ = "staff_profiles"

    id: Mapped[int] = mapped_column(primary_key=True)
    slack_user_id: Mapped[str] = mapped_column(String(32), unique=True)
    home_library_id: Mapped[int | None] = mapped_column(ForeignKey("libraries.id"), nullable=True)
    language: Mapped[str | None] = mapped_column(String(8), nullable=True)
    slack_locale: Mapped[str | None] = mapped_column(String(16), nullable=True)
    locale_checked_at: Mapped[datetime | None] = mapped_column(nullable=True)
    display_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    created_at: Mapped[datetime] = mapped_column()
    updated_at: Mapped[datetime] = mapped_column()

    home_library: Mapped[Library | None] = relationship()


class AuditEntry(Base):
    """Who did what, when: every decision and every change of settings or data."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_entity", "entity", "entity_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(index=True)
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    entity: Mapped[str] = mapped_column(String(64))
    entity_id: Mapped[str] = mapped_column(String(64))
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)


class SuggestionStatus(enum.StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    MERGED = "merged"
    REJECTED = "rejected"


offer_topics = Table(
    "host_offer_topics",
    Base.metadata,
    Column("offer_id", ForeignKey("host_offers.id", ondelete="CASCADE"), primary_key=True),
    Column("topic_id", ForeignKey("topics.id"), primary_key=True, index=True),
)


class HostOffer(Base):
    """What a library can teach visitors: topics, a description, capacity and suitable weekdays.

    `weekdays` is a bit mask (Monday = 1, Tuesday = 2, ... Sunday = 64). `search_terms` holds the
    normalised words of the description (see services.matching.index_text), rebuilt on save, so
    that `etsi` can filter descriptions in SQL."""

    __tablename__ = "host_offers"

    id: Mapped[int] = mapped_column(primary_key=True)
    library_id: Mapped[int] = mapped_column(ForeignKey("libraries.id", ondelete="CASCADE"), index=True)
    description: Mapped[str] = mapped_column(Text, default="")
    monthly_capacity: Mapped[int] = mapped_column(Integer, default=1)
    weekdays: Mapped[int] = mapped_column(Integer, default=31)
    search_terms: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column()
    updated_at: Mapped[datetime] = mapped_column()

    library: Mapped[Library] = relationship()
    topics: Mapped[list[Topic]] = relationship(secondary=offer_topics, order_by="Topic.id")


class TopicSuggestion(Base):
    """A topic an offer asked for that is not in the catalogue yet; coordinators decide on it."""

    __tablename__ = "topic_suggestions"

    id: Mapped[int] = mapped_column(primary_key=True)
    text: Mapped[str] = mapped_column(String(200))
    offer_id: Mapped[int | None] = mapped_column(
        ForeignKey("host_offers.id", ondelete="SET NULL"), nullable=True, index=True
    )
    library_id: Mapped[int | None] = mapped_column(ForeignKey("libraries.id"), nullable=True)
    suggested_by: Mapped[str] = mapped_column(String(32))
    status: Mapped[SuggestionStatus] = mapped_column(
        Enum(SuggestionStatus, native_enum=False, length=16, values_callable=lambda e: [m.value for m in e]),
        default=SuggestionStatus.PENDING,
    )
    topic_id: Mapped[int | None] = mapped_column(ForeignKey("topics.id"), nullable=True)
    decided_by: Mapped[str | None] = mapped_column(String(32), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(nullable=True)
    created_at: Mapped[datetime] = mapped_column()
    # Where the coordinators' DMs about it are ("channel:ts" lines), to re-render them after a decision.
    messages: Mapped[str] = mapped_column(Text, default="")

    topic: Mapped[Topic | None] = relationship()


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
    "UTCDateTime",
    "offer_topics",
]
