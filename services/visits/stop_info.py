"""A study trip's further stops: the proposal's check of them (`check`, `make`), the stops as the
messages show them (`StopInfo`, read in the card's unit of work), and the route's straight-line
length, a sanity hint beside the visitor's kilometres. What the stops' hosts and the visitor
decide is in `services.visits.stops`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import HostOffer, Library, PartyState, Topic, TopicStatus, Visit, VisitStop, offer_topics
from services.catalogue import libraries

MAX_STOPS = 4  # the trip's stops in all, the first host's included
SLOTS = ("morning", "afternoon")


@dataclass(frozen=True)
class StopInfo:
    """A further stop as the messages show it."""

    position: int  # 2-4 (stop 1 is the visit's host)
    library_id: int
    library_name: str
    topic_id: int
    topic_names: dict[str, str]
    state: PartyState
    slot: str
    contacts: tuple[str, ...]
    decided_by: str | None = None
    active: bool = True

    def topic(self, lang: str) -> str:
        return self.topic_names.get(lang) or self.topic_names.get("fi", "")


@dataclass(frozen=True)
class StopChoice:
    """A library and a topic it offers, for a further stop of a trip."""

    library_id: int
    library_name: str
    topic_id: int
    topic_names: dict[str, str]
    distance_km: float

    def topic(self, lang: str) -> str:
        return self.topic_names.get(lang) or self.topic_names.get("fi", "")


def choices(
    session: Session, *, visitor_library_id: int | None, query: str = "", limit: int = 100
) -> list[StopChoice]:
    """What a trip's further stops can be: every offered topic of every library of the visitor's
    region that has a contact (the visitor's own library left out), nearest first; `query`
    narrows by words of the library's or the topic's name."""
    home = session.get(Library, visitor_library_id) if visitor_library_id else None
    if home is None:
        return []
    rows = session.execute(
        select(Library, Topic)
        .join(HostOffer, HostOffer.library_id == Library.id)
        .join(offer_topics, offer_topics.c.offer_id == HostOffer.id)
        .join(Topic, Topic.id == offer_topics.c.topic_id)
        .where(Library.region_id == home.region_id, Library.id != home.id, Topic.status == TopicStatus.ACTIVE)
    ).all()
    words = [w for w in query.lower().split() if w]
    found: dict[tuple[int, int], StopChoice] = {}
    with_contacts: dict[int, bool] = {}
    for library, topic in rows:
        if library.id not in with_contacts:
            with_contacts[library.id] = bool(libraries.contacts_of(session, library.id))
        if not with_contacts[library.id]:
            continue
        names = {"fi": topic.name_fi, "sv": topic.name_sv, "en": topic.name_en}
        text = " ".join([library.name, *names.values()]).lower()
        if words and not all(w in text for w in words):
            continue
        found[(library.id, topic.id)] = StopChoice(
            library.id, library.name, topic.id, names, libraries.distance_km(home, library)
        )
    return sorted(found.values(), key=lambda c: (c.distance_km, c.library_name, c.topic_id))[:limit]


def offered(session: Session, library_id: int, topic_id: int) -> bool:
    """Does the library offer the topic (an offer of it)?"""
    found = session.scalar(
        select(HostOffer.id)
        .join(offer_topics, offer_topics.c.offer_id == HostOffer.id)
        .where(HostOffer.library_id == library_id, offer_topics.c.topic_id == topic_id)
        .limit(1)
    )
    return found is not None


def check(
    session: Session,
    pairs: Sequence[tuple[int, int]],
    *,
    home: Library | None,
    host_library_id: int | None,
) -> tuple[list[tuple[Library, Topic]], tuple[str, dict[str, object]] | None]:
    """The further stops a proposal names, checked: (library, topic) pairs, each a library of the
    visitor's region that offers the topic and has a contact, none twice and none the first host
    or the visitor's own library; or the field error that refuses them."""
    if len(pairs) > MAX_STOPS - 1:
        return [], ("visits.error.stops_too_many", {"max": MAX_STOPS})
    found: list[tuple[Library, Topic]] = []
    seen = {host_library_id} if host_library_id else set()
    for library_id, topic_id in pairs:
        library = session.get(Library, library_id)
        topic = session.get(Topic, topic_id)
        if library is None or topic is None or topic.status != TopicStatus.ACTIVE:
            return [], ("visits.error.stop_unknown", {})
        if library.id in seen or (home is not None and library.id == home.id):
            return [], ("visits.error.stop_twice", {"library": library.name})
        if home is not None and library.region_id != home.region_id:
            return [], ("visits.error.host_region", {})
        if not offered(session, library.id, topic.id):
            return [], ("visits.error.stop_not_offered", {"library": library.name})
        if not libraries.contacts_of(session, library.id):
            return [], ("visits.error.host_no_contacts", {"library": library.name})
        seen.add(library.id)
        found.append((library, topic))
    return found, None


def make(found: Sequence[tuple[Library, Topic]]) -> list[VisitStop]:
    return [
        VisitStop(position=n, library_id=lib.id, topic_id=topic.id, state=PartyState.PENDING, slot="")
        for n, (lib, topic) in enumerate(found, start=2)
    ]


def infos(session: Session, visit: Visit) -> tuple[StopInfo, ...]:
    result = []
    for stop in visit.stops:
        library = session.get(Library, stop.library_id)
        topic = session.get(Topic, stop.topic_id)
        assert library is not None and topic is not None
        result.append(
            StopInfo(
                position=stop.position,
                library_id=library.id,
                library_name=library.name,
                topic_id=topic.id,
                topic_names={"fi": topic.name_fi, "sv": topic.name_sv, "en": topic.name_en},
                state=stop.state,
                slot=stop.slot,
                contacts=tuple(libraries.contacts_of(session, library.id)),
                decided_by=stop.decided_by,
                active=stop.active,
            )
        )
    return tuple(result)


def straight_line_km(session: Session, visit: Visit) -> float:
    """The trip's legs as the crow flies: home, the first host, the further stops, home."""
    ids = [
        visit.home_library_id,
        visit.host_library_id,
        *(s.library_id for s in visit.stops if s.removed_at is None),
    ]
    ids.append(visit.home_library_id)
    places = [session.get(Library, i) for i in ids]
    total = 0.0
    for a, b in zip(places, places[1:], strict=False):
        if a is not None and b is not None:
            total += libraries.distance_km(a, b)
    return total


def reask(visit: Visit) -> None:
    """The agreed day changed (or is being agreed again): every stop still on the trip is asked
    for the new one."""
    for stop in visit.stops:
        if stop.removed_at is not None:
            continue
        stop.state = PartyState.PENDING
        stop.slot = ""
        stop.decided_by = None
