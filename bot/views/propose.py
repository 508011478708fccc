"""The proposal modal, the host picker's options, and the counter-proposal / move / decline forms."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date
from typing import Any

from bot import ids
from bot.i18n import Translator
from bot.views import blocks as b
from bot.views import limits
from models import PartyState, Topic
from services.money import costs
from services.visits import travellers
from services.visits.proposing import LENGTHS, MAX_DATES, TRAVEL_MODES
from services.visits.stop_info import MAX_STOPS, StopChoice
from services.visits.visit_card import HostChoice, VisitCard

# Service field name -> block id of the proposal modal (for inline errors).
FIELD_BLOCKS = {
    "topic": ids.PROPOSE_TOPIC,
    "host": ids.PROPOSE_HOST_SELECT,
    "learn": ids.PROPOSE_LEARN,
    **{f"date_{i}": f"{ids.PROPOSE_DATE}_{i}" for i in range(1, MAX_DATES + 1)},
    "length": ids.PROPOSE_LENGTH,
    "travel": ids.PROPOSE_TRAVEL,
    "km": ids.PROPOSE_KM,
    "tickets": ids.PROPOSE_TICKETS,
    "accommodation": ids.PROPOSE_ACCOMMODATION,
    "supervisor": ids.PROPOSE_SUPERVISOR,
    "note": ids.PROPOSE_NOTE,
    "colleagues": ids.PROPOSE_COLLEAGUES,
    "stops": ids.PROPOSE_STOPS,
}
COLLEAGUE_SUPERVISOR_FIELD = "colleague_supervisor_"  # the service's field, + the colleague's id


def block_of(field: str, blocks: dict[str, str] | None = None) -> str:
    """The block id of a service field (a colleague's supervisor has one block each)."""
    if field.startswith(COLLEAGUE_SUPERVISOR_FIELD):
        return f"{ids.PROPOSE_COLLEAGUE_SUPERVISOR}_{field.removeprefix(COLLEAGUE_SUPERVISOR_FIELD)}"
    return (blocks or FIELD_BLOCKS).get(field, field)


def colleague_supervisor_blocks(
    t: Translator, colleagues: Sequence[tuple[str, str]], default: str | None
) -> list[b.Block]:
    """One supervisor field for each colleague chosen, (user id, name): the visitor's supervisor
    unless changed (colleagues of one library often share theirs)."""
    blocks = []
    for user, name in colleagues[: travellers.MAX_COLLEAGUES]:
        element: dict[str, Any] = {"type": "users_select", "action_id": ids.PROPOSE_COLLEAGUE_SUPERVISOR}
        if default:
            element["initial_user"] = default
        blocks.append(
            b.input_block(
                f"{ids.PROPOSE_COLLEAGUE_SUPERVISOR}_{user}",
                t("visits.form.colleague_supervisor", name=name),
                element,
                optional=True,
                hint=t("visits.form.colleague_supervisor_hint"),
            )
        )
    return blocks


def _colleagues_block(t: Translator) -> b.Block:
    block = b.input_block(
        ids.PROPOSE_COLLEAGUES,
        t("visits.form.colleagues"),
        {
            "type": "multi_users_select",
            "action_id": ids.PROPOSE_COLLEAGUES,
            "max_selected_items": travellers.MAX_COLLEAGUES,
        },
        optional=True,
        hint=t("visits.form.colleagues_hint"),
    )
    block["dispatch_action"] = True  # choosing them re-renders the form with their supervisors
    return block


def with_colleagues(
    view: dict[str, Any], t: Translator, colleagues: Sequence[tuple[str, str]], default: str | None
) -> dict[str, Any]:
    """The open proposal form for the colleagues now chosen: a supervisor field for each, right
    after the colleagues (Slack keeps the values of the fields that stay)."""
    prefix = f"{ids.PROPOSE_COLLEAGUE_SUPERVISOR}_"
    blocks = [blk for blk in view.get("blocks") or [] if not str(blk.get("block_id", "")).startswith(prefix)]
    at = next(
        (n for n, blk in enumerate(blocks, start=1) if blk.get("block_id") == ids.PROPOSE_COLLEAGUES),
        len(blocks),
    )
    blocks[at:at] = colleague_supervisor_blocks(t, colleagues, default)
    return _reopened(view, blocks)


def host_option(choice: HostChoice, t: Translator) -> dict[str, Any]:
    description = t("visits.host.distance", km=round(choice.distance_km)) if choice.distance_km else None
    return b.option(choice.name, str(choice.library_id), description)


def host_options(choices: Sequence[HostChoice], t: Translator) -> dict[str, Any]:
    return {"options": [host_option(c, t) for c in choices[: limits.SELECT_OPTIONS]]}


def _topic_select(topics: Sequence[Topic], lang: str, chosen: Topic | None) -> dict[str, Any]:
    """The catalogue's topics, grouped by category when the categories are loaded."""
    shown = list(topics[: limits.SELECT_OPTIONS])
    element: dict[str, Any] = {"type": "static_select", "action_id": ids.PROPOSE_TOPIC}
    # only categories already loaded (selectinload): touching an unloaded one would lazy-load
    categories = [topic.__dict__.get("category") for topic in shown]
    if shown and all(category is not None for category in categories):
        groups: dict[int, dict[str, Any]] = {}
        for topic, category in zip(shown, categories, strict=True):
            assert category is not None
            label = getattr(category, f"name_{lang}", None) or category.name_fi
            group = groups.setdefault(
                category.id, {"label": b.plain(label, limits.OPTION_TEXT), "options": []}
            )
            group["options"].append(b.option(topic.name(lang), str(topic.id)))
        element["option_groups"] = list(groups.values())
    else:
        element["options"] = [b.option(t.name(lang), str(t.id)) for t in shown]
    if chosen is not None and any(t.id == chosen.id for t in shown):
        element["initial_option"] = b.option(chosen.name(lang), str(chosen.id))
    return element


def _text_input(action_id: str, *, multiline: bool = False, max_length: int = 1500) -> dict[str, Any]:
    return {
        "type": "plain_text_input",
        "action_id": action_id,
        "multiline": multiline,
        "max_length": max_length,
    }


def _date_picker(action_id: str, t: Translator, initial: date | None = None) -> dict[str, Any]:
    element: dict[str, Any] = {
        "type": "datepicker",
        "action_id": action_id,
        "placeholder": b.plain(t("visits.form.date_placeholder"), limits.PLACEHOLDER),
    }
    if initial is not None:
        element["initial_date"] = initial.isoformat()
    return element


def date_inputs(t: Translator, label_key: str = "visits.form.date") -> list[b.Block]:
    return [
        b.input_block(
            f"{ids.PROPOSE_DATE}_{i}",
            t(label_key, n=i),
            _date_picker(f"{ids.PROPOSE_DATE}_{i}", t),
            optional=i > 1,
            hint=t("visits.form.date_hint") if i == 1 else None,
        )
        for i in range(1, MAX_DATES + 1)
    ]


def accommodation_block(t: Translator, initial: str = "") -> b.Block:
    """The price of a night: asked only of a visit with nights (two days: one night)."""
    element = _text_input(ids.PROPOSE_ACCOMMODATION, max_length=12)
    if initial:
        element["initial_value"] = initial
    return b.input_block(
        ids.PROPOSE_ACCOMMODATION,
        t("visits.form.night_price"),
        element,
        optional=True,
        hint=t("visits.form.night_price_hint"),
    )


def _length_block(t: Translator, length: str) -> b.Block:
    """The visit's length; choosing it re-renders the form (the night's price comes and goes)."""
    block = b.input_block(
        ids.PROPOSE_LENGTH,
        t("visits.form.length"),
        {
            "type": "static_select",
            "action_id": ids.PROPOSE_LENGTH,
            "options": [b.option(t(f"visits.length.{k}"), k) for k in LENGTHS],
            "initial_option": b.option(t(f"visits.length.{length}"), length),
        },
    )
    block["dispatch_action"] = True
    return block


def _reopened(view: dict[str, Any], blocks: list[b.Block]) -> dict[str, Any]:
    """The open form (as Slack sent it back) with new blocks, for views.update."""
    fields = ("type", "callback_id", "title", "submit", "close", "private_metadata")
    return {**{k: view[k] for k in fields if k in view}, "blocks": blocks}


def with_length(view: dict[str, Any], t: Translator, length: str) -> dict[str, Any]:
    """The open proposal form (as Slack sent it back) for a newly chosen length: the night's price
    is asked for a two-day visit only. Slack keeps what was typed in the blocks that stay."""
    length = length if length in LENGTHS else "day"
    blocks = [blk for blk in view.get("blocks") or [] if blk.get("block_id") != ids.PROPOSE_ACCOMMODATION]
    blocks = [
        _length_block(t, length) if blk.get("block_id") == ids.PROPOSE_LENGTH else blk for blk in blocks
    ]
    if costs.nights_of(length):
        after = next(
            (n for n, blk in enumerate(blocks, start=1) if blk.get("block_id") == ids.PROPOSE_TICKETS),
            len(blocks),
        )
        blocks.insert(after, accommodation_block(t))
    return _reopened(view, blocks)


def _stops_block(t: Translator) -> b.Block:
    """A study trip's further libraries (up to three), each with the topic it offers."""
    return b.input_block(
        ids.PROPOSE_STOPS,
        t("visits.form.stops"),
        {
            "type": "multi_external_select",
            "action_id": ids.PROPOSE_STOPS,
            "min_query_length": 0,
            "max_selected_items": MAX_STOPS - 1,
            "placeholder": b.plain(t("visits.form.stops_placeholder"), limits.PLACEHOLDER),
        },
        optional=True,
        hint=t("visits.form.stops_hint"),
    )


def stop_options(choices: Sequence[StopChoice], t: Translator) -> dict[str, Any]:
    """The further stops to pick from: a library and a topic it offers, nearest first."""
    options = [
        b.option(
            f"{c.library_name} – {c.topic(t.lang)}",
            f"{c.library_id}:{c.topic_id}",
            t("visits.host.distance", km=round(c.distance_km)) if c.distance_km else None,
        )
        for c in choices[: limits.SELECT_OPTIONS]
    ]
    return {"options": options}


def propose_modal(
    t: Translator,
    *,
    topics: Sequence[Topic],
    topic: Topic | None,
    host: HostChoice | None,
    length: str = "day",
) -> dict[str, Any]:
    host_select: dict[str, Any] = {
        "type": "external_select",
        "action_id": ids.PROPOSE_HOST_SELECT,
        "min_query_length": 0,
        "placeholder": b.plain(t("visits.form.host_placeholder"), limits.PLACEHOLDER),
    }
    if host is not None:
        host_select["initial_option"] = host_option(host, t)
    blocks: list[b.Block] = [
        b.section(t("visits.form.intro")),
        b.input_block(ids.PROPOSE_TOPIC, t("visits.form.topic"), _topic_select(topics, t.lang, topic)),
        b.input_block(
            ids.PROPOSE_HOST_SELECT, t("visits.form.host"), host_select, hint=t("visits.form.host_hint")
        ),
        _stops_block(t),
        b.input_block(
            ids.PROPOSE_LEARN, t("visits.form.learn"), _text_input(ids.PROPOSE_LEARN, multiline=True)
        ),
        *date_inputs(t),
        _length_block(t, length),
        b.input_block(
            ids.PROPOSE_TRAVEL,
            t("visits.form.travel"),
            {
                "type": "radio_buttons",
                "action_id": ids.PROPOSE_TRAVEL,
                "options": [b.option(t(f"visits.travel.{k}"), k) for k in TRAVEL_MODES],
            },
        ),
        b.input_block(
            ids.PROPOSE_KM,
            t("visits.form.km"),
            _text_input(ids.PROPOSE_KM, max_length=10),
            optional=True,
            hint=t("visits.form.km_hint"),
        ),
        b.input_block(
            ids.PROPOSE_TICKETS,
            t("visits.form.tickets"),
            _text_input(ids.PROPOSE_TICKETS, max_length=12),
            optional=True,
        ),
        *([accommodation_block(t)] if costs.nights_of(length) else []),
        b.context(t("visits.form.per_diem")),
        b.input_block(
            ids.PROPOSE_SUPERVISOR,
            t("visits.form.supervisor"),
            {"type": "users_select", "action_id": ids.PROPOSE_SUPERVISOR},
            hint=t("visits.form.supervisor_hint"),
        ),
        _colleagues_block(t),
        b.input_block(
            ids.PROPOSE_NOTE,
            t("visits.form.note"),
            _text_input(ids.PROPOSE_NOTE, multiline=True),
            optional=True,
        ),
    ]
    return b.modal(
        ids.PROPOSE_VIEW,
        t("visits.form.title"),
        blocks,
        submit=t("visits.form.submit"),
        close=t("common.cancel"),
    )


def proposal_sent(t: Translator, card: VisitCard) -> dict[str, Any]:
    text = t("visits.form.sent", host=b.escape(card.host_library_name), supervisor=f"<@{card.supervisor_id}>")
    return b.modal(ids.PROPOSE_SENT_VIEW, t("visits.form.title"), [b.section(text)], close=t("common.close"))


def _metadata(card: VisitCard, party: str) -> str:
    return json.dumps({"visit": card.id, "round": card.round, "party": party})


def decline_modal(t: Translator, card: VisitCard, party: str) -> dict[str, Any]:
    blocks = [
        b.section(
            t(
                "visits.decline.intro",
                topic=b.escape(card.topic(t.lang)),
                host=b.escape(card.host_library_name),
            )
        ),
        b.input_block(
            ids.DECLINE_REASON,
            t("visits.decline.reason"),
            _text_input(ids.DECLINE_REASON, multiline=True, max_length=1000),
            hint=t("visits.decline.hint"),
        ),
    ]
    return b.modal(
        ids.DECLINE_VIEW,
        t("visits.decline.title"),
        blocks,
        submit=t("visits.decline.submit"),
        close=t("common.cancel"),
        private_metadata=_metadata(card, party),
    )


def counter_modal(t: Translator, card: VisitCard) -> dict[str, Any]:
    blocks = [
        b.section(t("visits.counter.intro", visitor=f"<@{card.visitor_id}>")),
        *date_inputs(t),
        b.input_block(
            ids.DECLINE_REASON,
            t("visits.counter.note"),
            _text_input(ids.DECLINE_REASON, multiline=True, max_length=1000),
            optional=True,
        ),
    ]
    return b.modal(
        ids.COUNTER_VIEW,
        t("visits.counter.title"),
        blocks,
        submit=t("visits.counter.submit"),
        close=t("common.cancel"),
        private_metadata=_metadata(card, "host"),
    )


def redate_modal(t: Translator, card: VisitCard) -> dict[str, Any]:
    """New dates for a visit whose dates lapsed (passed, or the host closed them), or that the
    host has not answered (the new dates replace the old)."""
    intro = "visits.redate.intro" if card.host_state == PartyState.LAPSED else "visits.redate.intro_waiting"
    blocks = [
        b.section(t(intro, host=b.escape(card.host_library_name))),
        *date_inputs(t),
    ]
    return b.modal(
        ids.REDATE_VIEW,
        t("visits.redate.title"),
        blocks,
        submit=t("visits.redate.submit"),
        close=t("common.cancel"),
        private_metadata=_metadata(card, "visitor"),
    )


def forward_modal(t: Translator, card: VisitCard, choices: Sequence[HostChoice]) -> dict[str, Any]:
    """Send an unanswered request on to another library that offers the topic (the nearest,
    best-placed first), with the trip's kilometres to check."""
    options = [
        b.option(c.name, str(c.library_id), t("visits.forward.km", km=round(c.distance_km)))
        for c in choices[:100]
    ]
    blocks = [
        b.section(t("visits.forward.intro", host=b.escape(card.host_library_name))),
        b.input_block(
            ids.FORWARD_HOST,
            t("visits.forward.host"),
            {
                "type": "static_select",
                "action_id": ids.FORWARD_HOST,
                "options": options,
                "initial_option": options[0],
            },
        ),
        b.input_block(
            ids.PROPOSE_KM,
            t("visits.form.km"),
            dict(_text_input(ids.PROPOSE_KM, max_length=10), initial_value=str(card.cost.km)),
            hint=t("visits.forward.km_hint"),
        ),
        b.context(t("visits.forward.hint")),
    ]
    return b.modal(
        ids.FORWARD_VIEW,
        t("visits.forward.title"),
        blocks,
        submit=t("visits.forward.submit"),
        close=t("common.cancel"),
        private_metadata=_metadata(card, "host"),
    )


def move_modal(t: Translator, card: VisitCard) -> dict[str, Any]:
    blocks = [
        b.section(t("visits.move.intro")),
        b.input_block(
            f"{ids.PROPOSE_DATE}_1", t("visits.move.date"), _date_picker(f"{ids.PROPOSE_DATE}_1", t)
        ),
        b.input_block(
            ids.PROPOSE_KM,
            t("visits.form.km"),
            dict(_text_input(ids.PROPOSE_KM, max_length=10), initial_value=str(card.cost.km)),
            optional=True,
        ),
        b.input_block(
            ids.PROPOSE_TICKETS,
            t("visits.form.tickets"),
            dict(_text_input(ids.PROPOSE_TICKETS, max_length=12), initial_value=str(card.cost.ticket_price)),
            optional=True,
        ),
        *([accommodation_block(t, str(card.cost.night_price))] if card.cost.nights else []),
        b.context(t("visits.move.hint")),
    ]
    return b.modal(
        ids.MOVE_VIEW,
        t("visits.move.title"),
        blocks,
        submit=t("visits.move.submit"),
        close=t("common.cancel"),
        private_metadata=_metadata(card, "visitor"),
    )
