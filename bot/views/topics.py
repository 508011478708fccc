"""Coordinators' views of the catalogue: the topic-suggestion DM (approve / merge / reject) and
the modal to add, rename, retire or restore a topic."""

from __future__ import annotations

from typing import Any

from bot import ids
from bot.i18n import Translator
from bot.views import blocks as b
from bot.views import limits
from models import SuggestionStatus
from services.catalogue.topics import SuggestionInfo, TopicChoice

DECIDED_KEYS = {
    SuggestionStatus.APPROVED: "topics.suggestion.approved",
    SuggestionStatus.MERGED: "topics.suggestion.merged",
    SuggestionStatus.REJECTED: "topics.suggestion.rejected",
}


def suggestion_block_id(suggestion_id: int) -> str:
    return f"{ids.SUGGESTION_BLOCK}:{suggestion_id}"


def suggestion_id_of(block_id: str | None) -> int | None:
    prefix, _, number = (block_id or "").partition(":")
    return int(number) if prefix == ids.SUGGESTION_BLOCK and number.isdigit() else None


def suggestion_message(info: SuggestionInfo, t: Translator) -> dict[str, Any]:
    """The DM to coordinators, re-rendered from the suggestion's state after every decision."""
    text = t(
        "topics.suggestion.text",
        text=b.escape(info.text),
        library=b.escape(info.library_name),
        user=f"<@{info.suggested_by}>",
    )
    blocks: list[b.Block] = [b.section(text)]
    if info.status == SuggestionStatus.PENDING:
        approve = {
            "type": "static_select",
            "action_id": ids.SUGGESTION_APPROVE,
            "placeholder": b.plain(t("topics.suggestion.approve"), limits.PLACEHOLDER),
            "options": [b.option(c.name, f"{info.id}:{c.id}") for c in info.categories[:100]],
        }
        merge = {
            "type": "external_select",
            "action_id": ids.SUGGESTION_MERGE,
            "placeholder": b.plain(t("topics.suggestion.merge"), limits.PLACEHOLDER),
            "min_query_length": 0,
        }
        reject = b.button(
            t("topics.suggestion.reject"),
            ids.SUGGESTION_REJECT,
            str(info.id),
            style="danger",
            confirm_dialog=b.confirm(
                t("topics.suggestion.reject"),
                t("topics.suggestion.reject_confirm", text=b.escape(info.text)),
                t("topics.suggestion.reject"),
                t("common.cancel"),
                danger=True,
            ),
        )
        elements = [approve, merge, reject] if info.categories else [merge, reject]
        blocks.append(b.actions(*elements, block_id=suggestion_block_id(info.id)))
        blocks.append(b.context(t("topics.suggestion.help")))
    else:
        blocks.append(
            b.context(
                t(
                    DECIDED_KEYS[info.status],
                    by=f"<@{info.decided_by}>",
                    topic=b.escape(info.topic_name or ""),
                )
            )
        )
    return b.message(t("topics.suggestion.fallback", text=b.escape(info.text)), blocks)


def topics_modal(categories: list[TopicChoice], t: Translator) -> dict[str, Any]:
    def text_input(action_id: str, label: str, hint: str | None = None, multiline: bool = False) -> b.Block:
        element = {"type": "plain_text_input", "action_id": action_id, "max_length": 200}
        if multiline:
            element.update(multiline=True, max_length=2000)
        return b.input_block(action_id, label, element, optional=True, hint=hint)

    blocks: list[b.Block] = [
        b.section(t("topics.modal.intro")),
        b.input_block(
            ids.TOPIC_PICK,
            t("topics.modal.pick"),
            {
                "type": "external_select",
                "action_id": ids.TOPIC_PICK,
                "min_query_length": 0,
                "placeholder": b.plain(t("topics.modal.pick.placeholder"), limits.PLACEHOLDER),
            },
            optional=True,
            hint=t("topics.modal.pick.hint"),
        ),
    ]
    if categories:
        blocks.append(
            b.input_block(
                ids.TOPIC_CATEGORY,
                t("topics.modal.category"),
                {
                    "type": "static_select",
                    "action_id": ids.TOPIC_CATEGORY,
                    "options": [b.option(c.name, str(c.id)) for c in categories[:100]],
                },
                optional=True,
            )
        )
    blocks += [
        text_input(ids.TOPIC_NAME_FI, t("topics.modal.name_fi")),
        text_input(ids.TOPIC_NAME_SV, t("topics.modal.name_sv")),
        text_input(ids.TOPIC_NAME_EN, t("topics.modal.name_en")),
        text_input(ids.TOPIC_SYNONYMS, t("topics.modal.synonyms"), t("topics.modal.synonyms.hint"), True),
        b.input_block(
            ids.TOPIC_STATUS,
            t("topics.modal.status"),
            {
                "type": "checkboxes",
                "action_id": ids.TOPIC_STATUS,
                "options": [b.option(t("topics.modal.retired"), "retired")],
            },
            optional=True,
            hint=t("topics.modal.retired.hint"),
        ),
    ]
    return b.modal(
        ids.TOPICS_VIEW, t("topics.modal.title"), blocks, submit=t("common.save"), close=t("common.cancel")
    )


def topic_saved(t: Translator, name: str, retired: bool) -> dict[str, Any]:
    key = "topics.saved.retired" if retired else "topics.saved"
    return b.modal(
        ids.TOPICS_VIEW + "_saved",
        t("topics.modal.title"),
        [b.section(t(key, name=b.escape(name)))],
        close=t("common.close"),
    )
