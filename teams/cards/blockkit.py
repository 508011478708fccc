"""One generic, pure renderer from the Slack views (Block Kit dicts, bot/views) to Adaptive Cards 1.5.

- `message_card`: a Slack message ({"text", "blocks"}) → the card Teams receives (camelCase JSON).
- `dialog_card` / `dialog_title`: a Slack modal → the card shown in a Teams dialog (task module), with the
  values typed last time kept and the errors shown under their inputs (Teams has no `response_action: errors`).
- `view_state`: the flat data Teams posts on submit → a Slack-shaped view, so that the Slack parsers
  (which read `view["state"]["values"]`) read a Teams submission unchanged.

Everything here is a pure function of its arguments; unknown or malformed blocks are skipped, never raised on.
"""

from __future__ import annotations

import copy
import html
import math
import re
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from datetime import date
from typing import Any

from microsoft_teams.cards import (
    ActionSet,
    AdaptiveCard,
    Choice,
    ChoiceSetInput,
    Column,
    ColumnSet,
    DateInput,
    ExecuteAction,
    Fact,
    FactSet,
    Image,
    NumberInput,
    OpenUrlAction,
    SubmitAction,
    TextBlock,
    TextInput,
)

from teams.cards.common import CARD_VERSION, card_json
from teams.cards.limits import MAX_CARD_BYTES, card_bytes

MAX_ACTIONS_PER_SET = 6
TEXT_MAX = 3000  # Slack's longest input (plain_text_input max_length): the clip for every posted value
MISSING = "–"  # shown for a person or channel the caller gave no name for (never the raw id)

# The shortcodes the catalogues use (bot/i18n/locales), plus a few common ones; any other is removed.
EMOJI: dict[str, str] = {
    "warning": "⚠️",
    "white_check_mark": "✅",
    "heavy_check_mark": "✔️",
    "x": "❌",
    "calendar": "📅",
    "date": "📅",
    "spiral_calendar_pad": "🗓️",
    "books": "📚",
    "book": "📖",
    "bulb": "💡",
    "bell": "🔔",
    "hourglass": "⌛",
    "hourglass_flowing_sand": "⏳",
    "information_source": "ℹ️",
    "tada": "🎉",
    "wave": "👋",
    "memo": "📝",
    "pencil": "📝",
    "car": "🚗",
    "train": "🚆",
    "bus": "🚌",
    "money_with_wings": "💸",
    "moneybag": "💰",
    "clock": "🕒",
    "email": "📧",
    "envelope": "✉️",
    "link": "🔗",
    "pushpin": "📌",
    "star": "⭐",
    "thumbsup": "👍",
    "+1": "👍",
    "no_entry": "⛔",
    "red_circle": "🔴",
    "large_green_circle": "🟢",
    "arrow_right": "➡️",
}

_ANGLE = re.compile(r"<([^<>\n]*)>")
_EMOJI = re.compile(r"(?<![\w:]):([a-z][a-z0-9_+\-]*|\+1):(?![\w:])")
_BOLD = re.compile(r"(?<![\w*])\*(?!\s)([^*\n]+?)(?<!\s)\*(?![\w*])")
_STRIKE = re.compile(r"(?<![\w~])~(?!\s)([^~\n]+?)(?<!\s)~(?![\w~])")
_LONE_NEWLINE = re.compile(r"(?<!\n)\n(?!\n)(?![ \t]*(?:[-*+]|\d+\.)[ \t])")
_USER = re.compile(r"^@([UWTB][A-Za-z0-9]+)(?:\|[^>]*)?$")
_CHANNEL = re.compile(r"^#([CGD][A-Za-z0-9]+)(?:\|([^>]*))?$")


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _dict(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list | tuple) else []


# --- mrkdwn → Adaptive Card markdown -----------------------------------------------------------------


def mrkdwn_text(text: str, names: Mapping[str, str] | None = None) -> str:
    """Slack mrkdwn (bot/views) as TextBlock markdown: bold, links, mentions, dates, emoji, entities.

    Strikethrough (`~s~`) has no Adaptive Card markdown: its marks are dropped and the text kept.
    """
    if not isinstance(text, str) or not text:
        return ""
    names = names or {}

    def angle(match: re.Match[str]) -> str:
        inner = match.group(1)
        user = _USER.match(inner)
        if user:
            return names.get(user.group(1), MISSING)
        channel = _CHANNEL.match(inner)
        if channel:
            return "#" + (names.get(channel.group(1)) or channel.group(2) or MISSING)
        if inner.startswith("!date^"):
            return inner.partition("|")[2] if "|" in inner else ""
        if inner.startswith("!"):  # <!channel>, <!here>, <!subteam^…>: never a broadcast on Teams
            return inner.partition("|")[2]
        url, _, label = inner.partition("|")
        if url.startswith(("http://", "https://", "mailto:")):
            return f"[{label}]({url})" if label else url
        return match.group(0)

    # Markdown link syntax typed by a person is plain text on Slack: keep it so (no link on Teams either)
    text = text.replace("](", "] (")
    text = _ANGLE.sub(angle, text)
    text = _BOLD.sub(r"**\1**", text)
    text = _STRIKE.sub(r"\1", text)
    text = _EMOJI.sub(lambda m: EMOJI.get(m.group(1), ""), text)
    return _line_breaks(html.unescape(text))


def _line_breaks(text: str) -> str:
    """Slack breaks a line at every newline; a Teams TextBlock only at a blank line, or between the items
    of a Markdown list (Microsoft's "Format cards in Teams"): so a lone newline becomes a blank line,
    unless the next line is a list item."""
    return _LONE_NEWLINE.sub("\n\n", text)


def _text_of(obj: Any, names: Mapping[str, str] | None) -> str:
    """A Slack text object (plain_text or mrkdwn) as card markdown."""
    obj = _dict(obj)
    text = _str(obj.get("text"))
    if obj.get("type") == "plain_text":
        return _line_breaks(_EMOJI.sub(lambda m: EMOJI.get(m.group(1), ""), text))
    return mrkdwn_text(text, names)


def _plain_of(obj: Any) -> str:
    """A label or button title (no markdown in Teams there): the plain text, entities unescaped."""
    text = _str(_dict(obj).get("text"))
    return html.unescape(_EMOJI.sub(lambda m: EMOJI.get(m.group(1), ""), text))


# --- buttons and actions --------------------------------------------------------------------------------


def _button(element: Mapping[str, Any], dialogs: Collection[str]) -> Any | None:
    # Slack's `style` is dropped (Teams does not support positive/destructive styling), and so is a
    # `confirm` object: Adaptive Cards have no confirmation step; the handlers re-check the state anyway.
    title = _plain_of(element.get("text")) or "…"
    url = _str(element.get("url"))
    if url:
        return OpenUrlAction(title=title, url=url)
    action_id = _str(element.get("action_id"))
    if not action_id:
        return None
    value = _str(element.get("value"))
    if action_id in dialogs:
        return SubmitAction(
            title=title, data={"msteams": {"type": "task/fetch"}, "action_id": action_id, "value": value}
        )
    return ExecuteAction(title=title, verb=action_id, data={"action_id": action_id, "value": value})


def _option_actions(element: Mapping[str, Any], dialogs: Collection[str]) -> list[Any]:
    """A static_select or overflow in an actions block: one action per option."""
    action_id = _str(element.get("action_id"))
    if not action_id:
        return []
    found = []
    for option in _options_of(element):
        button = {"text": option.get("text"), "action_id": action_id, "value": option.get("value")}
        if option.get("url"):
            button["url"] = option["url"]
        action = _button(button, dialogs)
        if action is not None:
            found.append(action)
    return found


def _options_of(element: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    options = [_dict(o) for o in _list(element.get("options"))]
    for group in _list(element.get("option_groups")):
        options.extend(_dict(o) for o in _list(_dict(group).get("options")))
    return [o for o in options if isinstance(o.get("value"), str)]


def _action_sets(actions: list[Any]) -> list[ActionSet]:
    return [
        ActionSet(actions=actions[i : i + MAX_ACTIONS_PER_SET])
        for i in range(0, len(actions), MAX_ACTIONS_PER_SET)
    ]


# --- blocks → card elements -------------------------------------------------------------------------


def _is_fact(text: str) -> bool:
    head, newline, _ = text.partition("\n")
    return bool(newline) and len(head) > 2 and head.startswith("*") and head.endswith("*")


def _fields(fields: list[Any], names: Mapping[str, str] | None) -> list[Any]:
    texts = [_str(_dict(f).get("text")) for f in fields]
    texts = [t for t in texts if t]
    if not texts:
        return []
    if all(_is_fact(t) for t in texts):
        facts = []
        for t in texts:
            head, _, value = t.partition("\n")
            facts.append(
                Fact(title=mrkdwn_text(head[1:-1], names), value=mrkdwn_text(value, names) or MISSING)
            )
        return [FactSet(facts=facts)]
    columns = [
        Column(width="stretch", items=[TextBlock(text=mrkdwn_text(t, names), wrap=True)]) for t in texts
    ]
    return [ColumnSet(columns=columns[i : i + 2]) for i in range(0, len(columns), 2)]


def _block_elements(
    block: Mapping[str, Any], names: Mapping[str, str] | None, dialogs: Collection[str], *, in_dialog: bool
) -> list[Any]:
    kind = block.get("type")
    if kind == "header":
        text = _plain_of(block.get("text"))
        return [TextBlock(text=text, weight="Bolder", size="Medium", wrap=True)] if text else []
    if kind == "section":
        found: list[Any] = []
        text = _text_of(block.get("text"), names)
        if text:
            found.append(TextBlock(text=text, wrap=True))
        found.extend(_fields(_list(block.get("fields")), names))
        accessory = _dict(block.get("accessory"))
        if not in_dialog and accessory.get("type") == "button":
            action = _button(accessory, dialogs)
            if action is not None:
                found.append(ActionSet(actions=[action]))
        elif not in_dialog and accessory.get("type") == "image" and accessory.get("image_url"):
            found.append(
                Image(url=_str(accessory.get("image_url")), alt_text=_str(accessory.get("alt_text")))
            )
        return found
    if kind == "context":
        parts = []
        for element in _list(block.get("elements")):
            element = _dict(element)
            if element.get("type") in ("mrkdwn", "plain_text"):
                parts.append(_text_of(element, names))
        text = "  ".join(p for p in parts if p)
        return [TextBlock(text=text, wrap=True, size="Small", is_subtle=True)] if text else []
    if kind == "image":
        url = _str(block.get("image_url"))
        return [Image(url=url, alt_text=_str(block.get("alt_text")))] if url else []
    if kind == "actions" and not in_dialog:
        actions: list[Any] = []
        for element in _list(block.get("elements")):
            element = _dict(element)
            if element.get("type") == "button":
                action = _button(element, dialogs)
                if action is not None:
                    actions.append(action)
            elif element.get("type") in ("static_select", "overflow"):
                actions.extend(_option_actions(element, dialogs))
        return _action_sets(actions)
    return []


def _compact(elements: list[Any]) -> list[Any]:
    """Merge consecutive plain TextBlocks (same look, no separator) into one: a smaller card."""
    merged: list[Any] = []
    for element in elements:
        last = merged[-1] if merged else None
        if (
            isinstance(element, TextBlock)
            and isinstance(last, TextBlock)
            and _plain_look(element)
            and _plain_look(last)
            and not element.separator
        ):
            last.text = f"{last.text}\n\n{element.text}"
            continue
        merged.append(element)
    return merged


def _plain_look(block: TextBlock) -> bool:
    return block.weight is None and block.size is None and block.is_subtle is None and block.color is None


def _body(
    blocks: Iterable[Any], names: Mapping[str, str] | None, dialogs: Collection[str], *, in_dialog: bool
) -> list[Any]:
    body: list[Any] = []
    separate = False
    for block in blocks:
        block = _dict(block)
        if block.get("type") == "divider":
            separate = bool(body)
            continue
        elements = _block_elements(block, names, dialogs, in_dialog=in_dialog)
        if elements and separate:
            elements[0].separator = True
            separate = False
        body.extend(elements)
    return body


def message_card(
    message: Mapping[str, Any],
    *,
    lang: str,
    names: Mapping[str, str] | None = None,
    dialogs: Collection[str] = (),
) -> dict[str, Any]:
    """A Slack message dict (bot/views) → the Adaptive Card 1.5 JSON Teams receives."""
    message = _dict(message)
    body = _compact(_body(_list(message.get("blocks")), names, dialogs, in_dialog=False))
    fallback = mrkdwn_text(_str(message.get("text")), names).replace("**", "")  # plain: no markdown there
    if not body and fallback:
        body = [TextBlock(text=fallback, wrap=True)]
    card = AdaptiveCard(version=CARD_VERSION, lang=lang, body=body, fallback_text=fallback or None)
    return _fit(card_json(card), dialog=False)


# --- modals → dialogs -----------------------------------------------------------------------------------


def dialog_title(modal: Mapping[str, Any]) -> str:
    """The modal's title, for the Teams dialog's own title bar."""
    return _plain_of(_dict(modal).get("title"))


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
    block_id = _str(block.get("block_id"))
    element = _dict(block.get("element"))
    kind = element.get("type")
    action_id = _str(element.get("action_id"))
    common: dict[str, Any] = {
        "id": block_id,
        "label": _plain_of(block.get("label")) or None,
        "is_required": not block.get("optional", False),
    }
    placeholder = _plain_of(element.get("placeholder")) or None
    if kind == "plain_text_input":
        max_length = element.get("max_length")
        initial = value if value is not None else _str(element.get("initial_value")) or None
        return TextInput(
            **common,
            is_multiline=True if element.get("multiline") else None,
            max_length=max_length if isinstance(max_length, int) else None,
            placeholder=placeholder,
            value=initial,
        )
    if kind == "number_input":
        initial = value if value is not None else _str(element.get("initial_value"))
        number = _number(initial)
        bounds = [_number(element.get(key)) for key in ("min_value", "max_value")]
        return NumberInput(**common, placeholder=placeholder, value=number, min=bounds[0], max=bounds[1])
    if kind == "datepicker":
        initial = value if value is not None else _str(element.get("initial_date"))
        return DateInput(**common, placeholder=placeholder, value=_iso_date(initial))
    if kind in ("static_select", "radio_buttons", "multi_static_select", "checkboxes"):
        multi = kind in ("multi_static_select", "checkboxes")
        listed = [Choice(title=_plain_of(o.get("text")), value=o["value"]) for o in _options_of(element)]
        if value is None:
            if multi:
                initial_options = [_dict(o).get("value") for o in _list(element.get("initial_options"))]
                value = ",".join(v for v in initial_options if isinstance(v, str)) or None
            else:
                value = _str(_dict(element.get("initial_option")).get("value")) or None
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
                initial_options = [_dict(o).get("value") for o in _list(element.get("initial_options"))]
                value = ",".join(v for v in initial_options if isinstance(v, str)) or None
            else:
                value = _str(_dict(element.get("initial_option")).get("value")) or None
        listed = _choices(choices.get(action_id, ()))
        known = {c.value for c in listed}
        # an initial option the caller gave no choices for is still offered, so that it stays chosen
        for option in [element.get("initial_option"), *_list(element.get("initial_options"))]:
            option = _dict(option)
            if isinstance(option.get("value"), str) and option["value"] not in known:
                listed.append(
                    Choice(title=_plain_of(option.get("text")) or option["value"], value=option["value"])
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
                value = ",".join(u for u in _list(element.get("initial_users")) if isinstance(u, str)) or None
            else:
                value = _str(element.get("initial_user")) or None
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
        known = {o["value"] for o in _options_of(element)}
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
    modal = _dict(modal)
    values = values or {}
    errors = errors or {}
    choices = choices or {}
    body: list[Any] = []
    shown: set[str] = set()
    separate = False
    for block in _list(modal.get("blocks")):
        block = _dict(block)
        if block.get("type") == "divider":
            separate = bool(body)
            continue
        if block.get("type") == "input":
            block_id = _str(block.get("block_id"))
            value = _kept(_dict(block.get("element")), values.get(block_id))
            element = _input(block, value, choices, people) if block_id else None
            elements: list[Any] = [element] if element is not None else []
            if element is not None and isinstance(errors.get(block_id), str):  # right under its input
                elements.append(
                    TextBlock(text=errors[block_id], wrap=True, color="Attention", spacing="None")
                )
                shown.add(block_id)
            hint = _plain_of(block.get("hint"))
            if element is not None and hint:
                elements.append(TextBlock(text=hint, wrap=True, size="Small", is_subtle=True, spacing="None"))
        else:
            elements = _block_elements(block, names, (), in_dialog=True)
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
            "callback_id": _str(modal.get("callback_id")),
            "private_metadata": _str(modal.get("private_metadata")),
        }
        actions = [SubmitAction(title=_plain_of(modal.get("submit")), data=data)]
    card = AdaptiveCard(version=CARD_VERSION, lang=lang, body=_compact(top + body), actions=actions)
    return _fit(card_json(card), dialog=True)


# --- fitting a card into Teams' 28 KB -------------------------------------------------------------------
#
# A Slack message may hold 50 sections of 3000 characters (150 000 characters), and a modal 100 blocks:
# far more than the 28 KB a Teams card can safely be. The views at their largest (tests/teams/test_parity.py)
# do not fit as they are, so a card over the budget is shrunk, the least useful part first:
#   1. (dialogs) the choices the caller gave a search-backed select (external or people), evenly, always
#      keeping the chosen ones: the rest stay findable on Slack's side by search, and on Teams' by a later
#      dynamic typeahead (Data.Query, not wired yet);
#   2. the longest texts, evenly, each cut with an ellipsis (never below MIN_TEXT characters);
#   3. (dialogs) the options of static selects, evenly, keeping the chosen ones.
# A card within the budget is never changed.

MIN_TEXT = 80


def _nodes(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _nodes(value)
    elif isinstance(node, list):
        for value in node:
            yield from _nodes(value)


def _cut(text: str, cap: int) -> str:
    return text if len(text) <= cap else text[: cap - 1].rstrip() + "…"


def _clip_texts(card: dict[str, Any], cap: int) -> None:
    for node in _nodes(card):
        if node.get("type") == "TextBlock" and isinstance(node.get("text"), str):
            node["text"] = _cut(node["text"], cap)
        for fact in node.get("facts") or [] if node.get("type") == "FactSet" else []:
            if isinstance(fact.get("value"), str):
                fact["value"] = _cut(fact["value"], cap)


def _trim_choices(card: dict[str, Any], cap: int, *, filtered: bool) -> None:
    for node in _nodes(card):
        if node.get("type") != "Input.ChoiceSet" or (node.get("style") == "filtered") != filtered:
            continue
        chosen = set(str(node.get("value") or "").split(","))
        choices = node.get("choices") or []
        if len(choices) > cap:
            kept = [c for c in choices if c.get("value") in chosen]
            kept += [c for c in choices if c.get("value") not in chosen][: max(0, cap - len(kept))]
            node["choices"] = [c for c in choices if c in kept]


def _longest(card: dict[str, Any], what: str) -> int:
    found = [0]
    for node in _nodes(card):
        if what == "text" and node.get("type") == "TextBlock":
            found.append(len(str(node.get("text") or "")))
        if what == "text" and node.get("type") == "FactSet":
            found += [len(str(f.get("value") or "")) for f in node.get("facts") or []]
        if what == "choices" and node.get("type") == "Input.ChoiceSet":
            found.append(len(node.get("choices") or []))
    return max(found)


def _shrink(
    card: dict[str, Any], apply: Callable[[dict[str, Any], int], None], low: int, high: int
) -> dict[str, Any]:
    """The card with `apply` at the largest cap in [low, high] that fits the budget (or at `low`)."""
    best = copy.deepcopy(card)
    apply(best, low)
    if card_bytes(best) > MAX_CARD_BYTES:
        return best
    while low < high:
        middle = (low + high + 1) // 2
        tried = copy.deepcopy(card)
        apply(tried, middle)
        if card_bytes(tried) <= MAX_CARD_BYTES:
            low, best = middle, tried
        else:
            high = middle - 1
    return best


def _fit(card: dict[str, Any], *, dialog: bool) -> dict[str, Any]:
    if card_bytes(card) <= MAX_CARD_BYTES:
        return card
    steps: list[tuple[Callable[[dict[str, Any], int], None], str, int]] = []
    if dialog:
        steps.append((lambda c, cap: _trim_choices(c, cap, filtered=True), "choices", 0))
    steps.append((_clip_texts, "text", MIN_TEXT))
    if dialog:
        steps.append((lambda c, cap: _trim_choices(c, cap, filtered=False), "choices", 0))
    for apply, what, low in steps:
        high = _longest(card, what)
        if high > low:
            card = _shrink(card, apply, low, high)
        if card_bytes(card) <= MAX_CARD_BYTES:
            break
    return card


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
    kind = _str(element.get("type"))
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
    modal = _dict(modal)
    data = _dict(data)
    values: dict[str, dict[str, Any]] = {}
    for block in _list(modal.get("blocks")):
        block = _dict(block)
        block_id = _str(block.get("block_id"))
        element = _dict(block.get("element"))
        action_id = _str(element.get("action_id"))
        if block.get("type") != "input" or not block_id or not action_id:
            continue
        state = _element_state(element, data.get(block_id))
        if state is not None:
            values.setdefault(block_id, {})[action_id] = state
    metadata = data.get("private_metadata")
    return {
        "callback_id": _str(modal.get("callback_id")),
        "private_metadata": metadata[:TEXT_MAX]
        if isinstance(metadata, str) and metadata
        else _str(modal.get("private_metadata")),
        "state": {"values": values},
    }
