"""Finding hosts: Finnish-aware matching of words to topics and offers, and ranking of hosts.

Words are lower-cased, split into letter runs and reduced with the Snowball Finnish stemmer
(`karaokea` -> `karaok`, `kirjastoautolla` -> `kirjastoauto`). A query word matches an index
word when the stems are equal, when one is a prefix of the other (partial words, and inflected
forms whose stem comes out a letter longer), or when one is inside the other (compounds:
`lukukoiratoimintaa` contains the synonym `lukukoira`; `koira` is inside `lukukoiratoiminta`).
Topic names in fi, sv and en and their synonyms are the topic index; host descriptions are
indexed at save time (`HostOffer.search_terms`) and filtered in SQL.

Ranking of hosts: hosts at capacity or on a no-visitors period last; then relevance (in steps of
0.25), then distance from the visitor's library in 10 km bands, then load (visits agreed this
month / monthly capacity), then exact distance and name. Hosts outside the visitor's region are
shown by `find` only when nothing inside matches.

`agreed_visits_this_month` is the seam the visits feature fills: it returns zeros until visits
exist. Both `find` and `rank_hosts` take a `visits_counter` to inject counts in tests.
"""

from __future__ import annotations

import difflib
import math
import re
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from typing import Protocol
from zoneinfo import ZoneInfo

import snowballstemmer
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from models import ClosedPeriod, HostOffer, Library, LibraryContact, Topic, TopicStatus, offer_topics
from services.catalogue import CategoryView, catalogue_view
from services.libraries import EARTH_RADIUS_KM

HELSINKI = ZoneInfo("Europe/Helsinki")
WORD = re.compile(r"[^\W\d_]+")
MAX_QUERY_CHARS = 300
MAX_QUERY_WORDS = 12
MIN_WORD = 2
DISTANCE_BAND_KM = 10.0
RELEVANCE_STEP = 0.25
SYNONYM_WEIGHT = 0.9
DESCRIPTION_WEIGHT = 0.6
KEEP_RATIO = 0.5  # topics scoring under half of the best topic's score are noise
WORD_CUTOFF = 0.75  # per query word, matches much weaker than its best match are dropped
STOPWORDS = frozenset(
    "ja sekä tai muu muut ym yms kuten eli the and or of for in on a an to with och eller samt "
    "annat annan med för av i på till t ex eg e g".split()
)

_stemmer = snowballstemmer.stemmer("finnish")


DOUBLE_CONSONANT = re.compile(r"([^aeiouyäöå])\1")


@lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    """The Snowball Finnish stem of one lower-case word, with doubled consonants made single so
    that consonant gradation (`vinkkaus` / `vinkkausta` -> `vinkau`) meets (memoised: pure)."""
    return DOUBLE_CONSONANT.sub(r"\1", _stemmer.stemWord(word))


def words(text: str) -> list[str]:
    """Stems of the meaningful words of `text`, in order, without repeats."""
    seen: dict[str, None] = {}
    for raw in WORD.findall(text.lower()):
        if len(raw) < MIN_WORD or raw in STOPWORDS:
            continue
        seen.setdefault(stem(raw), None)
    return list(seen)


def index_text(text: str) -> str:
    """What `HostOffer.search_terms` stores: the stems, space-separated and space-padded."""
    return " " + " ".join(words(text)) + " " if text.strip() else ""


def similarity(query: str, term: str) -> float:
    """How well one query stem matches one index stem, 0..1."""
    if query == term:
        return 1.0
    short, long_ = (query, term) if len(query) <= len(term) else (term, query)
    ratio = len(short) / len(long_)
    if long_.startswith(short):
        if short is query and len(short) >= 3:  # a partial word
            return 0.5 + 0.5 * ratio
        if short is term and len(short) >= 4:  # an inflected form or a compound's first part
            return 0.2 + 0.8 * ratio * ratio
    if len(short) >= 4 and short in long_:
        return 0.3 + 0.4 * ratio
    return 0.0


# --- the topic index ------------------------------------------------------------------------
@dataclass(frozen=True)
class TopicIndex:
    """All index stems of the active topics in one string, to search them with C-speed `find`."""

    terms: tuple[str, ...]
    postings: tuple[tuple[tuple[int, float], ...], ...]  # per term: (topic id, weight)
    blob: str
    starts: tuple[int, ...]
    by_term: dict[str, int]

    def score(self, query_words: Sequence[str]) -> dict[int, float]:
        scores: dict[int, float] = defaultdict(float)
        for q in query_words:
            best: dict[int, float] = {}
            for i in self._candidates(q):
                s = similarity(q, self.terms[i])
                if s <= 0:
                    continue
                for topic_id, weight in self.postings[i]:
                    if s * weight > best.get(topic_id, 0.0):
                        best[topic_id] = s * weight
            cutoff = WORD_CUTOFF * max(best.values(), default=0.0)
            for topic_id, s in best.items():
                if s >= cutoff:
                    scores[topic_id] += s
        return dict(scores)

    def _candidates(self, q: str) -> set[int]:
        found: set[int] = set()
        if q in self.by_term:
            found.add(self.by_term[q])
        if len(q) >= 3:  # index terms containing q (prefix or compound part)
            at = self.blob.find(q)
            while at != -1:
                found.add(bisect_right(self.starts, at) - 1)
                at = self.blob.find(q, at + 1)
        for length in range(4, len(q)):  # index terms inside q (q is a compound or inflected)
            for begin in range(0, len(q) - length + 1):
                i = self.by_term.get(q[begin : begin + length])
                if i is not None:
                    found.add(i)
        return found


TopicRow = tuple[int, str, str, str, str]


def build_index(rows: Iterable[TopicRow]) -> TopicIndex:
    postings: dict[str, dict[int, float]] = defaultdict(dict)
    for topic_id, name_fi, name_sv, name_en, synonyms in rows:
        for text, weight in ((name_fi, 1.0), (name_sv, 1.0), (name_en, 1.0), (synonyms, SYNONYM_WEIGHT)):
            for term in words(text):
                if weight > postings[term].get(topic_id, 0.0):
                    postings[term][topic_id] = weight
    terms = tuple(postings)
    starts: list[int] = []
    at = 0
    for term in terms:
        starts.append(at)
        at += len(term) + 1
    return TopicIndex(
        terms=terms,
        postings=tuple(tuple(postings[t].items()) for t in terms),
        blob="\n".join(terms),
        starts=tuple(starts),
        by_term={t: i for i, t in enumerate(terms)},
    )


_index_cache: dict[int, TopicIndex] = {}


def topic_index(session: Session) -> TopicIndex:
    """The index of the active topics, rebuilt only when a topic's names or status changed."""
    rows = tuple(
        (row[0], row[1], row[2], row[3], row[4])
        for row in session.execute(
            select(Topic.id, Topic.name_fi, Topic.name_sv, Topic.name_en, Topic.synonyms)
            .where(Topic.status == TopicStatus.ACTIVE)
            .order_by(Topic.id)
        )
    )
    key = hash(rows)
    index = _index_cache.get(key)
    if index is None:
        if len(_index_cache) > 8:
            _index_cache.clear()
        index = _index_cache[key] = build_index(rows)
    return index


# --- load: the seam for the visits feature --------------------------------------------------
class VisitsCounter(Protocol):
    def __call__(self, session: Session, library_ids: Sequence[int], now: datetime) -> dict[int, int]: ...


def agreed_visits_this_month(session: Session, library_ids: Sequence[int], now: datetime) -> dict[int, int]:
    """Visits agreed to take place at each library in `now`'s calendar month (Helsinki time).

    The seam the visits feature fills in: there are no visits on this branch, so it is zero for
    every library. Replace the body (same signature) when the Visit table exists."""
    return {library_id: 0 for library_id in library_ids}


# --- results ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class HostMatch:
    """One host library for a topic (or a query), with what the ranking looked at."""

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


def rank_key(host: HostMatch) -> tuple[object, ...]:
    distance = host.distance_km if host.distance_km is not None else math.inf
    band = math.floor(distance / DISTANCE_BAND_KM) if distance != math.inf else math.inf
    tier = round(host.relevance / RELEVANCE_STEP)
    return (host.unavailable, -tier, band, host.load, distance, host.library_name.lower(), host.library_id)


def _distance(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, q1, p2, q2 = map(math.radians, (lat1, lon1, lat2, lon2))
    h = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin((q2 - q1) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


@dataclass
class _Offer:
    id: int
    library_id: int
    capacity: int
    weekdays: int
    description: str
    topic_ids: list[int] = field(default_factory=list)


def _hosts(
    session: Session,
    offers: list[_Offer],
    offer_scores: dict[int, tuple[float, int, tuple[int, ...]]],
    *,
    visitor_library_id: int | None,
    now: datetime,
    visits_counter: VisitsCounter,
) -> list[HostMatch]:
    """One HostMatch per library (its best offer), sorted by `rank_key`."""
    if not offers:
        return []
    best: dict[int, _Offer] = {}
    for offer in offers:
        current = best.get(offer.library_id)
        if current is None or offer_scores[offer.id][0] > offer_scores[current.id][0]:
            best[offer.library_id] = offer
    library_ids = list(best)
    wanted = library_ids + ([visitor_library_id] if visitor_library_id else [])
    libs = {
        row.id: row
        for row in session.execute(
            select(
                Library.id, Library.name, Library.municipality, Library.lat, Library.lon, Library.region_id
            ).where(Library.id.in_(wanted))
        )
    }
    visitor = libs.get(visitor_library_id) if visitor_library_id else None
    contacts: dict[int, list[str]] = defaultdict(list)
    for library_id, user_id in session.execute(
        select(LibraryContact.library_id, LibraryContact.slack_user_id)
        .where(LibraryContact.library_id.in_(library_ids))
        .order_by(LibraryContact.id)
    ):
        contacts[library_id].append(user_id)
    today = now.astimezone(HELSINKI).date()
    closed: dict[int, date] = {}
    for library_id, ends_on in session.execute(
        select(ClosedPeriod.library_id, ClosedPeriod.ends_on).where(
            ClosedPeriod.library_id.in_(library_ids),
            ClosedPeriod.starts_on <= today,
            ClosedPeriod.ends_on >= today,
        )
    ):
        closed[library_id] = max(ends_on, closed.get(library_id, ends_on))
    agreed = visits_counter(session, library_ids, now)
    capacity: dict[int, int] = defaultdict(int)
    for offer in offers:
        capacity[offer.library_id] = max(capacity[offer.library_id], offer.capacity)
    hosts = []
    for library_id, offer in best.items():
        lib = libs.get(library_id)
        if lib is None:
            continue
        score, topic_id, topic_ids = offer_scores[offer.id]
        count = int(agreed.get(library_id, 0))
        hosts.append(
            HostMatch(
                library_id=library_id,
                library_name=lib.name,
                municipality=lib.municipality,
                distance_km=_distance(visitor.lat, visitor.lon, lib.lat, lib.lon) if visitor else None,
                at_capacity=count >= capacity[library_id],
                closed_until=closed.get(library_id),
                in_region=visitor is None or lib.region_id == visitor.region_id,
                topic_id=topic_id,
                topic_ids=topic_ids,
                relevance=score,
                capacity=capacity[library_id],
                agreed=count,
                description=offer.description,
                contacts=tuple(contacts.get(library_id, ())),
                weekdays=offer.weekdays,
            )
        )
    hosts.sort(key=rank_key)
    return hosts


def _load_offers(session: Session, condition: object) -> list[_Offer]:
    offers = {
        row.id: _Offer(row.id, row.library_id, row.monthly_capacity, row.weekdays, row.description)
        for row in session.execute(
            select(
                HostOffer.id,
                HostOffer.library_id,
                HostOffer.monthly_capacity,
                HostOffer.weekdays,
                HostOffer.description,
            ).where(condition)  # type: ignore[arg-type]
        )
    }
    if offers:
        for offer_id, topic_id in session.execute(
            select(offer_topics.c.offer_id, offer_topics.c.topic_id)
            .join(Topic, Topic.id == offer_topics.c.topic_id)
            .where(offer_topics.c.offer_id.in_(list(offers)), Topic.status == TopicStatus.ACTIVE)
            .order_by(offer_topics.c.offer_id, offer_topics.c.topic_id)
        ):
            offers[offer_id].topic_ids.append(topic_id)
    return list(offers.values())


def rank_hosts(
    session: Session,
    *,
    topic_id: int,
    visitor_library_id: int | None,
    now: datetime,
    limit: int = 50,
    visits_counter: VisitsCounter = agreed_visits_this_month,
) -> list[HostMatch]:
    """The libraries offering `topic_id`, best first: available before unavailable, the visitor's
    region before others, then nearer, then less loaded."""
    offered = select(offer_topics.c.offer_id).where(offer_topics.c.topic_id == topic_id)
    offers = _load_offers(session, HostOffer.id.in_(offered))
    scores = {o.id: (1.0, topic_id, (topic_id,)) for o in offers}
    hosts = _hosts(
        session, offers, scores, visitor_library_id=visitor_library_id, now=now, visits_counter=visits_counter
    )
    hosts.sort(key=lambda h: (not h.in_region, *rank_key(h)))
    return hosts[:limit]


def find(
    session: Session,
    query: str,
    *,
    lang: str,
    visitor_library_id: int | None,
    now: datetime,
    limit: int = 10,
    visits_counter: VisitsCounter = agreed_visits_this_month,
) -> FindResult:
    """What `/vertais etsi <query>` shows: hosts best first, or, failing that, the closest topics
    and the catalogue's categories. Never an empty answer."""
    query = query.strip()[:MAX_QUERY_CHARS]
    result = FindResult(query=query)
    query_words = words(query)[:MAX_QUERY_WORDS]
    if not query_words:
        result.empty_query = not query
        result.categories = catalogue_view(session, lang)
        return result

    index = topic_index(session)
    topic_scores = index.score(query_words)
    if topic_scores:
        top = max(topic_scores.values())
        topic_scores = {t: s for t, s in topic_scores.items() if s >= KEEP_RATIO * top}

    conditions: list[object] = []
    if topic_scores:
        offered = select(offer_topics.c.offer_id).where(offer_topics.c.topic_id.in_(list(topic_scores)))
        conditions.append(HostOffer.id.in_(offered))
    for q in query_words:
        if len(q) >= 4:
            conditions.append(HostOffer.search_terms.like(f"%{q}%"))
        elif len(q) == 3:
            conditions.append(HostOffer.search_terms.like(f"% {q}%"))
    offers = _load_offers(session, or_(*conditions)) if conditions else []  # type: ignore[arg-type]

    scores: dict[int, tuple[float, int, tuple[int, ...]]] = {}
    kept: list[_Offer] = []
    offer_terms = _offer_terms(session, [o.id for o in offers]) if offers else {}
    for offer in offers:
        matched = sorted(
            (t for t in offer.topic_ids if t in topic_scores), key=lambda t: (-topic_scores[t], t)
        )
        description = _description_score(query_words, offer_terms.get(offer.id, ()))
        if not offer.topic_ids or (not matched and description <= 0):
            continue
        best_topic = matched[0] if matched else offer.topic_ids[0]
        score = (topic_scores[best_topic] if matched else 0.0) + description
        scores[offer.id] = (score, best_topic, tuple(matched or offer.topic_ids))
        kept.append(offer)

    hosts = _hosts(
        session, kept, scores, visitor_library_id=visitor_library_id, now=now, visits_counter=visits_counter
    )
    inside = [h for h in hosts if h.in_region]
    if not inside and hosts:
        result.outside_region = True
        inside = hosts
    result.total = len(inside)
    result.hosts = inside[:limit]

    shown_topics = {t for h in result.hosts for t in h.topic_ids} | set(topic_scores)
    names = _topic_names(session, shown_topics, lang)
    result.topic_names = names
    result.topics = [
        TopicHit(t, names[t])
        for t in sorted(topic_scores, key=lambda t: (-topic_scores[t], t))[:10]
        if t in names
    ]
    if not result.hosts:
        result.suggestions = result.topics[:5] or closest_topics(session, query, lang)
        result.categories = catalogue_view(session, lang)
    return result


def _offer_terms(session: Session, offer_ids: list[int]) -> dict[int, tuple[str, ...]]:
    return {
        offer_id: tuple(terms.split())
        for offer_id, terms in session.execute(
            select(HostOffer.id, HostOffer.search_terms).where(HostOffer.id.in_(offer_ids))
        )
    }


def _description_score(query_words: Sequence[str], terms: Sequence[str]) -> float:
    if not terms:
        return 0.0
    total = 0.0
    for q in query_words:
        total += max((similarity(q, term) for term in terms), default=0.0)
    return DESCRIPTION_WEIGHT * total


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
    """Active topics whose names look most like the query (for a query that matched nothing)."""
    text = query.lower()[:60]
    if not WORD.search(text):
        return []
    rows = session.execute(
        select(Topic.id, Topic.name_fi, Topic.name_sv, Topic.name_en, Topic.synonyms).where(
            Topic.status == TopicStatus.ACTIVE
        )
    ).all()
    scored = []
    for row in rows:
        candidates = [row.name_fi, row.name_sv, row.name_en, *row.synonyms.split("\n")]
        ratio = max(
            difflib.SequenceMatcher(None, text, c.lower()[:60]).ratio() for c in candidates if c.strip()
        )
        name = {"sv": row.name_sv, "en": row.name_en}.get(lang) or row.name_fi
        scored.append((ratio, row.id, name))
    scored.sort(key=lambda item: (-item[0], item[1]))
    return [TopicHit(topic_id, name) for ratio, topic_id, name in scored[:n] if ratio > 0.2]


def find_for_topic(
    session: Session,
    topic_id: int,
    *,
    lang: str,
    visitor_library_id: int | None,
    now: datetime,
    limit: int = 10,
    visits_counter: VisitsCounter = agreed_visits_this_month,
) -> FindResult:
    """The `etsi` answer for one catalogue topic (a topic button was pressed)."""
    names = _topic_names(session, [topic_id], lang)
    topic = session.get(Topic, topic_id)
    if topic is None or topic.status != TopicStatus.ACTIVE:
        return find(session, "", lang=lang, visitor_library_id=visitor_library_id, now=now)
    result = FindResult(query=names.get(topic_id, ""))
    hosts = rank_hosts(
        session,
        topic_id=topic_id,
        visitor_library_id=visitor_library_id,
        now=now,
        limit=1000,
        visits_counter=visits_counter,
    )
    inside = [h for h in hosts if h.in_region]
    if not inside and hosts:
        result.outside_region = True
        inside = hosts
    result.total = len(inside)
    result.hosts = inside[:limit]
    result.topic_names = names
    result.topics = [TopicHit(topic_id, names[topic_id])] if topic_id in names else []
    if not result.hosts:
        result.categories = catalogue_view(session, lang)
    return result
