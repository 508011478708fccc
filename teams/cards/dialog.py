"""A Slack modal (bot/views) ↔ a Teams dialog (task module).

- `dialog_card` / `dialog_title`: the modal → the card shown in the dialog, with the values typed last time
  kept and the errors shown under their inputs (Teams has no `response_action: errors`).
- `view_state`: the flat data Teams posts on submit → a Slack-shaped view, so that the Slack parsers
  (which read `view["state"]["values"]`) read a Teams submission unchanged.

Pure functions; unknown or malformed blocks are skipped, never raised on.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import Any

from microsoft_teams.cards import (
    AdaptiveCard,
    Choice,
    ChoiceSetInput,
    DateInput,
    NumberInput,
    SubmitAction,
    TextBlock,
    TextInput,
)

from teams.cards.common import CARD_VERSION, card_json
from teams.cards.elements import block_elements, compact, options_of
from teams.cards.fitting import fit_card
from teams.cards.mrkdwn import dict_of, list_of, plain_of, str_of

TEXT_MAX = 3000  # Slack's longest input (plain_text_input max_length): the clip for every posted value


def dialog_title(modal: Mapping[str, Any]) -> str:
    """The modal's title, for the Teams dialog's own title bar."""
    return plain_of(dict_of(modal).get("title"))


def _choices(pairs: Iterable[Any]) -> list[Choice]:
    found = []
    for pair in pairs:
        if isinstance(pair, tuple | list) and len(pair) == 2:
            value, title = pair
            found.append(Choice(title=str(title), value=str(value)))
    return found


def _input(
    block: Mapping[str, Any],
    value: str | None,
    choices: Mapping[str, Sequence[tuple[str, str]]],
    people: Sequence[tuple[str, str]],
) -> Any | None:
    block_id = str_of(block.get("block_id"))
    element = dict_of(block.get("element"))
    kind = element.get("type")
    action_id = str_of(element.get("action_id"))
    common: dict[str, Any] = {
        "id": block_id,
        "label": plain_of(block.get("label")) or None,
        "is_required": not block.get("optional", False),
    }
    placeholder = plain_of(element.get("placeholder")) or None
    if kind == "plain_text_input":
        max_length = element.get("max_length")
        initial = value if value is not None else str_of(element.get("initial_value")) or None
        return TextInput(
            **common,
            is_multiline=True if element.get("multiline") else None,
            max_length=max_length if isinstance(max_length, int) else None,
            placeholder=placeholder,
            value=initial,
        )
    if kind == "number_input":
        initial = value if value is not None else str_of(element.get("initial_value"))
        number = _number(initial)
        bounds = [_number(element.get(key)) for key in ("min_value", "max_value")]
        return NumberInput(**common, placeholder=placeholder, value=number, min=bounds[0], max=bounds[1])
    if kind == "datepicker":
        initial = value if value is not None else str_of(element.get("initial_date"))
        return DateInput(**common, placeholder=placeholder, value=_iso_date(initial))
    if kind in ("static_select", "radio_buttons", "multi_static_select", "checkboxes"):
        multi = kind in ("multi_static_select", "checkboxes")
        listed = [Choice(title=plain_of(o.get("text")), value=o["value"]) for o in options_of(element)]
        if value is None:
            if multi:
                initial_options = [dict_of(o).get("value") for o in list_of(element.get("initial_options"))]
                value = ",".join(v for v in initial_options if isinstance(v, str)) or None
            else:
                value = str_of(dict_of(element.get("initial_option")).get("value")) or None
        expanded = kind in ("radio_buttons", "checkboxes")
        return ChoiceSetInput(
            **common,
            choices=listed,
            style="expanded" if expanded else "compact",
            is_multi_select=True if multi else None,
            placeholder=placeholder,
            value=value,
            wrap=True,
        )
    if kind in ("external_select", "multi_external_select"):
        multi = kind == "multi_external_select"
        if value is None:
            if multi:
                initial_options = [dict_of(o).get("value") for o in list_of(element.get("initial_options"))]
                value = ",".join(v for v in initial_options if isinstance(v, str)) or None
            else:
                value = str_of(dict_of(element.get("initial_option")).get("value")) or None
        listed = _choices(choices.get(action_id, ()))
        known = {c.value for c in listed}
        # an initial option the caller gave no choices for is still offered, so that it stays chosen
        for option in [element.get("initial_option"), *list_of(element.get("initial_options"))]:
            option = dict_of(option)
            if isinstance(option.get("value"), str) and option["value"] not in known:
                listed.append(
                    Choice(title=plain_of(option.get("text")) or option["value"], value=option["value"])
                )
                known.add(option["value"])
        return ChoiceSetInput(
            **common,
            choices=listed,
            style="filtered",
            is_multi_select=True if multi else None,
            placeholder=placeholder,
            value=value,
        )
    if kind in ("users_select", "multi_users_select"):
        multi = kind == "multi_users_select"
        if value is None:
            if multi:
                value = (
                    ",".join(u for u in list_of(element.get("initial_users")) if isinstance(u, str)) or None
                )
            else:
                value = str_of(element.get("initial_user")) or None
        return ChoiceSetInput(
            **common,
            choices=_choices(people),
            style="filtered",
            is_multi_select=True if multi else None,
            placeholder=placeholder,
            value=value,
        )
    return None


def _kept(element: Mapping[str, Any], raw: Any) -> str | None:
    """A value Teams sent last time, as the input shows it again (clipped; None when not a value)."""
    if raw is None or isinstance(raw, bool) or not isinstance(raw, str | int | float):
        return None
    kind = element.get("type")
    max_length = element.get("max_length")
    limit = max_length if isinstance(max_length, int) and 0 < max_length <= TEXT_MAX else TEXT_MAX
    text = str(raw)
    if kind in ("plain_text_input", "number_input"):
        return text[:limit]
    if kind == "datepicker":
        return _iso_date(text.strip()) or ""
    parts = [p.strip() for p in text.split(",") if p.strip()]
    if kind in ("static_select", "radio_buttons", "multi_static_select", "checkboxes"):
        known = {o["value"] for o in options_of(element)}
        parts = [p for p in parts if p in known]
    # a chosen value is at most an option value long (150), and at most 10 are chosen at once
    return ",".join(p[:150] for p in parts[:10])


def dialog_card(
    modal: Mapping[str, Any],
    *,
    lang: str,
    values: Mapping[str, Any] | None = None,
    errors: Mapping[str, str] | None = None,
    choices: Mapping[str, Sequence[tuple[str, str]]] | None = None,
    people: Sequence[tuple[str, str]] = (),
    names: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """A Slack modal → the Adaptive Card of a Teams dialog: inputs keyed by block id, errors under them."""
    modal = dict_of(modal)
    values = values or {}
    errors = errors or {}
    choices = choices or {}
    body: list[Any] = []
    shown: set[str] = set()
    separate = False
    for block in list_of(modal.get("blocks")):
        block = dict_of(block)
        if block.get("type") == "divider":
            separate = bool(body)
            continue
        if block.get("type") == "input":
            block_id = str_of(block.get("block_id"))
            value = _kept(dict_of(block.get("element")), values.get(block_id))
            element = _input(block, value, choices, people) if block_id else None
            elements: list[Any] = [element] if element is not None else []
            if element is not None and isinstance(errors.get(block_id), str):  # right under its input
                elements.append(
                    TextBlock(text=errors[block_id], wrap=True, color="Attention", spacing="None")
                )
                shown.add(block_id)
            hint = plain_of(block.get("hint"))
            if element is not None and hint:
                elements.append(TextBlock(text=hint, wrap=True, size="Small", is_subtle=True, spacing="None"))
        else:
            elements = block_elements(block, names, (), in_dialog=True)
        if elements and separate:
            elements[0].separator = True
            separate = False
        body.extend(elements)
    top = [
        TextBlock(text=message, wrap=True, color="Attention")
        for block_id, message in errors.items()
        if block_id not in shown and isinstance(message, str)
    ]
    actions: list[Any] | None = None
    if modal.get("submit"):
        data = {
            "callback_id": str_of(modal.get("callback_id")),
            "private_metadata": str_of(modal.get("private_metadata")),
        }
        actions = [SubmitAction(title=plain_of(modal.get("submit")), data=data)]
    card = AdaptiveCard(version=CARD_VERSION, lang=lang, body=compact(top + body), actions=actions)
    return fit_card(card_json(card), dialog=True)


# --- a Teams submission → Slack's view state ----------------------------------------------------------


def _number(value: Any) -> float | None:
    """A finite number, or None (no NaN or infinity reaches the card's JSON)."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _iso_date(value: Any) -> str | None:
    if not isinstance(value, str) or len(value) != 10:
        return None
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError:
        return None


def _posted(value: Any, limit: int) -> str:
    """A posted value as a clipped string ("" when missing or of a type Teams would not send)."""
    if isinstance(value, bool) or value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = str(int(value))  # Input.Number may post 12.0 for "12"
    elif isinstance(value, int | float):
        value = str(value)
    return value[:limit] if isinstance(value, str) else ""


def _element_state(element: Mapping[str, Any], raw: Any) -> dict[str, Any] | None:
    kind = str_of(element.get("type"))
    max_length = element.get("max_length")
    limit = max_length if isinstance(max_length, int) and 0 < max_length <= TEXT_MAX else TEXT_MAX
    text = _posted(raw, limit)
    values = [v for v in (part.strip() for part in _posted(raw, TEXT_MAX * 4).split(",")) if v]
    values = [v[:limit] for v in values]
    if kind in ("plain_text_input", "number_input"):
        return {"type": kind, "value": text or None}
    if kind in ("static_select", "external_select", "radio_buttons"):
        return {"type": kind, "selected_option": {"value": text.strip()} if text.strip() else None}
    if kind in ("multi_static_select", "multi_external_select", "checkboxes"):
        return {"type": kind, "selected_options": [{"value": v} for v in values]}
    if kind == "users_select":
        return {"type": kind, "selected_user": text.strip() or None}
    if kind == "multi_users_select":
        return {"type": kind, "selected_users": values}
    if kind == "datepicker":
        return {"type": kind, "selected_date": _iso_date(text.strip())}
    return None


def view_state(modal: Mapping[str, Any], data: Mapping[str, Any]) -> dict[str, Any]:
    """The flat data Teams posts on submit → a Slack-shaped submitted view ({"state": {"values": …}})."""
    modal = dict_of(modal)
    data = dict_of(data)
    values: dict[str, dict[str, Any]] = {}
    for block in list_of(modal.get("blocks")):
        block = dict_of(block)
        block_id = str_of(block.get("block_id"))
        element = dict_of(block.get("element"))
        action_id = str_of(element.get("action_id"))
        if block.get("type") != "input" or not block_id or not action_id:
            continue
        state = _element_state(element, data.get(block_id))
        if state is not None:
            values.setdefault(block_id, {})[action_id] = state
    metadata = data.get("private_metadata")
    return {
        "callback_id": str_of(modal.get("callback_id")),
        "private_metadata": metadata[:TEXT_MAX]
        if isinstance(metadata, str) and metadata
        else str_of(modal.get("private_metadata")),
        "state": {"values": values},
    }
