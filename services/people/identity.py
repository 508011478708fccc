"""One person, whichever platform they use: the person id the domain knows (a staff profile's
`slack_user_id`: visits, decisions and coordinators name people by it) of a chat account on
another platform, and where such people are reached.

A Teams account linked to a Slack person's profile (by Entra object id or e-mail, or by hand)
acts as that person. A Teams user with no Slack twin gets a profile of their own, whose id is
"T" and 12 hex digits: never a Slack user id (those start with U or W), so the two cannot clash,
and it fits every column that holds a person id."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from models import ChatAccount, StaffProfile
from services.people import chat_accounts
from services.people.chat_accounts import ChatReference

TEAMS = "teams"
OWN_ID = re.compile(r"T[0-9a-f]{12}")


def is_own_id(person: str) -> bool:
    """Is this the id of a person known only on another platform (no Slack account)?"""
    return OWN_ID.fullmatch(person) is not None


def new_id() -> str:
    return "T" + secrets.token_hex(6)


def person_of(
    session_factory: sessionmaker[Session],
    reference: ChatReference,
    *,
    now: datetime,
    locale: str | None = None,
) -> str:
    """The person id of the account the reference names: its linked profile's, else a new
    profile of its own (then linked). Stores or refreshes the reference first."""
    account_id = chat_accounts.remember(session_factory, reference, now=now)
    with session_factory.begin() as session:
        account = session.scalars(
            select(ChatAccount).where(ChatAccount.id == account_id).with_for_update()
        ).one()
        if account.staff_profile_id is not None:
            profile = session.get(StaffProfile, account.staff_profile_id)
            if profile is not None:
                if locale and not profile.slack_locale and is_own_id(profile.slack_user_id):
                    profile.slack_locale = locale[:16]
                return profile.slack_user_id
        profile = StaffProfile(
            slack_user_id=new_id(),
            display_name=account.display_name,
            email=account.email,
            directory_id=account.directory_id,
            slack_locale=(locale or None) and locale[:16],
            locale_checked_at=now if locale else None,
            created_at=now,
            updated_at=now,
        )
        session.add(profile)
        session.flush()
        account.staff_profile_id = profile.id
        return profile.slack_user_id


@dataclass(frozen=True)
class Reach:
    """Where a person is reached on another platform: their 1:1 conversation."""

    person: str
    platform: str
    user_id: str
    conversation_id: str
    service_url: str
    tenant_id: str | None


def reached_elsewhere(session: Session, people: Iterable[str], platform: str = TEAMS) -> dict[str, Reach]:
    """The people (person ids) who have an account on `platform`, with its conversation: they
    get their messages there. One query."""
    wanted = list(dict.fromkeys(p for p in people if p))
    if not wanted:
        return {}
    rows = session.execute(
        select(StaffProfile.slack_user_id, ChatAccount)
        .join(ChatAccount, ChatAccount.staff_profile_id == StaffProfile.id)
        .where(StaffProfile.slack_user_id.in_(wanted), ChatAccount.platform == platform)
        .order_by(ChatAccount.updated_at)
    ).all()
    found: dict[str, Reach] = {}
    for person, account in rows:  # the newest account last: it wins
        found[person] = Reach(
            person,
            platform,
            account.user_id,
            account.conversation_id,
            account.service_url,
            account.tenant_id,
        )
    return found


def display_names(session: Session, people: Iterable[str]) -> dict[str, str]:
    """The names the bot knows for these person ids (for a platform that cannot show a mention)."""
    wanted = list(dict.fromkeys(p for p in people if p))
    if not wanted:
        return {}
    rows = session.execute(
        select(StaffProfile.slack_user_id, StaffProfile.display_name).where(
            StaffProfile.slack_user_id.in_(wanted)
        )
    ).all()
    return {person: name for person, name in rows if name}
