"""A write-up in one line, as the idea bank, the notices and the related write-ups under an `etsi`
answer show it, and the safe way to put user text inside a mrkdwn line."""

from __future__ import annotations

from bot import ids
from bot.i18n import Translator
from bot.views import blocks as b
from bot.views.formatting import day_text
from services.ideas.writeups import WriteUpView

_INERT = str.maketrans("*_~`", "\u2217\uff3f\u223c\u02cb")  # look-alikes: no bold, italic, strike, code


def inline(text: str) -> str:
    """User text inside a mrkdwn line: inert (no mentions, links, broadcasts) and unable to open
    or close bold/italic/strike/code around it."""
    flat = " ".join(text.split())
    return b.escape(flat).translate(_INERT)


def mention(user_id: str) -> str:
    """A mention of a stored user id; anything that is not a Slack user id is shown inert."""
    return f"<@{user_id}>" if ids.is_user_id(user_id) else b.escape(user_id)


# --- the modal -----------------------------------------------------------------------------


def permalink(channel: str | None, ts: str | None) -> str | None:
    if not channel or not ts:
        return None
    return f"https://slack.com/archives/{channel}/p{ts.replace('.', '')}"


def summary_line(w: WriteUpView, t: Translator) -> str:
    return t(
        "writeups.line",
        title=inline(w.title),
        author=", ".join(mention(a) for a in w.authors or (w.author_id,)),
        host=inline(w.host_library),
        topic=inline(w.topic(t.lang)),
        date=day_text(w.visit_date, t),
    )
