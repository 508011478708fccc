"""Free text as people type it, made safe to keep: one rule for every text field.

Control characters other than newline and tab never reach the database (PostgreSQL refuses a
NUL in text, SQLite would keep it), a carriage return becomes a newline, and everything else a
person wrote is kept as they wrote it."""

from __future__ import annotations

import re

CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def clean(text: str) -> str:
    """The text without control characters (newline and tab kept; CR LF and CR become LF)."""
    return CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))


def visible(text: str) -> bool:
    """Does the text say anything (more than spaces, including the non-breaking and other
    Unicode spaces, and invisible format characters such as the zero-width space)?"""
    return any(not (ch.isspace() or ch in "\u200b\u200c\u200d\u2060\ufeff") for ch in text)
