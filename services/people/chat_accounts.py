"""A person's accounts on chat platforms other than Slack, and which staff profile each belongs
to. Platform-free: a platform is a name ("teams"), a reference is plain data that the adapter
reads off what the platform sent (for Teams: the 1:1 conversation id, the regional service URL,
the tenant, the user's id in the bot's conversations and their Entra object id).

An account is linked to the staff profile with the same directory (Entra) object id, else the
same e-mail, when exactly one profile has it; otherwise it stays unlinked, and IT links it by hand
(`link`, `python -m bot link-account`). A link by hand is kept: the automatic link only fills an
empty one. `link` never splits a person: an account already linked to a profile with visits or
decisions of its own stays where it is; one linked to an empty Teams-only profile (its id "T" and
12 hex digits, nothing but the profile row names it) moves, and that profile is deleted.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from models import (
    ChatAccount,
    Coordinator,
    LibraryContact,
    StaffProfile,
    Visit,
    VisitDecision,
    VisitStop,
    VisitTraveller,
)
from services.common import audit
from services.common.errors import InvalidInput, NotAllowed, NotFound


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


# Refusals of `link` and `unlink` (message keys of the catalogues: bot/i18n/locales/*/teams.po).
NO_ACCOUNT = "teams.link.no_account"
SEVERAL_ACCOUNTS = "teams.link.several_accounts"
NO_PROFILE = "teams.link.no_profile"
WOULD_SPLIT = "teams.link.would_split"
PROFILE_IN_USE = "teams.link.profile_in_use"
NOT_THEIRS = "teams.link.not_theirs"

TEAMS_ONLY_PREFIX = "T"  # a Teams user's profile without a Slack twin: "T" and 12 hex digits


@dataclass(frozen=True)
class LinkResult:
    """What `link` or `unlink` did. `action` is "linked", "unlinked" or "unchanged" (it already
    was so: nothing written). `previous` is the profile the account was linked to before;
    `removed_profile` the empty Teams-only profile deleted by the move; `relinks_to` (unlink) the
    profile the automatic link will choose again at the account's next message."""

    action: str
    account_id: int
    platform: str
    user_id: str
    email: str | None
    person: str | None
    previous: str | None = None
    removed_profile: str | None = None
    relinks_to: str | None = None


@dataclass(frozen=True)
class Footprint:
    """What names a person (by their profile's slack_user_id) besides their profile row."""

    visits: int
    decisions: int
    coordinator: int
    contacts: int

    @property
    def history(self) -> bool:
        return bool(self.visits or self.decisions)

    @property
    def empty(self) -> bool:
        return not (self.visits or self.decisions or self.coordinator or self.contacts)


def footprint(session: Session, person: str) -> Footprint:
    """The visits the person is in (visitor, traveller, a traveller's or the visit's supervisor),
    their decisions (their own or a substitute's on their behalf, a stop's answer), their
    coordinator row and their library contacts."""
    visit_ids = select(Visit.id).where(or_(Visit.visitor_id == person, Visit.supervisor_id == person))
    traveller_ids = select(VisitTraveller.visit_id).where(
        or_(VisitTraveller.user_id == person, VisitTraveller.supervisor_id == person)
    )
    visits = session.scalar(select(func.count()).select_from(visit_ids.union(traveller_ids).subquery()))
    decisions = session.scalar(
        select(func.count())
        .select_from(VisitDecision)
        .where(or_(VisitDecision.decided_by == person, VisitDecision.on_behalf_of == person))
    )
    stops = session.scalar(select(func.count()).select_from(VisitStop).where(VisitStop.decided_by == person))
    coordinator = session.scalar(
        select(func.count()).select_from(Coordinator).where(Coordinator.slack_user_id == person)
    )
    contacts = session.scalar(
        select(func.count()).select_from(LibraryContact).where(LibraryContact.slack_user_id == person)
    )
    return Footprint(
        visits=visits or 0,
        decisions=(decisions or 0) + (stops or 0),
        coordinator=coordinator or 0,
        contacts=contacts or 0,
    )


def is_teams_only(person: str) -> bool:
    return person.startswith(TEAMS_ONLY_PREFIX)


def locked_account(session: Session, platform: str, account: str) -> ChatAccount:
    """The account by its platform user id, or by its e-mail (any case) when `account` has an
    "@"; its row locked until the transaction ends, so that two links of it queue."""
    query = select(ChatAccount).where(ChatAccount.platform == platform)
    if "@" in account:
        query = query.where(func.lower(ChatAccount.email) == account.strip().lower())
    else:
        query = query.where(ChatAccount.user_id == account.strip())
    found = session.scalars(query.order_by(ChatAccount.id).with_for_update()).all()
    if not found:
        raise NotFound(NO_ACCOUNT, teams_user=account, platform=platform)
    if len(found) > 1:
        raise InvalidInput.one("account", SEVERAL_ACCOUNTS, teams_user=account, platform=platform)
    return found[0]


def profile_by_id(session: Session, profile_id: int | None) -> StaffProfile | None:
    if profile_id is None:
        return None
    return session.scalars(
        select(StaffProfile).where(StaffProfile.id == profile_id).with_for_update()
    ).one_or_none()


def link(
    session_factory: sessionmaker[Session],
    *,
    platform: str,
    account: str,
    person: str,
    actor: str,
    now: datetime,
) -> LinkResult:
    """Link the account (its platform user id, or its e-mail) to the staff profile whose id is
    `person`, in one transaction, audited. Refuses (NotFound, InvalidInput, NotAllowed; nothing
    changed) when the account or the profile does not exist, when the e-mail names several
    accounts, when the account's current profile has visits or decisions of its own (the move
    would split a person), and when that profile is a Teams-only one that nobody could reach any
    more (a coordinator or a library contact). An empty Teams-only profile is deleted by the move."""
    with session_factory.begin() as session:
        row = locked_account(session, platform, account)
        target = session.scalars(
            select(StaffProfile).where(StaffProfile.slack_user_id == person.strip()).with_for_update()
        ).one_or_none()
        if target is None:
            raise NotFound(NO_PROFILE, person=person)
        current = profile_by_id(session, row.staff_profile_id)
        result = LinkResult(
            action="unchanged",
            account_id=row.id,
            platform=row.platform,
            user_id=row.user_id,
            email=row.email,
            person=target.slack_user_id,
            previous=current.slack_user_id if current else None,
        )
        if current is not None and current.id == target.id:
            return result
        removed = None
        if current is not None:
            used = footprint(session, current.slack_user_id)
            if used.history:
                raise NotAllowed(
                    WOULD_SPLIT,
                    teams_user=row.user_id,
                    other=current.slack_user_id,
                    visits=used.visits,
                    decisions=used.decisions,
                )
            others = session.scalar(
                select(func.count())
                .select_from(ChatAccount)
                .where(ChatAccount.staff_profile_id == current.id, ChatAccount.id != row.id)
            )
            if is_teams_only(current.slack_user_id) and not others:
                # Its only account: the profile could be reached no more. Empty, it goes.
                if not used.empty:
                    raise NotAllowed(PROFILE_IN_USE, teams_user=row.user_id, other=current.slack_user_id)
                removed = current
        row.staff_profile_id = target.id
        row.updated_at = now
        session.flush()
        if removed is not None:
            session.delete(removed)
            session.flush()
        audit.record(
            session,
            now=now,
            actor=actor,
            action="chat_account.linked",
            entity="chat_account",
            entity_id=row.id,
            details={
                "platform": row.platform,
                "person": target.slack_user_id,
                "previous": result.previous,
                "removed_profile": removed.slack_user_id if removed else None,
            },
        )
        return replace(result, action="linked", removed_profile=removed.slack_user_id if removed else None)


def unlink(
    session_factory: sessionmaker[Session],
    *,
    platform: str,
    account: str,
    actor: str,
    now: datetime,
    person: str | None = None,
) -> LinkResult:
    """Take the account off its profile, in one transaction, audited; with `person`, only when it
    is linked to that profile (NotAllowed otherwise, nothing changed). Nothing is deleted. The
    automatic link fills an empty link at the account's next message: when the account's Entra
    id or e-mail still names one profile, `relinks_to` says which (correct that profile's data,
    or link the account to the right person instead)."""
    with session_factory.begin() as session:
        row = locked_account(session, platform, account)
        current = profile_by_id(session, row.staff_profile_id)
        if current is not None and person is not None and current.slack_user_id != person.strip():
            raise NotAllowed(NOT_THEIRS, teams_user=row.user_id, person=person, other=current.slack_user_id)
        again = matching_profile(session, row.directory_id, row.email)
        relinks_to = None
        if again is not None:
            relinks_to = session.scalar(select(StaffProfile.slack_user_id).where(StaffProfile.id == again))
        result = LinkResult(
            action="unchanged" if current is None else "unlinked",
            account_id=row.id,
            platform=row.platform,
            user_id=row.user_id,
            email=row.email,
            person=None,
            previous=current.slack_user_id if current else None,
            relinks_to=relinks_to,
        )
        if current is None:
            return result
        row.staff_profile_id = None
        row.updated_at = now
        audit.record(
            session,
            now=now,
            actor=actor,
            action="chat_account.unlinked",
            entity="chat_account",
            entity_id=row.id,
            details={"platform": row.platform, "previous": current.slack_user_id},
        )
        return result
