"""Every action_id, callback_id and block_id the bot uses, in one place."""

from __future__ import annotations

# Actions (buttons, selects) ------------------------------------------------------------------
OPEN_SETTINGS = "open_settings"
OPEN_PROPOSE = "open_propose"
OPEN_FIND = "open_find"
OPEN_OFFER = "open_offer"
OPEN_MINE = "open_mine"
OPEN_IDEAS = "open_ideas"
OPEN_HELP = "open_help"
# "Propose a visit to this host for this topic" (from `etsi` results); value: {"library": id, "topic": id}
PROPOSE_HOST = "propose_host"

# Modals -------------------------------------------------------------------------------------
SETTINGS_VIEW = "settings"
ERROR_VIEW = "error"

# Blocks and their elements in the settings modal (block_id == action_id keeps it simple)
HOME_LIBRARY = "home_library"
LANGUAGE = "language"
LANGUAGE_AUTO = "auto"

# App Home -----------------------------------------------------------------------------------
HOME_VIEW = "home"
