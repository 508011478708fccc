"""`/vertais apua`: what the user can do, with buttons for the main actions."""

from __future__ import annotations

from typing import Any

from bot.commands import Sub, my_data_words, word
from bot.i18n import Translator
from bot.views import blocks as b
from bot.views.common import home_library_prompt, main_actions
from services.people.staff import Staff


def help_message(t: Translator, *, command: str, staff: Staff, coordinator: bool) -> dict[str, Any]:
    lines = [
        t("help.line.find", command=command, word=word(Sub.FIND, t.lang)),
        t("help.line.propose", command=command, word=word(Sub.PROPOSE, t.lang)),
        t("help.line.offer", command=command, word=word(Sub.OFFER, t.lang)),
        t("help.line.mine", command=command, word=word(Sub.MINE, t.lang)),
        t("help.line.my_data", command=command, words=my_data_words(t.lang)),
        t("help.line.ideas", command=command, word=word(Sub.IDEAS, t.lang)),
        t("help.line.settings", command=command, word=word(Sub.SETTINGS, t.lang)),
    ]
    if coordinator:
        lines.append(t("help.line.report", command=command, word=word(Sub.REPORT, t.lang)))
    blocks: list[b.Block] = [b.header(t("help.title")), b.section(t("help.intro"))]
    if not staff.has_home_library:
        blocks.append(home_library_prompt(t))
    else:
        blocks.append(b.context(t("help.home_library", library=b.escape(staff.home_library_name or ""))))
    blocks += [
        b.section("\n".join(lines)),
        main_actions(t),
        b.context(t("help.money"), t("help.contact")),
    ]
    body = b.message(t("help.title"), blocks)
    body["response_type"] = "ephemeral"
    return body
