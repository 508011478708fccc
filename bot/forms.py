"""Reading a submitted form: Slack's view state (`view["state"]["values"]`) into the services'
inputs, and the services' field errors into the form's blocks. Platform-free in what it needs:
the Teams side turns a dialog's submission into the same view state (teams/cards/dialog.py
`view_state`), so that both read a form the same way."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from bot import ids
from bot.views.propose import block_of
from services.catalogue import offers
from services.common.errors import InvalidInput
from services.ideas import writeups
from services.visits import proposing
from services.visits.proposing import ProposalInput


def field_errors(t: Any, exc: InvalidInput, blocks: dict[str, str]) -> dict[str, str]:
    return {block_of(name, blocks): t(key, **_named(t, params)) for name, (key, params) in exc.fields.items()}


def _named(t: Any, params: dict[str, object]) -> dict[str, object]:
    """A `weekdays` parameter (numbers, 0 = Monday) named in the user's language."""
    days = params.get("weekdays")
    if not isinstance(days, list):
        return params
    return {**params, "weekdays": ", ".join(t(f"weekday.short.{day}") for day in days)}


def state_of(view: dict[str, Any]) -> dict[str, Any]:
    return view.get("state", {}).get("values", {})


def text_of(values: dict[str, Any], block: str) -> str:
    return str(((values.get(block) or {}).get(block) or {}).get("value") or "")


def option_of(values: dict[str, Any], block: str) -> str | None:
    option = ((values.get(block) or {}).get(block) or {}).get("selected_option") or {}
    value = option.get("value")
    return str(value) if value is not None else None


def int_of(text: str | None) -> int | None:
    return ids.row_id(text)


def date_of(values: dict[str, Any], block: str) -> date | None:
    raw = ((values.get(block) or {}).get(block) or {}).get("selected_date")
    try:
        return date.fromisoformat(raw) if raw else None
    except ValueError:
        return None


def dates_of(values: dict[str, Any]) -> list[date | None]:
    return [date_of(values, f"{ids.PROPOSE_DATE}_{i}") for i in range(1, proposing.MAX_DATES + 1)]


def _user_of(values: dict[str, Any], block: str) -> str | None:
    found = ((values.get(block) or {}).get(ids.PROPOSE_COLLEAGUE_SUPERVISOR) or {}).get("selected_user")
    return str(found) if found else None


def _colleagues_of(values: dict[str, Any]) -> list[str]:
    chosen = ((values.get(ids.PROPOSE_COLLEAGUES) or {}).get(ids.PROPOSE_COLLEAGUES) or {}).get(
        "selected_users"
    )
    return [str(u) for u in chosen or [] if u][:20]


def parse_proposal(view: dict[str, Any]) -> ProposalInput:
    values = state_of(view)
    colleagues = _colleagues_of(values)
    supervisor = ((values.get(ids.PROPOSE_SUPERVISOR) or {}).get(ids.PROPOSE_SUPERVISOR) or {}).get(
        "selected_user"
    )
    return ProposalInput(
        topic_id=int_of(option_of(values, ids.PROPOSE_TOPIC)),
        host_library_id=int_of(option_of(values, ids.PROPOSE_HOST_SELECT)),
        learn=text_of(values, ids.PROPOSE_LEARN),
        dates=dates_of(values),
        length=option_of(values, ids.PROPOSE_LENGTH),
        travel_mode=option_of(values, ids.PROPOSE_TRAVEL),
        km=text_of(values, ids.PROPOSE_KM),
        tickets=text_of(values, ids.PROPOSE_TICKETS),
        accommodation=text_of(values, ids.PROPOSE_ACCOMMODATION),
        supervisor_id=str(supervisor) if supervisor else None,
        colleagues=colleagues,
        colleague_supervisors={
            user: _user_of(values, f"{ids.PROPOSE_COLLEAGUE_SUPERVISOR}_{user}") for user in colleagues
        },
        note=text_of(values, ids.PROPOSE_NOTE),
        stops=_stops_of(values),
    )


def _stops_of(values: dict[str, Any]) -> list[tuple[int, int]]:
    """The further stops picked: "library:topic" option values, in the order chosen."""
    chosen = ((values.get(ids.PROPOSE_STOPS) or {}).get(ids.PROPOSE_STOPS) or {}).get("selected_options")
    found: list[tuple[int, int]] = []
    for option in chosen or []:
        library, _, topic = str((option or {}).get("value") or "").partition(":")
        library_id, topic_id = ids.row_id(library), ids.row_id(topic)
        if library_id is not None and topic_id is not None:
            found.append((library_id, topic_id))
    return found[:10]


def field_value(values: dict[str, Any], block: str) -> dict[str, Any]:
    return (values.get(block) or {}).get(block) or {}


def parse_writeup(view: dict[str, Any]) -> writeups.WriteUpInput:
    values = (view.get("state") or {}).get("values") or {}
    publish = [o.get("value") for o in field_value(values, ids.WRITEUP_PUBLISH).get("selected_options") or []]
    return writeups.WriteUpInput(
        title=str(field_value(values, ids.WRITEUP_TITLE).get("value") or ""),
        learned=str(field_value(values, ids.WRITEUP_LEARNED).get("value") or ""),
        try_at_home=str(field_value(values, ids.WRITEUP_TRY).get("value") or ""),
        tips=str(field_value(values, ids.WRITEUP_TIPS).get("value") or ""),
        recommend=str(
            (field_value(values, ids.WRITEUP_RECOMMEND).get("selected_option") or {}).get("value") or ""
        ),
        link=str(field_value(values, ids.WRITEUP_LINK).get("value") or ""),
        publish="yes" in publish,
    )


def _offer_field(view: dict[str, Any], block: str) -> dict[str, Any]:
    return (view.get("state", {}).get("values", {}).get(block, {}) or {}).get(block) or {}


def _whole(value: object) -> int | None:
    text = str(value).strip() if value is not None else ""
    try:
        return int(text)
    except ValueError:
        try:
            number = float(text)
        except ValueError:
            return None
        return int(number) if number.is_integer() else None


def parse_offer(view: dict[str, Any]) -> offers.OfferInput:
    """The offer modal's state as the service's input (ids only; nothing trusted yet)."""
    metadata: dict[str, Any] = {}
    try:
        loaded = json.loads(view.get("private_metadata") or "{}")
        metadata = loaded if isinstance(loaded, dict) else {}
    except ValueError:
        pass
    offer_id = metadata.get("offer")
    library = (_offer_field(view, ids.OFFER_LIBRARY).get("selected_option") or {}).get("value")
    topic_values = [
        o.get("value") for o in _offer_field(view, ids.OFFER_TOPICS).get("selected_options") or []
    ]
    days = [o.get("value") for o in _offer_field(view, ids.OFFER_WEEKDAYS).get("selected_options") or []]
    mask = 0
    for day in days:
        number = _whole(day)
        if number is not None and 0 <= number <= 6:
            mask |= 1 << number
    not_until_text = _offer_field(view, ids.OFFER_NOT_UNTIL).get("selected_date")
    try:
        not_until = date.fromisoformat(not_until_text) if not_until_text else None
    except ValueError:
        not_until = None
    return offers.OfferInput(
        offer_id=offer_id if isinstance(offer_id, int) and not isinstance(offer_id, bool) else None,
        library_id=ids.row_id(library),
        topic_ids=[n for n in (ids.row_id(v) for v in topic_values) if n is not None],
        suggestion=str(_offer_field(view, ids.OFFER_SUGGESTION).get("value") or ""),
        description=str(_offer_field(view, ids.OFFER_DESCRIPTION).get("value") or ""),
        contacts=[str(u) for u in _offer_field(view, ids.OFFER_CONTACTS).get("selected_users") or []],
        capacity=_whole(_offer_field(view, ids.OFFER_CAPACITY).get("value")),
        weekdays=mask,
        not_until=not_until,
        closed_text=str(_offer_field(view, ids.OFFER_CLOSED).get("value") or ""),
    )
