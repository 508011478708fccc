"""Write-ups: the visitor's short description of a visit, its draft, and publishing it to the idea
bank (finding write-ups and the newsletter export are in services/ideas/idea_search.py).

One write-up per visit. Only the visitor of a confirmed visit whose date has come may write it.
The submitted version lives in the columns; `draft` keeps what was typed in a modal closed
without submitting, so that nothing typed is lost and reopening continues where one left off.
`search_terms` holds the stems (services.common.words.index_text) of the title, the texts and
the topic's names, written when the write-up is submitted.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from models import Library, Topic, Visit, VisitStatus, VisitTraveller, WriteUp, WriteUpStatus
from services.catalogue.libraries import contacts_of
from services.common import audit
from services.common.errors import InvalidInput, NotAllowed, NotFound
from services.common.text import visible
from services.common.words import index_text
from services.outbox import visit_outbox
from services.people.coordinators import Scope, require_region

HELSINKI = ZoneInfo("Europe/Helsinki")
TITLE_MAX = 150
TEXT_MAX = 3000
TEXT_MIN = 10
LINK_MAX = 500
REASON_MAX = 500
RECOMMEND = ("yes", "reservations", "no")
FIELDS = ("title", "learned", "try_at_home", "tips", "recommend", "link", "publish")
PAGE_SIZE = 10
URL = re.compile(r"^https?://[^\s<>|]+\.[^\s<>|]+$", re.IGNORECASE)


def has_writeup(session: Session, visit_id: int) -> bool:
    """Has the visitor published (or at least submitted) their write-up of this visit?"""
    found = session.scalar(
        select(WriteUp.id).where(WriteUp.visit_id == visit_id, WriteUp.submitted_at.is_not(None))
    )
    return found is not None


# --- input ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class WriteUpInput:
    """What the modal holds (nothing trusted yet)."""

    title: str = ""
    learned: str = ""
    try_at_home: str = ""
    tips: str = ""
    recommend: str = ""
    link: str = ""
    publish: bool = True

    def as_draft(self) -> dict[str, Any]:
        return {
            "title": self.title[: TITLE_MAX * 2],
            "learned": self.learned[: TEXT_MAX * 2],
            "try_at_home": self.try_at_home[: TEXT_MAX * 2],
            "tips": self.tips[: TEXT_MAX * 2],
            "recommend": self.recommend if self.recommend in RECOMMEND else "",
            "link": self.link[: LINK_MAX * 2],
            "publish": bool(self.publish),
        }

    @classmethod
    def from_draft(cls, data: dict[str, Any]) -> WriteUpInput:
        return cls(
            title=str(data.get("title") or ""),
            learned=str(data.get("learned") or ""),
            try_at_home=str(data.get("try_at_home") or ""),
            tips=str(data.get("tips") or ""),
            recommend=str(data.get("recommend") or ""),
            link=str(data.get("link") or ""),
            publish=bool(data.get("publish", True)),
        )

    @property
    def empty(self) -> bool:
        return (
            not any(s.strip() for s in (self.title, self.learned, self.try_at_home, self.tips, self.link))
            and not self.recommend
        )


def validate(data: WriteUpInput) -> WriteUpInput:
    """The cleaned input, or InvalidInput naming each bad field (keys: field names)."""
    errors: dict[str, tuple[str, dict[str, object]]] = {}
    title = " ".join(data.title.split())
    if not visible(title):
        errors["title"] = ("writeups.error.required", {})
    elif len(title) > TITLE_MAX:
        errors["title"] = ("writeups.error.too_long", {"max": TITLE_MAX, "count": len(title)})
    learned = data.learned.strip()
    if len(learned) < TEXT_MIN:
        errors["learned"] = ("writeups.error.too_short", {"min": TEXT_MIN})
    texts = {"learned": learned, "try_at_home": data.try_at_home.strip(), "tips": data.tips.strip()}
    for name, text in texts.items():
        if len(text) > TEXT_MAX:
            errors[name] = ("writeups.error.too_long", {"max": TEXT_MAX, "count": len(text)})
    if data.recommend not in RECOMMEND:
        errors["recommend"] = ("writeups.error.recommend", {})
    link = data.link.strip()
    if link and (len(link) > LINK_MAX or not URL.match(link)):
        errors["link"] = ("writeups.error.link", {"max": LINK_MAX})
    if errors:
        raise InvalidInput(errors)
    return WriteUpInput(
        title=title,
        learned=texts["learned"],
        try_at_home=texts["try_at_home"],
        tips=texts["tips"],
        recommend=data.recommend,
        link=link,
        publish=data.publish,
    )


# --- what the views show -------------------------------------------------------------------
@dataclass(frozen=True)
class WriteUpView:
    id: int
    visit_id: int
    author_id: str  # the visitor, whom the idea bank's "ask" button writes to
    title: str
    learned: str
    try_at_home: str
    tips: str
    recommend: str
    link: str
    publish: bool
    status: WriteUpStatus
    submitted: bool
    hide_reason: str
    home_library: str
    host_library: str
    host_library_id: int
    topic_names: dict[str, str]
    visit_date: date | None
    channel: str | None
    ts: str | None
    published_at: datetime | None
    region_id: int | None = None  # the visit's region (its visitor's home library's)
    authors: tuple[str, ...] = ()  # who travelled: any of them may write it, all are named
    # A study trip's further stops, tagged on the write-up: (library name, topic names).
    stops: tuple[tuple[str, dict[str, str]], ...] = ()
    teams_activity_id: str | None = None  # its post in the Teams idea-bank channel

    def topic(self, lang: str) -> str:
        return self.topic_names.get(lang) or self.topic_names.get("fi", "")


@dataclass(frozen=True)
class Form:
    """What the modal opens with: the visit, and the draft or the submitted version."""

    visit_id: int
    topic_names: dict[str, str]
    host_library: str
    visit_date: date | None
    values: WriteUpInput
    submitted: bool
    from_draft: bool

    def topic(self, lang: str) -> str:
        return self.topic_names.get(lang) or self.topic_names.get("fi", "")


@dataclass
class SearchResult:
    query: str
    items: list[WriteUpView] = field(default_factory=list)
    total: int = 0
    offset: int = 0
    page_size: int = PAGE_SIZE
    any_word: bool = False  # nothing had every word: these have some of them

    @property
    def has_more(self) -> bool:
        return self.offset + len(self.items) < self.total


def _names(topic: Topic) -> dict[str, str]:
    return {"fi": topic.name_fi, "sv": topic.name_sv or topic.name_fi, "en": topic.name_en or topic.name_fi}


def stop_tags(session: Session, visit: Visit) -> tuple[tuple[str, dict[str, str]], ...]:
    """A study trip's further stops still on it: (library name, topic names), in order."""
    found = []
    for stop in visit.stops:
        library, topic = session.get(Library, stop.library_id), session.get(Topic, stop.topic_id)
        if stop.removed_at is None and library is not None and topic is not None:
            found.append((library.name, _names(topic)))
    return tuple(found)


def view_of(
    w: WriteUp,
    visit: Visit,
    home: str,
    host: str,
    topic: Topic,
    region_id: int | None,
    stops: tuple[tuple[str, dict[str, str]], ...] = (),
) -> WriteUpView:
    return WriteUpView(
        id=w.id,
        visit_id=w.visit_id,
        author_id=w.author_id,
        title=w.title,
        learned=w.learned,
        try_at_home=w.try_at_home,
        tips=w.tips,
        recommend=w.recommend,
        link=w.link,
        publish=w.publish,
        status=w.status,
        submitted=w.submitted_at is not None,
        hide_reason=w.hide_reason,
        home_library=home,
        host_library=host,
        host_library_id=visit.host_library_id,
        topic_names=_names(topic),
        visit_date=visit.chosen_date,
        channel=w.channel,
        ts=w.ts,
        published_at=w.published_at,
        region_id=region_id,
        authors=tuple(t.user_id for t in visit.travellers if t.withdrawn_at is None) or (w.author_id,),
        stops=stops,
        teams_activity_id=w.teams_activity_id,
    )


def _load_view(session: Session, writeup_id: int) -> WriteUpView:
    w = session.get(WriteUp, writeup_id)
    if w is None:
        raise NotFound()
    visit = w.visit
    home = session.get(Library, visit.home_library_id)
    host = session.get(Library, visit.host_library_id)
    topic = session.get(Topic, visit.topic_id)
    assert home is not None and host is not None and topic is not None
    return view_of(w, visit, home.name, host.name, topic, home.region_id, stop_tags(session, visit))


def get(session: Session, writeup_id: int) -> WriteUpView:
    return _load_view(session, writeup_id)


# --- writing -------------------------------------------------------------------------------
def _writable_visit(session: Session, visit_id: int, user_id: str, now: datetime) -> Visit:
    visit = session.get(Visit, visit_id)
    if visit is None:
        raise NotFound()
    if not (
        visit.visitor_id == user_id
        or any(t.user_id == user_id and t.withdrawn_at is None for t in visit.travellers)
    ):
        raise NotAllowed(
            "writeups.error.not_author"
        )  # any traveller writes it: one write-up, several authors
    today = now.astimezone(HELSINKI).date()
    if visit.status != VisitStatus.CONFIRMED or visit.chosen_date is None or visit.chosen_date > today:
        raise NotAllowed("writeups.error.not_yet")
    return visit


def open_form(session: Session, visit_id: int, user_id: str, now: datetime) -> Form:
    """The modal's content for the visitor: the unsaved draft if any, else the submitted version."""
    visit = _writable_visit(session, visit_id, user_id, now)
    host = session.get(Library, visit.host_library_id)
    topic = session.get(Topic, visit.topic_id)
    assert host is not None and topic is not None
    w = session.scalar(select(WriteUp).where(WriteUp.visit_id == visit_id))
    values, from_draft = WriteUpInput(), False
    if w is not None and w.draft:
        values, from_draft = WriteUpInput.from_draft(w.draft), True
    elif w is not None:
        values = WriteUpInput(
            title=w.title,
            learned=w.learned,
            try_at_home=w.try_at_home,
            tips=w.tips,
            recommend=w.recommend,
            link=w.link,
            publish=w.publish,
        )
    return Form(
        visit_id=visit.id,
        topic_names=_names(topic),
        host_library=host.name,
        visit_date=visit.chosen_date,
        values=values,
        submitted=w is not None and w.submitted_at is not None,
        from_draft=from_draft,
    )


def _row(session: Session, visit: Visit, now: datetime) -> WriteUp:
    w = session.scalar(select(WriteUp).where(WriteUp.visit_id == visit.id))
    if w is None:
        w = WriteUp(visit_id=visit.id, author_id=visit.visitor_id, created_at=now, updated_at=now)
        session.add(w)
    return w


def save_draft(
    session_factory: sessionmaker[Session], visit_id: int, data: WriteUpInput, *, actor: str, now: datetime
) -> bool:
    """Keep what was typed in a closed modal (no validation: a draft may be half-written).
    Returns whether something was saved (an untouched empty form saves nothing)."""
    try:
        with session_factory.begin() as session:
            visit = _writable_visit(session, visit_id, actor, now)
            existing = session.scalar(select(WriteUp.id).where(WriteUp.visit_id == visit.id))
            if existing is None and data.empty:
                return False
            w = _row(session, visit, now)
            draft = data.as_draft()
            submitted = {name: getattr(w, name) for name in FIELDS}
            # Closed without changing the submitted version: nothing unsaved to keep.
            w.draft = None if w.submitted_at is not None and draft == submitted else draft
            w.updated_at = now
            return True
    except IntegrityError:  # two closes at once created the row twice: the first one won
        return save_draft(session_factory, visit_id, data, actor=actor, now=now)


@dataclass(frozen=True)
class Submitted:
    writeup: WriteUpView
    newly_published: bool  # tell the host contacts and coordinators
    first_submission: bool
    host_contacts: tuple[str, ...]
    outbox: visit_outbox.Owed | None = None  # the post and notices it owes, claimed by the request
    author_notice: str | None = None  # a coordinator's "hidden" | "published": the author is told


def _terms(w: WriteUp, topic: Topic, places: Sequence[str] = ()) -> str:
    """What the write-up is found by: its texts, its topics' names, and its libraries (a study
    trip's every stop and topic: `places`)."""
    parts = (
        w.title,
        w.learned,
        w.try_at_home,
        w.tips,
        topic.name_fi,
        topic.name_sv,
        topic.name_en,
        topic.synonyms,
        *places,
    )
    text = " ".join(part or "" for part in parts)
    return index_text(text)


def submit(
    session_factory: sessionmaker[Session], visit_id: int, data: WriteUpInput, *, actor: str, now: datetime
) -> Submitted:
    """Save the write-up (validated); publish it when asked. A hidden write-up stays hidden."""
    clean = validate(data)
    with session_factory.begin() as session:
        visit = _writable_visit(session, visit_id, actor, now)
        w = _row(session, visit, now)
        first = w.submitted_at is None
        for name in FIELDS:
            setattr(w, name, getattr(clean, name))
        topic = session.get(Topic, visit.topic_id)
        assert topic is not None
        host = session.get(Library, visit.host_library_id)
        places = [
            host.name if host else "",
            *(f"{name} {' '.join(names.values())}" for name, names in stop_tags(session, visit)),
        ]
        w.search_terms = _terms(w, topic, places)
        w.draft = None
        w.submitted_at = w.submitted_at or now
        w.updated_at = now
        newly = False
        if clean.publish and w.status == WriteUpStatus.DRAFT:
            w.status = WriteUpStatus.PUBLISHED
            w.published_at = w.published_at or now
            newly = True
        elif not clean.publish and w.status == WriteUpStatus.PUBLISHED:
            w.status = WriteUpStatus.DRAFT  # the author took it back out of the idea bank
        session.flush()
        audit.record(
            session,
            now=now,
            actor=actor,
            action="writeup.submitted" if first else "writeup.edited",
            entity="writeup",
            entity_id=w.id,
            details={"status": w.status.value},
        )
        contacts = tuple(contacts_of(session, visit.host_library_id))
        # In the same unit of work: the idea-bank post and the notices it owes (see visit_outbox).
        owed = visit_outbox.owe_row(
            session,
            kind=visit_outbox.WRITEUP_SYNC,
            visit_id=visit.id,
            params={"writeup": w.id, "tell": first or newly, "contacts": list(contacts)},
            now=now,
        )
        view = _load_view(session, w.id)
    return Submitted(view, newly, first, contacts, owed)


# The channel of a write-up whose idea-bank post has begun and has not been answered (its ts is
# then the time the post began, as a Slack ts).
UNCONFIRMED = ""


def begin_post(session_factory: sessionmaker[Session], writeup_id: int, *, since: datetime) -> None:
    """Note, before posting it, that the write-up's idea-bank post is being made: if Slack's answer
    never comes (a time-out, a lost connection, a crash), the post may be there all the same, and
    the next attempt looks for it before posting again. A note already there (an earlier post that
    went unanswered) keeps its earlier time."""
    with session_factory.begin() as session:
        session.execute(
            update(WriteUp)
            .where(WriteUp.id == writeup_id, WriteUp.channel.is_(None))
            .values(channel=UNCONFIRMED, ts=f"{since.timestamp():.6f}")
        )


def forget_post(session_factory: sessionmaker[Session], writeup_id: int) -> None:
    """The post noted by `begin_post` was refused (Slack answered with an error): nothing to look for."""
    with session_factory.begin() as session:
        session.execute(
            update(WriteUp)
            .where(WriteUp.id == writeup_id, WriteUp.channel == UNCONFIRMED)
            .values(channel=None, ts=None)
        )


def remember_post(session_factory: sessionmaker[Session], writeup_id: int, channel: str, ts: str) -> None:
    """The write-up's idea-bank post (posted, or found after an unanswered post): edits update it."""
    with session_factory.begin() as session:
        w = session.get(WriteUp, writeup_id)
        if w is not None:
            w.channel, w.ts = channel, ts


# How long a Teams idea-bank post begun (`begin_teams_post`) and not answered is taken to be in
# flight: meanwhile no other attempt posts it; after it, the attempt is taken to be lost.
TEAMS_POST_IN_FLIGHT = timedelta(minutes=2)


def begin_teams_post(session_factory: sessionmaker[Session], writeup_id: int, *, now: datetime) -> bool:
    """Claim the posting of the write-up's Teams idea-bank post: False if it is posted already or
    another attempt began it less than TEAMS_POST_IN_FLIGHT ago (that one posts it). The Bot
    Connector has no history to look in: an attempt whose answer never came is taken to be lost
    once that time has passed, and posted again (twice being better than never)."""
    with session_factory.begin() as session:
        claimed = session.execute(
            update(WriteUp)
            .where(
                WriteUp.id == writeup_id,
                WriteUp.teams_activity_id.is_(None),
                or_(
                    WriteUp.teams_post_begun_at.is_(None),
                    WriteUp.teams_post_begun_at < now - TEAMS_POST_IN_FLIGHT,
                ),
            )
            .values(teams_post_begun_at=now)
        )
        return bool(getattr(claimed, "rowcount", 0) == 1)


def forget_teams_post(session_factory: sessionmaker[Session], writeup_id: int) -> None:
    """The post claimed by `begin_teams_post` was refused (the connector answered with an error)."""
    with session_factory.begin() as session:
        session.execute(
            update(WriteUp)
            .where(WriteUp.id == writeup_id, WriteUp.teams_activity_id.is_(None))
            .values(teams_post_begun_at=None)
        )


def remember_teams_post(session_factory: sessionmaker[Session], writeup_id: int, activity_id: str) -> None:
    """The write-up's Teams idea-bank post: edits and hiding update it."""
    with session_factory.begin() as session:
        w = session.get(WriteUp, writeup_id)
        if w is not None:
            w.teams_activity_id, w.teams_post_begun_at = activity_id, None


def teams_post_of(session_factory: sessionmaker[Session], writeup_id: int) -> str | None:
    """The write-up's Teams idea-bank post as stored now (another attempt may have made it)."""
    with session_factory() as session:
        return session.scalar(select(WriteUp.teams_activity_id).where(WriteUp.id == writeup_id))


def hide(
    session_factory: sessionmaker[Session],
    writeup_id: int,
    reason: str,
    *,
    actor: str,
    coordinator: bool | Scope,
    now: datetime,
) -> Submitted:
    """A coordinator (of the visit's region) takes a write-up out of the idea bank, with a reason
    told to the author."""
    if not coordinator:
        raise NotAllowed()
    reason = reason.strip()
    if not visible(reason):
        raise InvalidInput.one("reason", "writeups.error.required")
    if len(reason) > REASON_MAX:
        raise InvalidInput.one("reason", "writeups.error.too_long", max=REASON_MAX, count=len(reason))
    with session_factory.begin() as session:
        w = session.get(WriteUp, writeup_id)
        if w is None:
            raise NotFound()
        require_region(coordinator, _region_of(session, w))
        w.status = WriteUpStatus.HIDDEN
        w.hide_reason = reason
        w.hidden_by = actor
        w.updated_at = now
        audit.record(
            session,
            now=now,
            actor=actor,
            action="writeup.hidden",
            entity="writeup",
            entity_id=w.id,
            details={"reason": reason},
        )
        return _moderated(session, w, "hidden", now)


def publish_for_author(
    session_factory: sessionmaker[Session],
    writeup_id: int,
    *,
    actor: str,
    coordinator: bool | Scope,
    now: datetime,
) -> Submitted:
    """A coordinator (of the visit's region) publishes a submitted write-up on the author's
    behalf (or un-hides one)."""
    if not coordinator:
        raise NotAllowed()
    with session_factory.begin() as session:
        w = session.get(WriteUp, writeup_id)
        if w is None or w.submitted_at is None:
            raise NotFound()
        require_region(coordinator, _region_of(session, w))
        w.status = WriteUpStatus.PUBLISHED
        w.publish = True
        w.hide_reason = ""
        w.hidden_by = None
        w.published_at = w.published_at or now
        w.updated_at = now
        audit.record(
            session,
            now=now,
            actor=actor,
            action="writeup.published_for_author",
            entity="writeup",
            entity_id=w.id,
        )
        return _moderated(session, w, "published", now)


def _region_of(session: Session, w: WriteUp) -> int | None:
    home = session.get(Library, w.visit.home_library_id)
    return home.region_id if home is not None else None


def _moderated(session: Session, w: WriteUp, notice: str, now: datetime) -> Submitted:
    """A coordinator's change: in the same unit of work, what it owes on Slack (the idea-bank
    post brought up to date, the author told), delivered by the request or later by the sweep."""
    owed = visit_outbox.owe_row(
        session,
        kind=visit_outbox.WRITEUP_SYNC,
        visit_id=w.visit_id,
        params={"writeup": w.id, "tell": False, "author": notice},
        now=now,
    )
    return Submitted(_load_view(session, w.id), False, False, (), owed, author_notice=notice)


def to_submit_for(
    session: Session, user_id: str, now: datetime, limit: int = 5
) -> list[tuple[int, str, str, date]]:
    """The user's confirmed visits whose day has come and whose write-up is not submitted yet:
    (visit id, topic name fi, host library, date), newest first (for App Home)."""
    today = now.astimezone(HELSINKI).date()
    submitted = select(WriteUp.visit_id).where(WriteUp.submitted_at.is_not(None))
    travelling = select(VisitTraveller.visit_id).where(
        VisitTraveller.user_id == user_id, VisitTraveller.withdrawn_at.is_(None)
    )
    rows = session.execute(
        select(Visit.id, Topic.name_fi, Library.name, Visit.chosen_date)
        .join(Topic, Topic.id == Visit.topic_id)
        .join(Library, Library.id == Visit.host_library_id)
        .where(
            or_(Visit.visitor_id == user_id, Visit.id.in_(travelling)),
            Visit.status == VisitStatus.CONFIRMED,
            Visit.chosen_date.is_not(None),
            Visit.chosen_date <= today,
            Visit.id.not_in(submitted),
        )
        .order_by(Visit.chosen_date.desc())
        .limit(limit)
    ).all()
    return [(r[0], r[1], r[2], r[3]) for r in rows if r[3] is not None]
