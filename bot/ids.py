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

# Visits (issue 4) -----------------------------------------------------------------------------
PROPOSE_VIEW = "propose_visit"
PROPOSE_TOPIC = "propose_topic"
PROPOSE_HOST_SELECT = "propose_host_library"
PROPOSE_LEARN = "propose_learn"
PROPOSE_DATE = "propose_date"  # + "_1", "_2", "_3"
PROPOSE_LENGTH = "propose_length"
PROPOSE_TRAVEL = "propose_travel"
PROPOSE_KM = "propose_km"
PROPOSE_TICKETS = "propose_tickets"
PROPOSE_ACCOMMODATION = "propose_accommodation"
PROPOSE_SUPERVISOR = "propose_supervisor"
PROPOSE_NOTE = "propose_note"
PROPOSE_SENT_VIEW = "propose_sent"
# Decision buttons; values "visit_id:round" (host accept / visitor pick: "visit_id:round:date_id")
SUPERVISOR_APPROVE = "visit_supervisor_approve"
SUPERVISOR_DECLINE = "visit_supervisor_decline"
HOST_ACCEPT = "visit_host_accept"  # + "_<n>" per candidate date
HOST_COUNTER = "visit_host_counter"
HOST_DECLINE = "visit_host_decline"
FUNDING_APPROVE = "visit_funding_approve"
FUNDING_DECLINE = "visit_funding_decline"
VISITOR_PICK = "visit_visitor_pick"  # + "_<n>" per host date
VISIT_CANCEL = "visit_cancel"
VISIT_MOVE = "visit_move"
DECLINE_VIEW = "visit_decline"
DECLINE_REASON = "visit_decline_reason"
COUNTER_VIEW = "visit_counter"
MOVE_VIEW = "visit_move_form"
MINE_PAGE = "mine_page"
HOME_PAGE = "home_visits_page"
