"""Finding hosts: Finnish-aware matching of words to topics and offers, and ranking of hosts.

Words are lower-cased, split into letter runs and reduced with the Snowball Finnish stemmer
(`karaokea` -> `karaok`, `kirjastoautolla` -> `kirjastoauto`). A query word matches an index
word when the stems are equal, when one is a prefix of the other (partial words, and inflected
forms whose stem comes out a letter longer), or when one is inside the other (compounds:
`lukukoiratoimintaa` contains the synonym `lukukoira`; `koira` is inside `lukukoiratoiminta`).
Topic names in fi, sv and en and their synonyms are the topic index (services/catalogue/topic_index.py);
host descriptions are indexed at save time (`HostOffer.search_terms`) and filtered in SQL.

Ranking of hosts: hosts at capacity or on a no-visitors period last; then relevance (in steps of
0.25), then distance from the visitor's library in 10 km bands, then load (visits agreed this
month / monthly capacity), then exact distance and name. Hosts outside the visitor's region are
shown by `find` only when nothing inside matches.

`agreed_visits_this_month` counts the confirmed visits of this month per host library (the load).
Both `find` and `rank_hosts` take a `visits_counter` to inject counts in tests.
"""

from __future__ import annotations

import difflib
import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Protocol
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Subquery, case, func, literal, or_, select
from sqlalchemy.orm import Session

from models import (
    ClosedPeriod,
    HostOffer,
    Library,
    LibraryContact,
    Topic,
    TopicCategory,
    TopicStatus,
    Visit,
    VisitStatus,
    offer_topics,
)
from services.catalogue.categories import CategoryView, TopicView
from services.catalogue.libraries import EARTH_RADIUS_KM
from services.catalogue.topic_index import topic_index
from services.common import workdays
from services.common.words import MAX_QUERY_CHARS, MAX_QUERY_WORDS, WORD, words
from services.ideas.idea_search import related
from services.ideas.writeups import WriteUpView

HELSINKI = ZoneInfo("Europe/Helsinki")
DISTANCE_BAND_KM = 10.0
RELEVANCE_STEP = 0.25
DESCRIPTION_WEIGHT = 0.6
KEEP_RATIO = 0.5  # topics scoring under half of the best topic's score are noise


# --- load: visits agreed this month -----------------------------------------------------------
class VisitsCounter(Protocol):
    def __call__(self, session: Session, library_ids: Sequence[int], now: datetime) -> dict[int, int]: ...


def agreed_visits_this_month(session: Session, library_ids: Sequence[int], now: datetime) -> dict[int, int]:
    """Visits agreed to take place at each library in `now`'s calendar month (Helsinki time): the
    confirmed visits whose date falls in it."""
    ids = list(library_ids)
    if not ids:
        return {}
    today = workdays.local_today(now)
    first = today.replace(day=1)
    following = (
        first.replace(year=first.year + 1, month=1)
        if first.month == 12
        else first.replace(month=first.month + 1)
    )
    rows = session.execute(
        select(Visit.host_library_id, func.count(Visit.id))
        .where(
            Visit.host_library_id.in_(ids),
            Visit.status == VisitStatus.CONFIRMED,
            Visit.chosen_date >= first,
            Visit.chosen_date < following,
        )
        .group_by(Visit.host_library_id)
    ).all()
    counts = {library_id: 0 for library_id in ids}
    counts.update({library_id: int(n) for library_id, n in rows})
    return counts


# --- results ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class HostMatch:
    """One host library for a topic (or a query), with what the ranking looked at.

    `capacity` is the highest monthly capacity among the library's offers that matched; `agreed`
    comes from `agreed_visits_this_month`; `at_capacity` is `agreed >= capacity` (capacity 0 =
    no visits now). `topic_id` is the topic to propose (the best-matching one of its offer)."""

    library_id: int
    library_name: str
    distance_km: float | None
    at_capacity: bool
    closed_until: date | None
    in_region: bool
    topic_id: int = 0
    topic_ids: tuple[int, ...] = ()
    municipality: str = ""
    relevance: float = 1.0
    capacity: int = 0
    agreed: int = 0
    description: str = ""
    contacts: tuple[str, ...] = ()
    weekdays: int = 0

    @property
    def unavailable(self) -> bool:
        return self.at_capacity or self.closed_until is not None

    @property
    def load(self) -> float:
        return math.inf if self.capacity <= 0 else self.agreed / self.capacity


@dataclass(frozen=True)
class TopicHit:
    id: int
    name: str


@dataclass
class FindResult:
    query: str
    hosts: list[HostMatch] = field(default_factory=list)
    total: int = 0
    outside_region: bool = False
    topics: list[TopicHit] = field(default_factory=list)
    topic_names: dict[int, str] = field(default_factory=dict)
    suggestions: list[TopicHit] = field(default_factory=list)
    categories: list[CategoryView] = field(default_factory=list)
    empty_query: bool = False
    writeups: list[WriteUpView] = field(default_factory=list)  # related write-ups (idea_search.related)


def _key(
    unavailable: bool, relevance: float, distance_km: float | None, load: float, name: str, library_id: int
) -> tuple[object, ...]:
    distance = distance_km if distance_km is not None else math.inf
    band = math.floor(distance / DISTANCE_BAND_KM) if distance != math.inf else math.inf
    tier = round(relevance / RELEVANCE_STEP)
    return (unavailable, -tier, band, load, distance, name.lower(), library_id)


def rank_key(host: HostMatch) -> tuple[object, ...]:
    """Unavailable last; then relevance tier, distance band, load, exact distance, name."""
    return _key(
        host.unavailable, host.relevance, host.distance_km, host.load, host.library_name, host.library_id
    )


def _core(q: str) -> str:
    """The part every description form of a query word contains (the stem less two letters)."""
    return q[:-2] if len(q) >= 6 else q


def _description_weights(q: str) -> list[tuple[str, float]]:
    """LIKE patterns on `search_terms` (" stem stem ... ") and their weights, best first: the
    same word, a word it begins (partial word), the word less an inflection's last letters (the
    query's stem came out longer), a part of a compound. Mirrors `similarity` in SQL."""
    if len(q) < 3:
        return []
    patterns = [(f"% {q} %", 1.0), (f"% {q}%", 0.75)]
    if len(q) >= 6:
        patterns += [(f"% {q[:-1]} %", 0.7), (f"% {q[:-2]} %", 0.7)]
    if len(q) >= 4:
        patterns.append((f"%{q}%", 0.5))
    return patterns


def _like(text: str, pattern: str) -> bool:
    """`text LIKE pattern` for patterns of the shapes above (only % wildcards at the ends)."""
    inner = pattern.strip("%")
    if pattern.startswith("%") and pattern.endswith("%"):
        return inner in text
    return text == inner  # pragma: no cover - every pattern above is %...%


def description_score(search_terms: str, query_words: Sequence[str]) -> float:
    """The Python twin of the SQL description score, for the few offers whose details are shown."""
    total = 0.0
    for q in query_words:
        for pattern, weight in _description_weights(q):
            if _like(search_terms, pattern):
                total += weight
                break
    return total * DESCRIPTION_WEIGHT


def _description_sql(query_words: Sequence[str]) -> tuple[ColumnElement[float], ColumnElement[bool]] | None:
    """SQL: the description score of an offer and a cheap filter (one LIKE a word) for it."""
    terms = HostOffer.search_terms
    parts: list[ColumnElement[float]] = []
    filters: list[ColumnElement[bool]] = []
    for q in query_words:
        patterns = _description_weights(q)
        if not patterns:
            continue
        seen = terms.like(f"%{_core(q)}%")
        filters.append(seen)
        inner = case(*[(terms.like(pattern), weight) for pattern, weight in patterns], else_=0.0)
        parts.append(case((seen, inner), else_=0.0))
    if not parts:
        return None
    total: ColumnElement[float] = parts[0]
    for part in parts[1:]:
        total = total + part
    return total * DESCRIPTION_WEIGHT, or_(*filters)


def _offer_scores(topic_scores: dict[int, float], query_words: Sequence[str]) -> Subquery | None:
    """SQL: one row per candidate offer (id, library_id, capacity, score): the best score of its
    matched topics plus its description's score. Offers left with no active topic are out."""
    topic_score = None
    if topic_scores:
        by_topic = case(
            {topic_id: literal(score) for topic_id, score in topic_scores.items()},
            value=offer_topics.c.topic_id,
            else_=literal(0.0),
        )
        topic_score = (
            select(offer_topics.c.offer_id.label("offer_id"), func.max(by_topic).label("score"))
            .where(offer_topics.c.topic_id.in_(list(topic_scores)))
            .group_by(offer_topics.c.offer_id)
            .subquery("topic_score")
        )
    description = _description_sql(query_words)
    if topic_score is None and description is None:
        return None
    score: ColumnElement[float] = literal(0.0)
    if topic_score is not None:
        score = score + func.coalesce(topic_score.c.score, 0.0)
    if description is not None:
        score = score + description[0]
    stmt = select(
        HostOffer.id.label("offer_id"),
        HostOffer.library_id.label("library_id"),
        HostOffer.monthly_capacity.label("capacity"),
        score.label("score"),
    )
    if topic_score is not None:
        stmt = stmt.outerjoin(topic_score, topic_score.c.offer_id == HostOffer.id)
        if description is None:
            return stmt.where(topic_score.c.offer_id.is_not(None)).subquery("offer_score")
        return stmt.where(or_(topic_score.c.offer_id.is_not(None), description[1])).subquery("offer_score")
    assert description is not None
    # A description-only match whose topics were all retired is dropped when details are filled.
    return stmt.where(description[1]).subquery("offer_score")


@dataclass(slots=True)
class _Candidate:
    library_id: int
    name: str
    municipality: str
    lat: float
    lon: float
    region_id: int
    score: float
    capacity: int
    distance: float | None = None
    agreed: int = 0
    closed_until: date | None = None
    in_region: bool = True


def _ranked(
    session: Session,
    topic_scores: dict[int, float],
    query_words: Sequence[str],
    *,
    visitor_library_id: int | None,
    now: datetime,
    visits_counter: VisitsCounter | None,
) -> list[_Candidate]:
    """Every candidate host, ranked (see `rank_key`), before details are looked up."""
    offers = _offer_scores(topic_scores, query_words)
    if offers is None:
        return []
    per_library = (
        select(
            offers.c.library_id,
            func.max(offers.c.score).label("score"),
            func.max(offers.c.capacity).label("capacity"),
        )
        .group_by(offers.c.library_id)
        .subquery("per_library")
    )
    rows = session.execute(
        select(
            Library.id,
            Library.name,
            Library.municipality,
            Library.lat,
            Library.lon,
            Library.region_id,
            per_library.c.score,
            per_library.c.capacity,
        ).join(per_library, per_library.c.library_id == Library.id)
    ).all()
    if not rows:
        return []
    visitor = None
    if visitor_library_id is not None:
        visitor = session.execute(
            select(Library.lat, Library.lon, Library.region_id).where(Library.id == visitor_library_id)
        ).first()
    today = now.astimezone(HELSINKI).date()
    closed: dict[int, date] = {}
    for library_id, ends_on in session.execute(
        select(ClosedPeriod.library_id, ClosedPeriod.ends_on).where(
            ClosedPeriod.starts_on <= today, ClosedPeriod.ends_on >= today
        )
    ):
        closed[library_id] = max(ends_on, closed.get(library_id, ends_on))
    counter = visits_counter or agreed_visits_this_month  # looked up now: the seam may be replaced
    agreed = counter(session, [row[0] for row in rows], now)
    ranked: list[tuple[tuple[object, ...], _Candidate]] = []
    radians, sin, cos, asin, sqrt = math.radians, math.sin, math.cos, math.asin, math.sqrt
    if visitor is not None:  # haversine, with the visitor's side computed once
        v_lat, v_lon, v_cos = radians(visitor.lat), radians(visitor.lon), cos(radians(visitor.lat))
    for row in rows:
        c = _Candidate(*row)
        if not c.score > 0:
            continue  # matched only a word's core, none of its forms
        if visitor is not None:
            lat = radians(c.lat)
            h = sin((lat - v_lat) / 2) ** 2 + v_cos * cos(lat) * sin((radians(c.lon) - v_lon) / 2) ** 2
            c.distance = 2 * EARTH_RADIUS_KM * asin(min(1.0, sqrt(h)))
            c.in_region = c.region_id == visitor.region_id
        c.agreed = int(agreed.get(c.library_id, 0))
        c.closed_until = closed.get(c.library_id)
        load = math.inf if c.capacity <= 0 else c.agreed / c.capacity
        unavailable = c.agreed >= c.capacity or c.closed_until is not None
        ranked.append((_key(unavailable, float(c.score), c.distance, load, c.name, c.library_id), c))
    ranked.sort(key=lambda item: item[0])
    return [c for _, c in ranked]


def _host(c: _Candidate) -> HostMatch:
    return HostMatch(
        library_id=c.library_id,
        library_name=c.name,
        municipality=c.municipality,
        distance_km=c.distance,
        at_capacity=c.agreed >= c.capacity,
        closed_until=c.closed_until,
        in_region=c.in_region,
        relevance=float(c.score),
        capacity=int(c.capacity),
        agreed=c.agreed,
    )


def _with_details(
    session: Session,
    hosts: list[HostMatch],
    topic_scores: dict[int, float],
    query_words: Sequence[str],
) -> list[HostMatch]:
    """Fill in the shown hosts' best offer (description, weekdays, topics) and contacts."""
    if not hosts:
        return hosts
    library_ids = [h.library_id for h in hosts]
    rows = session.execute(
        select(
            HostOffer.id,
            HostOffer.library_id,
            HostOffer.search_terms,
            HostOffer.description,
            HostOffer.weekdays,
        ).where(HostOffer.library_id.in_(library_ids))
    ).all()
    topics: dict[int, list[int]] = defaultdict(list)
    if rows:
        for offer_id, topic_id in session.execute(
            select(offer_topics.c.offer_id, offer_topics.c.topic_id)
            .join(Topic, Topic.id == offer_topics.c.topic_id)
            .where(offer_topics.c.offer_id.in_([r.id for r in rows]), Topic.status == TopicStatus.ACTIVE)
            .order_by(offer_topics.c.topic_id)
        ):
            topics[offer_id].append(topic_id)
    best: dict[int, tuple[float, int, str, int]] = {}
    for offer_id, library_id, terms, description, weekdays in rows:
        if not topics.get(offer_id):
            continue
        score = max((topic_scores.get(t, 0.0) for t in topics[offer_id]), default=0.0)
        score += description_score(terms, query_words)
        current = best.get(library_id)
        if score > 0 and (current is None or (score, -offer_id) > (current[0], -current[1])):
            best[library_id] = (score, offer_id, description, weekdays)
    contacts: dict[int, list[str]] = defaultdict(list)
    for library_id, user_id in session.execute(
        select(LibraryContact.library_id, LibraryContact.slack_user_id)
        .where(LibraryContact.library_id.in_(library_ids))
        .order_by(LibraryContact.id)
    ):
        contacts[library_id].append(user_id)
    detailed = []
    for host in hosts:
        if host.library_id not in best:
            continue  # its matching offers' topics were all retired
        _, offer_id, description, weekdays = best[host.library_id]
        offered = topics.get(offer_id, [])
        matched = sorted((t for t in offered if t in topic_scores), key=lambda t: (-topic_scores[t], t))
        shown = tuple(matched or offered)
        detailed.append(
            replace(
                host,
                topic_id=shown[0] if shown else 0,
                topic_ids=shown,
                description=description,
                weekdays=weekdays,
                contacts=tuple(contacts.get(host.library_id, ())),
            )
        )
    return detailed


def rank_hosts(
    session: Session,
    *,
    topic_id: int,
    visitor_library_id: int | None,
    now: datetime,
    limit: int = 50,
    visits_counter: VisitsCounter | None = None,
) -> list[HostMatch]:
    """The libraries offering `topic_id`, best first: the visitor's region before others; then
    available before unavailable, nearer, less loaded."""
    scores = {topic_id: 1.0}
    ranked = _ranked(
        session, scores, (), visitor_library_id=visitor_library_id, now=now, visits_counter=visits_counter
    )
    ranked.sort(key=lambda c: not c.in_region)  # stable: keeps the ranking within each group
    return _with_details(session, [_host(c) for c in ranked[:limit]], scores, ())


def find(
    session: Session,
    query: str,
    *,
    lang: str,
    visitor_library_id: int | None,
    now: datetime,
    limit: int = 10,
    visits_counter: VisitsCounter | None = None,
) -> FindResult:
    """What `/vertais etsi <query>` shows: hosts best first, or, failing that, the closest topics
    and the catalogue's categories. Never an empty answer."""
    query = query.strip()[:MAX_QUERY_CHARS]
    result = FindResult(query=query)
    query_words = words(query)[:MAX_QUERY_WORDS]
    if not query_words:
        result.empty_query = not query
        result.categories = catalogue(session, lang)
        return result

    topic_scores = topic_index(session).score(query_words)
    if topic_scores:
        top = max(topic_scores.values())
        topic_scores = {t: s for t, s in topic_scores.items() if s >= KEEP_RATIO * top}
    ranked = _ranked(
        session,
        topic_scores,
        query_words,
        visitor_library_id=visitor_library_id,
        now=now,
        visits_counter=visits_counter,
    )
    _fill(session, result, ranked, topic_scores, query_words, lang, limit)
    result.writeups = related(session, query_words)
    if not result.hosts:
        result.suggestions = result.topics[:5] or closest_topics(session, query, lang)
    return result


def _fill(
    session: Session,
    result: FindResult,
    ranked: list[_Candidate],
    topic_scores: dict[int, float],
    query_words: Sequence[str],
    lang: str,
    limit: int,
) -> None:
    inside = [c for c in ranked if c.in_region]
    if not inside and ranked:
        result.outside_region = True
        inside = ranked
    result.total = len(inside)
    result.hosts = _with_details(session, [_host(c) for c in inside[:limit]], topic_scores, query_words)
    shown_topics = {t for h in result.hosts for t in h.topic_ids} | set(topic_scores)
    names = _topic_names(session, shown_topics, lang)
    result.topic_names = names
    result.topics = [
        TopicHit(t, names[t])
        for t in sorted(topic_scores, key=lambda t: (-topic_scores[t], t))[:10]
        if t in names
    ]
    if not result.hosts:
        result.categories = catalogue(session, lang)


def _topic_names(session: Session, topic_ids: Iterable[int], lang: str) -> dict[int, str]:
    ids = list(topic_ids)
    if not ids:
        return {}
    column = {"sv": Topic.name_sv, "en": Topic.name_en}.get(lang, Topic.name_fi)
    return {
        topic_id: name or fallback
        for topic_id, name, fallback in session.execute(
            select(Topic.id, column, Topic.name_fi).where(Topic.id.in_(ids))
        )
    }


def closest_topics(session: Session, query: str, lang: str, n: int = 5) -> list[TopicHit]:
    """Active topics whose names or synonyms look most like the query (when nothing matched)."""
    text = " ".join(query.lower().split())[:60]
    if not WORD.search(text):
        return []
    rows = session.execute(
        select(Topic.id, Topic.name_fi, Topic.name_sv, Topic.name_en, Topic.synonyms).where(
            Topic.status == TopicStatus.ACTIVE
        )
    ).all()
    matcher = difflib.SequenceMatcher(autojunk=False)
    matcher.set_seq2(text)  # SequenceMatcher caches what it learns about seq2
    scored = []
    for row in rows:
        best = 0.0
        for candidate in (row.name_fi, row.name_sv, row.name_en, *row.synonyms.split("\n")):
            candidate = candidate.lower()[:60]
            if not candidate:
                continue
            matcher.set_seq1(candidate)
            if matcher.real_quick_ratio() > best and matcher.quick_ratio() > best:
                best = max(best, matcher.ratio())
        name = {"sv": row.name_sv, "en": row.name_en}.get(lang) or row.name_fi
        scored.append((best, row.id, name))
    scored.sort(key=lambda item: (-item[0], item[1]))
    return [TopicHit(topic_id, name) for ratio, topic_id, name in scored[:n] if ratio > 0.2]


def catalogue(session: Session, lang: str) -> list[CategoryView]:
    """The active catalogue by category (a column query: cheaper than loading ORM objects)."""
    column = {"sv": Topic.name_sv, "en": Topic.name_en}.get(lang, Topic.name_fi)
    category_column = {"sv": TopicCategory.name_sv, "en": TopicCategory.name_en}.get(
        lang, TopicCategory.name_fi
    )
    topics: dict[int, list[TopicView]] = defaultdict(list)
    for topic_id, key, name, fallback, category_id in session.execute(
        select(Topic.id, Topic.key, column, Topic.name_fi, Topic.category_id)
        .where(Topic.status == TopicStatus.ACTIVE)
        .order_by(Topic.position, Topic.id)
    ):
        topics[category_id].append(TopicView(topic_id, key, name or fallback, False))
    return [
        CategoryView(category_id, key, name or fallback, tuple(topics.get(category_id, ())))
        for category_id, key, name, fallback in session.execute(
            select(TopicCategory.id, TopicCategory.key, category_column, TopicCategory.name_fi).order_by(
                TopicCategory.position, TopicCategory.id
            )
        )
    ]


def find_for_topic(
    session: Session,
    topic_id: int,
    *,
    lang: str,
    visitor_library_id: int | None,
    now: datetime,
    limit: int = 10,
    visits_counter: VisitsCounter | None = None,
) -> FindResult:
    """The `etsi` answer for one catalogue topic (a topic button was pressed)."""
    topic = session.get(Topic, topic_id)
    if topic is None or topic.status != TopicStatus.ACTIVE:
        return find(session, "", lang=lang, visitor_library_id=visitor_library_id, now=now)
    result = FindResult(query=topic.name(lang))
    scores = {topic_id: 1.0}
    ranked = _ranked(
        session, scores, (), visitor_library_id=visitor_library_id, now=now, visits_counter=visits_counter
    )
    _fill(session, result, ranked, scores, (), lang, limit)
    return result
