"""Reminder sweep at scale: a million visits and a long history on record, 1,000 reminders due.

    python benchmarks/bench_sweep.py                      # SQLite, in a temporary file
    python benchmarks/bench_sweep.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/bench

The PostgreSQL database is wiped (its public schema is dropped). History: VISITS visits (the
newest DUE still waiting for their supervisor, the rest confirmed), HISTORY reminders already
sent or cancelled (three for each visit), plus 10,000 pending reminders due in the future. Then
it times a sweep with nothing due (repeated), and one sweep over 1,000 due decision nudges
delivered to a no-op port, with production's kinds registry: each due reminder's `still_due`
reads its visit. Targets: nothing due < 50 ms, 1,000 due < 2 s.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, select, text

from benchmarks.common import fresh_database
from models import Library, Reminder, ReminderStatus, Topic
from services.catalogue.seed import ensure_seeded
from services.outbox import reminders
from services.visits import visit_reminders

TZ = ZoneInfo("Europe/Helsinki")
NOW = datetime(2027, 3, 16, 9, 0, tzinfo=TZ).astimezone(UTC)  # a Tuesday, office hours
VISITS = 1_000_000
HISTORY = 3_000_000
FUTURE = 10_000
DUE = 1_000


class NoOp:
    def __init__(self) -> None:
        self.count = 0

    def deliver(self, reminder: reminders.DueReminder) -> None:
        self.count += 1


def series(engine, offset: int, count: int) -> str:
    if engine.dialect.name == "postgresql":
        return f"SELECT i FROM generate_series({offset}, {offset + count - 1}) AS i"
    return (
        f"WITH RECURSIVE n(i) AS (SELECT {offset} UNION ALL SELECT i + 1 FROM n "
        f"WHERE i < {offset + count - 1}) SELECT i FROM n"
    )


def fill_visits(engine, count: int, waiting: int, library_id: int, host_id: int, topic_id: int) -> None:
    """`count` visits with ids 1..count; the last `waiting` wait for their supervisor (round 1)."""
    stamp = (NOW - timedelta(days=30)).strftime("%Y-%m-%d %H:%M:%S+00:00")
    first_waiting = count - waiting + 1
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO visits (id, visitor_id, home_library_id, host_library_id, topic_id, learn, length, "
                "travel_mode, estimated_km, ticket_cost, accommodation_cost, funded_cost, supervisor_id, "
                "note_to_host, status, supervisor_state, host_state, funding_state, round, chosen_date, "
                "ics_sequence, invite_sent, version, created_at, updated_at) "
                f"SELECT i, 'U' || (i % 5000), {library_id}, {host_id}, {topic_id}, 'bench', 'day', 'car', "
                "120, 0, 0, NULL, 'UBOSS' || (i % 500), '', "
                f"CASE WHEN i >= {first_waiting} THEN 'proposed' ELSE 'confirmed' END, "
                f"CASE WHEN i >= {first_waiting} THEN 'pending' ELSE 'approved' END, 'approved', 'approved', "
                f"1, '2026-06-01', 0, false, 1, '{stamp}', '{stamp}' FROM ({series(engine, 1, count)}) AS s"
            )
        )
        if engine.dialect.name == "postgresql":
            connection.execute(text(f"SELECT setval('visits_id_seq', {count})"))


def fill(engine, count: int, status: str, at: datetime, offset: int, visit_id: str = "i / 3 + 1") -> None:
    stamp = at.strftime("%Y-%m-%d %H:%M:%S+00:00")
    params = '{"party": "supervisor", "round": 1, "step": 1}'
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO reminders (dedupe_key, visit_id, kind, recipient, due_at, next_attempt_at, status, "
                "attempts, params, created_at) "
                f"SELECT 'bench:' || i, {visit_id}, 'decision_nudge', 'U' || (i % 5000), '{stamp}', '{stamp}', "
                f"'{status}', 0, '{params}', '{stamp}' FROM ({series(engine, offset, count)}) AS s"
            )
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--history", type=int, default=HISTORY)
    parser.add_argument("--visits", type=int, default=VISITS)
    parser.add_argument("--no-kinds", action="store_true", help="no still_due checks (the bare engine)")
    args = parser.parse_args()
    engine, factory = fresh_database(args.database_url)
    ensure_seeded(factory, now=NOW)
    with factory() as session:
        home_id, host_id = list(session.scalars(select(Library.id).order_by(Library.id).limit(2)))
        topic_id = session.scalar(select(func.min(Topic.id)))
    assert topic_id is not None
    kinds = reminders.Kinds() if args.no_kinds else visit_reminders.kinds()

    started = time.perf_counter()
    fill_visits(engine, args.visits, DUE, home_id, host_id, topic_id)
    print(f"filled {args.visits:,} visits in {time.perf_counter() - started:.1f} s")
    started = time.perf_counter()
    fill(engine, args.history // 2, "sent", NOW - timedelta(days=400), 0)
    fill(engine, args.history - args.history // 2, "cancelled", NOW - timedelta(days=200), args.history // 2)
    fill(engine, FUTURE, "pending", NOW + timedelta(days=30), args.history)
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(text("ANALYZE reminders"))
            connection.execute(text("ANALYZE visits"))
        else:
            connection.execute(text("ANALYZE"))
    print(
        f"filled {args.history + FUTURE:,} reminders in {time.perf_counter() - started:.1f} s ({engine.dialect.name})"
    )

    delivery = NoOp()
    idle = []
    for _ in range(50):
        t0 = time.perf_counter()
        reminders.sweep(factory, delivery, now=NOW, tz=TZ, kinds=kinds)
        idle.append((time.perf_counter() - t0) * 1000)
    idle.sort()
    print(
        f"sweep with nothing due: median {statistics.median(idle):.2f} ms, p95 {idle[int(len(idle) * 0.95) - 1]:.2f} ms"
    )

    # The due nudges point at the visits that still wait for their supervisor.
    fill(
        engine,
        DUE,
        "pending",
        NOW - timedelta(minutes=5),
        args.history + FUTURE,
        f"{args.visits} - (i % {DUE})",
    )
    t0 = time.perf_counter()
    total = 0
    while True:
        result = reminders.sweep(factory, delivery, now=NOW, tz=TZ, kinds=kinds, batch=reminders.BATCH)
        total += len(result.sent)
        if not result.sent:
            break
    elapsed = time.perf_counter() - t0
    print(
        f"sweeping {DUE:,} due reminders: {elapsed * 1000:.0f} ms for {total:,} sent ({delivery.count:,} delivered)"
    )
    assert total == DUE, "every due nudge's visit still waits: all must be sent"
    with factory() as session:
        pending = session.scalar(
            select(func.count()).select_from(Reminder).where(Reminder.status == ReminderStatus.PENDING)
        )
    print(f"pending afterwards: {pending:,} (the {FUTURE:,} future ones)")


if __name__ == "__main__":
    main()
