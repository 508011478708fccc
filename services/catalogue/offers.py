"""Host offers: what a library can teach, who answers for it, and when it takes no visitors.

Who may edit (`may_edit`): the library's contacts, and the coordinators of its region (their
Scope, services.people.coordinators). The first offer of a library that has no contacts yet makes the
submitter, someone who is no coordinator, its contact. A "not until" date becomes a ClosedPeriod
from today to the day before it (replacing the previous one set from the offer form); the
library's other closed periods are declared on the form too (services.catalogue.closed_periods).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, selectinload, sessionmaker

from models import ClosedPeriod, HostOffer, Library, LibraryContact, Topic, TopicStatus, TopicSuggestion
from services.catalogue import closed_periods
from services.catalogue.closed_periods import NOT_UNTIL_NOTE, Period
from services.catalogue.libraries import LibraryName, LibraryNames, search_libraries
from services.common import audit
from services.common.errors import InvalidInput, NotAllowed, NotFound
from services.common.words import index_text
from services.outbox import visit_outbox
from services.people import identity
from services.people.coordinators import Scope, covers

HELSINKI = ZoneInfo("Europe/Helsinki")
MAX_DESCRIPTION = 1000
MAX_SUGGESTION = 200
MAX_CAPACITY = 100
MAX_CONTACTS = 10
ALL_WEEKDAYS = 127
WORKDAYS = 31
SLACK_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,30}$")
NOT_CONTACT = "offer.error.not_contact"
OTHER_REGION = "offer.error.other_region"  # a coordinator, and the library is not of their region

# Form fields are named after the modal's block ids, so errors land next to the right input.
F_LIBRARY = "offer_library"
F_TOPICS = "offer_topics"
F_SUGGESTION = "offer_suggestion"
F_DESCRIPTION = "offer_description"
F_CONTACTS = "offer_contacts"
F_CAPACITY = "offer_capacity"
F_WEEKDAYS = "offer_weekdays"
F_NOT_UNTIL = "offer_not_until"
F_CLOSED = "offer_closed"


@dataclass(frozen=True)
class OfferForm:
    """What the offer modal shows: an existing offer, or a new one's defaults."""

    offer_id: int | None
    library_id: int | None
    library_name: str
    library_municipality: str
    topics: tuple[tuple[int, str], ...]
    description: str
    contacts: tuple[str, ...]
    capacity: int
    weekdays: int
    not_until: date | None
    closed: tuple[Period, ...] = ()  # the library's declared closed periods that have not ended


@dataclass(frozen=True)
class OfferSummary:
    offer_id: int
    library_name: str
    topics: tuple[str, ...]
    capacity: int


@dataclass(frozen=True)
class OfferInput:
    offer_id: int | None
    library_id: int | None
    topic_ids: Sequence[int]
    suggestion: str
    description: str
    contacts: Sequence[str]
    capacity: int | None
    weekdays: int
    not_until: date | None
    closed_text: str = ""  # the closed periods, one per line (closed_periods.parse)
    # the chat platform says some contact is no one who can be asked (a bot, a deactivated account)
    contacts_unknown: bool = False


@dataclass(frozen=True)
class SavedOffer:
    offer_id: int
    library_name: str
    created: bool
    suggestion_id: int | None
    topics: tuple[str, ...]
    outbox: visit_outbox.Owed | None = None  # the suggestion's DMs to the coordinators, if any


def is_person_id(person: str) -> bool:
    """A contact's id: a Slack user's, or that of a person known only in Teams (services.people.identity)."""
    return SLACK_USER_ID.fullmatch(person) is not None or identity.is_own_id(person)


def today_of(now: datetime) -> date:
    return now.astimezone(HELSINKI).date()


def may_edit(session: Session, library_id: int, user_id: str, *, coordinator: bool | Scope) -> bool:
    """A coordinator edits the offers of their regions' libraries (`coordinator` a Scope; a bool
    means everywhere or nowhere); everyone those of the libraries they are a contact for, and
    someone who is no coordinator also those of a library that has no contacts yet."""
    if coordinator:
        library = session.get(Library, library_id)
        if library is not None and covers(coordinator, library.region_id):
            return True
    contacts = set(
        session.scalars(select(LibraryContact.slack_user_id).where(LibraryContact.library_id == library_id))
    )
    return user_id in contacts or (not contacts and not coordinator)


def _refusal(coordinator: bool | Scope) -> str:
    """Why someone may not edit a library's offers: not its contact, or (a coordinator) not its region."""
    return OTHER_REGION if coordinator else NOT_CONTACT


def library_picker(
    names: LibraryNames,
    session_factory: sessionmaker[Session],
    query: str,
    user_id: str,
    *,
    coordinator: bool | Scope,
) -> list[LibraryName]:
    """The offer form's library choices: every library for someone who is no coordinator (their
    first offer of a library without contacts makes them its contact; saving checks the rest),
    for a coordinator of some regions those regions' libraries and those they are a contact for.
    Only a coordinator's answer costs a statement (a picker asks on every key press)."""
    if not isinstance(coordinator, Scope) or not coordinator or coordinator.regions is None:
        return names.search(query)
    with session_factory() as session:
        mine = set(
            session.scalars(select(LibraryContact.library_id).where(LibraryContact.slack_user_id == user_id))
        )
    regions = coordinator.regions
    return names.search(query, where=lambda library_id, region_id: library_id in mine or region_id in regions)


def editable_offers(
    session: Session, user_id: str, lang: str, *, coordinator: bool | Scope = False, library_query: str = ""
) -> list[OfferSummary]:
    """The offers the user may edit: of the libraries they are a contact for, or, with a
    `library_query` (`tarjoa <library>`), of the matching libraries they may edit (coordinators:
    all of their regions')."""
    stmt = (
        select(HostOffer)
        .options(selectinload(HostOffer.topics), selectinload(HostOffer.library))
        .order_by(HostOffer.id)
        .limit(20)
    )
    if library_query.strip():
        found = [lib.id for lib in search_libraries(session, library_query[:100], limit=20)]
        found = [i for i in found if may_edit(session, i, user_id, coordinator=coordinator)]
        stmt = stmt.where(HostOffer.library_id.in_(found))
    else:
        libraries = select(LibraryContact.library_id).where(LibraryContact.slack_user_id == user_id)
        stmt = stmt.where(HostOffer.library_id.in_(libraries))
    return [
        OfferSummary(o.id, o.library.name, tuple(t.name(lang) for t in o.topics), o.monthly_capacity)
        for o in session.scalars(stmt)
    ]


def _not_until(session: Session, library_id: int, today: date) -> date | None:
    ends = session.scalar(
        select(ClosedPeriod.ends_on)
        .where(
            ClosedPeriod.library_id == library_id,
            ClosedPeriod.note == NOT_UNTIL_NOTE,
            ClosedPeriod.ends_on >= today,
        )
        .order_by(ClosedPeriod.ends_on.desc())
        .limit(1)
    )
    return ends + timedelta(days=1) if ends else None


def offer_form(
    session: Session,
    *,
    offer_id: int | None,
    user_id: str,
    coordinator: bool | Scope,
    home_library_id: int | None,
    lang: str,
    now: datetime,
) -> OfferForm:
    """The form for a new offer (at the user's home library) or an existing one they may edit."""
    today = today_of(now)
    if offer_id is not None:
        offer = session.get(HostOffer, offer_id)
        if offer is None:
            raise NotFound()
        if not may_edit(session, offer.library_id, user_id, coordinator=coordinator):
            raise NotAllowed(_refusal(coordinator), library=offer.library.name)
        library = offer.library
        return OfferForm(
            offer_id=offer.id,
            library_id=library.id,
            library_name=library.name,
            library_municipality=library.municipality,
            topics=tuple((t.id, t.name(lang)) for t in offer.topics),
            description=offer.description,
            contacts=tuple(c.slack_user_id for c in library.contacts),
            capacity=offer.monthly_capacity,
            weekdays=offer.weekdays,
            not_until=_not_until(session, library.id, today),
            closed=tuple(closed_periods.declared(session, library.id, today=today)),
        )
    home = session.get(Library, home_library_id) if home_library_id else None
    contacts = tuple(c.slack_user_id for c in home.contacts) if home else ()
    return OfferForm(
        offer_id=None,
        library_id=home.id if home else None,
        library_name=home.name if home else "",
        library_municipality=home.municipality if home else "",
        topics=(),
        description="",
        contacts=contacts or (user_id,),
        capacity=2,
        weekdays=WORKDAYS,
        not_until=_not_until(session, home.id, today) if home else None,
        closed=tuple(closed_periods.declared(session, home.id, today=today)) if home else (),
    )


def _validate(data: OfferInput, today: date) -> dict[str, tuple[str, dict[str, object]]]:
    errors: dict[str, tuple[str, dict[str, object]]] = {}
    if data.library_id is None:
        errors[F_LIBRARY] = ("offer.error.library_required", {})
    if not data.topic_ids and not data.suggestion.strip():
        errors[F_TOPICS] = ("offer.error.topics_required", {})
    if len(data.suggestion) > MAX_SUGGESTION:
        errors[F_SUGGESTION] = ("offer.error.too_long", {"max": MAX_SUGGESTION})
    if len(data.description) > MAX_DESCRIPTION:
        errors[F_DESCRIPTION] = ("offer.error.too_long", {"max": MAX_DESCRIPTION})
    if data.capacity is None or not 0 <= data.capacity <= MAX_CAPACITY:
        errors[F_CAPACITY] = ("offer.error.capacity", {"max": MAX_CAPACITY})
    if not data.weekdays & ALL_WEEKDAYS:
        errors[F_WEEKDAYS] = ("offer.error.weekdays_required", {})
    if data.not_until is not None and data.not_until < today:
        errors[F_NOT_UNTIL] = ("offer.error.not_until_past", {})
    _, problem = closed_periods.parse(data.closed_text, today=today)
    if problem is not None:
        errors[F_CLOSED] = problem
    contacts = [c for c in data.contacts if c]
    if not contacts:
        errors[F_CONTACTS] = ("offer.error.contacts_required", {})
    elif len(contacts) > MAX_CONTACTS:
        errors[F_CONTACTS] = ("offer.error.contacts_invalid", {"max": MAX_CONTACTS})
    elif data.contacts_unknown or not all(is_person_id(c) for c in contacts):
        errors[F_CONTACTS] = ("offer.error.contact_unknown", {})
    return errors


def save_offer(
    session_factory: sessionmaker[Session],
    data: OfferInput,
    *,
    actor: str,
    coordinator: bool | Scope,
    lang: str,
    now: datetime,
) -> SavedOffer:
    """Create or update an offer and its library's contacts and "not until" period, in one unit of
    work. Bad input raises InvalidInput (nothing saved); someone who may not edit the library's
    offers (`may_edit`) gets a field error, or NotAllowed for an offer of such a library."""
    today = today_of(now)
    errors = _validate(data, today)
    if errors:
        raise InvalidInput(errors)
    assert data.library_id is not None and data.capacity is not None
    with session_factory.begin() as session:
        library = session.get(Library, data.library_id)
        if library is None:
            raise InvalidInput.one(F_LIBRARY, "offer.error.library_required")
        offer: HostOffer | None = None
        if data.offer_id is not None:
            offer = session.get(HostOffer, data.offer_id)
            if offer is None:
                raise NotFound()
            if not may_edit(session, offer.library_id, actor, coordinator=coordinator):
                raise NotAllowed(_refusal(coordinator), library=offer.library.name)
        if not may_edit(session, library.id, actor, coordinator=coordinator):
            raise InvalidInput.one(F_LIBRARY, _refusal(coordinator), library=library.name)
        topic_ids = list(dict.fromkeys(data.topic_ids))
        kept = {t.id for t in offer.topics} if offer is not None else set()
        topics = [
            topic
            for topic in session.scalars(select(Topic).where(Topic.id.in_(topic_ids)).order_by(Topic.id))
            # a retired topic the offer already had stays (history); no new ones are taken on
            if topic.status == TopicStatus.ACTIVE or topic.id in kept
        ]
        if len(topics) != len(topic_ids):
            raise InvalidInput.one(F_TOPICS, "offer.error.topic_unknown")

        had_contacts = bool(library.contacts)
        contacts = list(dict.fromkeys(data.contacts))
        if not had_contacts and not coordinator and actor not in contacts:
            contacts.insert(0, actor)  # the first offer of a library makes its submitter a contact
        before = [c.slack_user_id for c in library.contacts]
        for contact in list(library.contacts):
            if contact.slack_user_id not in contacts:
                library.contacts.remove(contact)
        for user_id in contacts:
            if user_id not in before:
                library.contacts.append(LibraryContact(slack_user_id=user_id, added_at=now))

        created = offer is None
        if offer is None:
            offer = HostOffer(library=library, created_by=actor, created_at=now)
            session.add(offer)
        offer.library = library
        offer.topics = topics
        offer.description = data.description.strip()
        offer.search_terms = index_text(offer.description)
        offer.monthly_capacity = data.capacity
        offer.weekdays = data.weekdays & ALL_WEEKDAYS
        offer.updated_at = now

        session.execute(
            delete(ClosedPeriod).where(
                ClosedPeriod.library_id == library.id,
                ClosedPeriod.note == NOT_UNTIL_NOTE,
                ClosedPeriod.ends_on >= today,
            )
        )
        if data.not_until is not None and data.not_until > today:
            session.add(
                ClosedPeriod(
                    library_id=library.id,
                    starts_on=today,
                    ends_on=data.not_until - timedelta(days=1),
                    note=NOT_UNTIL_NOTE,
                )
            )
        periods, _ = closed_periods.parse(data.closed_text, today=today)
        closed_periods.replace(session, library.id, periods, today=today)
        session.flush()
        suggestion_id = None
        owed = None
        if data.suggestion.strip():
            suggestion = TopicSuggestion(
                text=" ".join(data.suggestion.split())[:MAX_SUGGESTION],
                offer_id=offer.id,
                library_id=library.id,
                suggested_by=actor,
                created_at=now,
            )
            session.add(suggestion)
            session.flush()
            suggestion_id = suggestion.id
            # In the same unit of work: the coordinators must hear of it (see visit_outbox).
            owed = visit_outbox.owe_suggestion(session, suggestion_id, now=now)
        audit.record(
            session,
            now=now,
            actor=actor,
            action="offer.create" if created else "offer.update",
            entity="offer",
            entity_id=offer.id,
            details={
                "library": library.id,
                "topics": [t.id for t in topics],
                "capacity": offer.monthly_capacity,
                "weekdays": offer.weekdays,
                "contacts": {"before": before, "after": contacts},
                "not_until": data.not_until.isoformat() if data.not_until else None,
                "closed": [[p.starts_on.isoformat(), p.ends_on.isoformat()] for p in periods],
                "suggestion": suggestion_id,
            },
        )
        return SavedOffer(
            offer_id=offer.id,
            library_name=library.name,
            created=created,
            suggestion_id=suggestion_id,
            topics=tuple(t.name(lang) for t in topics),
            outbox=owed,
        )
