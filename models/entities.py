"""The tables of the bot, as SQLAlchemy 2 typed ORM classes.

Times are stored as timezone-aware UTC (`UTCDateTime`); ids are integers, with a stable
string `key` where people or files refer to a row (libraries, topics, regions).
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, UTCDateTime, str_enum

if TYPE_CHECKING:
    from models.visits import Visit


class TopicStatus(enum.StrEnum):
    ACTIVE = "active"
    RETIRED = "retired"


class Region(Base):
    """A regional development task (AKE) area: its libraries share a grant and coordinators."""

    __tablename__ = "regions"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    # Does the region's grant pay the kilometre allowance's passenger supplement (per passenger
    # carried in the driver's car)?
    pays_passenger_supplement: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Working days a party has to answer a request before the visitor is asked what to do.
    answer_days: Mapped[int] = mapped_column(Integer, default=5, server_default="5")

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
    # Who the person is in the organisation's directory, for linking their accounts on other
    # platforms (models/accounts.py): the e-mail and the Entra object id, when known.
    email: Mapped[str | None] = mapped_column(String(254), nullable=True, index=True)
    directory_id: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
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


class KilometreRate(Base):
    """The kilometre allowance of a travel year, EUR/km."""

    __tablename__ = "kilometre_rates"

    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    eur_per_km: Mapped[Decimal] = mapped_column(Numeric(6, 3))
    # + this much per km for each passenger the driver carries (the Tax Administration's figure)
    passenger_eur_per_km: Mapped[Decimal] = mapped_column(
        Numeric(6, 3), default=Decimal("0.04"), server_default="0.04"
    )


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
    status: Mapped[WriteUpStatus] = mapped_column(str_enum(WriteUpStatus), default=WriteUpStatus.DRAFT)
    hide_reason: Mapped[str] = mapped_column(Text, default="")
    hidden_by: Mapped[str | None] = mapped_column(String(32), nullable=True)
    draft: Mapped[dict[str, Any] | None] = mapped_column(nullable=True)
    search_terms: Mapped[str] = mapped_column(Text, default="")
    channel: Mapped[str | None] = mapped_column(String(32), nullable=True)
    ts: Mapped[str | None] = mapped_column(String(32), nullable=True)
    # Its post in the Teams idea-bank channel (TEAMS_IDEA_BANK_CONVERSATION): the activity id, and
    # when a post was begun that has not been answered yet (see services.ideas.writeups).
    teams_activity_id: Mapped[str | None] = mapped_column(String(400), nullable=True)
    teams_post_begun_at: Mapped[datetime | None] = mapped_column(nullable=True)
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


class Substitute(Base):
    """A supervisor or host contact away from `starts_on` to `ends_on` (inclusive): meanwhile
    their decisions go to `substitute_id` (sijainen). `back_told_at`: told of what happened."""

    __tablename__ = "substitutes"
    __table_args__ = (
        Index("ix_substitutes_user", "user_id", "ends_on"),
        Index("ix_substitutes_substitute", "substitute_id", "ends_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[str] = mapped_column(String(32))
    substitute_id: Mapped[str] = mapped_column(String(32))
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    back_told_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


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
    "WriteUp",
    "WriteUpStatus",
    "offer_topics",
]


class ForgetRequest(Base):
    """A person asks to be forgotten; a coordinator of their region confirms (services.admin.
    forget_requests). Forgetting them writes their pseudonym in `requester` like everywhere else.
    `posted`: the coordinators' messages about it ({"messages": [{"channel", "ts"}]}), updated
    when it is done. `status`: pending, then done."""

    __tablename__ = "forget_requests"
    __table_args__ = (Index("ix_forget_requests_requester", "requester", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    requester: Mapped[str] = mapped_column(String(32))
    region_id: Mapped[int | None] = mapped_column(ForeignKey("regions.id"), nullable=True)
    lang: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    requested_at: Mapped[datetime] = mapped_column()
    done_at: Mapped[datetime | None] = mapped_column(nullable=True)
    done_by: Mapped[str | None] = mapped_column(String(32), nullable=True)
    posted: Mapped[dict[str, Any]] = mapped_column(default=dict)
