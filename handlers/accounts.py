"""`/vertais raportti linkitä <29:… | e-mail> <Slack user id>` (sv `rapport koppla`, en `report
link`): an informaatikko links a person's Teams user to their staff profile by hand, when the
automatic link (the same Entra object id or e-mail) did not happen. The same rules as
`python -m bot link-account` (services/people/chat_accounts.py: nothing changed on a refusal,
audited); answered to the informaatikko alone, in their language."""

from __future__ import annotations

import re

from bot import ids
from bot.commands import Sub, word
from bot.deps import Deps
from bot.views import blocks as b
from bot.views import common
from handlers.router import Invocation
from services.common.errors import DomainError, InvalidInput
from services.people import chat_accounts

LINK_WORDS = {"linkitä": "fi", "liitä": "fi", "koppla": "sv", "link": "en"}
LINK_WORD = {"fi": "linkitä", "sv": "koppla", "en": "link"}
MENTION = re.compile(r"<@([UW][A-Z0-9]{2,30})(?:\|[^>]*)?>")


def is_link(rest: str) -> bool:
    return rest.strip().split(" ", 1)[0].lower() in LINK_WORDS


def person_of(text: str) -> str | None:
    text = text.strip()
    found = MENTION.fullmatch(text)
    if found:
        return found.group(1)
    return text if ids.is_user_id(text) else None


def link_by_hand(deps: Deps, inv: Invocation) -> None:
    """Ack with the result (the caller has checked that the person is an informaatikko)."""
    t = inv.t
    words = inv.rest.split()
    usage = t(
        "desk.link.usage",
        command=deps.settings.vertais_command,
        report=word(Sub.REPORT, t.lang),
        link=LINK_WORD.get(t.lang, LINK_WORD["fi"]),
    )
    person = person_of(words[2]) if len(words) == 3 else None
    account = words[1][:254] if len(words) == 3 else ""
    if person is None or not account:
        inv.ack(common.ephemeral(usage))
        return
    try:
        result = chat_accounts.link(
            deps.session_factory,
            platform="teams",
            account=account,
            person=person,
            actor=inv.user_id,
            now=deps.now(),
        )
    except DomainError as exc:
        key, params = exc.key, exc.params
        if isinstance(exc, InvalidInput) and exc.fields:
            key, params = next(iter(exc.fields.values()))
        inv.ack(common.ephemeral(t(key, **{k: b.escape(str(v)) for k, v in params.items()})))
        return
    inv.ack(common.ephemeral(t("desk.link.done", teams_user=b.escape(result.user_id), person=f"<@{person}>")))
