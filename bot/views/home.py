"""The App Home tab."""

from __future__ import annotations

from typing import Any

from bot import ids
from bot.i18n import Translator
from bot.views import blocks as b
from bot.views.common import home_library_prompt, main_actions
from services.people.staff import Staff


def home_view(
    t: Translator, staff: Staff, *, command: str, extra: list[b.Block] | None = None
) -> dict[str, Any]:
    blocks: list[b.Block] = [b.header(t("home.title")), b.section(t("home.intro"))]
    if staff.has_home_library:
        blocks.append(
            b.section(
                t("home.home_library", library=b.escape(staff.home_library_name or "")),
                accessory=b.button(t("help.button.settings"), ids.OPEN_SETTINGS),
            )
        )
    else:
        blocks.append(home_library_prompt(t))
    blocks += [
        main_actions(t),
        b.divider(),
        *(extra or []),
        b.context(t("home.tip", command=command), t("help.money")),
    ]
    return {"type": "home", "callback_id": ids.HOME_VIEW, "blocks": blocks}
