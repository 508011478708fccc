"""My data: the DM with one's export, the request to be forgotten and the coordinators' message
about it (pure functions of what to say)."""

from __future__ import annotations

from datetime import date
from typing import Any

from bot import ids
from bot.i18n import Translator
from bot.views import blocks as b
from bot.views.common import ephemeral
from bot.views.formatting import day_text


def _asked_first(
    t: Translator, label: str, dialog: tuple[str, str, str, str], action_id: str, value: str
) -> dict[str, Any]:
    """A red button that asks "are you sure?" first (`dialog`: the keys of its title, text, yes, no)."""
    confirm = b.confirm(*(t(key) for key in dialog), danger=True)
    return b.button(t(label), action_id, value, style="danger", confirm_dialog=confirm)


def export_filename(day: date) -> str:
    return f"vertaisbot-omat-tiedot-{day.isoformat()}.json"


def export_sending(t: Translator) -> dict[str, Any]:
    """The command's ack: the file comes as a DM."""
    return ephemeral(t("privacy.export.sending"))


def export_message(t: Translator, rows: int) -> dict[str, Any]:
    """The DM beside the file: what it holds, and the way to ask to be forgotten."""
    text = t.plural("privacy.export.ready", rows) if rows else t("privacy.export.empty")
    ask = _asked_first(
        t,
        "privacy.forget.button",
        (
            "privacy.forget.confirm.title",
            "privacy.forget.confirm.text",
            "privacy.forget.confirm.yes",
            "privacy.forget.confirm.no",
        ),
        ids.PRIVACY_FORGET_ASK,
        "forget",
    )
    return b.message(text, [b.section(text), b.context(t("privacy.export.note")), b.actions(ask)])


def export_failed(t: Translator) -> dict[str, Any]:
    return ephemeral(t("privacy.export.failed"))


def asked(t: Translator, *, new: bool, anyone: bool, reached: bool = True) -> dict[str, Any]:
    """The person's answer after asking to be forgotten (`reached`: a coordinator got it)."""
    if not anyone:
        return ephemeral(t("privacy.forget.nobody"))
    if not reached:
        return ephemeral(t("privacy.forget.not_sent"))
    return ephemeral(t("privacy.forget.asked" if new else "privacy.forget.already_asked"))


def coordinator_request(t: Translator, requester: str, request_id: int) -> dict[str, Any]:
    """What a coordinator of the person's region gets: who asks, and the button to erase."""
    text = t("privacy.coordinator.request", person=f"<@{requester}>")
    erase = _asked_first(
        t,
        "privacy.coordinator.erase",
        (
            "privacy.coordinator.confirm.title",
            "privacy.coordinator.confirm.text",
            "privacy.coordinator.confirm.yes",
            "privacy.coordinator.confirm.no",
        ),
        ids.PRIVACY_FORGET_CONFIRM,
        str(request_id),
    )
    return b.message(text, [b.section(text), b.context(t("privacy.coordinator.how")), b.actions(erase)])


def coordinator_done(t: Translator, done_by: str, day: date, *, told: bool) -> dict[str, Any]:
    """The coordinators' message once the person is forgotten: by whom and when, and no longer
    who it was (their Slack id is gone from the bot's data, so it leaves this message too)."""
    text = t("privacy.coordinator.done", coordinator=f"<@{done_by}>", day=day_text(day, t))
    extra = [] if told else [b.context(t("privacy.coordinator.not_told"))]
    return b.message(text, [b.section(text), *extra])


def already_done(t: Translator, done_by: str, day: date) -> dict[str, Any]:
    return ephemeral(t("privacy.coordinator.already_done", coordinator=f"<@{done_by}>", day=day_text(day, t)))


def forgotten(t: Translator) -> dict[str, Any]:
    """The person's DM: it is done."""
    return b.message(t("privacy.forget.done"), [b.section(t("privacy.forget.done"))])
