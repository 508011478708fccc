"""Reminder sweep at scale: a long history on record, 1,000 reminders due.

    python benchmarks/bench_sweep.py                      # SQLite, in a temporary file
    python benchmarks/bench_sweep.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/bench

The PostgreSQL database is wiped (its public schema is dropped). History: HISTORY reminders
already sent or cancelled (three for each of a million visits), plus 10,000 pending reminders
due in the future. Then it times a sweep with nothing due (repeated), and one sweep over 1,000
due reminders delivered to a no-op port. Targets: nothing due < 50 ms, 1,000 due < 2 s.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, select, text

from models import Reminder, ReminderStatus, create_engine_for, make_session_factory
from models.migrate import upgrade
from services import reminders

TZ = ZoneInfo("Europe/Helsinki")
NOW = datetime(2027, 3, 16, 9, 0, tzinfo=TZ).astimezone(UTC)  # a Tuesday, office hours
HISTORY = 3_000_000
FUTURE = 10_000
DUE = 1_000


class NoOp:
    def __init__(self) -> None:
        self.count = 0

    def deliver(self, reminder: reminders.DueReminder) -> None:
        self.count += 1


def fill(engine, count: int, status: str, at: datetime, offset: int) -> None:
    stamp = at.strftime("%Y-%m-%d %H:%M:%S+00:00")
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            series = f"SELECT i FROM generate_series({offset}, {offset + count - 1}) AS i"
        else:
            series = (
                f"WITH RECURSIVE n(i) AS (SELECT {offset} UNION ALL SELECT i + 1 FROM n "
                f"WHERE i < {offset + count - 1}) SELECT i FROM n"
            )
        connection.execute(
            text(
                "INSERT INTO reminders (dedupe_key, visit_id, kind, recipient, due_at, next_attempt_at, status, "
                "attempts, params, created_at) "
                f"SELECT 'bench:' || i, i / 3, 'decision_nudge', 'U' || (i % 5000), '{stamp}', '{stamp}', "
                f"'{status}', 0, '{{}}', '{stamp}' FROM ({series}) AS s"
            )
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--history", type=int, default=HISTORY)
    args = parser.parse_args()
    url = args.database_url or f"sqlite:///{tempfile.mkdtemp()}/bench.sqlite3"
    engine = create_engine_for(url)
    if engine.dialect.name == "postgresql":
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
    upgrade(engine)
    factory = make_session_factory(engine)

    started = time.perf_counter()
    fill(engine, args.history // 2, "sent", NOW - timedelta(days=400), 0)
    fill(engine, args.history - args.history // 2, "cancelled", NOW - timedelta(days=200), args.history // 2)
    fill(engine, FUTURE, "pending", NOW + timedelta(days=30), args.history)
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(text("ANALYZE reminders"))
        else:
            connection.execute(text("ANALYZE"))
    print(
        f"filled {args.history + FUTURE:,} reminders in {time.perf_counter() - started:.1f} s ({engine.dialect.name})"
    )

    delivery = NoOp()
    idle = []
    for _ in range(50):
        t0 = time.perf_counter()
        reminders.sweep(factory, delivery, now=NOW, tz=TZ)
        idle.append((time.perf_counter() - t0) * 1000)
    idle.sort()
    print(
        f"sweep with nothing due: median {statistics.median(idle):.2f} ms, p95 {idle[int(len(idle) * 0.95) - 1]:.2f} ms"
    )

    fill(engine, DUE, "pending", NOW - timedelta(minutes=5), args.history + FUTURE)
    t0 = time.perf_counter()
    total = 0
    while True:
        result = reminders.sweep(factory, delivery, now=NOW, tz=TZ, batch=reminders.BATCH)
        total += len(result.sent)
        if not result.sent:
            break
    elapsed = time.perf_counter() - t0
    print(
        f"sweeping {DUE:,} due reminders: {elapsed * 1000:.0f} ms for {total:,} sent ({delivery.count:,} delivered)"
    )
    with factory() as session:
        pending = session.scalar(
            select(func.count()).select_from(Reminder).where(Reminder.status == ReminderStatus.PENDING)
        )
    print(f"pending afterwards: {pending:,} (the {FUTURE:,} future ones)")


if __name__ == "__main__":
    main()
