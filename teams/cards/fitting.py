"""Fitting a card into Teams' 28 KB (teams/cards/limits.py), the least useful part shrunk first.

A Slack message may hold 50 sections of 3000 characters (150 000 characters), and a modal 100 blocks:
far more than the 28 KB a Teams card can safely be. The views at their largest (tests/teams/test_parity.py)
do not fit as they are, so a card over the budget is shrunk, the least useful part first:
  1. (dialogs) the choices the caller gave a search-backed select (external or people), evenly, always
     keeping the chosen ones: the rest stay findable on Slack's side by search, and on Teams' by a later
     dynamic typeahead (Data.Query, not wired yet);
  2. the longest texts, evenly, each cut with an ellipsis (never below MIN_TEXT characters);
  3. (dialogs) the options of static selects, evenly, keeping the chosen ones.
A card within the budget is never changed.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from typing import Any

from teams.cards.limits import MAX_CARD_BYTES, card_bytes

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


def fit_card(card: dict[str, Any], *, dialog: bool) -> dict[str, Any]:
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
