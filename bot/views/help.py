"""`/vertais apua`: what the user can do, with buttons for the main actions."""

from __future__ import annotations

from typing import Any

from bot.commands import Sub
from bot.i18n import Translator
from bot.views import blocks as b
from bot.views.common import home_library_prompt, main_actions
from services.people.staff import Staff


def help_message(t: Translator, *, command: str, staff: Staff, coordinator: bool) -> dict[str, Any]:
    lines = [
        t("help.line.find", command=command, word=Sub.FIND.value),
        t("help.line.propose", command=command, word=Sub.PROPOSE.value),
        t("help.line.offer", command=command, word=Sub.OFFER.value),
        t("help.line.mine", command=command, word=Sub.MINE.value),
        t("help.line.ideas", command=command, word=Sub.IDEAS.value),
        t("help.line.settings", command=command, word=Sub.SETTINGS.value),
    ]
    if coordinator:
        lines.append(t("help.line.report", command=command, word=Sub.REPORT.value))
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
