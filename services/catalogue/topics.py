"""The topic catalogue as coordinators keep it: decide on suggested topics (approve into a
category, merge into an existing topic, reject) and add, rename, retire or restore topics.

Topic ids never change: a rename edits the names, a retire hides the topic from pickers and
`etsi` while offers, visits and history keep pointing at it.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from models import (
    HostOffer,
    Library,
    StaffProfile,
    SuggestionStatus,
    Topic,
    TopicCategory,
    TopicStatus,
    TopicSuggestion,
)
from services.catalogue.topic_index import topic_index
from services.common import audit
from services.common.errors import Conflict, InvalidInput, NotAllowed, NotFound
from services.common.words import words
from services.outbox import visit_outbox
from services.people import coordinators
from services.people.coordinators import Scope

MAX_OPTIONS = 100
MAX_NAME = 200
F_PICK = "topic_pick"
F_CATEGORY = "topic_category"
F_NAME_FI = "topic_name_fi"
F_NAME_SV = "topic_name_sv"
F_NAME_EN = "topic_name_en"
F_SYNONYMS = "topic_synonyms"
OTHER_REGION = "topics.error.other_region"


@dataclass(frozen=True)
class TopicChoice:
    id: int
    name: str
    retired: bool = False


@dataclass(frozen=True)
class CategoryChoices:
    id: int
    name: str
    topics: tuple[TopicChoice, ...]


def _category_name(category: TopicCategory, lang: str) -> str:
    return {"fi": category.name_fi, "sv": category.name_sv, "en": category.name_en}.get(
        lang
    ) or category.name_fi


def categories(session: Session, lang: str) -> list[TopicChoice]:
    return [
        TopicChoice(c.id, _category_name(c, lang))
        for c in session.scalars(select(TopicCategory).order_by(TopicCategory.position, TopicCategory.id))
    ]


def search_topics(
    session: Session, query: str, lang: str, *, include_retired: bool = False, limit: int = MAX_OPTIONS
) -> list[CategoryChoices]:
    """Topics for a picker, grouped by category, at most `limit` in all: those whose name in any
    language contains the typed text first, then those the Finnish-aware matcher finds."""
    stmt = select(Topic, TopicCategory).join(TopicCategory, Topic.category_id == TopicCategory.id)
    if not include_retired:
        stmt = stmt.where(Topic.status == TopicStatus.ACTIVE)
    rows: list[tuple[Topic, TopicCategory]] = [
        (row[0], row[1])
        for row in session.execute(stmt.order_by(TopicCategory.position, Topic.position, Topic.id))
    ]
    text = " ".join(query.lower().split())[:100]
    if text:
        scores = topic_index(session).score(words(text)) if words(text) else {}
        picked = []
        for topic, category in rows:
            haystack = "\n".join((topic.name_fi, topic.name_sv, topic.name_en, topic.synonyms)).lower()
            if text in haystack:
                picked.append((0, 0.0, topic, category))
            elif topic.id in scores:
                picked.append((1, -scores[topic.id], topic, category))
        picked.sort(key=lambda item: (item[0], item[1]))
        rows = [(topic, category) for _, _, topic, category in picked]
    rows = rows[:limit]
    groups: dict[int, tuple[str, list[TopicChoice]]] = {}
    order: list[int] = []
    for topic, category in rows:
        if category.id not in groups:
            groups[category.id] = (_category_name(category, lang), [])
            order.append(category.id)
        groups[category.id][1].append(
            TopicChoice(topic.id, topic.name(lang), topic.status == TopicStatus.RETIRED)
        )
    return [CategoryChoices(cid, groups[cid][0], tuple(groups[cid][1])) for cid in order]


# --- suggestions --------------------------------------------------------------------------
@dataclass(frozen=True)
class SuggestionInfo:
    id: int
    text: str
    library_name: str
    suggested_by: str
    status: SuggestionStatus
    decided_by: str | None
    topic_name: str | None
    categories: tuple[TopicChoice, ...]
    messages: tuple[tuple[str, str], ...]
    told: frozenset[str] = frozenset()  # the coordinators whose DM about it is on record


def _dms(messages: str) -> dict[tuple[str, str], str | None]:
    """The DMs on record about a suggestion: (channel, ts) -> the coordinator it went to. A line
    is `channel ts coordinator` (lines written before the coordinator was recorded lack it)."""
    found: dict[tuple[str, str], str | None] = {}
    for line in messages.splitlines():
        parts = line.split()
        if len(parts) >= 2:
            place = (parts[0], parts[1])
            found[place] = (parts[2] if len(parts) > 2 else None) or found.get(place)
    return found


def told_of(session: Session, suggestion_id: int) -> frozenset[str]:
    """Who has had a DM about the suggestion (see `remember_messages`)."""
    suggestion = session.get(TopicSuggestion, suggestion_id)
    return _told(_dms(suggestion.messages)) if suggestion is not None else frozenset()


def _told(dms: dict[tuple[str, str], str | None]) -> frozenset[str]:
    return frozenset(user for user in dms.values() if user)


def suggestion_info(session: Session, suggestion_id: int, lang: str) -> SuggestionInfo:
    suggestion = session.get(TopicSuggestion, suggestion_id)
    if suggestion is None:
        raise NotFound()
    library = session.get(Library, suggestion.library_id) if suggestion.library_id else None
    dms = _dms(suggestion.messages)
    return SuggestionInfo(
        id=suggestion.id,
        text=suggestion.text,
        library_name=library.name if library else "",
        suggested_by=suggestion.suggested_by,
        status=suggestion.status,
        decided_by=suggestion.decided_by,
        topic_name=suggestion.topic.name(lang) if suggestion.topic else None,
        categories=tuple(categories(session, lang)),
        messages=tuple(dms),
        told=_told(dms),
    )


def _suggester_region(session: Session, suggester: str) -> int | None:
    return session.scalar(
        select(Library.region_id)
        .join(StaffProfile, StaffProfile.home_library_id == Library.id)
        .where(StaffProfile.slack_user_id == suggester)
    )


def suggestion_coordinators(session: Session, suggester: str, configured: Iterable[str]) -> tuple[str, ...]:
    """Who hears of a suggested topic: the coordinators of the suggester's home library's region;
    if the suggester has no home library, or that region has no coordinators, the configured ones
    (COORDINATOR_USER_IDS), so that a suggestion always reaches someone."""
    region_id = _suggester_region(session, suggester)
    return coordinators.of_region_or(session, region_id, configured) or tuple(configured)


def may_decide(
    session: Session, suggester: str, actor: str, coordinator: bool | Scope, configured: Iterable[str]
) -> bool:
    """Whether `actor` may decide a suggestion by `suggester`: those it was sent to
    (`suggestion_coordinators`), i.e. a coordinator who covers the suggester's region or, when
    that region is unknown or has no coordinators, a configured one. A bool (scripts, unit
    tests) means everywhere or nowhere."""
    if not isinstance(coordinator, Scope):
        return bool(coordinator)
    region_id = _suggester_region(session, suggester)
    if coordinator.covers(region_id):
        return True
    fallback = not coordinators.of_region_or(session, region_id, ())
    return fallback and actor in set(configured)


@dataclass(frozen=True)
class Resent:
    """A pending suggestion owed to coordinators it was not sent to (`resend_to_new`): its outbox
    row, claimed by the caller, and those who had it already (`done` on the row too)."""

    suggestion_id: int
    owed: visit_outbox.Owed
    done: frozenset[str]


def pending_recipients(
    session: Session, configured: Iterable[str], default_region_key: str | None
) -> dict[int, tuple[str, ...]]:
    """Who hears of each pending suggestion whose suggester has a region (suggestion id ->
    coordinators; `suggestion_coordinators`' rule), by the coordinators in the database as this
    unit of work sees them: a change of coordinators compares them before and after itself
    (the directory the app asks knows of the change only once it is committed)."""
    rows = session.execute(
        select(TopicSuggestion.id, Library.region_id)
        .join(StaffProfile, StaffProfile.slack_user_id == TopicSuggestion.suggested_by)
        .join(Library, StaffProfile.home_library_id == Library.id)
        .where(TopicSuggestion.status == SuggestionStatus.PENDING)
    ).all()
    if not rows:
        return {}
    order = tuple(dict.fromkeys(u for u in configured if u))
    added, default = coordinators.on_record(session, default_region_key)
    found = {
        region_id: tuple(coordinators.members(order, added, default, region_id)) or order
        for region_id in {region_id for _, region_id in rows}
    }
    return {suggestion_id: found[region_id] for suggestion_id, region_id in rows}


def resend_to_new(
    session: Session,
    before: dict[int, tuple[str, ...]],
    *,
    configured: Iterable[str],
    default_region_key: str | None,
    now: datetime,
    resent: list[Resent] | None,
) -> None:
    """After a change of coordinators, in its unit of work: each pending suggestion (of those in
    `before`, `pending_recipients` before the change) that now goes to someone it did not go to
    gets an outbox row whose `done` lists those it went to, so only the new ones get its DM
    (they may decide it: `may_decide`). With a `resent` list the rows are claimed and put there
    for the caller to deliver after the commit (a failed commit raises, and nobody delivers
    them); without, they are left for the sweep. A decided suggestion is not sent."""
    session.flush()
    after = pending_recipients(session, configured, default_region_key)
    for suggestion_id, recipients in after.items():
        old = before.get(suggestion_id)
        if old is None:
            continue
        had = set(old) | told_of(session, suggestion_id)  # a change back: they have their DM
        if set(recipients) <= had:
            continue
        owed = visit_outbox.owe_suggestion(
            session, suggestion_id, now=now, done=had, claimed=resent is not None
        )
        if resent is not None:
            resent.append(Resent(suggestion_id, owed, frozenset(had)))


def remember_messages(
    session_factory: sessionmaker[Session], suggestion_id: int, messages: list[tuple[str, str, str]]
) -> None:
    """Where the coordinators' DMs about a suggestion are, (channel, ts, coordinator): to update
    them after a decision, and so that nobody gets a second one when the coordinators change
    back and forth (a DM already known, found again after a lost answer, is kept once)."""
    with session_factory.begin() as session:
        # locked: two deliveries recording at once must not lose a line (nor a coordinator in it)
        suggestion = session.get(TopicSuggestion, suggestion_id, with_for_update=True)
        if suggestion is not None:
            dms = _dms(suggestion.messages)
            for channel, ts, user in messages:
                dms[(channel, ts)] = user
            suggestion.messages = _lines(dms)


def _lines(dms: dict[tuple[str, str], str | None]) -> str:
    return "\n".join(
        " ".join((channel, ts, user) if user else (channel, ts)) for (channel, ts), user in dms.items()
    )


def dms_to(session: Session, user_id: str) -> list[dict[str, Any]]:
    """The suggestions' DMs on record that went to `user_id` (their personal data's export)."""
    found = []
    for suggestion in session.scalars(_naming(user_id)):
        for (channel, ts), user in _dms(suggestion.messages).items():
            if user == user_id:
                found.append({"suggestion_id": suggestion.id, "channel": channel, "ts": ts})
    return found


def forget_dms(session: Session, user_id: str) -> int:
    """Drop the record of the suggestions' DMs to `user_id` (a person forgotten); how many
    suggestions changed."""
    changed = 0
    for suggestion in session.scalars(_naming(user_id).with_for_update()):
        dms = _dms(suggestion.messages)
        kept = {place: user for place, user in dms.items() if user != user_id}
        if len(kept) < len(dms):
            suggestion.messages = _lines(kept)
            changed += 1
    return changed


def _naming(user_id: str) -> Any:  # a Select of suggestions (its generic differs in 2.0)
    return select(TopicSuggestion).where(TopicSuggestion.messages.contains(user_id, autoescape=True))


Place = tuple[str, str]  # (channel, ts) of a message


def _pending(
    session: Session,
    suggestion_id: int,
    actor: str,
    coordinator: bool | Scope,
    configured: Iterable[str],
    pressed_in: Place | None,
) -> TopicSuggestion:
    """The suggestion to decide, if `actor` may decide it now. Pressed in one of the DMs it was
    sent to (`pressed_in`, the message Slack says was pressed), a coordinator may decide it even
    if the coordinators have changed since: else a suggestion sent to the configured ones
    because its region had none would have nobody to decide it once that region has one."""
    if not coordinator:
        raise NotAllowed()
    suggestion = session.scalar(
        select(TopicSuggestion).where(TopicSuggestion.id == suggestion_id).with_for_update()
    )
    if suggestion is None:
        raise NotFound()
    sent_here = pressed_in is not None and tuple(pressed_in) in _dms(suggestion.messages)
    if not sent_here and not may_decide(session, suggestion.suggested_by, actor, coordinator, configured):
        raise NotAllowed(OTHER_REGION)
    if suggestion.status != SuggestionStatus.PENDING:
        raise Conflict("topics.error.already_decided", by=f"<@{suggestion.decided_by}>")
    return suggestion


def _attach(session: Session, suggestion: TopicSuggestion, topic: Topic) -> None:
    if suggestion.offer_id is None:
        return
    offer = session.get(HostOffer, suggestion.offer_id)
    if offer is not None and topic not in offer.topics:
        offer.topics.append(topic)
        session.flush()


def _slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text).strip("-")[:40] or "topic"


def _new_topic(
    session: Session, category_id: int, fi: str, sv: str, en: str, synonyms: str, now: datetime
) -> Topic:
    position = session.scalar(select(func.max(Topic.position)).where(Topic.category_id == category_id))
    topic = Topic(
        key=f"pending-{now.timestamp()}",
        category_id=category_id,
        name_fi=fi,
        name_sv=sv or fi,
        name_en=en or fi,
        synonyms=synonyms,
        status=TopicStatus.ACTIVE,
        position=(position or 0) + 1,
        created_at=now,
    )
    session.add(topic)
    session.flush()
    topic.key = f"{_slug(fi)}-{topic.id}"
    return topic


def approve_suggestion(
    session_factory: sessionmaker[Session],
    suggestion_id: int,
    category_id: int,
    *,
    actor: str,
    coordinator: bool | Scope,
    configured: Iterable[str] = (),
    pressed_in: Place | None = None,
    now: datetime,
) -> None:
    """Add the suggested topic to the catalogue (in `category_id`) and to the suggesting offer."""
    with session_factory.begin() as session:
        suggestion = _pending(session, suggestion_id, actor, coordinator, configured, pressed_in)
        if session.get(TopicCategory, category_id) is None:
            raise NotFound()
        topic = _new_topic(session, category_id, suggestion.text, "", "", "", now)
        _attach(session, suggestion, topic)
        _decide(session, suggestion, SuggestionStatus.APPROVED, topic, actor, now)


def merge_suggestion(
    session_factory: sessionmaker[Session],
    suggestion_id: int,
    topic_id: int,
    *,
    actor: str,
    coordinator: bool | Scope,
    configured: Iterable[str] = (),
    pressed_in: Place | None = None,
    now: datetime,
) -> None:
    """The suggestion means an existing topic: its text becomes a synonym, the offer gets the topic."""
    with session_factory.begin() as session:
        suggestion = _pending(session, suggestion_id, actor, coordinator, configured, pressed_in)
        topic = session.get(Topic, topic_id)
        if topic is None or topic.status != TopicStatus.ACTIVE:
            raise NotFound()
        synonyms = [s for s in topic.synonyms.split("\n") if s]
        if suggestion.text.lower() not in {s.lower() for s in synonyms}:
            topic.synonyms = "\n".join([*synonyms, suggestion.text])
        _attach(session, suggestion, topic)
        _decide(session, suggestion, SuggestionStatus.MERGED, topic, actor, now)


def reject_suggestion(
    session_factory: sessionmaker[Session],
    suggestion_id: int,
    *,
    actor: str,
    coordinator: bool | Scope,
    configured: Iterable[str] = (),
    pressed_in: Place | None = None,
    now: datetime,
) -> None:
    with session_factory.begin() as session:
        suggestion = _pending(session, suggestion_id, actor, coordinator, configured, pressed_in)
        _decide(session, suggestion, SuggestionStatus.REJECTED, None, actor, now)


def _decide(
    session: Session,
    suggestion: TopicSuggestion,
    status: SuggestionStatus,
    topic: Topic | None,
    actor: str,
    now: datetime,
) -> None:
    suggestion.status = status
    suggestion.topic = topic
    suggestion.decided_by = actor
    suggestion.decided_at = now
    audit.record(
        session,
        now=now,
        actor=actor,
        action=f"topic_suggestion.{status.value}",
        entity="topic_suggestion",
        entity_id=suggestion.id,
        details={"text": suggestion.text, "topic": topic.id if topic else None},
    )


# --- the catalogue ------------------------------------------------------------------------
@dataclass(frozen=True)
class TopicInput:
    topic_id: int | None
    category_id: int | None
    name_fi: str
    name_sv: str
    name_en: str
    synonyms: str
    retired: bool


def save_topic(
    session_factory: sessionmaker[Session], data: TopicInput, *, actor: str, coordinator: bool, now: datetime
) -> int:
    """Add a topic (no topic_id), or rename / move / retire / restore one. Returns its id."""
    if not coordinator:
        raise NotAllowed()
    names = {
        F_NAME_FI: data.name_fi.strip(),
        F_NAME_SV: data.name_sv.strip(),
        F_NAME_EN: data.name_en.strip(),
    }
    errors: dict[str, tuple[str, dict[str, object]]] = {}
    for field, name in names.items():
        if len(name) > MAX_NAME:
            errors[field] = ("offer.error.too_long", {"max": MAX_NAME})
    if data.topic_id is None:
        if not names[F_NAME_FI]:
            errors[F_NAME_FI] = ("topics.error.name_required", {})
        if data.category_id is None:
            errors[F_CATEGORY] = ("topics.error.category_required", {})
    if errors:
        raise InvalidInput(errors)
    synonyms = "\n".join(s.strip() for s in re.split(r"[\n,]", data.synonyms) if s.strip())
    with session_factory.begin() as session:
        if data.category_id is not None and session.get(TopicCategory, data.category_id) is None:
            raise InvalidInput.one(F_CATEGORY, "topics.error.category_required")
        if names[F_NAME_FI]:  # one topic a Finnish name: a form sent twice adds no second one
            taken = session.scalar(
                select(Topic.name_fi).where(
                    func.lower(Topic.name_fi) == names[F_NAME_FI].lower(), Topic.id != (data.topic_id or 0)
                )
            )
            if taken is not None:
                raise InvalidInput.one(F_NAME_FI, "topics.error.name_taken", name=taken)
        if data.topic_id is None:
            assert data.category_id is not None
            topic = _new_topic(
                session, data.category_id, names[F_NAME_FI], names[F_NAME_SV], names[F_NAME_EN], synonyms, now
            )
            action, before = "topic.add", {}
        else:
            found = session.get(Topic, data.topic_id)
            if found is None:
                raise InvalidInput.one(F_PICK, "topics.error.unknown")
            topic = found
            before = {
                "fi": topic.name_fi,
                "sv": topic.name_sv,
                "en": topic.name_en,
                "status": topic.status.value,
                "category": topic.category_id,
            }
            topic.name_fi = names[F_NAME_FI] or topic.name_fi
            topic.name_sv = names[F_NAME_SV] or topic.name_sv
            topic.name_en = names[F_NAME_EN] or topic.name_en
            if data.synonyms.strip():
                topic.synonyms = synonyms
            if data.category_id is not None:
                topic.category_id = data.category_id
            topic.status = TopicStatus.RETIRED if data.retired else TopicStatus.ACTIVE
            action = "topic.update"
        audit.record(
            session,
            now=now,
            actor=actor,
            action=action,
            entity="topic",
            entity_id=topic.id,
            details={
                "before": before,
                "after": {
                    "fi": topic.name_fi,
                    "sv": topic.name_sv,
                    "en": topic.name_en,
                    "status": topic.status.value,
                    "category": topic.category_id,
                },
            },
        )
        return topic.id


def topic_details(session: Session, topic_id: int) -> Topic | None:
    return session.get(Topic, topic_id)
