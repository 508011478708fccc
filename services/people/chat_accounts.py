"""A person's accounts on chat platforms other than Slack, and which staff profile each belongs
to. Platform-free: a platform is a name ("teams"), a reference is plain data that the adapter
reads off what the platform sent (for Teams: the 1:1 conversation id, the regional service URL,
the tenant, the user's id in the bot's conversations and their Entra object id).

An account is linked to the staff profile with the same directory (Entra) object id, else the
same e-mail, when exactly one profile has it; otherwise it stays unlinked (a coordinator will link
it by hand: not built yet).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from models import ChatAccount, StaffProfile


@dataclass(frozen=True)
class ChatReference:
    platform: str
    user_id: str
    conversation_id: str
    service_url: str
    directory_id: str | None = None
    tenant_id: str | None = None
    email: str | None = None
    display_name: str | None = None


def clip(value: str | None, length: int) -> str | None:
    return value[:length] if value else None


def remember(session_factory: sessionmaker[Session], reference: ChatReference, *, now: datetime) -> int:
    """Store or refresh the reference (one row per platform and user); returns the account's id.
    Two first messages at once make one row."""
    for _attempt in range(2):
        try:
            with session_factory.begin() as session:
                return upsert(session, reference, now=now)
        except IntegrityError:  # the same person's other first message won the insert: update it
            continue
    raise RuntimeError("chat account could not be stored")


def upsert(session: Session, reference: ChatReference, *, now: datetime) -> int:
    account = session.scalars(
        select(ChatAccount).where(
            ChatAccount.platform == reference.platform, ChatAccount.user_id == reference.user_id
        )
    ).one_or_none()
    if account is None:
        account = ChatAccount(platform=reference.platform, user_id=reference.user_id[:200], created_at=now)
        session.add(account)
    account.conversation_id = reference.conversation_id[:400]
    account.service_url = reference.service_url[:400]
    account.directory_id = clip(reference.directory_id, 64) or account.directory_id
    account.tenant_id = clip(reference.tenant_id, 64) or account.tenant_id
    account.email = clip(reference.email, 254) or account.email
    account.display_name = clip(reference.display_name, 200) or account.display_name
    account.updated_at = now
    if account.staff_profile_id is None:
        account.staff_profile_id = matching_profile(session, account.directory_id, account.email)
    session.flush()
    return account.id


def matching_profile(session: Session, directory_id: str | None, email: str | None) -> int | None:
    """The one staff profile with this directory id, else with this e-mail (any case); None when
    there is none or more than one."""
    if directory_id:
        found = session.scalars(
            select(StaffProfile.id).where(StaffProfile.directory_id == directory_id)
        ).all()
        if len(found) == 1:
            return found[0]
    if email:
        found = session.scalars(
            select(StaffProfile.id).where(func.lower(StaffProfile.email) == email.lower())
        ).all()
        if len(found) == 1:
            return found[0]
    return None


def find(session: Session, platform: str, user_id: str) -> ChatAccount | None:
    return session.scalars(
        select(ChatAccount).where(ChatAccount.platform == platform, ChatAccount.user_id == user_id)
    ).one_or_none()
