"""Shared set-up of the unit tests that make visits through the services."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from models import Library, LibraryContact, Topic
from tests.conftest import HELSINKI_NOON

HOST, HOST2 = "U0HOST1", "U0HOST2"


@pytest.fixture
def world(session_factory: sessionmaker[Session]) -> dict[str, int]:
    with session_factory.begin() as s:
        home = s.scalar(select(Library).where(Library.key == "kuopio-paakirjasto"))
        host = s.scalar(select(Library).where(Library.key == "joroinen"))
        topic = s.scalar(select(Topic).order_by(Topic.id).limit(1))
        assert home and host and topic
        s.add_all(
            [
                LibraryContact(library_id=host.id, slack_user_id=HOST, added_at=HELSINKI_NOON),
                LibraryContact(library_id=host.id, slack_user_id=HOST2, added_at=HELSINKI_NOON),
            ]
        )
        return {"home": home.id, "host": host.id, "topic": topic.id}
