"""Benchmark of `etsi` ranking: 1,000 libraries, 300 topics, 5,000 offers.

    python benchmarks/bench_find.py                       # a temporary SQLite file
    python benchmarks/bench_find.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/test_find

The PostgreSQL database is WIPED (schema public dropped and recreated): give it a scratch database.
Measures `services.find.matching.find` plus rendering the answer (what the `etsi` listener does before
its ack) over a mix of queries, and prints p50 / p95 / max in milliseconds. Not part of pytest.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import insert, select, text

from benchmarks.common import fresh_database, print_query_report
from bot.i18n import translator
from bot.views.find import find_message
from bot.views.limits import check_message
from models import (
    ClosedPeriod,
    HostOffer,
    Library,
    LibraryContact,
    Region,
    Topic,
    TopicCategory,
    offer_topics,
)
from services.catalogue.categories import load_shipped_topics
from services.common.words import index_text
from services.find import matching

LIBRARIES = 1000
TOPICS = 300
OFFERS = 5000
NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)

PARTS = (
    "lasten nuorten kirja peli musiikki digi koulu tapahtuma lukemis media kieli taide sarjakuva "
    "podcast robotti ompelu kässä kirjoittamis satu runo tiede luonto ruoka valokuva video elokuva "
    "historia suku kotiseutu opastus neuvonta kokous työpaja kerho piiri hetki ilta tunti kurssi"
).split()
HEADS = "toiminta kerhot työpajat tuokiot opastukset illat palvelut klubit pajat hetket kurssit".split()
WORDS = (
    "kirjasto asiakas lapsi nuori aikuinen seniori vierailija koulu päiväkoti vapaaehtoinen tila "
    "laitteet lainaus kokoelma tapahtuma ilta viikko kuukausi kevät syksy yhteistyö opettaja "
    "karaoke lukukoira omatoimikirjasto kirjastoauto pelikerho digituki kielikahvila näyttely"
).split()
QUERIES = [
    "karaokea",
    "lukukoiratoimintaa",
    "omatoimikirjastoon",
    "kirjastoautolla",
    "pelikerhoon",
    "sarjakuvatyöpajat",
    "robotti",
    "digi",
    "lasten musiikki",
    "vapaaehtoisten koulutus",
    "läshund",
    "bookmobile",
    "qqzzxx",
    "",
    "<!channel> <@U123> lukukoira",
    "kirjasto " * 300,
]


def populate(session_factory, rng: random.Random) -> None:
    with session_factory.begin() as s:
        load_shipped_topics(s, now=NOW)
        regions = [Region(key="savo", name="Savo"), Region(key="karjala", name="Karjala")]
        s.add_all(regions)
        s.flush()
        s.execute(
            insert(Library),
            [
                {
                    "key": f"lib-{n}",
                    "name": f"{rng.choice(PARTS).capitalize()}lan kirjasto {n}",
                    "municipality": f"Kunta {n % 120}",
                    "province": "Pohjois-Savo",
                    "lat": rng.uniform(61.4, 63.8),
                    "lon": rng.uniform(26.3, 29.0),
                    "region_id": regions[0].id if n % 10 else regions[1].id,
                }
                for n in range(LIBRARIES)
            ],
        )
        categories = list(s.scalars(select(TopicCategory)))
        existing = s.scalar(select(text("count(*)")).select_from(Topic)) or 0
        names: set[str] = set()
        rows = []
        while len(rows) < TOPICS - existing:
            name = rng.choice(PARTS) + rng.choice(PARTS) + rng.choice(HEADS)
            if name in names:
                continue
            names.add(name)
            rows.append(
                {
                    "key": f"gen-{len(rows)}",
                    "category_id": rng.choice(categories).id,
                    "name_fi": name,
                    "name_sv": name,
                    "name_en": name,
                    "synonyms": "\n".join(rng.sample(PARTS, 2)),
                    "status": "active",
                    "position": len(rows),
                    "created_at": NOW,
                }
            )
        s.execute(insert(Topic), rows)
        library_ids = list(s.scalars(select(Library.id)))
        topic_ids = list(s.scalars(select(Topic.id)))
        s.execute(
            insert(LibraryContact),
            [
                {"library_id": lib, "slack_user_id": f"U{lib:07d}{k}", "added_at": NOW}
                for lib in library_ids
                for k in range(rng.randint(1, 3))
            ],
        )
        offers = []
        for _ in range(OFFERS):
            description = " ".join(rng.choice(WORDS) for _ in range(rng.randint(8, 40)))
            offers.append(
                {
                    "library_id": rng.choice(library_ids),
                    "description": description,
                    "search_terms": index_text(description),
                    "monthly_capacity": rng.randint(0, 5),
                    "weekdays": rng.randint(1, 127),
                    "created_by": "U0BENCH",
                    "created_at": NOW,
                    "updated_at": NOW,
                }
            )
        s.execute(insert(HostOffer), offers)
        offer_ids = list(s.scalars(select(HostOffer.id)))
        links = {(o, t) for o in offer_ids for t in rng.sample(topic_ids, rng.randint(1, 3))}
        s.execute(insert(offer_topics), [{"offer_id": o, "topic_id": t} for o, t in links])
        today = NOW.date()
        s.execute(
            insert(ClosedPeriod),
            [
                {"library_id": lib, "starts_on": today, "ends_on": today + timedelta(days=30), "note": ""}
                for lib in rng.sample(library_ids, LIBRARIES // 20)
            ],
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()
    engine, session_factory = fresh_database(args.database_url)
    rng = random.Random(20261124)
    started = time.perf_counter()
    populate(session_factory, rng)
    with engine.begin() as connection:  # fresh statistics, as autovacuum / a nightly ANALYZE keeps them
        connection.execute(text("ANALYZE"))
    print(f"{engine.dialect.name}: loaded in {time.perf_counter() - started:.1f} s")
    with session_factory() as s:
        visitor = s.scalar(select(Library.id).where(Library.key == "lib-1"))
        counts = {
            "libraries": s.scalar(select(text("count(*)")).select_from(Library)),
            "topics": s.scalar(select(text("count(*)")).select_from(Topic)),
            "offers": s.scalar(select(text("count(*)")).select_from(HostOffer)),
            "offer-topic links": s.scalar(select(text("count(*)")).select_from(offer_topics)),
        }
    print(", ".join(f"{v} {k}" for k, v in counts.items()))
    t = translator("fi")
    timings: dict[str, list[float]] = {q: [] for q in QUERIES}
    hosts: dict[str, int] = {}
    for round_ in range(args.rounds + 1):
        for query in QUERIES:
            begin = time.perf_counter()
            with session_factory() as s:
                result = matching.find(s, query, lang="fi", visitor_library_id=visitor, now=NOW)
                message = find_message(result, t, command="/vertais")
            elapsed = (time.perf_counter() - begin) * 1000
            if round_ == 0:  # warm-up: first connection, stem cache, topic index
                check_message(message)
                hosts[query] = result.total
                continue
            timings[query].append(elapsed)
    print_query_report(timings, hosts, "hosts", target_ms=30)


if __name__ == "__main__":
    main()
