"""Adaptive Cards (1.5) for Teams: pure functions (service data, t) -> card, one module per
feature as bot/views has for Block Kit (`common`: the card basics and help)."""

from teams.cards.common import CARD_VERSION, card_json, help_card, help_lines, text_card

__all__ = ["CARD_VERSION", "card_json", "help_card", "help_lines", "text_card"]
