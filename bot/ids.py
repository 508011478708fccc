"""Every action_id, callback_id and block_id the bot uses, in one place."""

from __future__ import annotations

import re
from typing import TypeGuard

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
ASK_TIP = "ask_tip"  # after a decline: ask the coordinators who else could teach the topic

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
PROPOSE_COLLEAGUES = "propose_colleagues"
PROPOSE_COLLEAGUE_SUPERVISOR = "propose_colleague_supervisor"  # + "_" + the colleague's user id
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
VISIT_WITHDRAW = "visit_withdraw"  # a colleague leaves the trip alone
VISIT_REDATE = "visit_redate"  # new dates after the old ones lapsed
DECLINE_VIEW = "visit_decline"
DECLINE_REASON = "visit_decline_reason"
COUNTER_VIEW = "visit_counter"
MOVE_VIEW = "visit_move_form"
REDATE_VIEW = "visit_redate_form"
# A request's deadline passed: the visitor waits longer or sends it on (value: the reminder id).
DEADLINE_WAIT = "deadline_wait"
DEADLINE_FORWARD = "deadline_forward"
FORWARD_VIEW = "visit_forward_form"
FORWARD_HOST = "forward_host"
MINE_PAGE = "mine_page"
HOME_PAGE = "home_visits_page"
# Finding hosts, offers and the topic catalogue (issue 3) ------------------------------------
FIND_TOPIC = "find_topic"  # a topic button in an `etsi` answer; action_id + "_<n>", value: topic id
OPEN_TOPICS = "open_topics"  # coordinators: edit the topic catalogue
OFFER_VIEW = "offer"
OFFER_SAVED_VIEW = "offer_saved"
NEW_OFFER = "new_offer"
EDIT_OFFER = "edit_offer"  # value: offer id
OFFER_LIBRARY = "offer_library"
OFFER_TOPICS = "offer_topics"
OFFER_SUGGESTION = "offer_suggestion"
OFFER_DESCRIPTION = "offer_description"
OFFER_CONTACTS = "offer_contacts"
OFFER_CAPACITY = "offer_capacity"
OFFER_WEEKDAYS = "offer_weekdays"
OFFER_NOT_UNTIL = "offer_not_until"
OFFER_CLOSED = "offer_closed"
# A topic suggestion DM to coordinators; the block_id carries the suggestion id: "topic_suggestion:<id>"
SUGGESTION_BLOCK = "topic_suggestion"
SUGGESTION_APPROVE = (
    "suggestion_approve"  # static_select of categories, option value "<suggestion>:<category>"
)
SUGGESTION_MERGE = "suggestion_merge"  # external_select of topics
SUGGESTION_REJECT = "suggestion_reject"  # button, value: suggestion id
TOPICS_VIEW = "topics"
TOPIC_PICK = "topic_pick"
TOPIC_CATEGORY = "topic_category"
TOPIC_NAME_FI = "topic_name_fi"
TOPIC_NAME_SV = "topic_name_sv"
TOPIC_NAME_EN = "topic_name_en"
TOPIC_SYNONYMS = "topic_synonyms"
TOPIC_STATUS = "topic_status"

# Seams between features built side by side (each registered by the feature named) -------------
HAPPENED_YES = "visit_happened_yes"  # after the day: it happened; value: visit:round
HAPPENED_MOVED = "visit_happened_moved"  # it was moved: the move form
HAPPENED_NO = "visit_happened_no"  # it did not happen: the visit ends, its budget is released
WRITEUP_OPEN = "writeup_open"  # "write it up" on nags, status cards and App Home; value: visit id (write-ups)
REMINDER_SNOOZE = "reminder_snooze"  # "remind me in a week"; value: reminder id (reminders)
# "remind me on ..." (a datepicker on a write-up nag); its block id: SNOOZE_BLOCK + reminder id
REMINDER_SNOOZE_TO = "reminder_snooze_to"
SNOOZE_BLOCK = "snooze_"
REMINDER_AGAIN = "reminder_again"  # coordinators: nudge the stuck party again; value: reminder id (reminders)
HANDOVER_VIEW = "visit_handover"  # coordinators: hand a stuck supervisor's decision to another supervisor
HANDOVER_TO = "handover_to"
REMINDER_TAKE_OVER = "reminder_take_over"  # coordinators: take the stuck decision over; value: reminder id
INVOICE_RECEIVED = "invoice_received"  # coordinators: the travel invoice arrived; value: visit id (desk)
INVOICE_PAID = "invoice_paid"  # coordinators: the received travel invoice is paid; value: visit id (desk)
TICKETS_BOUGHT = (
    "tickets_bought"  # coordinators: tickets bought for a confirmed visit; value: visit id (desk)
)

# Substitutes (sijainen), on App Home (issue 19) --------------------------------------------
AWAY_OPEN = "away_open"  # "I'll be away": opens the form
AWAY_REMOVE = "away_remove"  # take a period back; value: its id
AWAY_VIEW = "away"  # the form
AWAY_FROM = "away_from"
AWAY_TO = "away_to"
AWAY_SUBSTITUTE = "away_substitute"

# Write-ups and the idea bank (issue 6) ---------------------------------------------------------
WRITEUP_VIEW = "writeup"  # the modal; private_metadata: {"visit": id}
WRITEUP_SAVED_VIEW = "writeup_saved"
WRITEUP_TITLE = "writeup_title"
WRITEUP_LEARNED = "writeup_learned"
WRITEUP_TRY = "writeup_try"
WRITEUP_TIPS = "writeup_tips"
WRITEUP_RECOMMEND = "writeup_recommend"
WRITEUP_LINK = "writeup_link"
WRITEUP_PUBLISH = "writeup_publish"
WRITEUP_HIDE = "writeup_hide"  # coordinators: open the hide form; value: write-up id
WRITEUP_HIDE_VIEW = "writeup_hide_form"  # private_metadata: {"writeup": id}
WRITEUP_HIDE_REASON = "writeup_hide_reason"
WRITEUP_PUBLISH_FOR = "writeup_publish_for"  # coordinators: publish on the author's behalf; value: id
IDEAS_MORE = "ideas_more"  # the next ten; value: {"q": query, "o": offset}
IDEAS_ASK = "ideas_ask"  # "ask the author": a link button to a DM with the author; + "_<n>"
IDEAS_LINK = "ideas_link"  # link buttons (the posted message, the blog post); + "_<n>"

# The coordinator's desk (issue 7) -------------------------------------------------------------
OPEN_BUDGET = "desk_open_budget"
OPEN_RATES = "desk_open_rates"
OPEN_ADD_COORDINATOR = "desk_open_add_coordinator"
OPEN_REMOVE_COORDINATOR = "desk_open_remove_coordinator"
OPEN_ACTUALS = "desk_open_actuals"  # value: visit id
OPEN_REPORT = "desk_open_report"  # value: year
BUDGET_VIEW = "desk_budget"
RATES_VIEW = "desk_rates"
ACTUALS_VIEW = "desk_actuals"  # private_metadata: visit id
COORDINATOR_VIEW = "desk_coordinator"
REMOVE_COORDINATOR_VIEW = "desk_remove_coordinator"
DESK_YEAR = "desk_year"
DESK_AMOUNT = "desk_amount"
DESK_REPLACE = "desk_replace"
DESK_RATE = "desk_rate"
DESK_SUPPLEMENT = "desk_supplement"  # the region pays the passenger supplement
DESK_KM = "desk_km"
DESK_TICKETS = "desk_tickets"
DESK_ACCOMMODATION = "desk_accommodation"
DESK_USER = "desk_user"
DESK_REGION = "desk_region"


# Slack user ids -----------------------------------------------------------------------------------
SLACK_USER = re.compile(r"[UW][A-Z0-9]{2,30}")  # a person's or workspace user's id, whole


def is_user_id(value: object) -> TypeGuard[str]:
    """Is this shaped as a Slack user id (nothing more, nothing less)?"""
    return isinstance(value, str) and SLACK_USER.fullmatch(value) is not None


# Row ids carried back by Slack ------------------------------------------------------------------
MAX_ROW_ID = 2**63 - 1  # PostgreSQL's bigint; a larger number is no row of ours
MAX_PAGE = 100_000  # a page number a button carries back, at most (its offset fits a bigint)


def row_id(value: object) -> int | None:
    """A row id as a button value, an option or private_metadata carries it back: plain ASCII
    digits (no sign, space, exponent, or another script's digits) of a 64-bit integer, or an int
    of that range; anything else None, so that a tampered id is "not found", never a crash."""
    if isinstance(value, int) and not isinstance(value, bool):
        text = str(value)
    elif isinstance(value, str):
        text = value
    else:
        return None
    if not (0 < len(text) <= 19 and text.isascii() and text.isdigit()):
        return None
    number = int(text)
    return number if number <= MAX_ROW_ID else None


# A study trip's further stops (bot/views/stops.py; their presses in handlers/decide.py).
PROPOSE_STOPS = "propose_stops"  # the proposal form's further stops (library and topic pairs)
STOP_ACCEPT = "stop_accept"  # + "_morning" | "_afternoon": a further stop's host takes a slot
STOP_DECLINE = "stop_decline"
STOP_GO_ON = "stop_go_on"  # the visitor goes on without a declined stop
STOP_REPLACE = "stop_replace"  # the visitor replaces it (opens STOP_REPLACE_VIEW)
STOP_REPLACE_VIEW = "stop_replace_form"
STOP_REPLACE_HOST = "stop_replace_host"

# My data (issue 21): one's own export and a request to be forgotten ---------------------------
PRIVACY_FORGET_ASK = "privacy_forget_ask"  # the person asks to be forgotten (with a confirm dialog)
PRIVACY_FORGET_CONFIRM = "privacy_forget_confirm"  # coordinators: erase now; value: request id
