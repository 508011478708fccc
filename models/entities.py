"""The tables of the bot, as SQLAlchemy 2 typed ORM classes.

Times are stored as timezone-aware UTC (`UTCDateTime`); ids are integers, with a stable
string `key` where people or files refer to a row (libraries, topics, regions).
"""

from __future__ import annotations

import enum
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    Numeric,
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


# --- Visits ----------------------------------------------------------------------------------
class VisitStatus(enum.StrEnum):
    PROPOSED = "proposed"  # waiting for the supervisor, the host and funding (or the visitor's pick)
    CONFIRMED = "confirmed"  # all three said yes and a date is agreed
    DECLINED = "declined"  # someone said no: the visit ended
    CANCELLED = "cancelled"  # the visitor or a coordinator called it off (or withdrew)


class PartyState(enum.StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    DECLINED = "declined"
    COUNTERED = "countered"  # the host proposed other dates; the visitor picks
    LAPSED = "lapsed"  # (host) no date given works any more (passed, or the host closed): the visitor gives new ones


def _str_enum(cls: type[enum.StrEnum], length: int = 16) -> Enum:
    return Enum(cls, native_enum=False, length=length, values_callable=lambda e: [m.value for m in e])


class Visit(Base):
    """A study visit: proposed by a visitor, agreed by the supervisor, the host and funding."""

    __tablename__ = "visits"
    __table_args__ = (
        Index("ix_visits_visitor", "visitor_id", "created_at"),
        Index("ix_visits_host_status", "host_library_id", "status"),
        Index("ix_visits_supervisor", "supervisor_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    visitor_id: Mapped[str] = mapped_column(String(32))
    home_library_id: Mapped[int] = mapped_column(ForeignKey("libraries.id"))
    host_library_id: Mapped[int] = mapped_column(ForeignKey("libraries.id"))
    topic_id: Mapped[int] = mapped_column(ForeignKey("topics.id"))
    learn: Mapped[str] = mapped_column(Text, default="")
    length: Mapped[str] = mapped_column(String(16))  # half_day | day | two_days
    travel_mode: Mapped[str] = mapped_column(String(16))  # public | car | other
    estimated_km: Mapped[Decimal] = mapped_column(Numeric(8, 1), default=Decimal("0"))
    ticket_cost: Mapped[Decimal] = mapped_column(Numeric(10, 2), default=Decimal("0"))
    accommodation_cost: Mapped[Decimal] = mapped_column(Numeric(10, 2), default=Decimal("0"))
    funded_cost: Mapped[Decimal | None] = mapped_column(Numeric(10, 2), nullable=True)
    supervisor_id: Mapped[str] = mapped_column(String(32))
    note_to_host: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[VisitStatus] = mapped_column(_str_enum(VisitStatus), default=VisitStatus.PROPOSED)
    supervisor_state: Mapped[PartyState] = mapped_column(_str_enum(PartyState), default=PartyState.PENDING)
    host_state: Mapped[PartyState] = mapped_column(_str_enum(PartyState), default=PartyState.PENDING)
    funding_state: Mapped[PartyState] = mapped_column(_str_enum(PartyState), default=PartyState.PENDING)
    round: Mapped[int] = mapped_column(Integer, default=1)  # raised when the visit is moved
    chosen_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    ics_sequence: Mapped[int] = mapped_column(Integer, default=0)
    invite_sent: Mapped[bool] = mapped_column(Boolean, default=False)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    created_at: Mapped[datetime] = mapped_column()
    updated_at: Mapped[datetime] = mapped_column()

    dates: Mapped[list[VisitDate]] = relationship(
        back_populates="visit", cascade="all, delete-orphan", order_by="VisitDate.id"
    )
    decisions: Mapped[list[VisitDecision]] = relationship(
        back_populates="visit", cascade="all, delete-orphan", order_by="VisitDecision.id"
    )

    __mapper_args__ = {"version_id_col": version}


class VisitDate(Base):
    """A candidate date: the visitor's (1-3) or the host's counter-proposal. Inactive once replaced."""

    __tablename__ = "visit_dates"

    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visits.id", ondelete="CASCADE"), index=True)
    day: Mapped[date] = mapped_column(Date)
    source: Mapped[str] = mapped_column(String(16))  # visitor | host
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    visit: Mapped[Visit] = relationship(back_populates="dates")


class VisitDecision(Base):
    """One decision: who (party, decided_by), what (outcome, reason) and when."""

    __tablename__ = "visit_decisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visits.id", ondelete="CASCADE"), index=True)
    round: Mapped[int] = mapped_column(Integer, default=1)
    party: Mapped[str] = mapped_column(String(16))  # supervisor | host | funding | visitor
    decided_by: Mapped[str] = mapped_column(String(32))
    outcome: Mapped[str] = mapped_column(String(16))  # approved | declined | countered | picked | ...
    reason: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column()

    visit: Mapped[Visit] = relationship(back_populates="decisions")


class VisitMessage(Base):
    """Where a visit's message to one person lives, so it can be re-rendered with chat.update."""

    __tablename__ = "visit_messages"
    __table_args__ = (UniqueConstraint("visit_id", "recipient", "role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visits.id", ondelete="CASCADE"), index=True)
    recipient: Mapped[str] = mapped_column(String(32))
    role: Mapped[str] = mapped_column(String(16))  # visitor | supervisor | host | funding
    channel: Mapped[str] = mapped_column(String(32))
    ts: Mapped[str] = mapped_column(String(32))


class KilometreRate(Base):
    """The kilometre allowance of a travel year, EUR/km."""

    __tablename__ = "kilometre_rates"

    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    eur_per_km: Mapped[Decimal] = mapped_column(Numeric(6, 3))


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
    normalised words of the description (see services.common.words.index_text), rebuilt on save, so
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
    # Its DMs to the coordinators, a line "channel ts coordinator" each: to re-render them after a
    # decision, and so that nobody gets it twice (lines written before 2026-11-25 lack the coordinator).
    messages: Mapped[str] = mapped_column(Text, default="")

    topic: Mapped[Topic | None] = relationship()


class ReminderStatus(enum.StrEnum):
    PENDING = "pending"
    SENT = "sent"
    CANCELLED = "cancelled"
    FAILED = "failed"


class Reminder(Base):
    """Something the bot must tell someone at a time. The sweep claims, sends and marks it.

    `dedupe_key` makes planning idempotent (the same reminder is never planned twice), and
    `next_attempt_at` is when it may next be tried (its due time, later after a failure).
    """

    __tablename__ = "reminders"
    __table_args__ = (
        Index("ix_reminders_due", "status", "next_attempt_at"),
        Index("ix_reminders_visit", "visit_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    visit_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    kind: Mapped[str] = mapped_column(String(64))
    recipient: Mapped[str] = mapped_column(String(32))
    due_at: Mapped[datetime] = mapped_column()
    next_attempt_at: Mapped[datetime] = mapped_column()
    status: Mapped[ReminderStatus] = mapped_column(
        Enum(ReminderStatus, native_enum=False, length=16, values_callable=lambda e: [m.value for m in e]),
        default=ReminderStatus.PENDING,
    )
    claimed_at: Mapped[datetime | None] = mapped_column(nullable=True)
    claim_token: Mapped[str | None] = mapped_column(String(32), nullable=True)
    sent_at: Mapped[datetime | None] = mapped_column(nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(200), nullable=True)
    params: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column()


class WriteUpStatus(enum.StrEnum):
    DRAFT = "draft"  # not submitted, or submitted without publishing (see `submitted_at`)
    PUBLISHED = "published"  # in the idea bank (and posted to its channel)
    HIDDEN = "hidden"  # a coordinator took it out of the idea bank (`hide_reason`)


class WriteUp(Base):
    """The visitor's write-up of a visit: one per visit. The fields hold the submitted version;
    `draft` holds what was typed in a modal that was closed without submitting (None when there
    is nothing unsaved). `search_terms` are the stems of the title, texts and topic names
    (services.common.words.index_text), rebuilt on every submission."""

    __tablename__ = "writeups"
    __table_args__ = (Index("ix_writeups_status_published", "status", "published_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visits.id", ondelete="CASCADE"), unique=True)
    author_id: Mapped[str] = mapped_column(String(32), index=True)
    title: Mapped[str] = mapped_column(String(200), default="")
    learned: Mapped[str] = mapped_column(Text, default="")
    try_at_home: Mapped[str] = mapped_column(Text, default="")
    tips: Mapped[str] = mapped_column(Text, default="")
    recommend: Mapped[str] = mapped_column(String(16), default="")  # yes | reservations | no
    link: Mapped[str] = mapped_column(String(500), default="")
    publish: Mapped[bool] = mapped_column(Boolean, default=True)
    status: Mapped[WriteUpStatus] = mapped_column(_str_enum(WriteUpStatus), default=WriteUpStatus.DRAFT)
    hide_reason: Mapped[str] = mapped_column(Text, default="")
    hidden_by: Mapped[str | None] = mapped_column(String(32), nullable=True)
    draft: Mapped[dict[str, Any] | None] = mapped_column(nullable=True)
    search_terms: Mapped[str] = mapped_column(Text, default="")
    channel: Mapped[str | None] = mapped_column(String(32), nullable=True)
    ts: Mapped[str | None] = mapped_column(String(32), nullable=True)
    submitted_at: Mapped[datetime | None] = mapped_column(nullable=True)
    published_at: Mapped[datetime | None] = mapped_column(nullable=True)
    created_at: Mapped[datetime] = mapped_column()
    updated_at: Mapped[datetime] = mapped_column()

    visit: Mapped[Visit] = relationship()


# --- The coordinator's desk (issue 7) ------------------------------------------------------------
class InvoiceStatus(enum.StrEnum):
    NOT_NEEDED = "not_needed"
    WAITING = "waiting"
    RECEIVED = "received"
    PAID = "paid"


class Coordinator(Base):
    """A coordinator added in the bot (those in COORDINATOR_USER_IDS need no row)."""

    __tablename__ = "coordinators"

    id: Mapped[int] = mapped_column(primary_key=True)
    slack_user_id: Mapped[str] = mapped_column(String(32), unique=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("regions.id"), index=True)
    added_by: Mapped[str] = mapped_column(String(32))
    added_at: Mapped[datetime] = mapped_column()


class Budget(Base):
    """A region's peer-learning budget for one year (euros)."""

    __tablename__ = "budgets"
    __table_args__ = (UniqueConstraint("region_id", "year", name="uq_budgets_region_year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("regions.id"), index=True)
    year: Mapped[int] = mapped_column(Integer)
    amount: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    set_by: Mapped[str] = mapped_column(String(32))
    set_at: Mapped[datetime] = mapped_column()


class VisitCost(Base):
    """What a visit really cost, tickets bought in advance, and its travel invoice.

    A visit is *settled* once its actual costs are recorded (`settled_at`); until then its
    approved estimate counts as committed."""

    __tablename__ = "visit_costs"

    visit_id: Mapped[int] = mapped_column(
        ForeignKey("visits.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    actual_km: Mapped[Decimal | None] = mapped_column(Numeric(8, 1), nullable=True)
    actual_km_allowance: Mapped[Decimal | None] = mapped_column(Numeric(10, 2), nullable=True)
    actual_tickets: Mapped[Decimal | None] = mapped_column(Numeric(10, 2), nullable=True)
    actual_accommodation: Mapped[Decimal | None] = mapped_column(Numeric(10, 2), nullable=True)
    settled_by: Mapped[str | None] = mapped_column(String(32), nullable=True)
    settled_at: Mapped[datetime | None] = mapped_column(nullable=True)
    tickets_bought_by: Mapped[str | None] = mapped_column(String(32), nullable=True)
    tickets_bought_at: Mapped[datetime | None] = mapped_column(nullable=True)
    invoice_status: Mapped[InvoiceStatus] = mapped_column(
        Enum(InvoiceStatus, native_enum=False, length=16, values_callable=lambda e: [m.value for m in e]),
        default=InvoiceStatus.NOT_NEEDED,
    )
    invoice_changed_by: Mapped[str | None] = mapped_column(String(32), nullable=True)
    invoice_changed_at: Mapped[datetime | None] = mapped_column(nullable=True)

    @property
    def actual_total(self) -> Decimal:
        return sum(
            (
                v or Decimal("0")
                for v in (self.actual_km_allowance, self.actual_tickets, self.actual_accommodation)
            ),
            Decimal("0"),
        )


class Submission(Base):
    """A modal submission that created something, known by the submitting view's id: saved in
    the same transaction as what it created, so a second delivery of the same submission (a
    replay after a restart, two copies at once) changes nothing."""

    __tablename__ = "submissions"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column()


class CacheGeneration(Base):
    """A number that every process and replica of the bot reads: raised when something that
    processes cache (profiles, coordinators) has changed, so that each drops its copy within
    seconds (services/common/generation.py)."""

    __tablename__ = "cache_generations"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger, default=0)


class Delivery(Base):
    """A request Slack delivered, known by a hash of its id and signed body, with the answer it
    got: a retry of it, to whichever replica it comes, gets the same answer and runs nothing
    (bot/replays.py). `status` is None while the first delivery is being answered."""

    __tablename__ = "deliveries"
    __table_args__ = (Index("ix_deliveries_expires", "expires_at"),)

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    status: Mapped[int | None] = mapped_column(Integer, nullable=True)
    body: Mapped[str | None] = mapped_column(Text, nullable=True)
    content_type: Mapped[str | None] = mapped_column(String(100), nullable=True)
    expires_at: Mapped[datetime] = mapped_column()


__all__ = [
    "CacheGeneration",
    "Delivery",
    "AuditEntry",
    "Base",
    "Budget",
    "Coordinator",
    "InvoiceStatus",
    "VisitCost",
    "KilometreRate",
    "PartyState",
    "ClosedPeriod",
    "HostOffer",
    "Library",
    "LibraryContact",
    "Region",
    "Reminder",
    "ReminderStatus",
    "StaffProfile",
    "Submission",
    "SuggestionStatus",
    "Topic",
    "TopicCategory",
    "TopicStatus",
    "TopicSuggestion",
    "UTCDateTime",
    "Visit",
    "VisitDate",
    "VisitDecision",
    "VisitMessage",
    "VisitStatus",
    "WriteUp",
    "WriteUpStatus",
    "offer_topics",
]
