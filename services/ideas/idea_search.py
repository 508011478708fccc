"""Finding write-ups in the idea bank (`ideat`, the related write-ups of an `etsi` answer) and the
newsletter export. `search_terms` holds the stems (services.common.words.index_text) of the
title, the texts and the topic's names; a query word matches a write-up when the write-up has a
word beginning with the word's core (its stem less an inflection's last letters), filtered in
SQL, newest first."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from models import Library, Topic, Visit, WriteUp, WriteUpStatus
from services.common.words import MAX_QUERY_CHARS, MAX_QUERY_WORDS, words
from services.ideas.writeups import HELSINKI, PAGE_SIZE, SearchResult, WriteUpView, stop_tags, view_of
from services.people.coordinators import Scope, require


def _core(q: str) -> str:
    """The part every inflected form of a word contains (its stem less two letters)."""
    return q[:-2] if len(q) >= 6 else q


def _query(
    session: Session, query_words: Sequence[str], since: datetime | None = None, *, any_word: bool = False
) -> Any:
    conditions = [WriteUp.status == WriteUpStatus.PUBLISHED]
    matches = []
    for q in query_words:
        core = _core(q)
        # a word beginning with the core; longer words also as a part of a compound
        pattern = f"%{core}%" if len(core) >= 4 else f"% {core}%"
        matches.append(WriteUp.search_terms.like(pattern))
    if matches:
        conditions.append(or_(*matches) if any_word else and_(*matches))
    if since is not None:
        conditions.append(WriteUp.published_at >= since)
    return and_(*conditions)


def _views(session: Session, rows: Sequence[WriteUp]) -> list[WriteUpView]:
    if not rows:
        return []
    visits = {v.id: v for v in session.scalars(select(Visit).where(Visit.id.in_([w.visit_id for w in rows])))}
    library_ids = {v.home_library_id for v in visits.values()} | {v.host_library_id for v in visits.values()}
    libraries = {
        row.id: row
        for row in session.execute(
            select(Library.id, Library.name, Library.region_id).where(Library.id.in_(library_ids))
        )
    }
    topics = {
        t.id: t
        for t in session.scalars(select(Topic).where(Topic.id.in_({v.topic_id for v in visits.values()})))
    }
    result = []
    for w in rows:
        v = visits[w.visit_id]
        home, host = libraries[v.home_library_id], libraries[v.host_library_id]
        stops = stop_tags(session, v) if v.stops else ()
        result.append(view_of(w, v, home.name, host.name, topics[v.topic_id], home.region_id, stops))
    return result


def _page(session: Session, where: Any, offset: int, page_size: int) -> tuple[list[WriteUp], int]:
    """One page, newest first, and the total (counted only when the page does not tell it)."""
    rows = list(
        session.scalars(
            select(WriteUp)
            .where(where)
            .order_by(WriteUp.published_at.desc(), WriteUp.id.desc())
            .offset(offset)
            .limit(page_size)
        )
    )
    if rows and len(rows) < page_size:
        return rows, offset + len(rows)
    if not rows and offset == 0:
        return rows, 0
    return rows, int(session.scalar(select(func.count()).select_from(WriteUp).where(where)) or 0)


def search(session: Session, query: str, *, offset: int = 0, page_size: int = PAGE_SIZE) -> SearchResult:
    """Published write-ups matching every word of `query` (inflected forms too), newest first;
    when none has every word, those with any of them (`any_word`). An empty query gives the
    latest ones."""
    query = query.strip()[:MAX_QUERY_CHARS]
    query_words = words(query)[:MAX_QUERY_WORDS]
    offset = max(0, offset)
    rows, total = _page(session, _query(session, query_words), offset, page_size)
    any_word = False
    if total == 0 and len(query_words) > 1:
        rows, total = _page(session, _query(session, query_words, any_word=True), offset, page_size)
        any_word = total > 0
    return SearchResult(
        query=query,
        items=_views(session, rows),
        total=total,
        offset=offset,
        page_size=page_size,
        any_word=any_word,
    )


def related(session: Session, query_words: Sequence[str], limit: int = 3) -> list[WriteUpView]:
    """Write-ups for the `etsi` answer: published ones matching the query's words, newest first."""
    if not query_words:
        return []
    rows = list(
        session.scalars(
            select(WriteUp)
            .where(_query(session, query_words))
            .order_by(WriteUp.published_at.desc(), WriteUp.id.desc())
            .limit(limit)
        )
    )
    return _views(session, rows)


def for_export(session: Session, since: date, *, coordinator: bool | Scope = True) -> list[WriteUpView]:
    """Published write-ups published on or after `since` (Helsinki), oldest first: of the
    coordinator's regions (a write-up's region is its visit's, as in moderation), or all of them
    for a coordinator of every region (True: a script)."""
    require(coordinator)
    start = datetime(since.year, since.month, since.day, tzinfo=HELSINKI)
    stmt = select(WriteUp).where(_query(session, (), since=start))
    if isinstance(coordinator, Scope) and coordinator.regions is not None:
        stmt = (
            stmt.join(Visit, Visit.id == WriteUp.visit_id)
            .join(Library, Library.id == Visit.home_library_id)
            .where(Library.region_id.in_(sorted(coordinator.regions)))
        )
    rows = list(session.scalars(stmt.order_by(WriteUp.published_at, WriteUp.id)))
    return _views(session, rows)
