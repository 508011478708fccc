"""What the benchmark scripts share: a fresh database, percentiles, the per-query report."""

from __future__ import annotations

import statistics
import tempfile

from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from models import create_engine_for, make_session_factory
from models.migrate import upgrade


def fresh_database(url: str | None) -> tuple[Engine, sessionmaker[Session]]:
    """A migrated, empty database: a temporary SQLite file, or the PostgreSQL database at `url`
    with its public schema dropped (give it a scratch database)."""
    engine = create_engine_for(url or f"sqlite:///{tempfile.mkdtemp()}/bench.sqlite3")
    if engine.dialect.name == "postgresql":
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
    upgrade(engine)
    return engine, make_session_factory(engine)


def percentile(values: list[float], p: float) -> float:
    """The p-th percentile (nearest rank); NaN when there is nothing to measure."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def print_query_report(
    timings: dict[str, list[float]], counts: dict[str, int], counted: str, target_ms: float
) -> None:
    """Per query p50 / p95 / max in milliseconds, then all calls together against the target."""
    everything = [v for values in timings.values() for v in values]
    print(f"{'query':34} {counted:>6} {'p50':>7} {'p95':>7} {'max':>7}")
    for query, values in timings.items():
        shown = (query[:30] + "…") if len(query) > 30 else query
        print(
            f"{shown!r:34} {counts[query]:>6} {statistics.median(values):7.2f} "
            f"{percentile(values, 95):7.2f} {max(values):7.2f}"
        )
    p50, p95 = statistics.median(everything), percentile(everything, 95)
    print(f"ALL ({len(everything)} calls): p50 {p50:.2f} ms, p95 {p95:.2f} ms, max {max(everything):.2f} ms")
    print(
        f"OK: p95 under {target_ms:.0f} ms" if p95 < target_ms else f"FAIL: p95 is {target_ms:.0f} ms or more"
    )
