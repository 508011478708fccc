"""What the identity middleware put in Bolt's context, read back with types."""

from __future__ import annotations

from typing import Any

from slack_sdk.errors import SlackApiError

from bot import ids
from bot.i18n import Translator, translator
from services.common.ports import Directory
from services.people.staff import Staff


def t_of(context: Any) -> Translator:
    t = context.get("t") if context is not None else None
    return t if isinstance(t, Translator) else translator(None)


def staff_of(context: Any) -> Staff:
    staff = context.get("staff") if context is not None else None
    if not isinstance(staff, Staff):
        raise RuntimeError("identity middleware did not run")
    return staff


def a_person(directory: Directory | None, user_id: object) -> bool:
    """Does this id, as a `users_select` sent it, name a person who can be asked? The shape
    first (a tampered value such as `U1> <!channel` never reaches Slack or the database), then
    Slack's word: not a bot (the bot itself included), not a deactivated account. When Slack
    cannot answer just now, the shape decides: a person's form is never lost to an outage."""
    if not ids.is_user_id(user_id):
        return False
    if directory is None:
        return True
    try:
        info = directory.user_info(user_id)
    except (SlackApiError, OSError):
        return True
    return info is not None and not info.deleted and not info.is_bot
