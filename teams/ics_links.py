"""Calendar invites in Teams: a bot cannot upload a file outside a 1:1 file-consent flow, so an
invite is an `Action.OpenUrl` to `GET {TEAMS_PUBLIC_URL}/ics/{token}` on the Teams endpoint.

The token is a JWT (HS256, TEAMS_LINK_SECRET) holding only ids and codes: the visit's id, the
SEQUENCE of the invite it was made for, the invite's kind, the reader's language and when it
expires (TEAMS_LINK_DAYS). No name, e-mail, topic or library is in the URL; the invite's texts are
read from the visit when the link is opened.

A link serves the visit's invite as it is now, built exactly as the Slack notifier builds the
uploaded one (`bot.notifier.SlackVisitNotifier._upload_invite`). While the visit's SEQUENCE is
still the link's, that is the invite the link was made for. Once the visit has changed since (a
higher SEQUENCE), an old link serves the current invite instead, so that opening it updates the
calendar rather than bringing back a day or an event that is no longer true: the visit's state
decides its kind (cancelled or declined: a cancellation; proposed again after a move: tentative;
confirmed: confirmed), except that a link made for a colleague who withdrew stays a cancellation
(the trip goes on without them). A SEQUENCE newer than the visit's was never issued.

A bad, forged, wrong-algorithm or expired token and a visit that no longer exists all get the same
short 403 (no oracle for which visits exist). Neither the token nor the URL is ever logged.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import jwt
from fastapi import FastAPI
from fastapi.responses import PlainTextResponse, Response
from sqlalchemy.orm import Session, sessionmaker

from bot.config import Settings
from bot.i18n import LANGUAGES, translator
from bot.views.visit import invite_file
from models import VisitStatus
from services.common.errors import NotFound
from services.visits import visit_lists
from services.visits.visit_card import VisitCard
from teams.deps import TeamsDeps

ALGORITHM = "HS256"
KINDS = ("confirmed", "tentative", "cancel", "withdrawn")
CANCELLING = ("cancel", "withdrawn")
ROUTE = "/ics/{token}"
CLAIM_NAMES = frozenset({"v", "s", "k", "l", "exp"})  # visit, sequence, kind, language, expiry
REFUSED = "forbidden"

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LinkClaims:
    """What a link's token says (checked): the invite it was made for, and until when it works."""

    visit_id: int
    sequence: int
    kind: str
    lang: str
    expires: int  # seconds since the epoch


def _secret(settings: Settings) -> str:
    return settings.teams_link_secret.get_secret_value().strip() if settings.teams_link_secret else ""


def link_for(
    settings: Settings, *, visit_id: int, sequence: int, kind: str, lang: str, now: datetime
) -> str | None:
    """The invite link of a visit's invite `sequence` of this `kind` ("confirmed", "tentative",
    "cancel" or "withdrawn") in `lang`, working TEAMS_LINK_DAYS from `now`; None when no public URL
    or no secret is configured (then Teams shows no invite link)."""
    base = settings.teams_public_url.strip().rstrip("/")
    secret = _secret(settings)
    if not base or not secret:
        return None
    if kind not in KINDS:
        raise ValueError(f"unknown invite kind {kind!r}")
    if lang not in LANGUAGES:
        raise ValueError(f"unknown language {lang!r}")
    expires = now + timedelta(days=settings.teams_link_days)
    payload = {"v": visit_id, "s": sequence, "k": kind, "l": lang, "exp": int(expires.timestamp())}
    return f"{base}/ics/{jwt.encode(payload, secret, algorithm=ALGORITHM)}"


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def read_token(settings: Settings, token: str, *, now: datetime) -> LinkClaims | None:
    """The claims of a token this endpoint made, or None: a bad signature, another algorithm, a
    malformed token or claim, or one expired by `now` (not the wall clock, so tests can move it)."""
    secret = _secret(settings)
    if not secret:
        return None
    try:
        payload: Any = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            options={"verify_exp": False, "require": ["exp"]},  # expiry checked against `now` below
        )
    except (jwt.PyJWTError, ValueError, TypeError):
        return None
    if not isinstance(payload, dict) or set(payload) != CLAIM_NAMES:
        return None
    visit_id, sequence, kind, lang, expires = (payload[name] for name in ("v", "s", "k", "l", "exp"))
    if not (_is_int(visit_id) and _is_int(sequence) and _is_int(expires)):
        return None
    if visit_id < 1 or sequence < 0 or kind not in KINDS or lang not in LANGUAGES:
        return None
    if now.timestamp() >= expires:
        return None
    return LinkClaims(visit_id, sequence, kind, lang, expires)


def invite_filename(visit_id: int, sequence: int) -> str:
    """The same name as the Slack side's uploaded invite (bot.notifier.invite_filename)."""
    return f"vierailu-{visit_id}-{sequence}.ics"


def current_kind(card: VisitCard, claims: LinkClaims) -> str:
    """The kind of invite the link serves now (see the module's docstring)."""
    if claims.sequence == card.sequence or claims.kind == "withdrawn":
        return claims.kind
    if card.status in (VisitStatus.CANCELLED, VisitStatus.DECLINED):
        return "cancel"
    if card.status == VisitStatus.PROPOSED:  # moved after its invite: tentative until agreed
        return "tentative"
    return "confirmed"


def invite_ics(
    session_factory: sessionmaker[Session], claims: LinkClaims, *, now: datetime
) -> tuple[str, bytes] | None:
    """(file name, iCalendar bytes) of the visit's invite as it is now, or None when the visit is
    gone, has no day, or never had the link's SEQUENCE. Reads only."""
    try:
        card = visit_lists.card_of(session_factory, claims.visit_id)
    except NotFound:
        return None
    day = card.chosen_date or (card.shown_dates[0] if card.shown_dates else None)
    if day is None or claims.sequence > card.sequence:
        return None
    kind = current_kind(card, claims)
    ics = invite_file(
        card,
        translator(claims.lang),
        day=day,
        tentative=kind == "tentative",
        cancelled=kind in CANCELLING,
        now=now,
    )
    return invite_filename(card.id, card.sequence), ics


def refused() -> Response:
    return PlainTextResponse(REFUSED, status_code=403, headers={"Cache-Control": "no-store"})


def register_ics_route(web: FastAPI, settings: Settings, deps: TeamsDeps) -> None:
    """`GET /ics/{token}` on the Teams app: the invite as a download, or 403. Outside the inbound
    guard's path (it guards POST /api/messages only), and without a bearer token: a calendar or
    a browser opens it."""

    @web.get(ROUTE, include_in_schema=False)
    async def ics(token: str) -> Response:
        now = deps.clock()
        claims = read_token(settings, token, now=now)
        found = (
            None
            if claims is None
            else await asyncio.to_thread(invite_ics, deps.session_factory, claims, now=now)
        )
        if found is None:
            log.info("teams: an invite link was refused")
            return refused()
        filename, content = found
        return Response(
            content,
            media_type="text/calendar; charset=utf-8",
            headers={
                "Content-Disposition": f'attachment; filename="{filename}"',
                "Cache-Control": "no-store",
                "X-Content-Type-Options": "nosniff",
            },
        )
