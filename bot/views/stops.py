"""A study trip's further stops in its messages: the lines every message shows, the message of a
further stop's host (accept a slot of the agreed day, or decline), the visitor's choices when a
stop declined (go on without it, replace it, cancel), and the form that replaces a stop. Pure:
(data, t) -> dict."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from bot import ids
from bot.i18n import Translator
from bot.views import blocks as b
from bot.views import limits
from bot.views.formatting import day_text, kilometres
from bot.views.propose import host_option
from models import PartyState, VisitStatus
from services.visits.stop_info import SLOTS, StopInfo
from services.visits.visit_card import HostChoice, VisitCard

ROLE_PREFIX = "stop"  # a further stop's host message: role "stop2" ... "stop4"


def role_of(position: int) -> str:
    return f"{ROLE_PREFIX}{position}"


def position_of(role: str) -> int | None:
    """The stop of a `stopN` role (None: not a stop's role)."""
    if not role.startswith(ROLE_PREFIX) or not role[len(ROLE_PREFIX) :].isdigit():
        return None
    return int(role[len(ROLE_PREFIX) :])


def still_on_the_trip(
    card: VisitCard, refs: Mapping[tuple[str, str], object], current: set[tuple[str, str]]
) -> list[tuple[str, str]]:
    """(user, role) of the stop hosts who have a message about the trip and whose stop is still on
    it, though the day is not agreed now (a move): they keep a current message, not a former one."""
    found = []
    for user, role in refs:
        stop = card.stop_at(position_of(role) or 0)
        if (user, role) not in current and stop is not None and stop.active and user in stop.contacts:
            found.append((user, role))
    return found


def asks(card: VisitCard, role: str) -> bool:
    """Does the trip wait for this stop's answer now (the day agreed, the stop still pending)?"""
    stop = card.stop_at(position_of(role) or 0)
    return (
        stop is not None
        and stop.active
        and stop.state == PartyState.PENDING
        and card.chosen_date is not None
        and card.status == VisitStatus.PROPOSED
    )


def stop_value(card: VisitCard, position: int) -> str:
    """visit:round:stop, the ids a stop's button carries."""
    return f"{card.id}:{card.round}:{position}"


def _state_text(card: VisitCard, stop: StopInfo, t: Translator) -> str:
    if not stop.active:
        return t("visits.stop.state.left_out")
    if stop.state == PartyState.APPROVED:
        return t("visits.stop.state.approved", slot=t(f"visits.stop.slot.{stop.slot}"))
    if stop.state == PartyState.DECLINED:
        return t("visits.stop.state.declined")
    if card.chosen_date is None:
        return t("visits.stop.state.waiting_day")
    return t("visits.stop.state.pending")


def summary_lines(card: VisitCard, t: Translator) -> list[str]:
    """One line for each further stop: which library, what topic, and where its answer stands."""
    if not card.stops:
        return []
    lines = [t("visits.stop.heading", count=len(card.trip_stops) + 1)]
    for stop in card.stops:
        lines.append(
            t(
                "visits.stop.line",
                n=stop.position,
                library=b.escape(stop.library_name),
                topic=b.escape(stop.topic(t.lang)),
                state=_state_text(card, stop, t),
            )
        )
    return lines


def route_hint(card: VisitCard, t: Translator) -> list[b.Block]:
    """The straight-line sum of the trip's legs, beside the visitor's kilometres."""
    if not card.stops or card.straight_km <= 0:
        return []
    km = kilometres(Decimal(round(card.straight_km)), t)
    return [b.context(t("visits.stop.route_hint", km=km, stops=len(card.trip_stops) + 1))]


def stop_message(card: VisitCard, position: int, t: Translator, *, former: bool = False) -> dict[str, Any]:
    """The message of a further stop's host contact: the trip, their stop, and while it waits for
    them on the agreed day, a button for each slot and one to decline."""
    stop = card.stop_at(position)
    topic = stop.topic(t.lang) if stop is not None else card.topic(t.lang)
    title = t("visits.title.stop", topic=topic)
    blocks: list[b.Block] = [
        b.header(title),
        b.section(t("visits.intro.stop", visitor=f"<@{card.visitor_id}>")),
    ]
    lines = [
        t("visits.card.visitor", visitor=f"<@{card.visitor_id}>", home=b.escape(card.home_library_name)),
        t("visits.stop.travellers", count=len(card.going)),
        t("visits.card.date", dates=day_text(card.chosen_date, t) if card.chosen_date else "–"),
        t("visits.card.length", length=t(f"visits.length.{card.length}")),
        t("visits.stop.first", library=b.escape(card.host_library_name), topic=b.escape(card.topic(t.lang))),
        *summary_lines(card, t),
    ]
    blocks.append(b.section("\n".join(lines)))
    blocks.append(b.section(t("visits.card.learn", learn=b.escape(card.learn))))
    blocks.append(b.section(f"*{t(f'visits.status.{card.status.value}')}*"))
    if former or stop is None or not stop.active:
        blocks.append(b.context(t("visits.stop.former")))
    elif (
        card.status == VisitStatus.PROPOSED
        and card.chosen_date is not None
        and stop.state == PartyState.PENDING
    ):
        value = stop_value(card, position)
        blocks.append(
            b.actions(
                *(
                    b.button(
                        t(f"visits.stop.accept.{slot}"),
                        f"{ids.STOP_ACCEPT}_{slot}",
                        value,
                        style="primary" if n == 0 else None,
                    )
                    for n, slot in enumerate(SLOTS)
                ),
                b.button(
                    t("visits.button.decline"),
                    ids.STOP_DECLINE,
                    value,
                    style="danger",
                    confirm_dialog=b.confirm(
                        t("visits.confirm.title"),
                        t("visits.stop.confirm_decline"),
                        t("visits.confirm.yes"),
                        t("common.back"),
                        danger=True,
                    ),
                ),
                block_id=f"visit_{card.id}_{role_of(position)}",
            )
        )
    return b.message(f"{title}: {t(f'visits.status.{card.status.value}')}", blocks)


def visitor_choices(card: VisitCard, t: Translator) -> list[b.Block]:
    """On the visitor's message, for each stop that declined: go on without it, or replace it
    (cancelling the whole trip is the message's own button); for each stop still silent since
    the day was agreed, the same two choices, quieter."""
    blocks: list[b.Block] = []
    for stop in card.changeable_stops:
        value = stop_value(card, stop.position)
        declined = stop.state == PartyState.DECLINED
        key = "visits.stop.declined_choice" if declined else "visits.stop.silent_choice"
        blocks.append(b.section(t(key, library=b.escape(stop.library_name))))
        blocks.append(
            b.actions(
                b.button(
                    t("visits.stop.go_on"), ids.STOP_GO_ON, value, style="primary" if declined else None
                ),
                b.button(t("visits.stop.replace"), ids.STOP_REPLACE, value),
                block_id=f"visit_{card.id}_stop_choice_{stop.position}",
            )
        )
    return blocks


def replace_modal(t: Translator, card: VisitCard, position: int, choices: list[HostChoice]) -> dict[str, Any]:
    """The visitor picks another library offering the declined stop's topic (or learns there is
    none, and that the coordinators can be asked)."""
    stop = card.stop_at(position)
    topic = stop.topic(t.lang) if stop is not None else ""
    metadata = stop_value(card, position)
    if not choices:
        return b.modal(
            ids.STOP_REPLACE_VIEW,
            t("visits.stop.replace_title"),
            [b.section(t("visits.stop.replace_none", topic=b.escape(topic)))],
            close=t("common.back"),
            private_metadata=metadata,
        )
    options = [host_option(c, t) for c in choices[: limits.SELECT_OPTIONS]]
    blocks = [
        b.section(t("visits.stop.replace_intro", topic=b.escape(topic))),
        b.input_block(
            ids.STOP_REPLACE_HOST,
            t("visits.form.host"),
            {"type": "static_select", "action_id": ids.STOP_REPLACE_HOST, "options": options},
        ),
    ]
    return b.modal(
        ids.STOP_REPLACE_VIEW,
        t("visits.stop.replace_title"),
        blocks,
        submit=t("visits.stop.replace_submit"),
        close=t("common.back"),
        private_metadata=metadata,
    )
