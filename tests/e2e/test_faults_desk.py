"""Faults of Slack's Web API on the coordinator's desk and the reminder buttons: a 429, a 500, a
time-out and a closed connection while a desk form opens, after a desk form or button has saved
its change, while the report's CSV and chart (or the write-ups' newsletter file) are uploaded,
and while a write-up nag's snooze is answered. Whatever happens, the change is saved whole
(once) or not at all, the coordinator is told what happened in their own language, and nobody
reads an alarm ("try again", "unexpected error") about something that in fact was saved."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select

from bot import ids
from bot.i18n import translator
from bot.views.visit import day_text
from models import (
    AuditEntry,
    Budget,
    Coordinator,
    KilometreRate,
    Reminder,
    ReminderStatus,
    Topic,
    VisitCost,
    VisitStatus,
)
from services.people import staff
from tests.conftest import COORDINATOR, Bot
from tests.desk_support import add_visit, topics
from tests.e2e.test_faults import CLIENT_TIMEOUT, FAULTS
from tests.e2e.test_reminders_flow import local, sweep_for_bot
from tests.e2e.test_topics import values as topic_values
from tests.e2e.visit_helpers import (
    VISITOR,
    buttons,
    confirm_directly,
    library,
    posted_to,
    propose,
    set_up_people,
    settle,
    text_of,
)
from tests.fakes.slack_api import Failure
from tests.fakes.slack_requests import all_text, select_value, text_value, user_value

LANG = "sv"  # the coordinator reads Swedish: every answer below must be in Swedish
T = translator(LANG)
BUSY = T("error.slack_busy")
UNEXPECTED = T("error.unexpected", error_id="").split("`")[0]
NEW_COORDINATOR = "U0NEWCOORD"


@pytest.fixture
def bot_settings() -> dict[str, Any]:
    return {"slack_timeout": CLIENT_TIMEOUT}


@pytest.fixture(autouse=True)
def _quiet_at_the_end(bot: Bot) -> Iterator[None]:
    yield
    bot.api.heal()
    settle(bot, quiet=CLIENT_TIMEOUT * 2.5)


# --- setting up and looking -------------------------------------------------------------------------
def coordinator_at_home(bot: Bot) -> None:
    """The coordinator's home library is in Savo (so the desk knows their region); they read Swedish."""
    home = library(bot.session_factory, "kuopio-paakirjasto")
    bot.api.locales[COORDINATOR] = "sv-FI"
    staff.update_settings(
        bot.session_factory,
        COORDINATOR,
        home_library_id=home.id,
        language=LANG,
        now=bot.clock(),
        default_language="fi",
    )


def a_visit(bot: Bot, *, travel: str = "public", day: date = date(2026, 11, 2)) -> int:
    """A confirmed, funded visit that has happened (its actual costs can be recorded)."""
    with bot.session_factory.begin() as session:
        return add_visit(
            session,
            home="kuopio-paakirjasto",
            host="joroinen",
            topic=topics(session)["A1"],
            status=VisitStatus.CONFIRMED,
            day=day,
            funded="80.00",
            travel_mode=travel,
        ).id


def counts(bot: Bot) -> dict[str, int]:
    with bot.session_factory() as session:
        return {
            model.__name__: session.scalar(select(func.count()).select_from(model)) or 0
            for model in (Budget, VisitCost, KilometreRate, Coordinator, Topic, Reminder, AuditEntry)
        }


def everything_said(bot: Bot) -> str:
    """Every text the bot tried to show anyone (also in calls the fake failed)."""
    return "\n".join(all_text(call.body) for call in bot.api.calls)


def wait_said(bot: Bot, text: str, timeout: float = 10.0) -> None:
    """Wait until `text` reached the person: in a message, a response_url answer or a modal."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(text in all_text(call.body) for call in bot.api.calls if call.ok):
            return
        time.sleep(0.05)
    raise AssertionError(f"never said {text!r}; said: {everything_said(bot)[-2000:]}")


def finished(bot: Bot) -> None:
    """Wait for the listeners to finish (a time-out makes a call last CLIENT_TIMEOUT)."""
    settle(bot, quiet=CLIENT_TIMEOUT * 2.5)


def no_alarm(bot: Bot) -> None:
    said = everything_said(bot)
    assert BUSY not in said and UNEXPECTED not in said, said[-2000:]


# --- 1. desk forms that cannot be opened ------------------------------------------------------------
# (the button, its value, where it is pressed); the visit id is filled in as {visit}.
OPENERS = {
    "budget": (ids.OPEN_BUDGET, "2026", "home"),
    "rates": (ids.OPEN_RATES, "", "home"),
    "actuals-home": (ids.OPEN_ACTUALS, "{visit}", "home"),
    "actuals-message": (ids.OPEN_ACTUALS, "{visit}", "message"),
    "coordinator": (ids.OPEN_ADD_COORDINATOR, "", "home"),
    "topics": (ids.OPEN_TOPICS, "", "message"),
}


@pytest.mark.parametrize("fault", FAULTS)
@pytest.mark.parametrize("form", OPENERS)
def test_a_desk_form_that_cannot_be_opened_answers_try_again(bot: Bot, form: str, fault: str) -> None:
    """views.open fails: its trigger_id dies in 3 s, so the coordinator is asked to try again, in
    their language, where they pressed (the message's response_url, else a direct message)."""
    coordinator_at_home(bot)
    visit_id = a_visit(bot)
    before = counts(bot)
    action_id, value, where = OPENERS[form]
    bot.api.fail_while(FAULTS[fault](), "views.open")
    reply = bot.slack.action(action_id, value.format(visit=visit_id), user=COORDINATOR, where=where)
    assert reply.status == 200
    wait_said(bot, BUSY)
    finished(bot)
    assert UNEXPECTED not in everything_said(bot)
    assert counts(bot) == before
    assert all(c.ok is False for c in bot.api.of("views.open"))  # the form was never shown


# --- 2. desk forms submitted while Slack fails --------------------------------------------------------
def _budget(bot: Bot, visit_id: int) -> tuple[str, dict[str, Any], str]:
    return (
        ids.BUDGET_VIEW,
        {
            ids.DESK_YEAR: {ids.DESK_YEAR: text_value("2026")},
            ids.DESK_AMOUNT: {ids.DESK_AMOUNT: text_value("5000")},
        },
        "",
    )


def _rates(bot: Bot, visit_id: int) -> tuple[str, dict[str, Any], str]:
    return (
        ids.RATES_VIEW,
        {
            ids.DESK_YEAR: {ids.DESK_YEAR: text_value("2027")},
            ids.DESK_RATE: {ids.DESK_RATE: text_value("0,60")},
        },
        "",
    )


def _actuals(bot: Bot, visit_id: int) -> tuple[str, dict[str, Any], str]:
    return (
        ids.ACTUALS_VIEW,
        {
            ids.DESK_KM: {ids.DESK_KM: text_value("150")},
            ids.DESK_TICKETS: {ids.DESK_TICKETS: text_value("12,50")},
            ids.DESK_ACCOMMODATION: {ids.DESK_ACCOMMODATION: text_value("89,90")},
        },
        str(visit_id),
    )


def _coordinator(bot: Bot, visit_id: int) -> tuple[str, dict[str, Any], str]:
    from tests.desk_support import region_id

    region = str(region_id(bot.session_factory))
    return (
        ids.COORDINATOR_VIEW,
        {
            ids.DESK_USER: {ids.DESK_USER: user_value(NEW_COORDINATOR)},
            ids.DESK_REGION: {ids.DESK_REGION: select_value(region)},
        },
        "",
    )


def _topic(bot: Bot, visit_id: int) -> tuple[str, dict[str, Any], str]:
    with bot.session_factory() as session:
        category = str(topics(session)["A1"].category_id)
    form = topic_values(
        **{ids.TOPIC_CATEGORY: select_value(category), ids.TOPIC_NAME_FI: text_value("Sirkuskoulu")}
    )
    return ids.TOPICS_VIEW, form, ""


SUBMISSIONS = {
    "budget": _budget,
    "rates": _rates,
    "actuals": _actuals,
    "coordinator": _coordinator,
    "topic": _topic,
}


def saved(bot: Bot, form: str, visit_id: int) -> bool:
    """Whether the submission's data is in the database, whole."""
    with bot.session_factory() as session:
        if form == "budget":
            return [b.amount for b in session.scalars(select(Budget))] == [Decimal("5000.00")]
        if form == "rates":
            rate = session.get(KilometreRate, 2027)
            return rate is not None and rate.eur_per_km == Decimal("0.60")
        if form == "actuals":
            cost = session.get(VisitCost, visit_id)
            return cost is not None and (cost.actual_km, cost.actual_tickets, cost.actual_accommodation) == (
                Decimal("150"),
                Decimal("12.50"),
                Decimal("89.90"),
            )
        if form == "coordinator":
            return (
                session.scalar(select(Coordinator).where(Coordinator.slack_user_id == NEW_COORDINATOR))
                is not None
            )
        return len(list(session.scalars(select(Topic).where(Topic.name_fi == "Sirkuskoulu")))) == 1


# The calls a listener makes after the submission's ack: App Home, the visit's messages, notices.
AFTER_ACK = ("views.publish", "chat.update", "chat.postMessage", "views.open", "response_url")


@pytest.mark.parametrize("fault", FAULTS)
@pytest.mark.parametrize("form", SUBMISSIONS)
def test_a_desk_form_submitted_while_slack_fails_is_saved_whole_and_says_so(
    bot: Bot, form: str, fault: str
) -> None:
    """The submission's ack carries the answer ("saved: ..."); what the listener does after it
    (App Home, the visit's messages) fails: the data is saved whole, once, and nobody is asked to
    try again."""
    coordinator_at_home(bot)
    visit_id = a_visit(bot, travel="car")
    callback_id, values, metadata = SUBMISSIONS[form](bot, visit_id)
    assert not saved(bot, form, visit_id)
    audit = counts(bot)["AuditEntry"]
    bot.api.fail_while(FAULTS[fault](), *AFTER_ACK)
    reply = bot.slack.submit(callback_id, values, user=COORDINATOR, private_metadata=metadata)
    assert reply.status == 200, reply.text
    answer = reply.json()
    assert answer["response_action"] == "update", answer  # the modal says it is saved...
    assert answer["view"]["close"]["text"] == T("common.close")  # ...in Swedish
    finished(bot)
    assert saved(bot, form, visit_id)
    assert counts(bot)["AuditEntry"] == audit + 1  # one change, recorded once
    no_alarm(bot)


VISIT_BUTTONS = {
    "tickets": (ids.TICKETS_BOUGHT, "desk.tickets.done"),
    "invoice": (ids.INVOICE_RECEIVED, "desk.invoice.done"),
}


@pytest.mark.parametrize("fault", FAULTS)
@pytest.mark.parametrize(("button", "where"), (("tickets", "home"), ("invoice", "message")))
def test_a_desk_button_pressed_while_slack_fails_is_saved_once_and_says_so(
    bot: Bot, button: str, where: str, fault: str
) -> None:
    """The visit's messages and App Home cannot be re-rendered: the change is saved, the
    coordinator is told so (not "try again"), and pressing again says it is already noted."""
    coordinator_at_home(bot)
    visit_id = a_visit(bot, travel="public" if button == "tickets" else "car")
    action_id, done = VISIT_BUTTONS[button]
    before = counts(bot)
    bot.api.fail_while(FAULTS[fault](), "views.publish", "chat.update")
    reply = bot.slack.action(action_id, str(visit_id), user=COORDINATOR, where=where)
    assert reply.status == 200
    wait_said(bot, T(done))
    finished(bot)
    no_alarm(bot)
    with bot.session_factory() as session:
        if button == "tickets":
            cost = session.get(VisitCost, visit_id)
            assert cost is not None and cost.tickets_bought_by == COORDINATOR
        else:
            from services.money.travel_invoices import invoice_outstanding

            assert not invoice_outstanding(session, visit_id)
    changed = counts(bot)
    bot.slack.action(action_id, str(visit_id), user=COORDINATOR, where=where)
    wait_said(bot, T(done.replace(".done", ".already")))
    finished(bot)
    assert counts(bot) == changed  # pressed again: nothing more is written
    assert changed["AuditEntry"] > before["AuditEntry"]


# --- 3. the report's files and the newsletter file ----------------------------------------------------
UPLOAD_CALLS = ("conversations.open", "files.getUploadURLExternal", "files.completeUploadExternal")


@pytest.mark.parametrize("fault", FAULTS)
@pytest.mark.parametrize(
    ("entry", "method"), tuple(zip(("home", "command", "command"), UPLOAD_CALLS, strict=True))
)
def test_report_files_that_cannot_be_sent_are_reported_in_the_coordinators_language(
    bot: Bot, entry: str, method: str, fault: str
) -> None:
    coordinator_at_home(bot)
    a_visit(bot)
    before = counts(bot)
    bot.api.fail_while(FAULTS[fault](), method)
    if entry == "command":
        reply = bot.slack.command("raportti 2026", user=COORDINATOR)
        assert reply.status == 200 and T("desk.report.working") in reply.said
    else:
        assert bot.slack.action(ids.OPEN_REPORT, "2026", user=COORDINATOR, where="home").status == 200
    wait_said(bot, T("desk.report.upload_failed"))
    finished(bot)
    no_alarm(bot)
    assert counts(bot) == before  # a report writes nothing
    assert bot.api.delivered("files.completeUploadExternal") == []  # no report shared half-done
    # Once Slack answers, asking again sends both files.
    bot.api.heal()
    bot.slack.command("raportti 2026", user=COORDINATOR)
    complete = bot.api.wait_for(
        "files.completeUploadExternal", count=1 + len(bot.api.of("files.completeUploadExternal")), timeout=15
    )
    assert complete[-1].ok


@pytest.mark.parametrize("fault", FAULTS)
@pytest.mark.parametrize(
    "method", ("chat.postMessage", "files.getUploadURLExternal", "files.completeUploadExternal")
)
def test_a_newsletter_file_that_cannot_be_sent_is_reported_in_the_coordinators_language(
    bot: Bot, method: str, fault: str
) -> None:
    coordinator_at_home(bot)
    bot.api.fail_while(FAULTS[fault](), method)
    reply = bot.slack.command("ideat vienti", user=COORDINATOR)
    assert reply.status == 200, reply.text
    wait_said(bot, T("writeups.export.failed"))
    finished(bot)
    no_alarm(bot)


# --- 4. snoozing a write-up nag -------------------------------------------------------------------------
def a_write_up_nag(bot: Bot) -> int:
    """A confirmed visit on 2.12.2026 and its first write-up nag, sent on 3.12 at 9:00."""
    setup = set_up_people(bot)
    visit = propose(bot, setup)
    settle(bot)
    confirm_directly(bot, visit)
    result = sweep_for_bot(bot, local(2026, 12, 3, 9, 0))
    settle(bot)
    return next(r.id for r in result.sent if r.kind == "writeup_nag")


def pending_nags(bot: Bot) -> list[tuple[int, Any]]:
    with bot.session_factory() as session:
        rows = session.execute(
            select(Reminder.id, Reminder.next_attempt_at)
            .where(Reminder.kind == "writeup_nag", Reminder.status == ReminderStatus.PENDING)
            .order_by(Reminder.id)
        ).all()
    return [(row.id, row.next_attempt_at) for row in rows]


@pytest.mark.parametrize("fault", FAULTS)
@pytest.mark.parametrize("extent", ("update", "update and messages"))
def test_a_snooze_whose_message_update_fails_is_saved_once(bot: Bot, extent: str, fault: str) -> None:
    """The snooze is saved before its answer: the nag's message update (through the
    response_url) fails, and then a direct message tells it instead, or, if Slack fails that too,
    nothing is said; either way the next nag moved a week on, once, and no "try again"."""
    nag = a_write_up_nag(bot)
    message = dict(posted_to(bot, VISITOR)[-1], ts="1700000000.000100")  # the nag as Slack shows it
    assert ids.REMINDER_SNOOZE in buttons(message)
    bot.api.locales[VISITOR] = "sv-FI"
    home = library(bot.session_factory, "kuopio-paakirjasto")
    staff.update_settings(
        bot.session_factory,
        VISITOR,
        home_library_id=home.id,
        language=LANG,
        now=bot.clock(),
        default_language="fi",
    )
    before = pending_nags(bot)
    bot.clock.now = local(2026, 12, 9, 10, 0)
    snoozed = T("reminders.snoozed", date=day_text(date(2026, 12, 16), T))
    failing = ("response_url",) if extent == "update" else ("response_url", "chat.update", "chat.postMessage")
    bot.api.fail_while(FAULTS[fault](), *failing)
    posts = len(bot.api.of("chat.postMessage"))
    reply = bot.slack.action(ids.REMINDER_SNOOZE, str(nag), user=VISITOR, message=message)
    assert reply.status == 200
    dm = bot.api.wait_for("chat.postMessage", count=posts + 1)[-1]  # the update failed: a DM
    assert dm.body["channel"] == VISITOR and snoozed in text_of(dm.body)
    finished(bot)
    after = pending_nags(bot)
    assert [i for i, _ in after] == [i for i, _ in before]  # nothing planned twice
    assert after[0][1] == local(2026, 12, 16, 10, 0)  # the next nag moved a week on: saved
    no_alarm(bot)

    # Pressed again once Slack answers (the person saw no change): the nag now says when it comes
    # next and has no snooze button, and the snooze is not moved again.
    bot.api.heal()
    bot.clock.now = local(2026, 12, 9, 10, 5)
    answered = len(bot.api.of("response_url"))
    bot.slack.action(ids.REMINDER_SNOOZE, str(nag), user=VISITOR, message=message)
    update = bot.api.wait_for("response_url", count=answered + 1)[-1].body
    assert update["replace_original"] is True and snoozed in text_of(update)
    # only the snooze button goes (the first nag also asks whether the visit happened)
    assert set(buttons(update)) == {ids.WRITEUP_OPEN, ids.HAPPENED_YES, ids.HAPPENED_MOVED, ids.HAPPENED_NO}
    finished(bot)
    assert pending_nags(bot) == after


def test_an_answer_whose_response_url_never_answers_comes_by_direct_message_in_seconds(bot: Bot) -> None:
    """A response_url that takes the answer and never replies holds it no longer than any Web
    API call (SLACK_TIMEOUT), not the 30 seconds of slack_sdk's WebhookClient that Bolt's
    respond() uses: the person is told by direct message at once, and the snooze is saved."""
    nag = a_write_up_nag(bot)
    bot.clock.now = local(2026, 12, 9, 10, 0)
    bot.api.fail_while(Failure(hang=True), "response_url")
    posts = len(bot.api.of("chat.postMessage"))
    reply = bot.slack.action(ids.REMINDER_SNOOZE, str(nag), user=VISITOR)
    assert reply.status == 200
    dm = bot.api.wait_for("chat.postMessage", count=posts + 1, timeout=CLIENT_TIMEOUT * 10)[-1]
    fi = translator("fi")
    assert dm.body["channel"] == VISITOR
    assert fi("reminders.snoozed", date=day_text(date(2026, 12, 16), fi)) in text_of(dm.body)
    assert pending_nags(bot)[0][1] == local(2026, 12, 16, 10, 0)


def test_a_nag_snoozed_twice_moves_the_next_nag_once(bot: Bot) -> None:
    """The person saw no answer and pressed again five minutes later (from the old message): the
    next nag stays where the first press put it, and the second press says so."""
    nag = a_write_up_nag(bot)
    bot.clock.now = local(2026, 12, 9, 10, 0)
    bot.slack.action(ids.REMINDER_SNOOZE, str(nag), user=VISITOR)
    bot.api.wait_for("response_url")
    finished(bot)
    first = pending_nags(bot)
    assert first[0][1] == local(2026, 12, 16, 10, 0)
    bot.clock.now = local(2026, 12, 9, 10, 5)
    bot.slack.action(ids.REMINDER_SNOOZE, str(nag), user=VISITOR)
    said = bot.api.wait_for("response_url", count=2)[-1].body
    finished(bot)
    assert pending_nags(bot) == first
    assert day_text(date(2026, 12, 16), translator("fi")) in text_of(said)
