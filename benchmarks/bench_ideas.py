"""Benchmark of `ideat` search: 10,000 published write-ups (and 10,000 visits behind them).

    python benchmarks/bench_ideas.py                       # a temporary SQLite file
    python benchmarks/bench_ideas.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/test_writeups

The PostgreSQL database is WIPED (schema public dropped and recreated): give it a scratch database.
Measures what the `ideat` listener does before its ack: `services.ideas.idea_search.search` (stems of the
query, a LIKE filter per word on `search_terms`, count, newest ten) plus rendering the answer,
over a mix of queries, and prints p50 / p95 / max in milliseconds. Not part of pytest.
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
from bot.views.limits import check_message
from bot.views.writeups import ideas_message
from models import Library, Region, Topic, Visit, WriteUp
from services.catalogue.categories import load_shipped_topics
from services.common.words import index_text
from services.ideas import idea_search

WRITEUPS = 10_000
LIBRARIES = 200
NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
WORDS = (
    "kirjasto asiakas lapsi nuori aikuinen seniori vierailija koulu päiväkoti vapaaehtoinen tila "
    "laitteet lainaus kokoelma tapahtuma ilta viikko kuukausi kevät syksy yhteistyö opettaja "
    "karaoke lukukoira omatoimikirjasto kirjastoauto pelikerho digituki kielikahvila näyttely "
    "opastus neuvonta kerho työpaja ääneen lukeminen sarjakuva robotiikka ompelu podcast"
).split()
FORMS = (
    "lukukoiria lukukoirien kirjastoautolla kirjastoautoon omatoimikirjastossa pelikerhoon "
    "digituesta kielikahvilassa näyttelyt työpajoissa sarjakuvia robotiikkaa vapaaehtoisten"
).split()
QUERIES = [
    "",
    "lukukoirien",
    "kirjastoautolla",
    "omatoimikirjastossa",
    "pelikerhoon",
    "kielikahvilassa",
    "digituki seniorit",
    "sarjakuvatyöpajat",
    "robotiikkaa koululaisille",
    "vapaaehtoisten koulutus",
    "nukketeatterista",
    "qqzzxx",
    "<!channel> <@U123> lukukoira",
    "kirjasto " * 300,
]


def sentence(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS + FORMS) for _ in range(n)).capitalize() + "."


def populate(session_factory, rng: random.Random) -> None:
    with session_factory.begin() as s:
        load_shipped_topics(s, now=NOW)
        region = Region(key="savo", name="Savo")
        s.add(region)
        s.flush()
        s.execute(
            insert(Library),
            [
                {
                    "key": f"lib-{n}",
                    "name": f"Kirjasto {n}",
                    "municipality": f"Kunta {n % 60}",
                    "province": "Pohjois-Savo",
                    "lat": rng.uniform(61.4, 63.8),
                    "lon": rng.uniform(26.3, 29.0),
                    "region_id": region.id,
                }
                for n in range(LIBRARIES)
            ],
        )
        library_ids = list(s.scalars(select(Library.id)))
        topics = list(s.scalars(select(Topic)))
        visits = []
        for n in range(WRITEUPS):
            at = NOW - timedelta(hours=n)
            visits.append(
                {
                    "visitor_id": f"U{n:08d}",
                    "home_library_id": rng.choice(library_ids),
                    "host_library_id": rng.choice(library_ids),
                    "topic_id": rng.choice(topics).id,
                    "learn": "",
                    "length": "day",
                    "travel_mode": "car",
                    "supervisor_id": "U0BOSS",
                    "status": "confirmed",
                    "supervisor_state": "approved",
                    "host_state": "approved",
                    "funding_state": "approved",
                    "chosen_date": (at - timedelta(days=1)).date(),
                    "version": 1,
                    "created_at": at,
                    "updated_at": at,
                }
            )
        s.execute(insert(Visit), visits)
        by_topic = {t.id: t for t in topics}
        rows = []
        for visit_id, visitor, topic_id, created in s.execute(
            select(Visit.id, Visit.visitor_id, Visit.topic_id, Visit.created_at)
        ):
            topic = by_topic[topic_id]
            title = sentence(rng, rng.randint(3, 7))[:150]
            learned = " ".join(sentence(rng, rng.randint(8, 20)) for _ in range(rng.randint(3, 12)))
            try_at_home = sentence(rng, rng.randint(5, 30))
            tips = sentence(rng, rng.randint(0, 20))
            terms = index_text(
                " ".join(
                    (
                        title,
                        learned,
                        try_at_home,
                        tips,
                        topic.name_fi,
                        topic.name_sv,
                        topic.name_en,
                        topic.synonyms,
                    )
                )
            )
            rows.append(
                {
                    "visit_id": visit_id,
                    "author_id": visitor,
                    "title": title,
                    "learned": learned,
                    "try_at_home": try_at_home,
                    "tips": tips,
                    "recommend": rng.choice(("yes", "reservations", "no")),
                    "link": "",
                    "publish": True,
                    "status": "published" if rng.random() > 0.03 else "hidden",
                    "hide_reason": "",
                    "search_terms": terms,
                    "channel": "C0IDEAS",
                    "ts": f"{1700000000 + visit_id}.000100",
                    "submitted_at": created,
                    "published_at": created,
                    "created_at": created,
                    "updated_at": created,
                }
            )
        s.execute(insert(WriteUp), rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()
    engine, session_factory = fresh_database(args.database_url)
    started = time.perf_counter()
    populate(session_factory, random.Random(20261124))
    with engine.begin() as connection:  # fresh statistics, as autovacuum / a nightly ANALYZE keeps them
        connection.execute(text("ANALYZE"))
    print(f"{engine.dialect.name}: loaded in {time.perf_counter() - started:.1f} s")
    with session_factory() as s:
        total = s.scalar(select(text("count(*)")).select_from(WriteUp))
    print(f"{total} write-ups")
    t = translator("fi")
    timings: dict[str, list[float]] = {q: [] for q in QUERIES}
    found: dict[str, int] = {}
    for round_ in range(args.rounds + 1):
        for query in QUERIES:
            begin = time.perf_counter()
            with session_factory() as s:
                result = idea_search.search(s, query)
                message = ideas_message(result, t, command="/vertais", coordinator=False)
            elapsed = (time.perf_counter() - begin) * 1000
            if round_ == 0:  # warm-up: first connection, stem cache
                check_message(message)
                found[query] = result.total
                continue
            timings[query].append(elapsed)
    print_query_report(timings, found, "found", target_ms=50)


if __name__ == "__main__":
    main()
