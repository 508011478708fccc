"""What the identity middleware put in Bolt's context, read back with types."""

from __future__ import annotations

from typing import Any

from bot.i18n import Translator, translator
from services.people.staff import Staff


def t_of(context: Any) -> Translator:
    t = context.get("t") if context is not None else None
    return t if isinstance(t, Translator) else translator(None)


def staff_of(context: Any) -> Staff:
    staff = context.get("staff") if context is not None else None
    if not isinstance(staff, Staff):
        raise RuntimeError("identity middleware did not run")
    return staff
