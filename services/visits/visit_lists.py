"""Lists of visits: the user's own (`my_visits`, one page at a time), those that wait for the
user's decision (`waiting_for`), a region's visits whose funding waits, and one visit's card or
version."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session, aliased, sessionmaker

from models import (
    Library,
    LibraryContact,
    PartyState,
    Topic,
    Visit,
    VisitDate,
    VisitMessage,
    VisitStatus,
    VisitStop,
    VisitTraveller,
)
from services.common.errors import NotFound
from services.people.coordinators import Scope
from services.visits.visit_card import VisitCard, load, read_card

# The host's states in which the visit waits for its visitor (to pick a date, or give new ones).
VISITOR_TURN = (PartyState.COUNTERED, PartyState.LAPSED)


@dataclass(frozen=True)
class VisitLine:
    """One row of a list (App Home, `omat`)."""

    id: int
    visitor_id: str
    topic_names: dict[str, str]
    host_library_name: str
    status: VisitStatus
    supervisor_state: PartyState
    host_state: PartyState
    funding_state: PartyState
    chosen_date: date | None
    first_date: date | None
    created_at: datetime
    waiting_as: str = ""  # supervisor | host | funding | visitor (for "waiting for my decision")

    def topic(self, lang: str) -> str:
        return self.topic_names.get(lang) or self.topic_names.get("fi", "")


@dataclass
class Page:
    lines: list[VisitLine] = field(default_factory=list)
    total: int = 0
    page: int = 0
    page_size: int = 10

    @property
    def has_next(self) -> bool:
        return (self.page + 1) * self.page_size < self.total


def card_of(session_factory: sessionmaker[Session], visit_id: int) -> VisitCard:
    with session_factory() as session:
        return read_card(session, load(session, visit_id))


def version_of(session_factory: sessionmaker[Session], visit_id: int) -> int | None:
    """The visit's current version (one cheap statement), or None if it is gone."""
    with session_factory() as session:
        return session.scalar(select(Visit.version).where(Visit.id == visit_id))


def my_visits(
    session_factory: sessionmaker[Session], user_id: str, *, page: int = 0, page_size: int = 10
) -> Page:
    """The visits the user proposed, newest first, one page."""
    page = max(0, page)
    with session_factory() as session:
        total = session.scalar(select(func.count(Visit.id)).where(Visit.visitor_id == user_id)) or 0
        if page * page_size >= total > 0:
            page = (total - 1) // page_size
        stmt = (
            _line_query()
            .where(Visit.visitor_id == user_id)
            .order_by(Visit.created_at.desc(), Visit.id.desc())
            .offset(page * page_size)
            .limit(page_size)
        )
        lines = _lines(session, stmt)
    return Page(lines, total, page, page_size)


def waiting_for(
    session_factory: sessionmaker[Session],
    user_id: str,
    *,
    is_coordinator: bool | Scope,
    limit: int = 10,
    also_for: Sequence[str] = (),
) -> Page:
    """Visits that wait for this user's decision (as supervisor, host contact, coordinator or
    visitor; also those of `also_for`, the people away today they stand in for). A coordinator's
    funding decisions are those of their region, less their own visits and their staff's (see
    `_check_party`)."""
    deciders = [user_id, *also_for]
    host_libraries = select(LibraryContact.library_id).where(LibraryContact.slack_user_id.in_(deciders))
    consents_owed = select(VisitTraveller.visit_id).where(
        VisitTraveller.supervisor_id.in_(deciders),
        VisitTraveller.consent == PartyState.PENDING,
        VisitTraveller.withdrawn_at.is_(None),
    )
    stops_owed = select(VisitStop.visit_id).where(  # a study trip's further stop, once the day is agreed
        VisitStop.library_id.in_(host_libraries),
        VisitStop.state == PartyState.PENDING,
        VisitStop.removed_at.is_(None),
    )
    conditions = [
        and_(Visit.supervisor_state == PartyState.PENDING, Visit.id.in_(consents_owed)),
        and_(Visit.host_library_id.in_(host_libraries), Visit.host_state == PartyState.PENDING),
        and_(Visit.id.in_(stops_owed), Visit.chosen_date.is_not(None)),
        and_(Visit.visitor_id == user_id, Visit.host_state.in_(VISITOR_TURN)),
    ]
    if is_coordinator:
        on_it = select(VisitTraveller.visit_id).where(
            or_(VisitTraveller.user_id == user_id, VisitTraveller.supervisor_id == user_id)
        )
        funding = [  # not a visit they travel on, or whose travellers they supervise
            Visit.funding_state == PartyState.PENDING,
            Visit.visitor_id != user_id,
            Visit.supervisor_id != user_id,
            Visit.id.not_in(on_it),
        ]
        if isinstance(is_coordinator, Scope) and is_coordinator.regions is not None:
            in_region = select(Library.id).where(Library.region_id.in_(sorted(is_coordinator.regions)))
            funding.append(Visit.home_library_id.in_(in_region))
        conditions.append(and_(*funding))
    where = and_(Visit.status == VisitStatus.PROPOSED, or_(*conditions))
    with session_factory() as session:
        total = session.scalar(select(func.count(Visit.id)).where(where)) or 0
        contact_of = set(session.scalars(host_libraries))
        owed = set(session.scalars(consents_owed))
        stops_of: dict[int, int] = {}  # visit -> the further stop of a study trip a library of theirs owes
        if contact_of:
            found = session.execute(
                select(VisitStop.visit_id, VisitStop.position).where(
                    VisitStop.library_id.in_(contact_of),
                    VisitStop.state == PartyState.PENDING,
                    VisitStop.removed_at.is_(None),
                )
            )
            stops_of = {visit_id: position for visit_id, position in found}
        stmt = _line_query().where(where).order_by(Visit.created_at.asc(), Visit.id.asc()).limit(limit)
        lines = []
        for line, visit in _lines_with(session, stmt):
            if visit.supervisor_state == PartyState.PENDING and visit.id in owed:
                role = "supervisor"
            elif visit.host_library_id in contact_of and visit.host_state == PartyState.PENDING:
                role = "host"
            elif visit.visitor_id == user_id and visit.host_state in VISITOR_TURN:
                role = "visitor"
            elif visit.id in stops_of:
                role = f"stop{stops_of[visit.id]}"
            else:
                role = "funding"
            lines.append(_replace_role(line, role))
    return Page(lines, total, 0, limit)


OWED_WITH_BUTTONS = 3  # the first decisions owed, on App Home with their buttons right there


def owed_cards(
    session_factory: sessionmaker[Session], waiting: Page, *, limit: int = OWED_WITH_BUTTONS
) -> dict[int, VisitCard]:
    """The cards of the first `limit` visits waiting for the user, to render their decision
    buttons (each card a few statements: only a handful are read)."""
    cards: dict[int, VisitCard] = {}
    with session_factory() as session:
        for line in waiting.lines[:limit]:
            try:
                cards[line.id] = read_card(session, load(session, line.id))
            except NotFound:  # removed since the list was read
                continue
    return cards


def to_my_library(
    session_factory: sessionmaker[Session], user_id: str, *, today: date, limit: int = 5
) -> Page:
    """Visits to the libraries where the user is a contact (a study trip's further stops too; not
    their own trips), upcoming first."""
    libraries_of = select(LibraryContact.library_id).where(LibraryContact.slack_user_id == user_id)
    stops = select(VisitStop.visit_id).where(
        VisitStop.library_id.in_(libraries_of), VisitStop.removed_at.is_(None)
    )
    return _part(
        session_factory,
        and_(or_(Visit.host_library_id.in_(libraries_of), Visit.id.in_(stops)), Visit.visitor_id != user_id),
        today,
        limit,
    )


def of_my_staff(session_factory: sessionmaker[Session], user_id: str, *, today: date, limit: int = 5) -> Page:
    """Visits on which people the user is the supervisor of travel, upcoming first."""
    theirs = select(VisitTraveller.visit_id).where(
        VisitTraveller.supervisor_id == user_id, VisitTraveller.user_id != user_id
    )
    return _part(
        session_factory,
        and_(or_(Visit.supervisor_id == user_id, Visit.id.in_(theirs)), Visit.visitor_id != user_id),
        today,
        limit,
    )


def with_me(session_factory: sessionmaker[Session], user_id: str, *, today: date, limit: int = 5) -> Page:
    """Trips someone else proposed on which the user comes along, upcoming first."""
    mine = select(VisitTraveller.visit_id).where(
        VisitTraveller.user_id == user_id, VisitTraveller.withdrawn_at.is_(None), VisitTraveller.position > 0
    )
    return _part(session_factory, Visit.id.in_(mine), today, limit)


def parts_of(session_factory: sessionmaker[Session], user_id: str, *, today: date) -> list[tuple[str, Page]]:
    """The user's other parts in visits, as (title key, page): visits to their library, their
    staff's visits. Empty pages are left for the view to skip."""
    return [
        ("visits.list.with_me", with_me(session_factory, user_id, today=today)),
        ("visits.list.to_my_library", to_my_library(session_factory, user_id, today=today)),
        ("visits.list.my_staff", of_my_staff(session_factory, user_id, today=today)),
    ]


SHOWN_STATUSES = (VisitStatus.PROPOSED, VisitStatus.CONFIRMED)
PART_CANDIDATES = 200  # the newest this many are ordered (a person's part is far smaller)


def _part(session_factory: sessionmaker[Session], where, today: date, limit: int) -> Page:  # noqa: ANN001
    """Open visits (proposed or agreed) matching `where`: the coming ones by date, nearest first,
    then those whose date has passed, latest first."""
    where = and_(where, Visit.status.in_(SHOWN_STATUSES))
    with session_factory() as session:  # one statement: the total is that of the candidates
        stmt = (
            _line_query()
            .where(where)
            .order_by(Visit.created_at.desc(), Visit.id.desc())
            .limit(PART_CANDIDATES)
        )
        lines = _lines(session, stmt)
    total = len(lines)

    def order(line: VisitLine) -> tuple[int, int]:
        day = line.chosen_date or line.first_date
        if day is None:
            return (1, 0)
        return (0, day.toordinal()) if day >= today else (1, -day.toordinal())

    return Page(sorted(lines, key=order)[:limit], total, 0, limit)


def waiting_for_funding(
    session_factory: sessionmaker[Session], region_id: int, *, limit: int = 50
) -> list[int]:
    """The proposed visits of a region whose funding waits, oldest first (at most `limit`)."""
    in_region = select(Library.id).where(Library.region_id == region_id)
    with session_factory() as session:
        return list(
            session.scalars(
                select(Visit.id)
                .where(
                    Visit.status == VisitStatus.PROPOSED,
                    Visit.funding_state == PartyState.PENDING,
                    Visit.home_library_id.in_(in_region),
                )
                .order_by(Visit.created_at, Visit.id)
                .limit(limit)
            )
        )


def with_funding_message(
    session_factory: sessionmaker[Session], user_id: str, *, limit: int = 50
) -> list[int]:
    """The open (proposed or confirmed) visits on which `user_id` has a funding message, oldest
    first: when they stop coordinating the region, those messages must lose their buttons."""
    with session_factory() as session:
        return list(
            session.scalars(
                select(Visit.id)
                .join(VisitMessage, VisitMessage.visit_id == Visit.id)
                .where(
                    VisitMessage.recipient == user_id,
                    VisitMessage.role == "funding",
                    Visit.status.in_([VisitStatus.PROPOSED, VisitStatus.CONFIRMED]),
                )
                .order_by(Visit.created_at, Visit.id)
                .limit(limit)
            )
        )


def _line_query():
    host = aliased(Library)
    first_date = (
        select(func.min(VisitDate.day))
        .where(VisitDate.visit_id == Visit.id, VisitDate.active.is_(True))
        .correlate(Visit)
        .scalar_subquery()
    )
    return (
        select(Visit, Topic.name_fi, Topic.name_sv, Topic.name_en, host.name, first_date)
        .join(Topic, Topic.id == Visit.topic_id)
        .join(host, host.id == Visit.host_library_id)
    )


def _lines_with(session: Session, stmt) -> list[tuple[VisitLine, Visit]]:  # noqa: ANN001
    result = []
    for visit, fi, sv, en, host_name, first in session.execute(stmt).all():
        line = VisitLine(
            id=visit.id,
            visitor_id=visit.visitor_id,
            topic_names={"fi": fi, "sv": sv, "en": en},
            host_library_name=host_name,
            status=visit.status,
            supervisor_state=visit.supervisor_state,
            host_state=visit.host_state,
            funding_state=visit.funding_state,
            chosen_date=visit.chosen_date,
            first_date=first,
            created_at=visit.created_at,
        )
        result.append((line, visit))
    return result


def _lines(session: Session, stmt) -> list[VisitLine]:  # noqa: ANN001
    return [line for line, _visit in _lines_with(session, stmt)]


def _replace_role(line: VisitLine, role: str) -> VisitLine:
    return replace(line, waiting_as=role)
