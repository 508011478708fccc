"""APScheduler wiring only: jobs call services with `now`. What is due lives in our own tables."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from apscheduler.schedulers.background import BackgroundScheduler

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Job:
    name: str
    func: Callable[[], object]
    seconds: int = 60
    at_start: bool = False  # the first tick at once, not `seconds` after the start


def start(jobs: list[Job], timezone: str) -> BackgroundScheduler | None:
    """Start a background scheduler that ticks each job; None when there is nothing to run."""
    if not jobs:
        return None
    scheduler = BackgroundScheduler(timezone=timezone)
    for job in jobs:
        scheduler.add_job(
            _guarded(job),
            "interval",
            seconds=job.seconds,
            id=job.name,
            max_instances=1,
            coalesce=True,
            replace_existing=True,
            **({"next_run_time": datetime.now(UTC)} if job.at_start else {}),
        )
    scheduler.start()
    log.info("scheduler started with %s", ", ".join(job.name for job in jobs))
    return scheduler


def _guarded(job: Job) -> Callable[[], None]:
    def run() -> None:
        try:
            job.func()
        except Exception:  # a failing tick must never stop the scheduler
            log.exception("scheduled job %s failed", job.name)

    return run
