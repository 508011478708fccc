"""Helpers for the find / offer / topics tests: look-ups by key and offers written straight to the DB."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from models import ClosedPeriod, HostOffer, Library, LibraryContact, Region, Topic
from services.common.words import index_text
from services.people import staff


def library_id(sf: sessionmaker[Session], key: str) -> int:
    with sf() as s:
        return s.scalar(select(Library.id).where(Library.key == key))


def topic_id(sf: sessionmaker[Session], key: str) -> int:
    with sf() as s:
        return s.scalar(select(Topic.id).where(Topic.key == key))


def count(sf: sessionmaker[Session], model: type) -> int:
    with sf() as s:
        return s.scalar(select(func.count()).select_from(model))


def set_home(
    sf: sessionmaker[Session], user: str, key: str, now: datetime, language: str | None = None
) -> None:
    staff.update_settings(
        sf, user, home_library_id=library_id(sf, key), language=language, now=now, default_language="fi"
    )


def add_offer(
    sf: sessionmaker[Session],
    library_key: str,
    topic_keys: list[str],
    now: datetime,
    *,
    capacity: int = 2,
    description: str = "",
    contacts: tuple[str, ...] = ("U0HOST",),
    weekdays: int = 31,
) -> int:
    with sf.begin() as s:
        library = s.scalar(select(Library).where(Library.key == library_key))
        topics = list(s.scalars(select(Topic).where(Topic.key.in_(topic_keys))))
        offer = HostOffer(
            library=library,
            topics=topics,
            description=description,
            search_terms=index_text(description),
            monthly_capacity=capacity,
            weekdays=weekdays,
            created_by=contacts[0] if contacts else "U0HOST",
            created_at=now,
            updated_at=now,
        )
        s.add(offer)
        for user in contacts:
            if not any(c.slack_user_id == user for c in library.contacts):
                library.contacts.append(LibraryContact(slack_user_id=user, added_at=now))
        s.flush()
        return offer.id


def close_library(sf: sessionmaker[Session], key: str, starts: date, ends: date) -> None:
    with sf.begin() as s:
        s.add(
            ClosedPeriod(
                library_id=s.scalar(select(Library.id).where(Library.key == key)),
                starts_on=starts,
                ends_on=ends,
            )
        )


def add_foreign_library(
    sf: sessionmaker[Session], key: str = "joensuu", name: str = "Joensuun pääkirjasto"
) -> int:
    """A library of another region (Pohjois-Karjala)."""
    with sf.begin() as s:
        region = Region(key="pohjois-karjala", name="Pohjois-Karjalan AKE")
        s.add(region)
        library = Library(
            key=key,
            name=name,
            municipality="Joensuu",
            province="Pohjois-Karjala",
            lat=62.6010,
            lon=29.7636,
            region=region,
        )
        s.add(library)
        s.flush()
        return library.id
