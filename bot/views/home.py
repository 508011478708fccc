"""The App Home tab."""

from __future__ import annotations

from datetime import date
from typing import Any

from bot import ids
from bot.i18n import Translator
from bot.views import blocks as b
from bot.views import limits
from bot.views.common import home_library_prompt, main_actions
from bot.views.formatting import day_text
from services.people.staff import Staff
from services.people.substitutes import Away


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


AWAY_SHOWN = 5  # periods listed on Home at most (each is a section with its button)


def _period(away: Away, t: Translator) -> str:
    return t("substitutes.home.period", start=day_text(away.starts_on, t), end=day_text(away.ends_on, t))


def away_blocks(t: Translator, mine: list[Away], standing_in: list[Away], *, today: date) -> list[b.Block]:
    """The "away and substitute" section of App Home: one's own periods (each with a button to
    take it back) and those in which one stands in for someone."""
    blocks: list[b.Block] = [
        b.header(t("substitutes.home.title")),
        b.section(
            t("substitutes.home.intro"),
            accessory=b.button(t("substitutes.home.button.set"), ids.AWAY_OPEN),
        ),
    ]
    for away in mine[:AWAY_SHOWN]:
        key = "substitutes.home.mine_now" if away.on(today) else "substitutes.home.mine"
        text = t(key, period=_period(away, t), substitute=f"<@{away.substitute_id}>")
        question = t("substitutes.home.confirm.text", period=_period(away, t))
        remove = b.button(
            t("substitutes.home.button.remove"),
            ids.AWAY_REMOVE,
            str(away.id),
            style="danger",
            confirm_dialog=b.confirm(
                t("substitutes.home.confirm.title"),
                question,
                t("substitutes.home.confirm.yes"),
                t("common.back"),
                danger=True,
            ),
        )
        blocks.append(b.section(text, accessory=remove))
    lines = [
        t("substitutes.home.standing_in", user=f"<@{away.user_id}>", period=_period(away, t))
        for away in standing_in[:AWAY_SHOWN]
    ]
    if lines:
        blocks.append(b.context("\n".join(lines)))
    blocks.append(b.divider())
    return blocks


def away_modal(t: Translator, *, today: date) -> dict[str, Any]:
    """The form: away from, to (both inclusive), and who decides meanwhile."""

    def picker(action_id: str) -> dict[str, Any]:
        return {
            "type": "datepicker",
            "action_id": action_id,
            "initial_date": today.isoformat(),
            "placeholder": b.plain(t("visits.form.date_placeholder"), limits.PLACEHOLDER),
        }

    blocks: list[b.Block] = [
        b.section(t("substitutes.modal.intro")),
        b.input_block(ids.AWAY_FROM, t("substitutes.modal.from"), picker(ids.AWAY_FROM)),
        b.input_block(ids.AWAY_TO, t("substitutes.modal.to"), picker(ids.AWAY_TO)),
        b.input_block(
            ids.AWAY_SUBSTITUTE,
            t("substitutes.modal.substitute"),
            {"type": "users_select", "action_id": ids.AWAY_SUBSTITUTE},
            hint=t("substitutes.modal.hint"),
        ),
    ]
    return b.modal(
        ids.AWAY_VIEW,
        t("substitutes.modal.title"),
        blocks,
        submit=t("substitutes.modal.submit"),
        close=t("common.cancel"),
    )
