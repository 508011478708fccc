"""Faults of Slack's Web API in the middle of each flow: a 429 with Retry-After, a 500, a time-out
and a closed connection in the calls of one step. Whatever happens, what the person submitted
is saved whole, they get the answer or a polite word, and once the fault clears the reminder
sweep delivers every message that failed exactly once (a posted message is updated, never
posted again; a notice or invite goes to nobody twice)."""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import date
from typing import Any

import pytest
from sqlalchemy import func, select, update

from bot import ids
from bot.i18n import translator
from bot.notifier import NOTICE_EVENT, VISIT_EVENT, invite_filename, recipients
from bot.startup import reminder_sweeper
from bot.writeup_publisher import WRITEUP_EVENT
from models import (
    AuditEntry,
    HostOffer,
    PartyState,
    Reminder,
    ReminderStatus,
    StaffProfile,
    TopicSuggestion,
    Visit,
    VisitStatus,
    WriteUp,
    WriteUpStatus,
)
from services.ideas import writeups
from services.outbox import visit_outbox
from services.outbox.reminders import SweepResult
from services.visits import sent_messages, visit_lists
from tests.conftest import COORDINATOR, Bot
from tests.e2e.test_offer import suggest_topic
from tests.e2e.test_settings import library_id, settings_values
from tests.e2e.test_writeups import confirmed_visit, form_values, meta
from tests.e2e.visit_helpers import (
    HOST1,
    HOST2,
    SUPERVISOR,
    VISITOR,
    jsonish,
    only_visit,
    proposal_values,
    set_up_people,
    settle,
)
from tests.fakes.slack_api import (
    Failure,
    closed_connection,
    rate_limited,
    server_error,
    taken_then_closed,
    timeout,
)
from tests.fakes.slack_requests import date_value, text_value

CLIENT_TIMEOUT = 0.3  # SLACK_TIMEOUT of the bot under test: a time-out costs little
FAULTS: dict[str, Callable[[], Failure]] = {
    "429": lambda: rate_limited(30),
    "500": server_error,
    "timeout": lambda: timeout(CLIENT_TIMEOUT * 4),
    "closed": closed_connection,
}
# The calls that show a visit's change: its messages, notices and invites.
VISIT_CALLS = (
    "chat.postMessage",
    "chat.update",
    "files.getUploadURLExternal",
    "files.completeUploadExternal",
)
PEOPLE = (VISITOR, SUPERVISOR, HOST1, HOST2, COORDINATOR)
STEPS = ("propose", "supervisor", "host", "funding", "cancel")
# Who presses in each step, and the language they read (set_up_people gives their locales).
PRESSER = {"supervisor": "fi", "host": "sv", "funding": "en", "cancel": "fi"}


@pytest.fixture
def bot_settings() -> dict[str, Any]:
    return {"slack_timeout": CLIENT_TIMEOUT}


@pytest.fixture(autouse=True)
def _quiet_at_the_end(bot: Bot) -> Iterator[None]:
    yield
    bot.api.heal()
    settle(bot)


# --- looking ------------------------------------------------------------------------------------
def outbox(bot: Bot, kind: str = visit_outbox.SYNC) -> list[Reminder]:
    with bot.session_factory() as session:
        return list(session.scalars(select(Reminder).where(Reminder.kind == kind).order_by(Reminder.id)))


def wait_settled(bot: Bot, rows: int, *, kind: str = visit_outbox.SYNC) -> list[Reminder]:
    """Wait until the requests have finished with the `rows` outbox rows (none still claimed)."""
    deadline = time.monotonic() + 20
    while True:
        found = outbox(bot, kind)
        if len(found) == rows and all(r.claim_token is None for r in found):
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"outbox not settled: {[(r.status, r.claim_token) for r in found]}")
        time.sleep(0.05)


def sweep(bot: Bot) -> SweepResult:
    notifier: Any = bot.deps.extras["visit_notifier"]
    run = reminder_sweeper(
        bot.deps.settings,
        bot.session_factory,
        notifier.client,
        notifier=notifier,
        publisher=bot.deps.extras["writeup_publisher"],
        clock=bot.clock,
    )
    return run(bot.clock())


def visit_messages(bot: Bot) -> Counter[str]:
    """How many visit messages (with blocks, posted to a user id) took effect, per person."""
    return Counter(
        c.body["channel"]
        for c in bot.api.delivered("chat.postMessage")
        if str(c.body.get("channel", "")).startswith("U") and c.body.get("blocks")
    )


def notices(bot: Bot) -> Counter[tuple[str, str]]:
    """Notices (text only, into a DM channel) and invites that took effect, per (channel, text)."""
    found: Counter[tuple[str, str]] = Counter(
        (c.body["channel"], c.body.get("text", ""))
        for c in bot.api.delivered("chat.postMessage")
        if str(c.body.get("channel", "")).startswith("D")
    )
    found.update(
        (c.body["channel_id"], "invite: " + c.body.get("initial_comment", ""))
        for c in bot.api.delivered("files.completeUploadExternal")
    )
    return found


def shown(bot: Bot) -> dict[str, Any]:
    """What each person's visit message shows now: the blocks of its last post or update."""
    last: dict[str, Any] = {}
    for call in bot.api.calls:
        channel = str(call.body.get("channel", ""))
        if not call.ok or not call.body.get("blocks"):
            continue
        if call.method == "chat.postMessage" and channel.startswith("U"):
            last["D" + channel[1:]] = jsonish(call.body["blocks"])
        elif call.method == "chat.update":
            last[channel] = jsonish(call.body["blocks"])
    return last


def answers(bot: Bot) -> list[str]:
    return [c.body.get("text", "") for c in bot.api.of("response_url")]


# --- doing --------------------------------------------------------------------------------------
def press(bot: Bot, action_id: str, value: str, user: str) -> None:
    reply = bot.slack.action(action_id, value, user=user)
    assert reply.status == 200, reply.text


def step(bot: Bot, setup: dict[str, Any], name: str) -> None:
    """Do one step of the visit flow as its person would."""
    if name == "propose":
        reply = bot.slack.submit(ids.PROPOSE_VIEW, proposal_values(setup["topic"].id, setup["host"].id))
        assert reply.status == 200, reply.text
        assert reply.json()["response_action"] == "update"  # the answer: "proposal sent"
        return
    visit = only_visit(bot.session_factory)
    value = f"{visit.id}:{visit.round}"
    if name == "supervisor":
        press(bot, ids.SUPERVISOR_APPROVE, value, SUPERVISOR)
    elif name == "host":
        with bot.session_factory() as session:
            first = min(d.id for d in session.get_one(Visit, visit.id).dates if d.active)
        press(bot, f"{ids.HOST_ACCEPT}_1", f"{value}:{first}", HOST1)
    elif name == "funding":
        press(bot, ids.FUNDING_APPROVE, value, COORDINATOR)
    else:
        press(bot, ids.VISIT_CANCEL, value, VISITOR)


def check_state(bot: Bot, done: str) -> None:
    """The visit is exactly as the steps up to `done` left it: every change whole."""
    upto = STEPS.index(done)
    with bot.session_factory() as session:
        visit = session.scalars(select(Visit)).one()
        audit = list(session.scalars(select(AuditEntry.action).where(AuditEntry.entity == "visit")))
        planned = {r.kind for r in session.scalars(select(Reminder).where(Reminder.status == "pending"))}
        dates = [d.day for d in visit.dates if d.active]
    expected_audit = ["visit.propose"] + ["visit.approved"] * min(upto, 3) + ["visit.cancelled"] * (upto == 4)
    assert audit == expected_audit
    assert dates == [date(2026, 12, 2), date(2026, 12, 3)]
    assert visit.supervisor_state == (PartyState.APPROVED if upto >= 1 else PartyState.PENDING)
    assert visit.host_state == (PartyState.APPROVED if upto >= 2 else PartyState.PENDING)
    assert visit.chosen_date == (date(2026, 12, 2) if upto >= 2 else None)
    assert visit.funding_state == (PartyState.APPROVED if upto >= 3 else PartyState.PENDING)
    status = [VisitStatus.PROPOSED] * 3 + [VisitStatus.CONFIRMED, VisitStatus.CANCELLED]
    assert visit.status == status[upto]
    if upto == 3:
        assert visit.invite_sent and visit.funded_cost is not None
        assert {"day_before", "writeup_nag"} <= planned  # the confirmation's reminders
    if upto == 4:
        assert planned <= {visit_outbox.SYNC}  # a cancelled visit reminds nobody of anything
    elif upto < 3:
        assert "decision_nudge" in planned


def check_delivered_once(bot: Bot, done: str) -> None:
    """Every message, notice and invite the flow owes went out, and none twice."""
    upto = STEPS.index(done)
    assert visit_messages(bot) == Counter(PEOPLE)  # each person's visit message posted once
    sent = notices(bot)
    assert all(n == 1 for n in sent.values()), sent
    invites = [key for key in sent if key[1].startswith("invite: ")]
    assert len(invites) == 5 * ((upto >= 3) + (upto >= 4))
    assert {channel for channel, _ in invites} == ({"D" + p[1:] for p in PEOPLE} if upto >= 3 else set())
    # Every message shows the visit as it is now: a fresh render changes nothing.
    before = shown(bot)
    calls = len(bot.api.calls)
    bot.deps.extras["visit_notifier"].refresh(only_visit(bot.session_factory).id)  # type: ignore[attr-defined]
    fresh = [c for c in bot.api.calls[calls:] if c.method == "chat.update"]
    assert len(fresh) == 5
    for call in fresh:
        assert jsonish(call.body["blocks"]) == before[call.body["channel"]]


def run_flow(bot: Bot, setup: dict[str, Any], upto: str) -> None:
    """The steps before `upto`, with Slack answering."""
    for n, name in enumerate(STEPS[: STEPS.index(upto)], start=1):
        step(bot, setup, name)
        rows = wait_settled(bot, n)
        assert rows[-1].status == ReminderStatus.SENT  # shown at once: nothing left for the sweep


# --- the tests ----------------------------------------------------------------------------------
@pytest.mark.parametrize("fault", FAULTS)
@pytest.mark.parametrize("name", STEPS)
def test_a_fault_through_a_step_loses_nothing_and_the_sweep_delivers_the_rest_once(
    bot: Bot, name: str, fault: str
) -> None:
    setup = set_up_people(bot)
    run_flow(bot, setup, name)
    bot.api.fail_while(FAULTS[fault](), *VISIT_CALLS)
    step(bot, setup, name)
    rows = wait_settled(bot, STEPS.index(name) + 1)
    check_state(bot, name)
    owed = rows[-1]
    assert owed.status == ReminderStatus.PENDING and owed.last_error
    if name != "propose":  # the person who pressed is told, in their language, it is saved
        slow = translator(PRESSER[name])("visits.saved_slack_slow")
        deadline = time.monotonic() + 5
        while slow not in answers(bot) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert slow in answers(bot), answers(bot)
    bot.api.heal()
    bot.clock.advance(seconds=10)  # not before its time (Retry-After 30 s, else a minute)
    assert sweep(bot).sent == []
    bot.clock.advance(minutes=2)
    result = sweep(bot)
    assert [r.kind for r in result.sent] == [visit_outbox.SYNC], result.summary()
    assert {r.status for r in outbox(bot)} == {ReminderStatus.SENT}
    check_state(bot, name)
    check_delivered_once(bot, name)
    bot.clock.advance(hours=1)
    assert sweep(bot).sent == []  # nothing is sent again


@pytest.mark.parametrize("fault", FAULTS)
@pytest.mark.parametrize("name", ("propose", "funding", "cancel"))
def test_one_failing_call_in_a_step_is_retried_alone(bot: Bot, name: str, fault: str) -> None:
    """Only the third call of the step fails: the others went out and are not sent again."""
    setup = set_up_people(bot)
    run_flow(bot, setup, name)
    method = "chat.postMessage" if name == "propose" else "files.getUploadURLExternal"
    bot.api.fail_nth(method, 3, FAULTS[fault]())
    step(bot, setup, name)
    wait_settled(bot, STEPS.index(name) + 1)
    check_state(bot, name)
    bot.api.heal()
    bot.clock.advance(minutes=2)
    sweep(bot)
    assert {r.status for r in outbox(bot)} == {ReminderStatus.SENT}
    check_delivered_once(bot, name)


def test_a_fault_that_outlasts_the_first_retry_is_retried_again(bot: Bot) -> None:
    setup = set_up_people(bot)
    bot.api.fail_while(server_error(), *VISIT_CALLS)
    step(bot, setup, "propose")
    wait_settled(bot, 1)
    bot.clock.advance(minutes=2)
    first = sweep(bot)
    assert first.sent == [] and len(first.retried) == 1  # Slack still fails
    [row] = outbox(bot)
    assert row.status == ReminderStatus.PENDING and row.attempts == 1
    bot.api.heal()
    bot.clock.advance(minutes=2)
    assert len(sweep(bot).sent) == 1
    check_delivered_once(bot, "propose")


# --- write-ups --------------------------------------------------------------------------------------
IDEAS = "C0IDEAS"


def submit_writeup(bot: Bot, visit_id: int, title: str) -> None:
    reply = bot.slack.submit(
        ids.WRITEUP_VIEW, form_values(title=title), user=VISITOR, private_metadata=meta(visit_id)
    )
    assert reply.status == 200, reply.text
    assert reply.json()["response_action"] == "update"  # the answer: "saved"


@pytest.mark.parametrize("fault", FAULTS)
@pytest.mark.parametrize("extent", ("all", "third call"))
def test_a_fault_while_a_write_up_is_published_loses_nothing_and_the_sweep_posts_it_once(
    bot: Bot, fault: str, extent: str
) -> None:
    setup = set_up_people(bot)
    visit_id = confirmed_visit(bot, setup)
    if extent == "all":
        bot.api.fail_while(FAULTS[fault](), "chat.postMessage", "chat.update")
    else:  # the idea-bank post and the first notice go out, the second notice fails
        bot.api.fail_nth("chat.postMessage", 3, FAULTS[fault]())
    submit_writeup(bot, visit_id, "Lukukoira kirjastossa")
    wait_settled(bot, 1, kind=visit_outbox.WRITEUP_SYNC)
    with bot.session_factory() as session:
        saved = session.scalars(select(WriteUp)).one()
        assert saved.status == WriteUpStatus.PUBLISHED and saved.title == "Lukukoira kirjastossa"
        assert saved.submitted_at is not None
    bot.api.heal()
    bot.clock.advance(minutes=2)
    sweep(bot)
    assert {r.status for r in outbox(bot, visit_outbox.WRITEUP_SYNC)} == {ReminderStatus.SENT}
    posts = Counter(c.body["channel"] for c in bot.api.delivered("chat.postMessage"))
    assert posts == Counter([IDEAS, HOST1, HOST2, COORDINATOR])  # the post and each notice, once
    with bot.session_factory() as session:
        assert session.scalars(select(WriteUp.channel)).one() == IDEAS  # remembered: edits update it

    # An edit while Slack fails: the post is updated later, never posted again.
    bot.api.fail_while(FAULTS[fault](), "chat.postMessage", "chat.update")
    edited_at = len(bot.api.calls)
    submit_writeup(bot, visit_id, "Lukukoira ja lapset")
    wait_settled(bot, 2, kind=visit_outbox.WRITEUP_SYNC)
    bot.api.heal()
    bot.clock.advance(minutes=2)
    sweep(bot)
    updates = [c for c in bot.api.calls[edited_at:] if c.ok and c.method == "chat.update"]
    assert (
        len(updates) == 1
        and updates[0].body["channel"] == IDEAS
        and "Lukukoira ja lapset" in json.dumps(updates[0].body, ensure_ascii=False)
    )
    assert Counter(c.body["channel"] for c in bot.api.delivered("chat.postMessage")) == posts


# --- offers, settings, forms ------------------------------------------------------------------------
@pytest.mark.parametrize("fault", FAULTS)
def test_a_fault_while_an_offer_is_saved_keeps_it_and_the_coordinators_hear_later_once(
    bot: Bot, fault: str
) -> None:
    bot.api.fail_while(FAULTS[fault](), "chat.postMessage")
    suggestion = suggest_topic(bot, "Sirkuskoulu")  # saves the offer, answers "sent to coordinators"
    wait_settled(bot, 1, kind=visit_outbox.SUGGESTION_SYNC)
    with bot.session_factory() as session:
        assert session.scalars(select(HostOffer)).one() is not None
        assert session.get_one(TopicSuggestion, suggestion).text == "Sirkuskoulu"
    assert bot.api.delivered("chat.postMessage") == []
    bot.api.heal()
    bot.clock.advance(minutes=2)
    sweep(bot)
    assert {r.status for r in outbox(bot, visit_outbox.SUGGESTION_SYNC)} == {ReminderStatus.SENT}
    dms = [c.body["channel"] for c in bot.api.delivered("chat.postMessage")]
    assert dms == [COORDINATOR]  # once
    with bot.session_factory() as session:  # remembered, so that a decision updates it
        assert session.get_one(TopicSuggestion, suggestion).messages
    bot.clock.advance(hours=1)
    assert sweep(bot).sent == []


@pytest.mark.parametrize("fault", FAULTS)
def test_a_fault_while_settings_are_saved_keeps_them(bot: Bot, fault: str) -> None:
    bot.api.fail_while(FAULTS[fault](), "views.publish")
    jynkka = library_id(bot, "kuopio-jynkka")
    reply = bot.slack.submit(ids.SETTINGS_VIEW, settings_values(str(jynkka), "sv"))
    assert reply.status == 200
    assert "Sparat." in json.dumps(reply.json(), ensure_ascii=False)  # the answer
    bot.api.wait_for("views.publish")  # the Home tab could not be republished...
    settle(bot)
    with bot.session_factory() as session:  # ...but the settings are saved
        profile = session.scalars(select(StaffProfile).where(StaffProfile.slack_user_id == VISITOR)).one()
        assert profile.home_library_id == jynkka and profile.language == "sv"
    assert bot.api.of("response_url") == []  # nothing alarming was said


FORMS = {"ehdota": "propose", "asetukset": "settings", "tarjoa": "offer"}


@pytest.mark.parametrize("fault", FAULTS)
@pytest.mark.parametrize("word", FORMS)
def test_a_form_that_cannot_be_opened_is_answered_with_try_again(bot: Bot, word: str, fault: str) -> None:
    """views.open cannot be retried later (its trigger_id dies in 3 s): the person is told."""
    set_up_people(bot)
    bot.api.locales[VISITOR] = "en-US"
    with bot.session_factory.begin() as session:
        session.execute(update(StaffProfile).values(language=None, slack_locale="en-US"))
    bot.api.fail_while(FAULTS[fault](), "views.open")
    before = table_counts(bot)
    reply = bot.slack.command(word, user=VISITOR)
    assert reply.status == 200
    said = bot.api.wait_for("response_url")
    assert translator("en")("error.slack_busy") in [c.body.get("text") for c in said]
    assert table_counts(bot) == before


def table_counts(bot: Bot) -> dict[str, int]:
    with bot.session_factory() as session:
        return {
            model.__name__: session.scalar(select(func.count()).select_from(model)) or 0
            for model in (Visit, HostOffer, TopicSuggestion, Reminder, AuditEntry)
        }


@pytest.mark.parametrize("fault", FAULTS)
def test_slack_down_through_the_whole_flow_then_one_sweep_shows_where_it_ended(bot: Bot, fault: str) -> None:
    """Proposed, decided, confirmed and cancelled while Slack failed: afterwards each person gets
    their message once, showing the cancelled visit, and the cancellation's invite; the stale
    confirmation invite (an older SEQUENCE) is not sent after it."""
    setup = set_up_people(bot)
    bot.api.fail_while(FAULTS[fault](), *VISIT_CALLS)
    for n, name in enumerate(STEPS, start=1):
        step(bot, setup, name)
        wait_settled(bot, n)
    check_state(bot, "cancel")
    assert {r.status for r in outbox(bot)} == {ReminderStatus.PENDING}
    assert visit_messages(bot) == Counter()
    bot.api.heal()
    bot.clock.advance(minutes=2)
    result = sweep(bot)
    assert len(result.sent) == len(STEPS), result.summary()
    assert visit_messages(bot) == Counter(PEOPLE)
    sent = notices(bot)
    assert all(n == 1 for n in sent.values()), sent
    assert len([text for _, text in sent if text.startswith("invite: ")]) == 5
    icses = [c.body["raw"] for c in bot.api.of("upload")]
    assert len(icses) == 5 and all("STATUS:CANCELLED" in ics and "SEQUENCE:1" in ics for ics in icses)
    with bot.session_factory() as session:
        assert session.scalars(select(Visit.status)).one() == VisitStatus.CANCELLED


# --- Slack took it, the answer was lost ---------------------------------------------------------
# Slack posts the message and only then is its answer lost: the connection closes, or the answer
# comes after the client has given up. The bot cannot tell this from a post that never arrived.
LOST_ANSWERS: dict[str, Callable[[], Failure]] = {
    "closed": taken_then_closed,
    "timeout": lambda: taken_then_closed(delay=CLIENT_TIMEOUT * 4),
}


class Crash(BaseException):
    """The process dies here (not an error the bot could catch and handle)."""


def in_slack(bot: Bot, event_type: str) -> dict[str, list[dict[str, Any]]]:
    """The messages of this metadata event type in each DM, as Slack holds them now."""
    with bot.api.lock:
        return {
            channel: [m for m in messages if (m.get("metadata") or {}).get("event_type") == event_type]
            for channel, messages in bot.api.history.items()
        }


def check_one_current_message_each(bot: Bot) -> None:
    """Slack holds one visit message for each person (tagged with the visit and their role), and
    it shows the visit as it is now: what a fresh render shows."""
    check_delivered_once(bot, "propose")  # each posted once; a fresh render changes nothing
    latest = shown(bot)
    held = in_slack(bot, VISIT_EVENT)
    assert {channel: len(found) for channel, found in held.items() if found} == {
        "D" + p[1:]: 1 for p in PEOPLE
    }
    visit_id = only_visit(bot.session_factory).id
    for person, role in recipients(visit_lists.card_of(bot.session_factory, visit_id), [COORDINATOR]):
        [message] = held["D" + person[1:]]
        assert message["metadata"]["event_payload"] == {"visit_id": visit_id, "role": role}
        assert message["blocks"] == latest["D" + person[1:]]


@pytest.mark.parametrize("lost", LOST_ANSWERS)
def test_a_visit_message_slack_took_without_answering_is_found_not_posted_again(bot: Bot, lost: str) -> None:
    setup = set_up_people(bot)
    bot.api.fail_nth("chat.postMessage", 3, LOST_ANSWERS[lost]())  # the third person's message
    step(bot, setup, "propose")
    [row] = wait_settled(bot, 1)
    assert visit_messages(bot) == Counter([VISITOR, SUPERVISOR, HOST1])  # it went out; the rest wait
    assert row.status == ReminderStatus.PENDING  # the bot does not know it went out
    # Another change meanwhile (Slack answering again): the message is found and brought up to date.
    step(bot, setup, "supervisor")
    wait_settled(bot, 2)
    assert visit_messages(bot) == Counter(PEOPLE)
    bot.clock.advance(minutes=2)
    sweep(bot)
    assert {r.status for r in outbox(bot)} == {ReminderStatus.SENT}
    check_one_current_message_each(bot)


@pytest.mark.parametrize("lost", LOST_ANSWERS)
def test_lost_answers_through_the_sweep_post_nothing_twice(bot: Bot, lost: str) -> None:
    """Slack fails the whole proposal, then takes the sweep's third post without answering:
    the next sweep finds that message and posts only what is still missing."""
    setup = set_up_people(bot)
    bot.api.fail_while(server_error(), *VISIT_CALLS)
    step(bot, setup, "propose")
    wait_settled(bot, 1)
    bot.api.heal()
    bot.api.fail_nth("chat.postMessage", 3, LOST_ANSWERS[lost]())
    bot.clock.advance(minutes=2)
    assert len(sweep(bot).retried) == 1
    bot.clock.advance(minutes=2)
    assert len(sweep(bot).sent) == 1
    check_one_current_message_each(bot)
    assert len(bot.api.of("conversations.history")) == 1  # looked for the unanswered one only


def test_a_crash_after_slack_took_a_visit_message_posts_it_once(
    bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The process dies right after Slack took the third person's message, before the bot could
    note it: the sweep takes the change over when its claim expires and finds the message."""
    setup = set_up_people(bot)
    save = sent_messages.save_message_refs

    def die_on_the_third(session_factory: Any, visit_id: int, refs: Any) -> None:
        refs = list(refs)
        if any(user == HOST1 for user, *_ in refs):
            raise Crash
        save(session_factory, visit_id, refs)

    monkeypatch.setattr(sent_messages, "save_message_refs", die_on_the_third)
    step(bot, setup, "propose")
    bot.api.wait_for("chat.postMessage", count=3)
    settle(bot)
    monkeypatch.setattr(sent_messages, "save_message_refs", save)
    [row] = outbox(bot)
    assert row.status == ReminderStatus.PENDING and row.claim_token is not None  # the dead request's
    assert visit_messages(bot) == Counter([VISITOR, SUPERVISOR, HOST1])
    bot.clock.advance(minutes=2)
    assert sweep(bot).sent == []  # the claim has not expired yet
    bot.clock.advance(minutes=10)
    assert len(sweep(bot).sent) == 1
    check_one_current_message_each(bot)


def decline_as_supervisor(bot: Bot) -> None:
    visit = only_visit(bot.session_factory)
    press(bot, ids.SUPERVISOR_DECLINE, f"{visit.id}:{visit.round}", SUPERVISOR)
    view = jsonish(bot.api.wait_for("views.open")[-1].body["view"])
    reply = bot.slack.submit(
        ids.DECLINE_VIEW,
        {ids.DECLINE_REASON: {ids.DECLINE_REASON: text_value("Ei budjettia tälle keväälle.")}},
        user=SUPERVISOR,
        private_metadata=view["private_metadata"],
    )
    assert reply.json() == {"response_action": "clear"}


def declined_notices(bot: Bot) -> Counter[str]:
    """The decline's notices that Slack holds, per DM."""
    return Counter(channel for channel, found in in_slack(bot, NOTICE_EVENT).items() for _ in found)


@pytest.mark.parametrize("lost", LOST_ANSWERS)
def test_a_notice_slack_took_without_answering_is_not_sent_again(bot: Bot, lost: str) -> None:
    setup = set_up_people(bot)
    run_flow(bot, setup, "supervisor")  # proposed, the supervisor has not decided
    bot.api.fail_nth("chat.postMessage", 2, LOST_ANSWERS[lost]())  # the second notice
    decline_as_supervisor(bot)
    rows = wait_settled(bot, 2)
    assert rows[-1].status == ReminderStatus.PENDING
    bot.clock.advance(minutes=2)
    sweep(bot)
    assert {r.status for r in outbox(bot)} == {ReminderStatus.SENT}
    everyone_else = Counter("D" + p[1:] for p in PEOPLE if p != SUPERVISOR)
    assert Counter(channel for channel, _ in notices(bot).elements()) == everyone_else  # each once
    assert declined_notices(bot) == everyone_else  # each tagged with the visit's change


def test_a_crash_after_the_notices_went_out_sends_none_again(
    bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The request dies after its notices went out, before it could note that: the sweep takes
    the change over and finds each notice in the person's DM."""
    setup = set_up_people(bot)
    run_flow(bot, setup, "supervisor")

    def die(*args: Any, **kwargs: Any) -> bool:
        raise Crash

    monkeypatch.setattr(visit_outbox, "delivered", die)
    decline_as_supervisor(bot)
    bot.api.wait_for("chat.postMessage", count=5 + 4)
    settle(bot)
    monkeypatch.undo()
    assert outbox(bot)[-1].claim_token is not None  # still the dead request's
    bot.clock.advance(minutes=10)
    assert len(sweep(bot).sent) == 1
    everyone_else = Counter("D" + p[1:] for p in PEOPLE if p != SUPERVISOR)
    assert Counter(channel for channel, _ in notices(bot).elements()) == everyone_else  # each once
    assert declined_notices(bot) == everyone_else


def invites_in_slack(bot: Bot) -> dict[str, list[str]]:
    """The names of the calendar invites (.ics files) that Slack holds in each DM."""
    with bot.api.lock:
        found = {
            channel: [f["name"] for m in messages for f in m.get("files") or [] if f["name"].endswith(".ics")]
            for channel, messages in bot.api.history.items()
        }
    return {channel: names for channel, names in found.items() if names}


def check_one_invite_each(bot: Bot) -> None:
    """Each person has the confirmation's invite once, in their DM, under its own name."""
    check_delivered_once(bot, "funding")
    name = invite_filename(only_visit(bot.session_factory).id, 0)
    assert invites_in_slack(bot) == {"D" + p[1:]: [name] for p in PEOPLE}


@pytest.mark.parametrize("lost", LOST_ANSWERS)
def test_an_invite_slack_took_without_answering_is_not_uploaded_again(bot: Bot, lost: str) -> None:
    """The confirmation's third invite reaches Slack and its answer is lost: the sweep finds the
    file in that person's DM by its name and uploads only the invites still missing."""
    setup = set_up_people(bot)
    run_flow(bot, setup, "funding")
    bot.api.fail_nth("files.completeUploadExternal", 3, LOST_ANSWERS[lost]())
    step(bot, setup, "funding")
    rows = wait_settled(bot, 4)
    assert rows[-1].status == ReminderStatus.PENDING  # the bot does not know the third one went out
    assert sorted(invites_in_slack(bot)) == sorted("D" + p[1:] for p in PEOPLE[:3])
    bot.clock.advance(minutes=2)
    assert len(sweep(bot).sent) == 1
    assert {r.status for r in outbox(bot)} == {ReminderStatus.SENT}
    check_state(bot, "funding")
    check_one_invite_each(bot)
    assert len(bot.api.of("conversations.history")) == 1  # looked for the unanswered one only


def test_a_crash_after_the_invites_went_out_uploads_none_again(
    bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The request dies after every invite of the confirmation went out, before it could note
    that: the sweep takes the change over and finds each invite in the person's DM."""
    setup = set_up_people(bot)
    run_flow(bot, setup, "funding")

    def die(*args: Any, **kwargs: Any) -> bool:
        raise Crash

    monkeypatch.setattr(visit_outbox, "delivered", die)
    step(bot, setup, "funding")
    bot.api.wait_for("files.completeUploadExternal", count=len(PEOPLE))
    settle(bot)
    monkeypatch.undo()
    assert outbox(bot)[-1].claim_token is not None  # still the dead request's
    bot.clock.advance(minutes=10)
    assert len(sweep(bot).sent) == 1
    assert {r.status for r in outbox(bot)} == {ReminderStatus.SENT}
    check_one_invite_each(bot)


def check_one_idea_bank_post(bot: Bot, title: str) -> None:
    """The idea bank holds one post of the write-up (tagged with its id), the bot remembers it (so
    edits update it) and it shows the write-up as it is now; everyone else was told once."""
    with bot.session_factory() as session:
        saved = session.scalars(select(WriteUp)).one()
    [post] = in_slack(bot, WRITEUP_EVENT)[IDEAS]
    assert post["metadata"]["event_payload"] == {"writeup_id": saved.id}
    assert (saved.channel, saved.ts) == (IDEAS, post["ts"])
    assert title in json.dumps(post["blocks"], ensure_ascii=False)
    posts = Counter(c.body["channel"] for c in bot.api.delivered("chat.postMessage"))
    assert posts == Counter([IDEAS, HOST1, HOST2, COORDINATOR])  # the post and each notice, once


@pytest.mark.parametrize("then", ("sweep", "edit"))
@pytest.mark.parametrize("lost", LOST_ANSWERS)
def test_an_idea_bank_post_slack_took_without_answering_is_found_not_posted_again(
    bot: Bot, lost: str, then: str
) -> None:
    """Slack takes the write-up's idea-bank post and its answer is lost: the sweep (or an edit
    made before it) finds the post in the channel and keeps it instead of posting it again."""
    setup = set_up_people(bot)
    visit_id = confirmed_visit(bot, setup)
    bot.api.fail_next("chat.postMessage", LOST_ANSWERS[lost]())  # the idea-bank post comes first
    submit_writeup(bot, visit_id, "Lukukoira kirjastossa")
    [row] = wait_settled(bot, 1, kind=visit_outbox.WRITEUP_SYNC)
    assert row.status == ReminderStatus.PENDING  # the bot does not know the post went out
    assert len(in_slack(bot, WRITEUP_EVENT)[IDEAS]) == 1
    title = "Lukukoira kirjastossa"
    if then == "edit":
        title = "Lukukoira ja lapset"
        submit_writeup(bot, visit_id, title)
        wait_settled(bot, 2, kind=visit_outbox.WRITEUP_SYNC)
    bot.clock.advance(minutes=2)
    sweep(bot)
    assert {r.status for r in outbox(bot, visit_outbox.WRITEUP_SYNC)} == {ReminderStatus.SENT}
    check_one_idea_bank_post(bot, title)
    bot.clock.advance(hours=1)
    assert sweep(bot).sent == []


def test_a_crash_after_slack_took_the_idea_bank_post_posts_it_once(
    bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The request dies right after Slack took the idea-bank post, before the bot saved its ts:
    the sweep takes the write-up's row over and finds the post in the channel."""
    setup = set_up_people(bot)
    visit_id = confirmed_visit(bot, setup)

    def die(*args: Any, **kwargs: Any) -> None:
        raise Crash

    monkeypatch.setattr(writeups, "remember_post", die)
    submit_writeup(bot, visit_id, "Lukukoira kirjastossa")
    bot.api.wait_for("chat.postMessage")
    settle(bot)
    monkeypatch.undo()
    [row] = outbox(bot, visit_outbox.WRITEUP_SYNC)
    assert row.status == ReminderStatus.PENDING and row.claim_token is not None  # the dead request's
    bot.clock.advance(minutes=10)
    assert len(sweep(bot).sent) == 1
    assert {r.status for r in outbox(bot, visit_outbox.WRITEUP_SYNC)} == {ReminderStatus.SENT}
    check_one_idea_bank_post(bot, "Lukukoira kirjastossa")


def test_an_idea_bank_post_is_made_when_slack_refuses_the_look_up(bot: Bot) -> None:
    """The app was installed before it asked for channels:history: the look-up for an unanswered
    post is refused, and the post is made all the same (twice is better than never)."""
    setup = set_up_people(bot)
    visit_id = confirmed_visit(bot, setup)
    bot.api.fail_next("chat.postMessage", closed_connection())  # it never reached Slack
    submit_writeup(bot, visit_id, "Lukukoira kirjastossa")
    wait_settled(bot, 1, kind=visit_outbox.WRITEUP_SYNC)
    bot.api.fail_next("conversations.history", Failure(error="missing_scope"))
    bot.clock.advance(minutes=2)
    sweep(bot)
    assert bot.api.of("conversations.history")  # it looked
    assert {r.status for r in outbox(bot, visit_outbox.WRITEUP_SYNC)} == {ReminderStatus.SENT}
    check_one_idea_bank_post(bot, "Lukukoira kirjastossa")


@pytest.mark.parametrize("what", ("message", "notice", "invite"))
def test_a_visits_messages_are_sent_when_slack_refuses_the_look_up(bot: Bot, what: str) -> None:
    """The app was installed before it asked for im:history: the look-up for a visit's message,
    notice or invite that went unanswered is refused, and the sweep sends it all the same (twice
    is better than never) instead of taking the refusal for Slack refusing the bot and waiting."""
    setup = set_up_people(bot)
    if what == "message":  # the third person's visit message never reached Slack
        bot.api.fail_nth("chat.postMessage", 3, closed_connection())
        step(bot, setup, "propose")
        wait_settled(bot, 1)
    elif what == "notice":  # the decline's second notice never reached Slack
        run_flow(bot, setup, "supervisor")
        bot.api.fail_nth("chat.postMessage", 2, closed_connection())
        decline_as_supervisor(bot)
        wait_settled(bot, 2)
    else:  # the confirmation's third invite never reached Slack
        run_flow(bot, setup, "funding")
        bot.api.fail_nth("files.completeUploadExternal", 3, closed_connection())
        step(bot, setup, "funding")
        wait_settled(bot, 4)
    assert outbox(bot)[-1].status == ReminderStatus.PENDING
    bot.api.fail_while(Failure(error="missing_scope"), "conversations.history")
    bot.clock.advance(minutes=2)
    assert len(sweep(bot).sent) == 1
    assert bot.api.of("conversations.history")  # it looked
    assert {r.status for r in outbox(bot)} == {ReminderStatus.SENT}
    if what == "message":
        check_one_current_message_each(bot)
    elif what == "notice":
        everyone_else = Counter("D" + p[1:] for p in PEOPLE if p != SUPERVISOR)
        assert declined_notices(bot) == everyone_else
    else:
        check_one_invite_each(bot)


# --- forms whose messages cannot be updated now ------------------------------------------------
FORM_PERSON = {"decline": (SUPERVISOR, "fi"), "counter": (HOST1, "sv"), "move": (VISITOR, "fi")}


def submit_form(bot: Bot, setup: dict[str, Any], form: str, fault: Failure) -> None:
    """Open the form from its button as its person would, then submit it while Slack fails."""
    run_flow(bot, setup, {"decline": "supervisor", "counter": "host", "move": "cancel"}[form])
    visit = only_visit(bot.session_factory)
    user = FORM_PERSON[form][0]
    button = {"decline": ids.SUPERVISOR_DECLINE, "counter": ids.HOST_COUNTER, "move": ids.VISIT_MOVE}[form]
    press(bot, button, f"{visit.id}:{visit.round}", user)
    view = jsonish(bot.api.wait_for("views.open")[-1].body["view"])
    if form == "decline":
        callback = ids.DECLINE_VIEW
        values = {ids.DECLINE_REASON: {ids.DECLINE_REASON: text_value("Ei budjettia tälle keväälle.")}}
    elif form == "counter":
        callback = ids.COUNTER_VIEW
        values = {f"{ids.PROPOSE_DATE}_1": {f"{ids.PROPOSE_DATE}_1": date_value("2026-12-09")}}
    else:
        callback = ids.MOVE_VIEW
        values = {
            f"{ids.PROPOSE_DATE}_1": {f"{ids.PROPOSE_DATE}_1": date_value("2026-12-16")},
            ids.PROPOSE_KM: {ids.PROPOSE_KM: text_value("120")},
            ids.PROPOSE_TICKETS: {ids.PROPOSE_TICKETS: text_value("0")},
            ids.PROPOSE_ACCOMMODATION: {ids.PROPOSE_ACCOMMODATION: text_value("")},
        }
    bot.api.fail_while(fault, "chat.update", "files.getUploadURLExternal")
    reply = bot.slack.submit(callback, values, user=user, private_metadata=view["private_metadata"])
    assert reply.json() == {"response_action": "clear"}  # the form closes: it is saved


def dms_to(bot: Bot, user: str) -> list[str]:
    return [
        c.body.get("text", "") for c in bot.api.delivered("chat.postMessage") if c.body.get("channel") == user
    ]


@pytest.mark.parametrize("fault", FAULTS)
@pytest.mark.parametrize("form", FORM_PERSON)
def test_a_form_whose_messages_cannot_be_updated_now_says_they_will_follow(
    bot: Bot, form: str, fault: str
) -> None:
    setup = set_up_people(bot)
    submit_form(bot, setup, form, FAULTS[fault]())
    user, language = FORM_PERSON[form]
    slow = translator(language)("visits.saved_slack_slow")
    deadline = time.monotonic() + 5
    while slow not in dms_to(bot, user) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert dms_to(bot, user).count(slow) == 1, dms_to(bot, user)  # told once, in their language
    owed = wait_settled(bot, len(outbox(bot)))[-1]
    assert owed.status == ReminderStatus.PENDING  # the messages follow from the outbox
    bot.api.heal()
    bot.clock.advance(minutes=2)
    sweep(bot)
    assert {r.status for r in outbox(bot)} == {ReminderStatus.SENT}
    assert dms_to(bot, user).count(slow) == 1


# --- a coordinator hides or publishes a write-up -----------------------------------------------
def said_to(bot: Bot, user: str, since: int = 0) -> list[str]:
    """What took effect for this person after call `since`: DMs and answers to their presses."""
    return [
        c.body.get("text", "")
        for c in bot.api.calls[since:]
        if c.ok
        and (c.method == "response_url" or (c.method == "chat.postMessage" and c.body.get("channel") == user))
    ]


def idea_bank_shows(bot: Bot) -> str:
    """The idea-bank post as it is now: its last post or update that took effect."""
    found = [
        c.body
        for c in bot.api.calls
        if c.ok and c.body.get("channel") == IDEAS and c.method.startswith("chat.")
    ]
    return json.dumps(found[-1], ensure_ascii=False)


@pytest.mark.parametrize("fault", FAULTS)
def test_a_coordinator_hides_a_write_up_while_slack_fails_and_the_sweep_finishes_it(
    bot: Bot, fault: str
) -> None:
    setup = set_up_people(bot)
    visit_id = confirmed_visit(bot, setup)
    submit_writeup(bot, visit_id, "Lukukoira kirjastossa")
    wait_settled(bot, 1, kind=visit_outbox.WRITEUP_SYNC)
    with bot.session_factory() as session:
        writeup_id = session.scalars(select(WriteUp.id)).one()
    bot.slack.action(ids.WRITEUP_HIDE, str(writeup_id), user=COORDINATOR)
    bot.api.wait_for("views.open")
    bot.api.fail_while(FAULTS[fault](), "chat.postMessage", "chat.update")
    before = len(bot.api.calls)
    reply = bot.slack.submit(
        ids.WRITEUP_HIDE_VIEW,
        {ids.WRITEUP_HIDE_REASON: {ids.WRITEUP_HIDE_REASON: text_value("Sisältää henkilötietoja")}},
        user=COORDINATOR,
        private_metadata=json.dumps({"writeup": writeup_id}),
    )
    assert reply.status == 200 and "errors" not in (reply.text or "")  # the form closes
    rows = wait_settled(bot, 2, kind=visit_outbox.WRITEUP_SYNC)
    assert rows[-1].status == ReminderStatus.PENDING  # the post and the author's notice follow
    with bot.session_factory() as session:
        assert session.scalars(select(WriteUp.status)).one() == WriteUpStatus.HIDDEN  # saved
    settle(bot)
    busy = translator("en")("error.slack_busy")
    assert busy not in said_to(bot, COORDINATOR, before)  # nobody is asked to do it again
    assert "Lukukoira" in idea_bank_shows(bot)  # still shown: Slack failed
    bot.api.heal()
    bot.clock.advance(minutes=2)
    sweep(bot)
    assert {r.status for r in outbox(bot, visit_outbox.WRITEUP_SYNC)} == {ReminderStatus.SENT}
    assert "Lukukoira" not in idea_bank_shows(bot)  # taken out of the idea bank
    told = [text for text in said_to(bot, VISITOR, before) if "henkilötietoja" in text]
    assert len(told) == 1, said_to(bot, VISITOR, before)  # the author is told, once
    bot.clock.advance(hours=1)
    assert sweep(bot).sent == []


@pytest.mark.parametrize("fault", FAULTS)
def test_a_coordinator_publishes_a_write_up_while_slack_fails_and_the_sweep_finishes_it(
    bot: Bot, fault: str
) -> None:
    setup = set_up_people(bot)
    visit_id = confirmed_visit(bot, setup)
    reply = bot.slack.submit(
        ids.WRITEUP_VIEW, form_values(publish=False), user=VISITOR, private_metadata=meta(visit_id)
    )
    assert reply.status == 200
    wait_settled(bot, 1, kind=visit_outbox.WRITEUP_SYNC)
    with bot.session_factory() as session:
        writeup_id = session.scalars(select(WriteUp.id)).one()
    bot.api.fail_while(FAULTS[fault](), "chat.postMessage", "chat.update")
    before = len(bot.api.calls)
    press(bot, ids.WRITEUP_PUBLISH_FOR, str(writeup_id), COORDINATOR)
    rows = wait_settled(bot, 2, kind=visit_outbox.WRITEUP_SYNC)
    assert rows[-1].status == ReminderStatus.PENDING
    with bot.session_factory() as session:
        assert session.scalars(select(WriteUp.status)).one() == WriteUpStatus.PUBLISHED  # saved
    settle(bot)
    en = translator("en")  # the coordinator reads English: published, and the rest follows
    assert any(en("writeups.saved_slack_slow") in text for text in said_to(bot, COORDINATOR, before))
    assert en("error.slack_busy") not in said_to(bot, COORDINATOR, before)
    bot.api.heal()
    bot.clock.advance(minutes=2)
    sweep(bot)
    assert {r.status for r in outbox(bot, visit_outbox.WRITEUP_SYNC)} == {ReminderStatus.SENT}
    assert len([c for c in bot.api.delivered("chat.postMessage") if c.body.get("channel") == IDEAS]) == 1
    published_for_you = translator("fi")("writeups.notice.published_for_you", title="X").split("X")[0]
    told = [text for text in said_to(bot, VISITOR, before) if published_for_you in text]
    assert len(told) == 1, said_to(bot, VISITOR, before)
    bot.clock.advance(hours=1)
    assert sweep(bot).sent == []
