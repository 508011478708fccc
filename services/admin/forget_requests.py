"""A person asks, in Slack, to be forgotten; a coordinator of their region confirms.

The request is a row (`ForgetRequest`), so that it survives a restart and every replica sees the
same one. The person's region is their home library's (else the default region's); its
coordinators are asked, and only they may confirm (`confirm` re-reads who may, from the scope the
app gives). Confirming locks the row: of two presses at once one erases and the other finds it
done. The erasure is `personal_data.forget_in`, the CLI's `forget-user` in the same unit of work,
so the request's own row is pseudonymised with everything else, and the audit log says who
confirmed, for which pseudonym, when. The person's Slack id leaves the database in that commit:
`Confirmed.requester` holds it in memory only, so that the caller can tell them it is done."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from models import ForgetRequest, Region, StaffProfile
from services.admin import personal_data
from services.common import audit
from services.common.errors import NotAllowed, NotFound
from services.people import coordinators

PENDING = "pending"
DONE = "done"
ONLY_COORDINATORS = "privacy.forget.only_coordinators"
OTHER_REGION = "privacy.forget.other_region"
NOT_FOUND = "privacy.forget.not_found"


@dataclass(frozen=True)
class Asked:
    request_id: int
    new: bool  # False: one of theirs was already waiting (nobody is asked twice)
    coordinators: tuple[str, ...]
    posted: bool = False  # the coordinators' messages about it were sent (else: send them now)


@dataclass(frozen=True)
class Confirmed:
    request_id: int
    erased_now: bool  # False: it was already done (by `done_by` at `done_at`)
    done_by: str
    done_at: datetime
    lang: str
    requester: str | None  # their Slack id (in memory only) when erased now, to tell them
    posted: tuple[dict[str, str], ...]  # the coordinators' messages about it


def region_of(session: Session, user_id: str, default_region_key: str | None) -> int | None:
    """The person's home library's region, else the default region (None if neither is known)."""
    profile = session.scalar(select(StaffProfile).where(StaffProfile.slack_user_id == user_id))
    if profile is not None and profile.home_library is not None:
        return profile.home_library.region_id
    if not default_region_key:
        return None
    return session.scalar(select(Region.id).where(Region.key == default_region_key))


def ask(
    session_factory: sessionmaker[Session],
    user_id: str,
    *,
    lang: str,
    now: datetime,
    default_region_key: str | None,
    configured: tuple[str, ...],
) -> Asked:
    """Record the person's request (or find the one waiting) and say whom to ask."""
    with session_factory.begin() as session:
        waiting = session.scalar(
            select(ForgetRequest)
            .where(ForgetRequest.requester == user_id, ForgetRequest.status == PENDING)
            .order_by(ForgetRequest.id)
            .limit(1)
        )
        if waiting is not None:
            people = coordinators.of_region_or(session, waiting.region_id, configured)
            return Asked(waiting.id, False, _others(people, user_id), bool(_messages(waiting.posted)))
        region_id = region_of(session, user_id, default_region_key)
        request = ForgetRequest(
            requester=user_id, region_id=region_id, lang=lang, status=PENDING, requested_at=now, posted={}
        )
        session.add(request)
        session.flush()
        audit.record(
            session,
            now=now,
            actor=user_id,
            action="person.forget_asked",
            entity="forget_request",
            entity_id=request.id,
        )
        people = coordinators.of_region_or(session, region_id, configured)
        return Asked(request.id, True, _others(people, user_id))


def _others(people: tuple[str, ...], user_id: str) -> tuple[str, ...]:
    """Whom to ask: the region's coordinators, but not the person asking."""
    return tuple(p for p in people if p != user_id)


def remember_posted(
    session_factory: sessionmaker[Session], request_id: int, posted: list[dict[str, str]]
) -> None:
    """The coordinators' messages about the request, to be updated when it is done."""
    with session_factory.begin() as session:
        request = session.get(ForgetRequest, request_id, with_for_update=True)
        if request is None:
            return
        request.posted = {"messages": [*(request.posted or {}).get("messages", []), *posted]}


def confirm(
    session_factory: sessionmaker[Session],
    request_id: int,
    *,
    actor: str,
    is_coordinator: bool | coordinators.Scope,
    now: datetime,
) -> Confirmed:
    """A coordinator of the person's region confirms: the person is forgotten, once."""
    with session_factory.begin() as session:
        request = session.get(ForgetRequest, request_id, with_for_update=True)
        if request is None:
            raise NotFound(NOT_FOUND)
        if not is_coordinator:
            raise NotAllowed(ONLY_COORDINATORS)
        if not coordinators.covers(is_coordinator, request.region_id):
            raise NotAllowed(OTHER_REGION)
        posted = tuple(_messages(request.posted))
        if request.status != PENDING:
            return Confirmed(
                request.id, False, request.done_by or "", request.done_at or now, request.lang, None, posted
            )
        requester = request.requester
        request.status, request.done_by, request.done_at = DONE, actor, now
        session.flush()
        # Any other request of theirs (asked twice at once) is done with this one: after this
        # commit it names only their pseudonym, and nobody is to be forgotten twice.
        session.execute(
            update(ForgetRequest)
            .where(ForgetRequest.requester == requester, ForgetRequest.status == PENDING)
            .values(status=DONE, done_by=actor, done_at=now)
        )
        pseudonym, rows = personal_data.forget_in(session, requester, now=now, actor=actor)
        audit.record(
            session,
            now=now,
            actor=actor,
            action="person.forget_confirmed",
            entity="forget_request",
            entity_id=request.id,
            details={"person": pseudonym, "rows": rows},
        )
        return Confirmed(request.id, True, actor, now, request.lang, requester, posted)


def _messages(posted: dict[str, Any] | None) -> list[dict[str, str]]:
    found = (posted or {}).get("messages") or []
    return [
        {"channel": str(m["channel"]), "ts": str(m["ts"]), "lang": str(m.get("lang") or "")}
        for m in found
        if isinstance(m, dict) and m.get("channel") and m.get("ts")
    ]
