"""One generic, pure renderer from the Slack views (Block Kit dicts, bot/views) to Adaptive Cards 1.5.

- `message_card` (here): a Slack message ({"text", "blocks"}) → the card Teams receives (camelCase JSON),
  from the text (teams/cards/mrkdwn.py) and the elements (teams/cards/elements.py), fitted into Teams' 28 KB
  (teams/cards/fitting.py).
- `dialog_card` / `dialog_title` / `view_state`: a Slack modal ↔ a Teams dialog (teams/cards/dialog.py),
  re-exported here for the callers that import them from this module.

Everything here is a pure function of its arguments; unknown or malformed blocks are skipped, never raised on.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from microsoft_teams.cards import AdaptiveCard, TextBlock

from teams.cards.common import CARD_VERSION, card_json
from teams.cards.dialog import dialog_card, dialog_title, view_state
from teams.cards.elements import blocks_body, compact
from teams.cards.fitting import fit_card
from teams.cards.mrkdwn import dict_of, list_of, mrkdwn_text, str_of

__all__ = ["dialog_card", "dialog_title", "message_card", "mrkdwn_text", "view_state"]


def message_card(
    message: Mapping[str, Any],
    *,
    lang: str,
    names: Mapping[str, str] | None = None,
    dialogs: Collection[str] = (),
) -> dict[str, Any]:
    """A Slack message dict (bot/views) → the Adaptive Card 1.5 JSON Teams receives."""
    message = dict_of(message)
    body = compact(blocks_body(list_of(message.get("blocks")), names, dialogs, in_dialog=False))
    fallback = mrkdwn_text(str_of(message.get("text")), names).replace("**", "")  # plain: no markdown there
    if not body and fallback:
        body = [TextBlock(text=fallback, wrap=True)]
    card = AdaptiveCard(version=CARD_VERSION, lang=lang, body=body, fallback_text=fallback or None)
    return fit_card(card_json(card), dialog=False)
