"""The tables of a visit: the visit, its travellers, candidate dates, decisions and the messages
that show it (split from models.entities, which holds the rest)."""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, str_enum


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
    status: Mapped[VisitStatus] = mapped_column(str_enum(VisitStatus), default=VisitStatus.PROPOSED)
    supervisor_state: Mapped[PartyState] = mapped_column(str_enum(PartyState), default=PartyState.PENDING)
    host_state: Mapped[PartyState] = mapped_column(str_enum(PartyState), default=PartyState.PENDING)
    funding_state: Mapped[PartyState] = mapped_column(str_enum(PartyState), default=PartyState.PENDING)
    round: Mapped[int] = mapped_column(Integer, default=1)  # raised when the visit is moved
    chosen_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    ics_sequence: Mapped[int] = mapped_column(Integer, default=0)
    invite_sent: Mapped[bool] = mapped_column(Boolean, default=False)
    # Did the agreed visit take place? Asked of the visitor after the day (None: not answered yet).
    happened: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    created_at: Mapped[datetime] = mapped_column()
    updated_at: Mapped[datetime] = mapped_column()

    travellers: Mapped[list[VisitTraveller]] = relationship(
        back_populates="visit", cascade="all, delete-orphan", order_by="VisitTraveller.position"
    )
    dates: Mapped[list[VisitDate]] = relationship(
        back_populates="visit", cascade="all, delete-orphan", order_by="VisitDate.id"
    )
    decisions: Mapped[list[VisitDecision]] = relationship(
        back_populates="visit", cascade="all, delete-orphan", order_by="VisitDecision.id"
    )
    # A study trip's further libraries (stops 2-4; the first is host_library_id and topic_id).
    stops: Mapped[list[VisitStop]] = relationship(
        back_populates="visit", cascade="all, delete-orphan", order_by="VisitStop.position"
    )

    __mapper_args__ = {"version_id_col": version}


class VisitTraveller(Base):
    """One of those who travel: the visitor (position 0) and the colleagues who come along. Each
    traveller's supervisor consents for their own staff (`consent`); a colleague may withdraw
    alone (`withdrawn_at`), and the visit goes on for the others."""

    __tablename__ = "visit_travellers"
    __table_args__ = (UniqueConstraint("visit_id", "user_id"), Index("ix_visit_travellers_user", "user_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visits.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    user_id: Mapped[str] = mapped_column(String(32))
    supervisor_id: Mapped[str] = mapped_column(String(32), index=True)
    consent: Mapped[PartyState] = mapped_column(str_enum(PartyState), default=PartyState.PENDING)
    withdrawn_at: Mapped[datetime | None] = mapped_column(nullable=True)

    visit: Mapped[Visit] = relationship(back_populates="travellers")

    @property
    def active(self) -> bool:
        return self.withdrawn_at is None


class VisitStop(Base):
    """A further library of a study trip (position 2-4; the visit's own host is stop 1), with its
    topic. Its host is asked once the trip's day is agreed with the first host, and accepts a
    time slot of that day (`slot`) or declines; a declined stop is replaced by the visitor
    (`library_id` changes, asked again) or left out (`removed_at`): the trip goes on without it."""

    __tablename__ = "visit_stops"
    __table_args__ = (
        UniqueConstraint("visit_id", "position"),
        Index("ix_visit_stops_library", "library_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visits.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    library_id: Mapped[int] = mapped_column(ForeignKey("libraries.id"))
    topic_id: Mapped[int] = mapped_column(ForeignKey("topics.id"))
    state: Mapped[PartyState] = mapped_column(str_enum(PartyState), default=PartyState.PENDING)
    slot: Mapped[str] = mapped_column(String(16), default="")  # morning | afternoon ("" undecided)
    decided_by: Mapped[str | None] = mapped_column(String(32), nullable=True)
    removed_at: Mapped[datetime | None] = mapped_column(nullable=True)

    visit: Mapped[Visit] = relationship(back_populates="stops")

    @property
    def active(self) -> bool:
        return self.removed_at is None


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
    # A substitute (sijainen) decided: the person away whose decision it was (`decided_by` took it).
    on_behalf_of: Mapped[str | None] = mapped_column(String(32), nullable=True)

    visit: Mapped[Visit] = relationship(back_populates="decisions")


class VisitMessage(Base):
    """Where a visit's message to one person lives, so it can be re-rendered with chat.update."""

    __tablename__ = "visit_messages"
    __table_args__ = (UniqueConstraint("visit_id", "recipient", "role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visits.id", ondelete="CASCADE"), index=True)
    recipient: Mapped[str] = mapped_column(String(32))
    role: Mapped[str] = mapped_column(String(16))  # visitor | supervisor | host | funding
    # Slack: the DM's channel id and the message's ts; Teams: the 1:1 conversation id and the
    # activity id (longer: migration 0014).
    channel: Mapped[str] = mapped_column(String(400))
    ts: Mapped[str] = mapped_column(String(400))
