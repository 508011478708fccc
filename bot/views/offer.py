"""The offer modal (`tarjoa`), the list of one's offers, the saved view, and the topic options."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from bot import ids
from bot.i18n import Translator
from bot.views import blocks as b
from bot.views import limits
from services.catalogue import closed_periods
from services.catalogue.offers import (
    MAX_CAPACITY,
    MAX_DESCRIPTION,
    MAX_SUGGESTION,
    OfferForm,
    OfferSummary,
    SavedOffer,
)
from services.catalogue.topics import CategoryChoices

WEEKDAYS = range(7)


def topic_option(topic_id: int, name: str) -> dict[str, Any]:
    return b.option(name, str(topic_id))


def topic_options(groups: Sequence[CategoryChoices]) -> dict[str, Any]:
    """A block_suggestion answer grouped by category, at most 100 options in all."""
    left = limits.SELECT_OPTIONS
    option_groups = []
    for group in groups:
        if left <= 0:
            break
        options = [topic_option(topic.id, topic.name) for topic in group.topics[:left]]
        left -= len(options)
        if options:
            option_groups.append({"label": b.plain(group.name, limits.OPTION_TEXT), "options": options})
    if not option_groups:
        return {"options": []}
    return {"option_groups": option_groups}


def weekday_option(t: Translator, day: int) -> dict[str, Any]:
    return b.option(t(f"weekday.long.{day}"), str(day))


def offer_modal(form: OfferForm, t: Translator) -> dict[str, Any]:
    library_select: dict[str, Any] = {
        "type": "external_select",
        "action_id": ids.OFFER_LIBRARY,
        "placeholder": b.plain(t("offer.library.placeholder"), limits.PLACEHOLDER),
        "min_query_length": 0,
    }
    if form.library_id is not None:
        label = (
            form.library_name
            if form.library_municipality in form.library_name
            else f"{form.library_name} ({form.library_municipality})"
        )
        library_select["initial_option"] = b.option(label, str(form.library_id))
    topics_select: dict[str, Any] = {
        "type": "multi_external_select",
        "action_id": ids.OFFER_TOPICS,
        "placeholder": b.plain(t("offer.topics.placeholder"), limits.PLACEHOLDER),
        "min_query_length": 0,
    }
    if form.topics:
        topics_select["initial_options"] = [topic_option(i, name) for i, name in form.topics[:100]]
    description: dict[str, Any] = {
        "type": "plain_text_input",
        "action_id": ids.OFFER_DESCRIPTION,
        "multiline": True,
        "max_length": MAX_DESCRIPTION,
        "placeholder": b.plain(t("offer.description.placeholder"), limits.PLACEHOLDER),
    }
    if form.description:
        description["initial_value"] = form.description[:MAX_DESCRIPTION]
    contacts: dict[str, Any] = {"type": "multi_users_select", "action_id": ids.OFFER_CONTACTS}
    if form.contacts:
        contacts["initial_users"] = list(form.contacts[:10])
    weekdays: dict[str, Any] = {
        "type": "checkboxes",
        "action_id": ids.OFFER_WEEKDAYS,
        "options": [weekday_option(t, day) for day in WEEKDAYS],
    }
    chosen = [weekday_option(t, day) for day in WEEKDAYS if form.weekdays & (1 << day)]
    if chosen:
        weekdays["initial_options"] = chosen
    closed: dict[str, Any] = {
        "type": "plain_text_input",
        "action_id": ids.OFFER_CLOSED,
        "multiline": True,
        "max_length": closed_periods.MAX_TEXT,
        "placeholder": b.plain(t("offer.closed.placeholder"), limits.PLACEHOLDER),
    }
    if form.closed:
        closed["initial_value"] = "\n".join(period.line() for period in form.closed)
    not_until: dict[str, Any] = {"type": "datepicker", "action_id": ids.OFFER_NOT_UNTIL}
    if form.not_until is not None:
        not_until["initial_date"] = form.not_until.isoformat()
    blocks = [
        b.section(t("offer.intro")),
        b.input_block(ids.OFFER_LIBRARY, t("offer.library.label"), library_select),
        b.input_block(
            ids.OFFER_TOPICS,
            t("offer.topics.label"),
            topics_select,
            optional=True,
            hint=t("offer.topics.hint"),
        ),
        b.input_block(
            ids.OFFER_SUGGESTION,
            t("offer.suggestion.label"),
            {"type": "plain_text_input", "action_id": ids.OFFER_SUGGESTION, "max_length": MAX_SUGGESTION},
            optional=True,
            hint=t("offer.suggestion.hint"),
        ),
        b.input_block(ids.OFFER_DESCRIPTION, t("offer.description.label"), description, optional=True),
        b.input_block(ids.OFFER_CONTACTS, t("offer.contacts.label"), contacts, hint=t("offer.contacts.hint")),
        b.input_block(
            ids.OFFER_CAPACITY,
            t("offer.capacity.label"),
            {
                "type": "number_input",
                "action_id": ids.OFFER_CAPACITY,
                "is_decimal_allowed": False,
                "initial_value": str(form.capacity),
                "min_value": "0",
                "max_value": str(MAX_CAPACITY),
            },
            hint=t("offer.capacity.hint"),
        ),
        b.input_block(ids.OFFER_WEEKDAYS, t("offer.weekdays.label"), weekdays),
        b.input_block(
            ids.OFFER_NOT_UNTIL,
            t("offer.not_until.label"),
            not_until,
            optional=True,
            hint=t("offer.not_until.hint"),
        ),
        b.input_block(
            ids.OFFER_CLOSED, t("offer.closed.label"), closed, optional=True, hint=t("offer.closed.hint")
        ),
    ]
    metadata = json.dumps({"offer": form.offer_id})
    return b.modal(
        ids.OFFER_VIEW,
        t("offer.title.edit") if form.offer_id else t("offer.title.new"),
        blocks,
        submit=t("common.save"),
        close=t("common.cancel"),
        private_metadata=metadata,
    )


def offer_saved(saved: SavedOffer, t: Translator, *, command: str) -> dict[str, Any]:
    lines = [
        t(
            "offer.saved.created" if saved.created else "offer.saved.updated",
            library=b.escape(saved.library_name),
        )
    ]
    if saved.topics:
        lines.append(t("offer.saved.topics", topics=b.escape(", ".join(saved.topics))))
    if saved.suggestion_id is not None:
        lines.append(t("offer.saved.suggestion"))
    lines.append(t("offer.saved.find", command=command))
    return b.modal(
        ids.OFFER_SAVED_VIEW, t("offer.title.saved"), [b.section("\n\n".join(lines))], close=t("common.close")
    )


def offers_message(offers: Sequence[OfferSummary], t: Translator) -> dict[str, Any]:
    """`tarjoa` for someone who already has offers: edit one, or make a new one."""
    blocks: list[b.Block] = [b.section(t("offer.list.title"))]
    for offer in offers[:20]:
        topics = ", ".join(offer.topics) or t("offer.list.no_topics")
        blocks.append(
            b.section(
                f"*{b.escape(offer.library_name)}*\n{b.escape(topics)}\n"
                + t("offer.list.capacity", count=offer.capacity),
                accessory=b.button(t("offer.button.edit"), ids.EDIT_OFFER, str(offer.offer_id)),
                block_id=f"offer_{offer.offer_id}",
            )
        )
    blocks.append(
        b.actions(b.button(t("offer.button.new"), ids.NEW_OFFER, style="primary"), block_id="offer_new")
    )
    body = b.message(t("offer.list.title"), blocks)
    body["response_type"] = "ephemeral"
    return body
