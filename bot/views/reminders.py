"""Reminder messages (pure): each kind rendered from the reminder and the visit as it is now."""

from __future__ import annotations

from datetime import date
from typing import Any

from bot import ids
from bot.i18n import Translator
from bot.views import blocks as b
from bot.views import limits
from bot.views.formatting import day_text, kilometres
from bot.views.visit import DEADLINE, decision_blocks, substitute_line, visit_name, visit_value
from models import PartyState
from services.common import workdays
from services.outbox.reminders import DueReminder
from services.visits.conflicts import involved
from services.visits.substitution import BackReport
from services.visits.visit_card import VisitCard


def _facts(card: VisitCard, t: Translator) -> dict[str, str]:
    return {
        "visit": visit_name(card, t),
        "visitor": f"<@{card.visitor_id}>",
        "supervisor": f"<@{card.supervisor_id}>",
        "topic": b.escape(card.topic(t.lang)),
        "host": b.escape(card.host_library_name),
        "home": b.escape(card.home_library_name),
        "date": day_text(card.chosen_date or (card.shown_dates[0] if card.shown_dates else None), t),
        "length": t(f"visits.length.{card.length}"),
    }


def decision_nudge(reminder: DueReminder, card: VisitCard, t: Translator) -> dict[str, Any]:
    party = str(reminder.params.get("party", "host"))
    facts = _facts(card, t)
    lapsed = party == "visitor" and card.host_state == PartyState.LAPSED  # new dates, not a pick
    kind = "stop" if party.startswith("stop") else party  # a study trip's further stop
    text = t("reminders.nudge.redate" if lapsed else f"reminders.nudge.{kind}", **facts)
    principal = reminder.params.get("for")  # a substitute's nudge: the buttons of the one away
    buttons = decision_blocks(card, party, t, reader=str(principal or reminder.recipient))
    hint = "reminders.nudge.here" if buttons else "reminders.nudge.where"
    blocks = [b.section(text), *buttons, b.context(t(hint, **facts))]
    if principal:
        today = workdays.local_today(reminder.due_at)
        blocks.insert(1, b.context(substitute_line(card, (str(principal),), t, today)))
    return b.message(text, blocks)


def decision_deadline(reminder: DueReminder, card: VisitCard, t: Translator) -> dict[str, Any]:
    """To the visitor, when a party did not answer by its deadline: what now? Wait longer, other
    dates, the next library that offers the topic (for the host's answer), or withdraw."""
    party = str(reminder.params.get("party", "host"))
    facts = {**_facts(card, t), "by": day_text(_day(reminder.params.get("deadline")), t)}
    text = t(f"reminders.deadline.{party}", **facts)
    value = str(reminder.id)
    elements = [b.button(t("reminders.deadline.wait"), ids.DEADLINE_WAIT, value, style="primary")]
    if party == "host":
        elements.append(b.button(t("reminders.deadline.forward"), ids.DEADLINE_FORWARD, value))
    if card.chosen_date is None and card.host_state in (PartyState.PENDING, PartyState.LAPSED):
        elements.append(b.button(t("reminders.deadline.redate"), ids.VISIT_REDATE, visit_value(card)))
    elements.append(
        b.button(
            t("visits.button.cancel"),
            ids.VISIT_CANCEL,
            visit_value(card),
            style="danger",
            confirm_dialog=b.confirm(
                t("visits.confirm.title"),
                t("visits.confirm.cancel", topic=facts["topic"]),
                t("visits.confirm.yes"),
                t("common.back"),
                danger=True,
            ),
        )
    )
    blocks = [
        b.section(text),
        b.actions(*elements, block_id=f"visit_{card.id}{DEADLINE}"),
        b.context(t("reminders.deadline.late_ok")),
    ]
    return b.message(text, blocks)


def _day(value: object) -> date | None:
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        return None


def decision_stuck(reminder: DueReminder, card: VisitCard, t: Translator) -> dict[str, Any]:
    party = str(reminder.params.get("party", "host"))
    facts = _facts(card, t)
    stop = party.startswith("stop")  # a study trip's further stop: its library, reminded only
    who = t("reminders.party.stop") if stop else t(f"reminders.party.{party}")
    text = t("reminders.stuck", who=who, **facts)
    value = str(reminder.id)
    buttons = [b.button(t("reminders.button.again"), ids.REMINDER_AGAIN, value)]
    own = involved(
        reminder.recipient, visitor_id=card.visitor_id, supervisor_id=card.supervisor_id, others=card.involved
    )
    if not own and not stop:  # nobody takes a decision of their own (or their staff's) visit over
        buttons.append(
            b.button(t("reminders.button.take_over"), ids.REMINDER_TAKE_OVER, value, style="primary")
        )
    blocks = [b.section(text), b.actions(*buttons)]
    if own:
        blocks.append(b.context(t("reminders.stuck.own_visit")))
    return b.message(text, blocks)


def day_before(reminder: DueReminder, card: VisitCard, t: Translator) -> dict[str, Any]:
    role = "visitor" if reminder.params.get("role") == "visitor" else "host"
    facts = _facts(card, t)
    title = t(f"reminders.day_before.{role}", **facts)
    blocks: list[b.Block] = [
        b.section(title),
        b.fields(
            f"*{t('reminders.field.topic')}*\n{facts['topic']}",
            f"*{t('reminders.field.length')}*\n{facts['length']}",
        ),
    ]
    if card.learn:
        blocks.append(b.section(f"*{t('reminders.field.learn')}*\n{b.escape(card.learn)}"))
    if role == "host" and card.note_to_host:
        blocks.append(b.section(f"*{t('reminders.field.note')}*\n{b.escape(card.note_to_host)}"))
    return b.message(title, blocks)


def happened_buttons(card: VisitCard, t: Translator) -> b.Block:
    """It happened / it was moved / it did not happen (the visit and its round in each value)."""
    value = f"{card.id}:{card.round}"
    return b.actions(
        b.button(t("reminders.happened.yes"), ids.HAPPENED_YES, value, style="primary"),
        b.button(t("reminders.happened.moved"), ids.HAPPENED_MOVED, value),
        b.button(
            t("reminders.happened.no"),
            ids.HAPPENED_NO,
            value,
            style="danger",
            confirm_dialog=b.confirm(
                t("visits.confirm.title"),
                t("reminders.happened.no_confirm", **_facts(card, t)),
                t("visits.confirm.yes"),
                t("common.back"),
                danger=True,
            ),
        ),
        block_id=f"visit_{card.id}_happened",
    )


def writeup_nag(reminder: DueReminder, card: VisitCard, t: Translator) -> dict[str, Any]:
    """The write-up nag. On the first working day after the visit it asks first whether the visit
    happened; a later one asks that too while nobody has answered."""
    facts = _facts(card, t)
    step = int(reminder.params.get("step", 1))
    write = b.actions(
        b.button(t("reminders.button.write_now"), ids.WRITEUP_OPEN, str(card.id), style="primary"),
        b.button(t("reminders.button.snooze"), ids.REMINDER_SNOOZE, str(reminder.id)),
        {
            "type": "datepicker",
            "action_id": ids.REMINDER_SNOOZE_TO,
            "placeholder": b.plain(t("reminders.snooze_to"), limits.PLACEHOLDER),
        },
        block_id=f"{ids.SNOOZE_BLOCK}{reminder.id}",
    )
    if card.happened is None and step <= 1:
        text = t("reminders.happened.ask", **facts)
        blocks = [
            b.section(text),
            happened_buttons(card, t),
            b.context(t("reminders.happened.then_write")),
            write,
        ]
        return b.message(text, blocks)
    text = t("reminders.writeup.first" if step <= 1 else "reminders.writeup.again", **facts)
    blocks = [b.section(text), write]
    if card.happened is None:  # nobody answered the question yet: the nag asks it as well
        blocks += [b.context(t("reminders.happened.unanswered")), happened_buttons(card, t)]
    return b.message(text, blocks)


def snoozed_nag(original: dict[str, Any], text: str) -> dict[str, Any] | None:
    """The write-up nag the person snoozed, as it was, with its snooze button replaced by when
    the next nag comes (`text`); None if `original` is no nag (Slack sent no message)."""
    blocks: list[b.Block] = []
    found = False
    for block in original.get("blocks") or []:
        if block.get("type") != "actions":
            blocks.append(block)
            continue
        snoozes = (ids.REMINDER_SNOOZE, ids.REMINDER_SNOOZE_TO)
        elements = [e for e in block.get("elements") or [] if e.get("action_id") not in snoozes]
        found = found or len(elements) < len(block.get("elements") or [])
        if elements:
            blocks.append({**block, "elements": elements})
    if not found:
        return None
    return b.message(str(original.get("text") or text), [*blocks, b.context(text)])


def writeup_overdue(reminder: DueReminder, card: VisitCard, t: Translator) -> dict[str, Any]:
    text = t("reminders.writeup.overdue", **_facts(card, t))
    return b.message(text, [b.section(text)])


def travel_invoice(reminder: DueReminder, card: VisitCard, t: Translator) -> dict[str, Any]:
    facts = _facts(card, t)
    text = t("reminders.invoice", km=kilometres(card.cost.km, t), **facts)
    return b.message(text, [b.section(text), b.context(t("reminders.invoice.how"))])


def tip_request(reminder: DueReminder, card: VisitCard, t: Translator) -> dict[str, Any]:
    """To a coordinator: a declined visitor asks who else could teach the topic."""
    facts = _facts(card, t)
    text = t("reminders.tip.ask", **facts)
    blocks: list[b.Block] = [b.section(text)]
    if card.learn:
        blocks.append(b.section(f"*{t('reminders.field.learn')}*\n{b.escape(card.learn)}"))
    blocks.append(b.context(t("reminders.tip.how", **facts)))
    return b.message(text, blocks)


def gone(reminder: DueReminder, t: Translator) -> dict[str, Any]:
    """The visit no longer exists: a short generic line (the sweep normally stops these first)."""
    text = t("reminder.generic", visit="–")
    return b.message(text, [b.section(text)])


def recipient_gone(reminder: DueReminder, card: VisitCard, t: Translator) -> dict[str, Any]:
    """To the coordinators: a visit's reminder could not reach its recipient."""
    params = reminder.params
    text = t(
        "reminder.recipient_gone",
        user=f"<@{params.get('recipient', '')}>",
        visit=visit_name(card, t),
        reason=b.escape(str(params.get("reason", ""))),
    )
    return b.message(text, [b.section(text)])


def handover_modal(t: Translator, card: VisitCard, waiting: tuple[str, ...]) -> dict[str, Any]:
    """A coordinator hands a stuck supervisor's decision to another supervisor of the library
    (they never decide it themselves)."""
    import json

    people = ", ".join(f"<@{u}>" for u in waiting) or "–"
    blocks: list[b.Block] = [
        b.section(t("visits.handover.intro", **{**_facts(card, t), "supervisor": people})),
        b.input_block(
            ids.HANDOVER_TO,
            t("visits.handover.to"),
            {"type": "users_select", "action_id": ids.HANDOVER_TO},
            hint=t("visits.handover.hint"),
        ),
    ]
    return b.modal(
        ids.HANDOVER_VIEW,
        t("visits.handover.title"),
        blocks,
        submit=t("visits.handover.submit"),
        close=t("common.cancel"),
        private_metadata=json.dumps({"visit": card.id}),
    )


BACK_LINES = 15  # decisions per section of the back DM (a section holds 3000 characters)
BACK_MAX = 45  # decisions listed at most (a message holds 50 blocks)


def substitute_back(report: BackReport, t: Translator) -> dict[str, Any]:
    """Back from a period away: what the substitute decided on the person's behalf."""
    away = report.away
    text = t(
        "substitutes.back.intro",
        substitute=f"<@{away.substitute_id}>",
        start=day_text(away.starts_on, t),
        end=day_text(away.ends_on, t),
    )
    lines = []
    for decided in report.decided[:BACK_MAX]:
        topic = decided.topic_names.get(t.lang) or decided.topic_names.get("fi", "")
        outcome = f"substitutes.outcome.{decided.outcome}"
        lines.append(
            t(
                "substitutes.back.line",
                topic=b.escape(topic),
                host=b.escape(decided.host_library_name),
                party=t(f"reminders.party.{decided.party}"),
                outcome=t(outcome) if t.has(outcome) else decided.outcome,
                date=day_text(workdays.local_today(decided.at), t),
            )
        )
    blocks: list[b.Block] = [b.section(text)]
    for start in range(0, len(lines), BACK_LINES):
        blocks.append(b.section("\n".join(lines[start : start + BACK_LINES])))
    if len(report.decided) > BACK_MAX:
        blocks.append(b.context(t("substitutes.back.more", count=len(report.decided) - BACK_MAX)))
    blocks.append(b.context(t("substitutes.back.where")))
    return b.message(text, blocks)
