"""services.find.matching: Finnish inflection and compounds find their topic; hosts rank by relevance,
distance and load; out-of-region hosts only when nothing inside matches; never an empty answer."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from bot.i18n import translator
from bot.views.find import find_message
from bot.views.limits import check_message
from models import Topic, TopicStatus
from services.catalogue import topic_index
from services.find import matching
from tests.conftest import Clock
from tests.find_support import add_foreign_library, add_offer, close_library, library_id, topic_id

INFLECTED = [
    ("karaokea", "event-production"),
    ("lukukoiratoimintaa", "reading-dogs"),
    ("omatoimikirjastoon", "self-service-libraries"),
    ("kirjastoautolla", "bookmobile"),
    ("pelikerhoon", "game-clubs"),
    ("kirjavinkkausta", "book-talks"),
    ("lukupiiriin", "reading-circles"),
    ("kielikahvilaan", "language-cafes"),
    ("digitointia", "digitisation"),
    ("nukketeatteria", "puppet-theatre"),
    # partial words (prefix matching) and the other languages
    ("omatoimik", "self-service-libraries"),
    ("lukukoi", "reading-dogs"),
    ("läshund", "reading-dogs"),
    ("bokbuss", "bookmobile"),
    ("bookmobile", "bookmobile"),
    ("reading dog", "reading-dogs"),
    # a compound part inside the topic's name
    ("koira", "reading-dogs"),
]


@pytest.fixture
def all_topics_offered(session_factory: sessionmaker[Session], clock: Clock) -> dict[str, int]:
    """Every shipped topic offered by one library (Iisalmi), so `find` returns a host per topic."""
    with session_factory() as s:
        keys = [t.key for t in s.query(Topic)]
    offers = {}
    for key in keys:
        offers[key] = add_offer(session_factory, "iisalmi", [key], clock(), contacts=("U0IISALMI",))
    return offers


@pytest.mark.parametrize(("query", "expected"), INFLECTED)
def test_inflected_and_partial_words_find_their_topic(
    session_factory: sessionmaker[Session],
    clock: Clock,
    all_topics_offered: dict[str, int],
    query: str,
    expected: str,
) -> None:
    with session_factory() as s:
        result = matching.find(
            s,
            query,
            lang="fi",
            visitor_library_id=library_id(session_factory, "kuopio-paakirjasto"),
            now=clock(),
        )
    assert result.hosts, f"{query!r} found no host"
    assert result.topics[0].id == topic_id(session_factory, expected), (query, result.topics)
    assert result.hosts[0].topic_id == topic_id(session_factory, expected)


def test_stems_agree_on_inflections() -> None:
    assert matching.words("kirjastoautolla") == matching.words("kirjastoauto")
    assert matching.words("pelikerhoon") == matching.words("pelikerhot")
    assert matching.words("ja <!channel> 123 ;DROP TABLE") == ["chanel", "drop", "tabl"]


def test_ranking_by_distance(session_factory: sessionmaker[Session], clock: Clock) -> None:
    for key in ("varkaus", "siilinjarvi", "leppavirta"):
        add_offer(session_factory, key, ["reading-dogs"], clock())
    with session_factory() as s:
        hosts = matching.rank_hosts(
            s,
            topic_id=topic_id(session_factory, "reading-dogs"),
            visitor_library_id=library_id(session_factory, "kuopio-paakirjasto"),
            now=clock(),
        )
    assert [h.library_name for h in hosts] == [
        "Siilinjärven kirjasto",
        "Leppävirran kirjasto",
        "Varkauden kirjasto",
    ]
    assert [round(h.distance_km or 0) for h in hosts] == [20, 45, 65]
    assert all(h.in_region and not h.at_capacity and h.closed_until is None for h in hosts)


def test_ranking_by_load_within_the_same_distance_band(
    session_factory: sessionmaker[Session], clock: Clock
) -> None:
    """Seen from Siilinjärvi, both Kuopio libraries are 20-30 km away: the less loaded comes first,
    a host at capacity goes last and is marked, whatever its distance."""
    for key in ("kuopio-paakirjasto", "kuopio-jynkka", "lapinlahti"):
        add_offer(session_factory, key, ["bookmobile"], clock(), capacity=3)
    ids = {
        key: library_id(session_factory, key) for key in ("kuopio-paakirjasto", "kuopio-jynkka", "lapinlahti")
    }

    def rank(counts: dict[str, int]) -> list[matching.HostMatch]:
        def counter(session: Session, library_ids: Any, now: Any) -> dict[int, int]:
            return {i: counts.get(k, 0) for k, i in ids.items() if i in library_ids}

        with session_factory() as s:
            return matching.rank_hosts(
                s,
                topic_id=topic_id(session_factory, "bookmobile"),
                visitor_library_id=library_id(session_factory, "siilinjarvi"),
                now=clock(),
                visits_counter=counter,
            )

    nothing_agreed = rank({})
    assert [h.library_name for h in nothing_agreed] == [
        "Kuopion pääkirjasto",  # 20 km
        "Jynkän kirjasto",  # 24 km, same band
        "Lapinlahden kirjasto",  # 33 km
    ]
    loaded = rank({"kuopio-paakirjasto": 2})
    assert [h.library_name for h in loaded][:2] == ["Jynkän kirjasto", "Kuopion pääkirjasto"]
    full = rank({"kuopio-paakirjasto": 3})
    assert [h.library_name for h in full] == [
        "Jynkän kirjasto",
        "Lapinlahden kirjasto",
        "Kuopion pääkirjasto",
    ]
    assert full[-1].at_capacity and full[-1].agreed == 3 and full[-1].capacity == 3


def test_closed_host_goes_last_and_says_until_when(
    session_factory: sessionmaker[Session], clock: Clock
) -> None:
    add_offer(session_factory, "siilinjarvi", ["reading-dogs"], clock())
    add_offer(session_factory, "varkaus", ["reading-dogs"], clock())
    close_library(session_factory, "siilinjarvi", date(2026, 11, 1), date(2027, 1, 14))
    with session_factory() as s:
        result = matching.find(
            s,
            "lukukoira",
            lang="fi",
            visitor_library_id=library_id(session_factory, "kuopio-paakirjasto"),
            now=clock(),
        )
    assert [h.library_name for h in result.hosts] == ["Varkauden kirjasto", "Siilinjärven kirjasto"]
    assert result.hosts[1].closed_until == date(2027, 1, 14)
    text = str(find_message(result, translator("fi"), command="/vertais"))
    assert "ei ota vierailijoita 14.01.2027 asti" in text


def test_description_words_find_a_host(session_factory: sessionmaker[Session], clock: Clock) -> None:
    add_offer(
        session_factory,
        "keitele",
        ["digitisation"],
        clock(),
        description="Sirkuskoulun kanssa tehty sarjakuvapaja.",
    )
    add_offer(session_factory, "tervo", ["digitisation"], clock(), description="Valokuvien skannaus.")
    with session_factory() as s:
        result = matching.find(
            s,
            "sarjakuvapajoja",
            lang="fi",
            visitor_library_id=library_id(session_factory, "kuopio-paakirjasto"),
            now=clock(),
        )
    assert [h.library_name for h in result.hosts] == ["Keiteleen kirjasto"]


def test_relevance_before_distance(session_factory: sessionmaker[Session], clock: Clock) -> None:
    """A far host whose description also speaks of the words beats a near one that only has the topic."""
    add_offer(session_factory, "siilinjarvi", ["event-production"], clock())
    add_offer(
        session_factory,
        "savonlinna",
        ["event-production"],
        clock(),
        description="Kirjastokaraoke joka perjantai",
    )
    with session_factory() as s:
        result = matching.find(
            s,
            "karaoke",
            lang="fi",
            visitor_library_id=library_id(session_factory, "kuopio-paakirjasto"),
            now=clock(),
        )
    assert [h.library_name for h in result.hosts] == ["Savonlinnan kirjasto", "Siilinjärven kirjasto"]


def test_outside_region_only_when_nothing_inside(
    session_factory: sessionmaker[Session], clock: Clock
) -> None:
    add_foreign_library(session_factory)
    add_offer(session_factory, "joensuu", ["bookmobile", "reading-dogs"], clock())
    add_offer(session_factory, "varkaus", ["reading-dogs"], clock())
    visitor = library_id(session_factory, "kuopio-paakirjasto")
    with session_factory() as s:
        inside = matching.find(s, "lukukoira", lang="fi", visitor_library_id=visitor, now=clock())
        outside = matching.find(s, "kirjastoauto", lang="fi", visitor_library_id=visitor, now=clock())
    assert [h.library_name for h in inside.hosts] == ["Varkauden kirjasto"]
    assert not inside.outside_region
    assert [h.library_name for h in outside.hosts] == ["Joensuun pääkirjasto"]
    assert outside.outside_region and not outside.hosts[0].in_region
    text = str(find_message(outside, translator("en"), command="/vertais"))
    assert "not covered by the region's grant" in text


def test_retired_topics_are_not_found(session_factory: sessionmaker[Session], clock: Clock) -> None:
    add_offer(session_factory, "varkaus", ["reading-dogs"], clock())
    with session_factory.begin() as s:
        s.get(Topic, topic_id(session_factory, "reading-dogs")).status = TopicStatus.RETIRED
    with session_factory() as s:
        result = matching.find(s, "lukukoira", lang="fi", visitor_library_id=None, now=clock())
    assert result.hosts == []
    assert result.categories, "no match still shows the catalogue's categories"


@pytest.mark.parametrize(
    "query",
    [
        "x" * 3000,
        "🐶📚 " * 200,
        "<!channel> <@U123> lukukoira",
        "'; DROP TABLE host_offers; --",
        "%_%_\\",
        "*bold* _it_ ~s~ `code` <https://evil.example|click>",
        "",
        "   ",
    ],
)
def test_odd_queries_get_a_normal_never_empty_answer(
    session_factory: sessionmaker[Session], clock: Clock, query: str
) -> None:
    add_offer(session_factory, "varkaus", ["reading-dogs"], clock())
    with session_factory() as s:
        result = matching.find(s, query, lang="fi", visitor_library_id=None, now=clock())
    message = find_message(result, translator("fi"), command="/vertais")
    check_message(message)
    assert len(message["blocks"]) >= 2
    text = str(message)
    assert "<!channel>" not in text and "<@U123>" not in text and "<https://evil" not in text
    assert count_offers(session_factory) == 1


def count_offers(sf: sessionmaker[Session]) -> int:
    from models import HostOffer
    from tests.find_support import count

    return count(sf, HostOffer)


def test_agreed_visits_seam_returns_zeros(session_factory: sessionmaker[Session], clock: Clock) -> None:
    with session_factory() as s:
        assert matching.agreed_visits_this_month(s, [1, 2], clock()) == {1: 0, 2: 0}


def test_similarity_scale() -> None:
    assert topic_index.similarity("karaok", "karaok") == 1.0
    assert 0.5 < topic_index.similarity("omatoimi", "omatoimikirjasto") < 1.0
    assert topic_index.similarity("ab", "abc") == 0.0
    assert topic_index.similarity("koira", "lukukoiratoimin") > 0


def test_rank_hosts_contract_for_the_visits_feature(
    session_factory: sessionmaker[Session], clock: Clock
) -> None:
    """What the visit-proposal feature builds on: a frozen HostMatch with these fields, the
    visitor's region first, details filled in, `limit` respected."""
    import dataclasses

    add_foreign_library(session_factory)
    add_offer(session_factory, "joensuu", ["reading-dogs"], clock(), contacts=("U0JOENSUU",))
    add_offer(
        session_factory,
        "varkaus",
        ["reading-dogs"],
        clock(),
        description="Onni-koira",
        contacts=("U0VARKAUS",),
    )
    add_offer(session_factory, "siilinjarvi", ["reading-dogs"], clock(), capacity=0)
    dogs, visitor = (
        topic_id(session_factory, "reading-dogs"),
        library_id(session_factory, "kuopio-paakirjasto"),
    )
    with session_factory() as s:
        hosts = matching.rank_hosts(s, topic_id=dogs, visitor_library_id=visitor, now=clock())
        limited = matching.rank_hosts(s, topic_id=dogs, visitor_library_id=None, now=clock(), limit=1)
    assert [h.library_name for h in hosts] == [
        "Varkauden kirjasto",
        "Siilinjärven kirjasto",
        "Joensuun pääkirjasto",
    ]
    assert [h.in_region for h in hosts] == [True, True, False]
    assert hosts[1].at_capacity  # capacity 0: takes no visits now
    assert hosts[0].contacts == ("U0VARKAUS",) and hosts[0].description == "Onni-koira"
    assert hosts[0].topic_id == dogs
    names = {f.name for f in dataclasses.fields(matching.HostMatch)}
    assert {"library_id", "library_name", "distance_km", "at_capacity", "closed_until", "in_region"} <= names
    with pytest.raises(dataclasses.FrozenInstanceError):
        hosts[0].at_capacity = True  # type: ignore[misc]
    assert len(limited) == 1 and limited[0].distance_km is None


def test_confirmed_visits_count_towards_a_hosts_monthly_load(session_factory, clock) -> None:
    """The seam is filled: a host whose capacity is taken by confirmed visits this month is full."""
    from datetime import date
    from decimal import Decimal

    from models import Visit, VisitStatus

    add_offer(session_factory, "varkaus", ["reading-dogs"], clock(), capacity=1)
    varkaus = library_id(session_factory, "varkaus")
    home = library_id(session_factory, "kuopio-paakirjasto")
    with session_factory.begin() as s:
        s.add(
            Visit(
                visitor_id="U0V",
                home_library_id=home,
                host_library_id=varkaus,
                topic_id=topic_id(session_factory, "reading-dogs"),
                length="day",
                travel_mode="car",
                estimated_km=Decimal("100"),
                supervisor_id="U0S",
                status=VisitStatus.CONFIRMED,
                chosen_date=date(2026, 11, 27),
                version=1,
                created_at=clock(),
                updated_at=clock(),
            )
        )
    with session_factory() as s:
        hosts = matching.rank_hosts(
            s, topic_id=topic_id(session_factory, "reading-dogs"), visitor_library_id=home, now=clock()
        )
    assert [(h.library_name, h.at_capacity) for h in hosts] == [("Varkauden kirjasto", True)]
