"""Messages about a visit: the decision messages (supervisor, host, funding), the visitor's status
card, short notices, and the visit lists of App Home and `omat`. All pure: (data, t) -> dict."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

from bot import ids
from bot.i18n import Translator
from bot.views import blocks as b
from bot.views import stops as stops_view
from bot.views.formatting import day_text, kilometres, money
from models import PartyState, VisitStatus
from services.visits import invites
from services.visits.visit_card import DecisionInfo, VisitCard

ROLES = ("visitor", "traveller", "supervisor", "host", "funding")  # traveller: a colleague who comes along


def _value(card: VisitCard, extra: int | None = None) -> str:
    return f"{card.id}:{card.round}" + (f":{extra}" if extra is not None else "")


def parse_value(value: str) -> tuple[int, int, int | None]:
    """`visit:round[:date]` from a button -> ints; ValueError if malformed."""
    parts = [ids.row_id(p) for p in value.split(":")]
    if len(parts) not in (2, 3) or None in parts:
        raise ValueError(value)
    visit_id, round_, *day = (p for p in parts if p is not None)
    return visit_id, round_, day[0] if day else None


def _danger(t: Translator, label: str, action_id: str, value: str, question: str) -> dict[str, Any]:
    return b.button(
        label,
        action_id,
        value,
        style="danger",
        confirm_dialog=b.confirm(
            t("visits.confirm.title"), question, t("visits.confirm.yes"), t("common.back"), danger=True
        ),
    )


def who_decided(decision: DecisionInfo, t: Translator) -> str:
    """Who took a decision: the person, or "X on behalf of Y" when a substitute took it."""
    if decision.on_behalf_of:
        return t("visits.on_behalf", who=f"<@{decision.decided_by}>", user=f"<@{decision.on_behalf_of}>")
    return f"<@{decision.decided_by}>"


def _party_line(card: VisitCard, party: str, t: Translator) -> str:
    state = card.state_of(party)
    last = card.last_decision(party)
    who = who_decided(last, t) if last else ""
    if party == "supervisor":
        label = t("visits.party.supervisor", user=f"<@{card.supervisor_id}>")
    elif party == "host":
        label = t("visits.party.host", library=b.escape(card.host_library_name))
    else:
        label = t("visits.party.funding")
    if state == PartyState.PENDING:
        word = (
            t("visits.state.pending") if card.status == VisitStatus.PROPOSED else t("visits.state.not_asked")
        )
        deadline = card.deadline_of(party)
        if deadline is not None:
            word += " " + t("visits.state.answer_by", date=day_text(deadline.day, t))
    elif state == PartyState.APPROVED:
        word = t("visits.state.approved", who=who)
    elif state == PartyState.COUNTERED:
        word = t("visits.state.countered", who=who)
        if last and last.reason:
            word += " " + t("visits.state.note", note=b.escape(last.reason))
    elif state == PartyState.LAPSED:
        word = t("visits.state.lapsed")
    else:
        word = t("visits.state.declined", who=who)
        if last and last.reason:
            word += " " + t("visits.state.reason", reason=b.escape(last.reason))
    return f"{label}: {word}"


def _supervisor_lines(card: VisitCard, t: Translator) -> list[str]:
    """One line for each supervisor, naming the people they consent for (a visit with colleagues)."""
    lines = []
    named = [t for t in card.travellers if t.active or t.consent == PartyState.DECLINED] or list(card.going)
    for boss in dict.fromkeys([card.supervisor_id, *(t.supervisor_id for t in named)]):
        people = [t for t in named if t.supervisor_id == boss]  # a declined colleague stays named
        if not people:
            continue
        names = ", ".join(f"<@{p.user_id}>" for p in people)
        label = t("visits.party.supervisor_of", user=f"<@{boss}>", people=names)
        states = {p.consent for p in people}
        by_substitute = next(
            (
                d
                for d in reversed(card.decisions)
                if d.party == "supervisor"
                and d.on_behalf_of == boss
                and d.outcome in ("approved", "declined")
            ),
            None,
        )
        who = who_decided(by_substitute, t) if by_substitute else f"<@{boss}>"
        if PartyState.DECLINED in states:
            word = t("visits.state.declined", who=who)
        elif states == {PartyState.APPROVED}:
            word = t("visits.state.approved", who=who)
        elif card.status == VisitStatus.PROPOSED:
            word = t("visits.state.pending")
        else:
            word = t("visits.state.not_asked")
        lines.append(f"{label}: {word}")
    return lines


def _cost_fields(card: VisitCard, t: Translator) -> b.Block:
    """Kilometres (once, to the driver, with the passenger supplement when paid), tickets and
    nights (per traveller, times the travellers), the total (and each traveller's share)."""
    c = card.cost
    if c.passengers:
        km = t(
            "visits.cost.km_passengers",
            km=kilometres(c.km, t),
            rate=money(c.rate, t),
            passengers=c.passengers,
            passenger_rate=money(c.passenger_rate, t),
            amount=money(c.kilometre_allowance, t),
        )
    else:
        km = t(
            "visits.cost.km",
            km=kilometres(c.km, t),
            rate=money(c.rate, t),
            amount=money(c.kilometre_allowance, t),
        )
    if c.travellers > 1:
        tickets = t(
            "visits.cost.tickets_each",
            count=c.travellers,
            price=money(c.ticket_price, t),
            amount=money(c.tickets, t),
        )
    else:
        tickets = t("visits.cost.tickets", amount=money(c.tickets, t))
    if c.nights and c.travellers > 1:
        nights = t.plural(
            "visits.cost.nights_each",
            c.nights,
            travellers=c.travellers,
            price=money(c.night_price, t),
            amount=money(c.accommodation, t),
        )
    elif c.nights:
        nights = t.plural(
            "visits.cost.nights", c.nights, price=money(c.night_price, t), amount=money(c.accommodation, t)
        )
    else:
        nights = t("visits.cost.accommodation", amount=money(c.accommodation, t))
    if c.travellers > 1:
        total = t(
            "visits.cost.total_each",
            amount=money(c.total, t),
            per=money(c.per_traveller, t),
            count=c.travellers,
        )
    else:
        total = t("visits.cost.total", amount=money(c.total, t))
    return b.fields(km, tickets, nights, total)


def _summary(card: VisitCard, role: str, t: Translator) -> list[b.Block]:
    dates = ", ".join(day_text(d, t) for d in card.shown_dates) or "–"
    lines = [
        t("visits.card.visitor", visitor=f"<@{card.visitor_id}>", home=b.escape(card.home_library_name)),
        *(
            [t("visits.card.colleagues", people=", ".join(f"<@{c.user_id}>" for c in card.colleagues))]
            if card.colleagues
            else []
        ),
        t("visits.card.host", host=b.escape(card.host_library_name)),
        t("visits.card.topic", topic=b.escape(card.topic(t.lang))),
        *stops_view.summary_lines(card, t),
        t("visits.card.dates" if card.chosen_date is None else "visits.card.date", dates=dates),
    ]
    if card.host_dates and card.chosen_date is None:
        lines.append(
            t("visits.card.host_dates", dates=", ".join(day_text(d.day, t) for d in card.host_dates))
        )
    lines += [
        t("visits.card.length", length=t(f"visits.length.{card.length}")),
        t("visits.card.travel", travel=t(f"visits.travel.{card.travel_mode}")),
    ]
    blocks = [b.section("\n".join(lines)), b.section(t("visits.card.learn", learn=b.escape(card.learn)))]
    if role in ("host", "visitor") and card.note_to_host:
        blocks.append(b.section(t("visits.card.note", note=b.escape(card.note_to_host))))
    if role in ("funding", "visitor", "traveller", "supervisor"):
        blocks.append(_cost_fields(card, t))
        blocks += stops_view.route_hint(card, t)
    if role == "funding" and card.budget is not None:
        from bot.views.desk import funding_budget_blocks

        blocks += funding_budget_blocks(card.budget, card.cost.total, t)
    return blocks


def _funding_note(card: VisitCard, role: str, t: Translator) -> str | None:
    """While funding waits: tell a coordinator who may not decide it (their own visit or their
    staff's) that another coordinator of the region does, and tell everyone when the region has
    nobody who may decide it, so that nobody waits in silence."""
    deciders = card.funding_deciders
    if deciders is None or not card.asks("funding"):
        return None
    if not deciders:
        if card.coordinators:
            who = ", ".join(f"<@{c}>" for c in card.coordinators)
            return t("visits.funding.no_other", who=who)
        return t("visits.funding.nobody")
    reader = {"visitor": card.visitor_id, "supervisor": card.supervisor_id}.get(role)
    if reader is not None and reader in (card.coordinators or ()):
        return t("visits.funding.not_you")
    return None


def _status_block(card: VisitCard, t: Translator, role: str = "") -> b.Block:
    lines = [f"*{t(f'visits.status.{card.status.value}')}*"]
    if card.colleagues or len(card.supervisors) > 1:
        lines += _supervisor_lines(card, t)
        lines += [_party_line(card, party, t) for party in ("host", "funding")]
    else:
        lines += [_party_line(card, party, t) for party in ("supervisor", "host", "funding")]
    note = _funding_note(card, role, t)
    if note:
        lines.append(note)
    if card.status == VisitStatus.CANCELLED:
        last = card.last()
        if last is not None:
            lines.append(t("visits.cancelled_by", who=f"<@{last.decided_by}>"))
    return b.section("\n".join(lines))


def _may_fund(card: VisitCard) -> bool:
    """A funding message shows its buttons unless nobody may press them (a message rendered for
    a coordinator taking the decision over: the server refuses the visitor and their supervisor)."""
    return card.funding_deciders is None or bool(card.funding_deciders)


NUDGE = "_nudge"  # the block id's suffix of the buttons a reminder carries
DEADLINE = "_deadline"  # the block id's suffix of the visitor's choices when a deadline passed


HOME = "_home"  # the block id's suffix of the buttons App Home shows with a decision owed


def decision_blocks(
    card: VisitCard, role: str, t: Translator, *, reader: str, suffix: str = NUDGE
) -> list[b.Block]:
    """The buttons of the decision `role` (supervisor, host, funding, visitor) owes now, as its
    visit message has them (the same action ids and values, so a press on either is the same
    press), for a reminder (or App Home) to carry; their block ids end in `suffix`. (A
    substitute's nudge is rendered for the person they stand in for: the buttons are the same,
    the server checks.)"""
    position = stops_view.position_of(role)
    if position is not None:  # a study trip's further stop: the buttons of its host's message
        blocks = [
            blk for blk in stops_view.stop_message(card, position, t)["blocks"] if blk["type"] == "actions"
        ]
    elif not card.asks(role) or (role == "supervisor" and not card.waits_for_supervisor(reader)):
        return []
    else:
        blocks = _actions(card, role, t, date.min, reader)
    for block in blocks:
        if "block_id" in block:
            block["block_id"] = f"{block['block_id']}{suffix}"
    return blocks


def _deadline_note(card: VisitCard, party: str, t: Translator) -> list[b.Block]:
    """By when the party answers; once that has passed, that a late answer still counts."""
    deadline = card.deadline_of(party)
    if deadline is None:
        return []
    key = "visits.deadline.passed" if deadline.lapsed else "visits.deadline.answer_by"
    return [b.context(t(key, date=day_text(deadline.day, t)))]


def visit_name(card: VisitCard, t: Translator) -> str:
    """How a person reads which visit is meant: its topic, host and date (never an id)."""
    day = card.chosen_date or (card.shown_dates[0] if card.shown_dates else None)
    return f"{b.escape(card.topic(t.lang))}, {b.escape(card.host_library_name)}, {day_text(day, t)}"


def visit_value(card: VisitCard, extra: int | None = None) -> str:
    """The ids a visit's button carries (visit, round, and a date where one is chosen)."""
    return _value(card, extra)


def _actions(card: VisitCard, role: str, t: Translator, today: date, reader: str) -> list[b.Block]:
    topic = b.escape(card.topic(t.lang))

    def decline(action_id: str) -> dict[str, Any]:
        return _danger(
            t, t("visits.button.decline"), action_id, _value(card), t("visits.confirm.decline", topic=topic)
        )

    if role == "supervisor" and card.waits_for_supervisor(reader):
        return [
            b.actions(
                b.button(t("visits.button.approve"), ids.SUPERVISOR_APPROVE, _value(card), style="primary"),
                decline(ids.SUPERVISOR_DECLINE),
                block_id=f"visit_{card.id}_supervisor",
            ),
            *_deadline_note(card, "supervisor", t),
        ]
    if role == "host" and card.asks("host"):
        accept = [
            b.button(
                t("visits.button.accept_date", date=day_text(d.day, t)),
                f"{ids.HOST_ACCEPT}_{n}",
                _value(card, d.id),
                style="primary",
            )
            for n, d in enumerate(card.visitor_dates, start=1)
        ]
        return [
            b.actions(
                *accept,
                b.button(t("visits.button.counter"), ids.HOST_COUNTER, _value(card)),
                decline(ids.HOST_DECLINE),
                block_id=f"visit_{card.id}_host",
            ),
            *_deadline_note(card, "host", t),
        ]
    if role == "funding" and card.asks("funding") and _may_fund(card):
        return [
            b.actions(
                b.button(t("visits.button.fund"), ids.FUNDING_APPROVE, _value(card), style="primary"),
                decline(ids.FUNDING_DECLINE),
                block_id=f"visit_{card.id}_funding",
            ),
            *_deadline_note(card, "funding", t),
        ]
    if role == "traveller":
        return _traveller_actions(card, t, today, reader)
    if role != "visitor":
        return []
    blocks: list[b.Block] = []
    elements: list[dict[str, Any]] = []
    if card.asks("visitor") and card.host_state == PartyState.LAPSED:
        blocks.append(b.section(t("visits.visitor.dates_lapsed")))
        elements.append(b.button(t("visits.button.redate"), ids.VISIT_REDATE, _value(card), style="primary"))
    elif card.asks("visitor"):
        blocks.append(b.section(t("visits.visitor.pick")))
        elements += [
            b.button(
                t("visits.button.pick", date=day_text(d.day, t)),
                f"{ids.VISITOR_PICK}_{n}",
                _value(card, d.id),
                style="primary",
            )
            for n, d in enumerate(card.host_dates, start=1)
        ]
    open_ = card.status in (VisitStatus.PROPOSED, VisitStatus.CONFIRMED) and (
        card.chosen_date is None or card.chosen_date > today
    )
    if open_ and card.chosen_date is not None:
        elements.append(b.button(t("visits.button.move"), ids.VISIT_MOVE, _value(card)))
    if open_:
        elements.append(
            _danger(
                t,
                t("visits.button.cancel"),
                ids.VISIT_CANCEL,
                _value(card),
                t("visits.confirm.cancel", topic=topic),
            )
        )
    if card.status == VisitStatus.CONFIRMED and card.chosen_date is not None and card.chosen_date <= today:
        elements.append(b.button(t("writeups.button.write"), ids.WRITEUP_OPEN, str(card.id), style="primary"))
    if elements:
        blocks.append(b.actions(*elements, block_id=f"visit_{card.id}_visitor"))
    if card.status == VisitStatus.DECLINED and card.next_hosts:
        blocks.append(b.section(t("visits.visitor.next_hosts", topic=topic)))
        for choice in card.next_hosts:
            value = json.dumps({"library": choice.library_id, "topic": card.topic_id})
            blocks.append(
                b.section(
                    t("visits.visitor.next_host", host=b.escape(choice.name), km=round(choice.distance_km)),
                    accessory=b.button(t("visits.button.propose_here"), ids.PROPOSE_HOST, value),
                    block_id=f"next_host_{choice.library_id}",
                )
            )
    elif card.status == VisitStatus.DECLINED:  # no other library of the region offers the topic
        blocks.append(
            b.section(
                t("visits.visitor.no_next_hosts", topic=topic),
                accessory=b.button(t("visits.button.ask_tip"), ids.ASK_TIP, _value(card)),
                block_id=f"visit_{card.id}_tip",
            )
        )
    return blocks


def _traveller_actions(card: VisitCard, t: Translator, today: date, reader: str) -> list[b.Block]:
    """A colleague's own choice: withdraw alone (the visit goes on for the others)."""
    if reader not in {c.user_id for c in card.colleagues}:
        if any(c.user_id == reader for c in card.travellers):
            return [b.context(t("visits.traveller.withdrawn"))]
        return []
    open_ = card.status in (VisitStatus.PROPOSED, VisitStatus.CONFIRMED) and (
        card.chosen_date is None or card.chosen_date > today
    )
    if not open_:
        return []
    question = t("visits.confirm.withdraw", topic=b.escape(card.topic(t.lang)))
    return [
        b.actions(
            _danger(t, t("visits.button.withdraw"), ids.VISIT_WITHDRAW, _value(card), question),
            block_id=f"visit_{card.id}_traveller",
        )
    ]


def visit_message(
    card: VisitCard,
    role: str,
    t: Translator,
    *,
    today: date,
    former: bool = False,
    reader: str | None = None,
    on_behalf: tuple[str, ...] = (),
) -> dict[str, Any]:
    """The one message a person has about a visit, re-rendered from state after every change.
    `reader`: whose message it is (a supervisor decides for their own people; a colleague
    withdraws alone); the visitor's supervisor when not given. `former`: the funding message of
    someone who no longer coordinates the visit's region (removed, or moved to another region),
    or the host message of a substitute who no longer decides it: kept current, without buttons.
    `on_behalf`: those away today whom the reader decides for as their substitute."""
    position = stops_view.position_of(role)
    if position is not None:  # a study trip's further stop: its host's own message
        return stops_view.stop_message(card, position, t, former=former)
    reader = reader or (card.supervisor_id if role == "supervisor" else card.visitor_id)
    if role == "supervisor" and on_behalf and not card.waits_for_supervisor(reader):
        reader = next((p for p in on_behalf if card.waits_for_supervisor(p)), reader)
    topic = card.topic(t.lang)
    title = t(f"visits.title.{role}", topic=topic)
    blocks: list[b.Block] = [b.header(title)]
    if role == "visitor":
        blocks.append(b.context(t("visits.card.status_card")))
    elif role == "supervisor" and card.colleagues:  # name the people this supervisor answers for
        people = ", ".join(f"<@{p.user_id}>" for p in card.staff_of(reader)) or "–"
        blocks.append(
            b.section(t("visits.intro.supervisor_staff", visitor=f"<@{card.visitor_id}>", people=people))
        )
    else:
        blocks.append(b.section(t(f"visits.intro.{role}", visitor=f"<@{card.visitor_id}>")))
    if on_behalf and not former:
        blocks.append(b.context(substitute_line(card, on_behalf, t, today)))
    elif role in ("supervisor", "host") and not former:
        mine = next((a for a in card.away if a.user_id == reader and a.on(today)), None)
        if mine is not None and mine.substitute_id in card.stand_ins(role, today):
            substitute, until = f"<@{mine.substitute_id}>", day_text(mine.ends_on, t)
            blocks.append(b.context(t("visits.substitute.yours", substitute=substitute, until=until)))
    blocks += _summary(card, role, t)
    blocks.append(_status_block(card, t, role))
    if former:
        if role == "host" and any(d.outcome == "forwarded" for d in card.decisions):
            blocks.append(b.context(t("visits.host.former")))  # the request went to another library
        else:
            blocks.append(b.context(t("visits.funding.former" if role == "funding" else "visits.former")))
    else:
        if role == "visitor":
            blocks += stops_view.visitor_choices(card, t)
        blocks += _actions(card, role, t, today, reader)
    if role == "funding" and card.invoice_status and not former:
        from bot.views.desk import funding_desk_blocks

        blocks += funding_desk_blocks(card, t, today=today)
    if role in ("funding", "visitor", "traveller", "supervisor"):
        blocks.append(b.context(t("visits.form.per_diem")))
    return b.message(f"{title}: {t(f'visits.status.{card.status.value}')}", blocks)


def substitute_line(card: VisitCard, on_behalf: tuple[str, ...], t: Translator, today: date) -> str:
    """ "You decide this on behalf of Y (away until 20.7.)" on a substitute's message or nudge."""
    people = ", ".join(f"<@{user}>" for user in on_behalf)
    until = max((card.away_until(user, today) or today for user in on_behalf), default=today)
    return t("visits.substitute.acting", people=people, until=day_text(until, t))


def notice(card: VisitCard, event: str, t: Translator) -> str:
    """A short message that notifies (chat.update does not): confirmed, declined, cancelled, moved."""
    return t(
        f"visits.notice.{event}",
        topic=b.escape(card.topic(t.lang)),
        host=b.escape(card.host_library_name),
        date=day_text(card.chosen_date, t),
        visitor=f"<@{card.visitor_id}>",
    )


def invite_texts(card: VisitCard, t: Translator) -> tuple[str, str, str]:
    """(summary, location, description) of the calendar invite."""
    summary = t("visits.invite.summary", topic=card.topic(t.lang), host=card.host_library_name)
    description = t("visits.invite.description", learn=card.learn)
    places = [card.host_library_name, *(s.library_name for s in card.trip_stops)]
    if card.trip_stops:  # a study trip: every stop and its slot in the description
        description += "\n\n" + "\n".join(stops_view.summary_lines(card, t))
    return summary, "; ".join(places), description


def invite_file(
    card: VisitCard, t: Translator, *, day: date, tentative: bool, cancelled: bool, now: datetime
) -> bytes:
    """The visit's calendar invite (.ics) in the reader's language: the Slack upload's and the
    Teams link's (teams/ics_links.py) alike."""
    summary, location, description = invite_texts(card, t)
    if tentative:
        description = f"{t('visits.invite.tentative')}\n\n{description}"
    return invites.build_ics(
        invites.Invite(
            visit_id=card.id,
            day=day,
            length=card.length,
            summary=summary,
            location=location,
            description=description,
            sequence=card.sequence,
            cancelled=cancelled,
            tentative=tentative,
        ),
        now=now,
    )
