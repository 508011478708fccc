"""First start: load the shipped region data and topic catalogue into an empty database."""

from __future__ import annotations

import logging
from datetime import datetime
from importlib import resources

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from models import Library, Topic
from services.catalogue.categories import load_shipped_topics
from services.catalogue.libraries import import_libraries

SHIPPED_LIBRARIES = {"savo": "libraries-savo.csv"}
log = logging.getLogger(__name__)


def ensure_seeded(session_factory: sessionmaker[Session], *, now: datetime, region_key: str = "savo") -> bool:
    """Load the shipped libraries and topics if the database has none. Returns True if it did."""
    with session_factory.begin() as session:
        has_libraries = bool(session.scalar(select(func.count()).select_from(Library)))
        has_topics = bool(session.scalar(select(func.count()).select_from(Topic)))
        if has_libraries and has_topics:
            return False
        if not has_libraries:
            filename = SHIPPED_LIBRARIES.get(region_key)
            if filename is None:
                log.warning(
                    "no libraries ship for region %r: load them with `python -m bot import libraries FILE.csv "
                    "--region %s`",
                    region_key,
                    region_key,
                )
            else:
                text = resources.files("services.data").joinpath(filename).read_text(encoding="utf-8")
                import_libraries(session, text, region_key=region_key, now=now, actor="seed")
        if not has_topics:
            load_shipped_topics(session, now=now)
        return True
