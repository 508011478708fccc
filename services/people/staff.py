"""Staff profiles: who a Slack user is to the bot (home library, language)."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload, sessionmaker

from models import Library, StaffProfile
from models.db import read_connection
from services.common import audit
from services.common.errors import InvalidInput
from services.common.generation import Generation
from services.common.ports import Directory, UserInfo

LOCALE_TTL = timedelta(days=1)
LANGUAGES = ("fi", "sv", "en")
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Staff:
    """What every request needs to know about the person asking."""

    user_id: str
    language: str
    chosen_language: str | None
    home_library_id: int | None
    home_library_name: str | None
    region_id: int | None

    @property
    def has_home_library(self) -> bool:
        return self.home_library_id is not None


def negotiate(locale: str | None, default: str) -> str:
    """A Slack locale (`fi-FI`, `en-US`, `sv_SE`) to one of our languages, else `default`."""
    if locale:
        primary = locale.replace("_", "-").split("-")[0].lower()
        if primary in LANGUAGES:
            return primary
    return default


class StaffCache:
    """Recently seen people, so that a busy bot does not read the same profile on every click.

    Entries live `ttl`. A change of settings (`changed`) replaces the person's entry in this
    process and, through the shared `generation`, empties the caches of the other worker
    processes at their next look: the person's next request is answered in the new language,
    whichever process takes it.
    """

    def __init__(
        self,
        ttl: timedelta = timedelta(seconds=60),
        size: int = 10_000,
        generation: Generation | None = None,
    ) -> None:
        self.ttl = ttl
        self.size = size
        self.generation = generation or Generation()
        self._seen = self.generation.value
        self._entries: dict[str, tuple[Staff, datetime]] = {}
        self._lock = threading.Lock()

    def get(self, user_id: str, now: datetime) -> Staff | None:
        current = self.generation.value
        with self._lock:
            if current != self._seen:  # someone's settings changed in another process
                self._entries.clear()
                self._seen = current
            entry = self._entries.get(user_id)
        if entry is None or entry[1] <= now:
            return None
        return entry[0]

    def put(self, staff: Staff, now: datetime, read_at: int | None = None) -> None:
        """Keep `staff`; `read_at`: the generation when it was read from the database (a profile
        read before another process's change is not kept)."""
        with self._lock:
            if read_at is not None and self.generation.value != read_at:
                return
            if len(self._entries) >= self.size:
                self._entries.clear()
            self._entries[staff.user_id] = (staff, now + self.ttl)

    def changed(self, staff: Staff, now: datetime) -> None:
        """The person's settings were saved: this process knows them at once, the others
        forget what they had."""
        with self._lock:
            # What this process wrote: if another process writes over it at once, the next
            # look sees a value other than this one and forgets what it had.
            self._seen = self.generation.change()
        self.put(staff, now)

    def forget(self, user_id: str) -> None:
        with self._lock:
            self._entries.pop(user_id, None)


def identify(
    session_factory: sessionmaker[Session],
    directory: Directory | None,
    user_id: str,
    *,
    now: datetime,
    default_language: str,
    cache: StaffCache | None = None,
) -> Staff:
    """The user's profile, created on first contact; their Slack locale is fetched when unknown
    or older than a day (and only if they have not chosen a language themselves)."""
    read_at = None
    if cache is not None:
        cached = cache.get(user_id, now)
        if cached is not None:
            return cached
        read_at = cache.generation.value
    staff = _identify(session_factory, directory, user_id, now=now, default_language=default_language)
    if cache is not None:
        cache.put(staff, now, read_at)
    return staff


def _identify(
    session_factory: sessionmaker[Session],
    directory: Directory | None,
    user_id: str,
    *,
    now: datetime,
    default_language: str,
) -> Staff:
    with session_factory() as session:
        profile = _load(session, user_id)
        needs_locale = profile is None or (
            profile.language is None
            and (profile.locale_checked_at is None or now - profile.locale_checked_at > LOCALE_TTL)
        )
        if profile is not None and not needs_locale:
            return _to_staff(profile, default_language)

    info = None
    if needs_locale and directory is not None:
        try:
            info = directory.user_info(user_id)
        except Exception:  # the platform is down: answer in the default language, retry later
            log.warning("user info lookup failed for a user", exc_info=True)

    try:
        return _remember(session_factory, user_id, info, now=now, default_language=default_language)
    except IntegrityError:  # the same person's first two requests raced to create the profile
        return _remember(session_factory, user_id, info, now=now, default_language=default_language)


def _remember(
    session_factory: sessionmaker[Session],
    user_id: str,
    info: UserInfo | None,
    *,
    now: datetime,
    default_language: str,
) -> Staff:
    with session_factory.begin() as session:
        profile = _load(session, user_id)
        if profile is None:
            profile = StaffProfile(slack_user_id=user_id, created_at=now, updated_at=now)
            session.add(profile)
        if info is not None:
            profile.slack_locale = info.locale
            profile.locale_checked_at = now
            if info.display_name:
                profile.display_name = info.display_name[:200]
        session.flush()
        return _to_staff(profile, default_language)


def _load(session: Session, user_id: str) -> StaffProfile | None:
    return session.scalar(
        select(StaffProfile)
        .options(joinedload(StaffProfile.home_library))
        .where(StaffProfile.slack_user_id == user_id)
    )


def _to_staff(profile: StaffProfile, default_language: str) -> Staff:
    library = profile.home_library
    return Staff(
        user_id=profile.slack_user_id,
        language=profile.language or negotiate(profile.slack_locale, default_language),
        chosen_language=profile.language,
        home_library_id=library.id if library else None,
        home_library_name=library.name if library else None,
        region_id=library.region_id if library else None,
    )


_CURRENT_SETTINGS = (
    select(
        StaffProfile.home_library_id,
        StaffProfile.language,
        StaffProfile.slack_locale,
        Library.name,
        Library.region_id,
    )
    .join(Library, Library.id == StaffProfile.home_library_id)
    .where(StaffProfile.slack_user_id == bindparam("user_id"))
)


def update_settings(
    session_factory: sessionmaker[Session],
    user_id: str,
    *,
    home_library_id: int | None,
    language: str | None,
    now: datetime,
    default_language: str,
) -> Staff:
    """Save a user's home library and language choice (None = follow Slack's locale)."""
    if home_library_id is None:
        raise InvalidInput.one("home_library", "settings.error.library_required")
    if language is not None and language not in LANGUAGES:
        raise InvalidInput.one("language", "settings.error.language_unknown")
    # Saved again as it was: nothing to write, nothing to audit. One prepared statement on a
    # plain connection: a third of the CPU of an ORM session building the query each time.
    with read_connection(session_factory) as connection:
        current = connection.execute(_CURRENT_SETTINGS, {"user_id": user_id}).one_or_none()
    if current is not None and (current.home_library_id, current.language) == (home_library_id, language):
        return Staff(
            user_id=user_id,
            language=language or negotiate(current.slack_locale, default_language),
            chosen_language=language,
            home_library_id=home_library_id,
            home_library_name=current.name,
            region_id=current.region_id,
        )
    with session_factory.begin() as session:
        library = session.get(Library, home_library_id)
        if library is None:
            raise InvalidInput.one("home_library", "settings.error.library_unknown")
        profile = _load(session, user_id)
        if profile is None:
            profile = StaffProfile(slack_user_id=user_id, created_at=now, updated_at=now)
            session.add(profile)
        before = {"home_library": profile.home_library_id, "language": profile.language}
        profile.home_library = library
        profile.language = language
        profile.updated_at = now
        audit.record(
            session,
            now=now,
            actor=user_id,
            action="settings.update",
            entity="staff",
            entity_id=user_id,
            details={"before": before, "after": {"home_library": library.id, "language": language}},
        )
        session.flush()
        return _to_staff(profile, default_language)
