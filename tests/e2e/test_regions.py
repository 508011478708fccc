"""Coordinators belong to a region: through the real App, a visit's funding message goes only to
its region's coordinators and only they decide it; nobody decides the funding of their own visit
or their staff's; a coordinator added in the bot can be removed; a received travel invoice is
marked paid by the region's coordinator; a coordinator edits the offers of their region's
libraries only, and adds, moves and removes only their region's coordinators (the configured
ones manage every region)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from slack_sdk import WebClient
from sqlalchemy import func, select

from bot import ids
from bot.reminder_delivery import SlackReminderDelivery, visit_renderers
from bot.views.limits import check_options_response, check_view
from models import (
    AuditEntry,
    ClosedPeriod,
    Coordinator,
    HostOffer,
    InvoiceStatus,
    Library,
    LibraryContact,
    PartyState,
    Region,
    Reminder,
    ReminderStatus,
    SuggestionStatus,
    Topic,
    TopicSuggestion,
    Visit,
    VisitCost,
    VisitStatus,
    WriteUp,
    WriteUpStatus,
)
from services.money.travel_invoices import invoice_status
from services.outbox import reminders, visit_outbox
from services.people import staff
from services.visits import visit_reminders
from tests.conftest import COORDINATOR, Bot
from tests.e2e.test_decide import confirm_visit, wait_until
from tests.e2e.test_faults import sweep
from tests.e2e.test_offer import multi, offer_values, select_action
from tests.e2e.test_offer import submit as submit_offer
from tests.e2e.test_writeups import confirmed_visit, form_values
from tests.e2e.test_writeups import submit as submit_writeup
from tests.e2e.visit_helpers import (
    STRANGER,
    VISITOR,
    a_topic,
    buttons,
    decisions,
    jsonish,
    last_update_for,
    library,
    only_visit,
    posted_to,
    proposal_values,
    propose,
    set_up_people,
    settle,
    text_of,
)
from tests.fakes.slack_api import server_error
from tests.fakes.slack_requests import select_value, text_value, user_value
from tests.find_support import add_offer, library_id, set_home

NORTH_COORD = "U0NORTHCO"  # a coordinator of the second region, added in the bot
NORTH_VISITOR = "U0NVISITOR"
NORTH_BOSS = "U0NBOSS"
NORTH_HOST = "U0NHOST"
SECOND = "U0SECOND"  # a second coordinator of the default region (Savo), added in the bot
OTHER_REGION = "This visit belongs to another region"
TZ = ZoneInfo("Europe/Helsinki")
ONLY = "Only coordinators can do this."
OTHER_SUGGESTION = "This suggestion is from another region: that region's coordinators decide it."


@pytest.fixture(autouse=True)
def _quiet_at_the_end(bot: Bot) -> Iterator[None]:
    yield
    settle(bot)


def _north(bot: Bot) -> dict[str, Any]:
    """A second region (Pohjois-Karjala) with two libraries, a host contact and a visitor."""
    sf = bot.session_factory
    now: datetime = bot.clock()
    with sf.begin() as session:
        region = Region(key="pohjois-karjala", name="Pohjois-Karjala")
        session.add(region)
        session.flush()
        home = Library(
            key="joensuu-test",
            name="Joensuun kirjasto",
            municipality="Joensuu",
            province="Pohjois-Karjala",
            lat=62.6,
            lon=29.76,
            region_id=region.id,
        )
        host = Library(
            key="outokumpu-test",
            name="Outokummun kirjasto",
            municipality="Outokumpu",
            province="Pohjois-Karjala",
            lat=62.73,
            lon=29.02,
            region_id=region.id,
        )
        session.add_all([home, host])
        session.flush()
        session.add(LibraryContact(library_id=host.id, slack_user_id=NORTH_HOST, added_at=now))
        ids_ = {"region": region.id, "home": home.id, "host": host.id}
    for user in (NORTH_COORD, NORTH_VISITOR, NORTH_BOSS, NORTH_HOST):
        bot.api.locales[user] = "en-US"
    staff.update_settings(
        sf, NORTH_VISITOR, home_library_id=ids_["home"], language=None, now=now, default_language="fi"
    )
    return ids_


def _add_coordinator(bot: Bot, user: str, region_id: int) -> None:
    """The configured coordinator adds one in the bot, with the add-coordinator modal."""
    answer = bot.slack.submit(
        ids.COORDINATOR_VIEW,
        {
            ids.DESK_USER: {ids.DESK_USER: user_value(user)},
            ids.DESK_REGION: {ids.DESK_REGION: select_value(str(region_id))},
        },
        user=COORDINATOR,
    ).json()
    assert answer["response_action"] == "update", answer
    settle(bot)


def _savo(bot: Bot) -> int:
    with bot.session_factory() as session:
        found = session.scalar(select(Region.id).where(Region.key == "savo"))
        assert found is not None
        return found


def _propose_north(bot: Bot, north: dict[str, Any]) -> Visit:
    values = proposal_values(a_topic(bot.session_factory).id, north["host"], supervisor=NORTH_BOSS)
    reply = bot.slack.submit(ids.PROPOSE_VIEW, values, user=NORTH_VISITOR)
    assert reply.json()["response_action"] == "update", reply.text
    settle(bot)
    with bot.session_factory() as session:
        visit = session.scalar(select(Visit).where(Visit.visitor_id == NORTH_VISITOR))
        assert visit is not None
        return visit


def _visit(bot: Bot, visit_id: int) -> Visit:
    with bot.session_factory() as session:
        found = session.get(Visit, visit_id)
        assert found is not None
        return found


def _said(bot: Bot, n: int) -> str:
    return str(bot.api.wait_for("response_url", count=n)[n - 1].body.get("text", ""))


def _press(bot: Bot, action_id: str, value: str, user: str) -> str:
    """Press a button and return what the person was told (only they see it)."""
    told = len(bot.api.of("response_url"))
    assert bot.slack.action(action_id, value, user=user).status == 200
    return str(bot.api.wait_for("response_url", count=told + 1)[-1].body.get("text", ""))


def _audit(bot: Bot, action: str) -> list[AuditEntry]:
    with bot.session_factory() as session:
        return list(session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def test_a_visit_asks_and_lets_decide_only_its_own_regions_coordinators(bot: Bot) -> None:
    north = _north(bot)
    _add_coordinator(bot, NORTH_COORD, north["region"])
    savo_visit = propose(bot, set_up_people(bot))
    north_visit = _propose_north(bot, north)
    # Each funding message went to the visit's own region only.
    assert ids.FUNDING_APPROVE in buttons(posted_to(bot, COORDINATOR)[-1])
    assert "Joroisten kirjasto" in text_of(posted_to(bot, COORDINATOR)[-1])
    assert all("Joroisten kirjasto" not in text_of(m) for m in posted_to(bot, NORTH_COORD))
    assert [ids.FUNDING_APPROVE in buttons(m) for m in posted_to(bot, NORTH_COORD)] == [True]
    assert "Outokummun kirjasto" in text_of(posted_to(bot, NORTH_COORD)[-1])
    assert all("Outokummun kirjasto" not in text_of(m) for m in posted_to(bot, COORDINATOR))

    # Coordinators of the other region are refused, politely and in their language.
    before = (_visit(bot, savo_visit.id).version, _visit(bot, north_visit.id).version)
    attempts = [
        (ids.FUNDING_APPROVE, f"{savo_visit.id}:1", NORTH_COORD),
        (ids.FUNDING_DECLINE, f"{savo_visit.id}:1", NORTH_COORD),
        (ids.FUNDING_APPROVE, f"{north_visit.id}:1", COORDINATOR),
        (ids.FUNDING_DECLINE, f"{north_visit.id}:1", COORDINATOR),
    ]
    for n, (action_id, value, user) in enumerate(attempts, start=1):
        assert bot.slack.action(action_id, value, user=user).status == 200
        assert OTHER_REGION in _said(bot, n), (action_id, user)
    # ... nor may they decide for the host or cancel for the visitor of another region.
    assert bot.slack.action(ids.VISIT_CANCEL, f"{savo_visit.id}:1", user=NORTH_COORD).status == 200
    assert "not yours to decide" in _said(bot, 5)
    assert bot.api.of("views.open") == []
    assert decisions(bot.session_factory) == []
    assert (_visit(bot, savo_visit.id).version, _visit(bot, north_visit.id).version) == before

    # Each region's own coordinator decides its own visits.
    bot.slack.action(ids.FUNDING_APPROVE, f"{north_visit.id}:1", user=NORTH_COORD)
    bot.slack.action(ids.FUNDING_APPROVE, f"{savo_visit.id}:1", user=COORDINATOR)
    wait_until(bot, lambda: len(decisions(bot.session_factory)) == 2)
    assert sorted(decisions(bot.session_factory)) == sorted(
        [("funding", NORTH_COORD, "approved"), ("funding", COORDINATOR, "approved")]
    )


def test_the_desk_acts_on_a_visit_are_for_its_regions_coordinators(bot: Bot) -> None:
    north = _north(bot)
    _add_coordinator(bot, NORTH_COORD, north["region"])
    visit = confirm_visit(bot, propose(bot, set_up_people(bot)))  # by car, in Savo
    settle(bot)
    for n, action_id in enumerate((ids.INVOICE_RECEIVED, ids.TICKETS_BOUGHT, ids.OPEN_ACTUALS), start=1):
        assert bot.slack.action(action_id, str(visit.id), user=NORTH_COORD).status == 200
        assert OTHER_REGION in _said(bot, n), action_id
    assert bot.api.of("views.open") == []
    with bot.session_factory() as session:
        assert session.get(VisitCost, visit.id) is None
        assert invoice_status(session, visit.id) == InvoiceStatus.WAITING


def test_a_coordinator_does_not_decide_the_funding_of_their_staffs_visit(bot: Bot) -> None:
    _add_coordinator(bot, SECOND, _savo(bot))
    setup = set_up_people(bot)
    visit = propose(bot, setup, supervisor=COORDINATOR)  # the coordinator is the supervisor
    settle(bot)
    # The other coordinator of the region is asked; the supervisor sees no funding buttons.
    assert ids.FUNDING_APPROVE in buttons(posted_to(bot, SECOND)[-1])
    own = posted_to(bot, COORDINATOR)
    assert len(own) == 1 and ids.FUNDING_APPROVE not in buttons(own[0])
    assert ids.SUPERVISOR_APPROVE in buttons(own[0])
    assert "Another coordinator of the region decides this visit's funding" in text_of(own[0])
    # Pressed anyway (an old message, a forged payload): refused with the reason.
    bot.slack.action(ids.FUNDING_APPROVE, f"{visit.id}:1", user=COORDINATOR)
    assert "cannot decide the funding of your own visit" in _said(bot, 1)
    bot.slack.action(ids.FUNDING_DECLINE, f"{visit.id}:1", user=COORDINATOR)
    assert "cannot decide the funding of your own visit" in _said(bot, 2)
    assert bot.api.of("views.open") == []
    assert decisions(bot.session_factory) == []
    # The supervisor's consent is theirs to give, and the other coordinator funds it.
    bot.slack.action(ids.SUPERVISOR_APPROVE, f"{visit.id}:1", user=COORDINATOR)
    bot.slack.action(ids.FUNDING_APPROVE, f"{visit.id}:1", user=SECOND)
    wait_until(bot, lambda: len(decisions(bot.session_factory)) == 2)
    assert sorted(decisions(bot.session_factory)) == [
        ("funding", SECOND, "approved"),
        ("supervisor", COORDINATOR, "approved"),
    ]


def test_a_coordinator_proposing_a_visit_does_not_fund_it(bot: Bot) -> None:
    _add_coordinator(bot, SECOND, _savo(bot))
    setup = set_up_people(bot)
    staff.update_settings(
        bot.session_factory,
        COORDINATOR,
        home_library_id=setup["home"].id,
        language="en",
        now=bot.clock(),
        default_language="fi",
    )
    values = proposal_values(setup["topic"].id, setup["host"].id)
    assert bot.slack.submit(ids.PROPOSE_VIEW, values, user=COORDINATOR).json()["response_action"] == "update"
    settle(bot)
    with bot.session_factory() as session:
        visit = session.scalar(select(Visit))
        assert visit is not None and visit.visitor_id == COORDINATOR
    own = posted_to(bot, COORDINATOR)
    assert len(own) == 1 and ids.FUNDING_APPROVE not in buttons(own[0])  # the visitor's card only
    assert ids.FUNDING_APPROVE in buttons(posted_to(bot, SECOND)[-1])
    bot.slack.action(ids.FUNDING_APPROVE, f"{visit.id}:1", user=COORDINATOR)
    assert "cannot decide the funding of your own visit" in _said(bot, 1)
    assert decisions(bot.session_factory) == []


def test_when_nobody_else_can_fund_it_the_messages_say_so_until_a_coordinator_is_added(bot: Bot) -> None:
    setup = set_up_people(bot, visitor_lang="en-US")
    values = proposal_values(setup["topic"].id, setup["host"].id, supervisor=COORDINATOR)
    assert bot.slack.submit(ids.PROPOSE_VIEW, values).json()["response_action"] == "update"
    settle(bot)  # the region's only coordinator supervises: four messages, none with funding buttons
    visit = only_visit(bot.session_factory)
    assert len(bot.api.of("chat.postMessage")) == 4
    assert all(ids.FUNDING_APPROVE not in buttons(c.body) for c in bot.api.of("chat.postMessage"))
    warning = "nobody can decide it: the region's coordinators (<@U0COORD>)"
    assert warning in text_of(posted_to(bot, VISITOR)[-1])
    assert warning in text_of(posted_to(bot, COORDINATOR)[-1])
    bot.slack.action(ids.FUNDING_APPROVE, f"{visit.id}:1", user=COORDINATOR)
    assert "cannot decide the funding of your own visit" in _said(bot, 1)
    # Another coordinator is added: they are asked at once, and the warning goes.
    _add_coordinator(bot, SECOND, _savo(bot))
    wait_until(bot, lambda: len(posted_to(bot, SECOND)) == 1)
    assert ids.FUNDING_APPROVE in buttons(posted_to(bot, SECOND)[0])
    settle(bot)
    assert warning not in text_of(last_update_for(bot, VISITOR))
    # Removed again: the warning is back; added again, they decide.
    assert _remove(bot, SECOND).json()["response_action"] == "update"
    wait_until(bot, lambda: warning in text_of(last_update_for(bot, VISITOR)))
    _add_coordinator(bot, SECOND, _savo(bot))
    wait_until(bot, lambda: warning not in text_of(last_update_for(bot, VISITOR)))
    assert len(posted_to(bot, SECOND)) == 1  # their message was updated, not posted again
    bot.slack.action(ids.FUNDING_APPROVE, f"{visit.id}:1", user=SECOND)
    wait_until(bot, lambda: _visit(bot, visit.id).funding_state == PartyState.APPROVED)


def test_a_region_without_coordinators_says_so(bot: Bot) -> None:
    north = _north(bot)
    _propose_north(bot, north)
    assert not any(ids.FUNDING_APPROVE in buttons(c.body) for c in bot.api.of("chat.postMessage"))
    assert not posted_to(bot, COORDINATOR)  # Savo's coordinator is not asked about Pohjois-Karjala
    assert "the region has no coordinator to decide it" in text_of(posted_to(bot, NORTH_VISITOR)[-1])


def _coordinator_rows(bot: Bot) -> int:
    with bot.session_factory() as session:
        return int(session.scalar(select(func.count()).select_from(Coordinator)) or 0)


def _remove(bot: Bot, user: str | None, by: str = COORDINATOR) -> Any:
    return bot.slack.submit(
        ids.REMOVE_COORDINATOR_VIEW, {ids.DESK_USER: {ids.DESK_USER: user_value(user)}}, user=by
    )


def test_a_coordinator_added_in_the_bot_can_be_removed(bot: Bot) -> None:
    _add_coordinator(bot, SECOND, _savo(bot))
    bot.api.locales[COORDINATOR] = "en-US"
    bot.slack.action(ids.OPEN_REMOVE_COORDINATOR, "", user=COORDINATOR, where="home")
    view = jsonish(bot.api.wait_for("views.open")[0].body["view"])
    assert view["callback_id"] == ids.REMOVE_COORDINATOR_VIEW
    assert "<@U0COORD> ·" in text_of(view)
    assert "(in the settings)" in text_of(view) and "<@U0SECOND>" in text_of(view)
    # The configured one cannot be removed here; nor can someone who is no coordinator.
    before = (_coordinator_rows(bot), len(_audit(bot, "coordinator.removed")))
    configured = _remove(bot, COORDINATOR).json()
    assert configured["response_action"] == "errors"
    assert "cannot be removed in the bot" in configured["errors"][ids.DESK_USER]
    nobody = _remove(bot, STRANGER).json()
    assert "is not a coordinator" in nobody["errors"][ids.DESK_USER]
    assert _remove(bot, None).json()["errors"][ids.DESK_USER] == "Choose a person."
    assert (_coordinator_rows(bot), len(_audit(bot, "coordinator.removed"))) == before
    # The one added in the bot is removed, with an audit entry.
    answer = _remove(bot, SECOND).json()
    assert answer["response_action"] == "update"
    assert "<@U0SECOND> is no longer a coordinator." in text_of(answer["view"])
    assert _coordinator_rows(bot) == 0
    (entry,) = _audit(bot, "coordinator.removed")
    assert (entry.actor, entry.entity_id) == (COORDINATOR, SECOND)
    # They are no coordinator any more: the desk refuses them, and funding is not asked of them.
    bot.slack.action(ids.OPEN_RATES, "", user=SECOND)
    assert _said(bot, 1) == ONLY
    propose(bot, set_up_people(bot))
    settle(bot)
    assert posted_to(bot, SECOND) == []


def test_invoice_paid_only_after_received_and_only_by_the_regions_coordinator(bot: Bot) -> None:
    north = _north(bot)
    _add_coordinator(bot, NORTH_COORD, north["region"])
    visit = confirm_visit(bot, propose(bot, set_up_people(bot)))  # by car: an invoice is awaited
    settle(bot)
    message = last_update_for(bot, COORDINATOR)
    assert ids.INVOICE_RECEIVED in buttons(message) and ids.INVOICE_PAID not in buttons(message)
    # Paid before received: refused with the reason, nothing changes.
    assert "has not been received yet" in _press(bot, ids.INVOICE_PAID, str(visit.id), COORDINATOR)
    with bot.session_factory() as session:
        assert invoice_status(session, visit.id) == InvoiceStatus.WAITING
    updates = len(bot.api.of("chat.update"))
    assert "has arrived" in _press(bot, ids.INVOICE_RECEIVED, str(visit.id), COORDINATOR)
    bot.api.wait_for("chat.update", count=updates + 1)
    settle(bot)
    message = last_update_for(bot, COORDINATOR)
    assert "Travel invoice: received" in text_of(message)
    assert ids.INVOICE_PAID in buttons(message)
    # The desk lists it among the invoices to pay.
    staff.update_settings(
        bot.session_factory,
        COORDINATOR,
        home_library_id=library(bot.session_factory, "kuopio-paakirjasto").id,
        language="en",
        now=bot.clock(),
        default_language="fi",
    )
    bot.clock.advance(days=30)  # after the visit
    published = len(bot.api.of("views.publish"))
    bot.slack.home_opened(COORDINATOR)
    home = jsonish(bot.api.wait_for("views.publish", count=published + 1)[-1].body["view"])
    paid_buttons = [
        block["accessory"]["value"]
        for block in home["blocks"]
        if block.get("accessory", {}).get("action_id") == ids.INVOICE_PAID
    ]
    assert "Travel invoices to pay" in text_of({"blocks": home["blocks"]})
    assert paid_buttons == [str(visit.id)]
    # Another region's coordinator and a stranger are refused.
    assert OTHER_REGION in _press(bot, ids.INVOICE_PAID, str(visit.id), NORTH_COORD)
    assert _press(bot, ids.INVOICE_PAID, str(visit.id), STRANGER) == ONLY
    with bot.session_factory() as session:
        assert invoice_status(session, visit.id) == InvoiceStatus.RECEIVED
    # The region's coordinator marks it paid; a second press changes nothing.
    updates = len(bot.api.of("chat.update"))
    assert "the travel invoice is paid" in _press(bot, ids.INVOICE_PAID, str(visit.id), COORDINATOR)
    bot.api.wait_for("chat.update", count=updates + 1)
    settle(bot)
    message = last_update_for(bot, COORDINATOR)
    assert "Travel invoice: paid" in text_of(message)
    assert ids.INVOICE_PAID not in buttons(message) and ids.INVOICE_RECEIVED not in buttons(message)
    assert "already marked as paid" in _press(bot, ids.INVOICE_PAID, str(visit.id), COORDINATOR)
    with bot.session_factory() as session:
        assert invoice_status(session, visit.id) == InvoiceStatus.PAID
    entries = [e.details for e in _audit(bot, "visit.invoice")]
    assert entries == [
        {"status": "received", "before": "waiting"},
        {"status": "paid", "before": "received"},
    ]
    assert _visit(bot, visit.id).status == VisitStatus.CONFIRMED
    assert len(decisions(bot.session_factory)) == 3


def _sweep(bot: Bot, at: datetime) -> reminders.SweepResult:
    """The reminder sweep at `at`, delivering through the fake Slack as the app's sweep does (the
    configured coordinator is the one the sweep is given)."""
    delivery = SlackReminderDelivery(
        WebClient(token="xoxb-test", base_url=bot.api.url),
        bot.session_factory,
        default_language="fi",
        renderers=visit_renderers(bot.session_factory),
        senders={visit_outbox.SYNC: bot.deps.extras["visit_notifier"].deliver_owed},  # type: ignore[attr-defined]
    )
    return reminders.sweep(
        bot.session_factory,
        delivery,
        now=at,
        tz=TZ,
        kinds=visit_reminders.kinds(),
        coordinators=[COORDINATOR],
    )


def test_funding_reminders_go_to_the_coordinators_who_may_decide(bot: Bot) -> None:
    north = _north(bot)
    _add_coordinator(bot, NORTH_COORD, north["region"])
    _add_coordinator(bot, SECOND, _savo(bot))
    savo = propose(bot, set_up_people(bot), supervisor=COORDINATOR)  # COORDINATOR may not fund it
    north_visit = _propose_north(bot, north)
    sent: list[tuple[str, str, int | None, object]] = []
    for day in (26, 30, 2):  # 2, 4 and 6 working days after Tuesday 24.11.2026
        month = 12 if day == 2 else 11
        result = _sweep(bot, datetime(2026, month, day, 12, 0, tzinfo=TZ))
        sent += [(r.kind, r.recipient, r.visit_id, r.params.get("party")) for r in result.sent]
    funding = {
        (kind, who, visit)
        for kind, who, visit, party in sent
        if party == "funding" and kind in ("decision_nudge", "decision_stuck")
    }
    # Nudges about funding go to those who may decide it; the stuck notice to the region's own.
    assert ("decision_nudge", SECOND, savo.id) in funding
    assert ("decision_nudge", NORTH_COORD, north_visit.id) in funding
    assert ("decision_nudge", COORDINATOR, savo.id) not in funding
    assert not any(who == COORDINATOR and visit == north_visit.id for _k, who, visit in funding)
    assert not any(who == SECOND and visit == north_visit.id for _k, who, visit in funding)
    assert not any(who == NORTH_COORD and visit == savo.id for _k, who, visit in funding)
    assert ("decision_stuck", NORTH_COORD, north_visit.id) in funding


def _north_places(bot: Bot, north: dict[str, Any]) -> dict[str, Any]:
    with bot.session_factory() as session:
        home, host = session.get(Library, north["home"]), session.get(Library, north["host"])
    return {"home": home, "host": host, "topic": a_topic(bot.session_factory)}


def _writeup_id(bot: Bot, visit_id: int) -> int:
    with bot.session_factory() as session:
        found = session.scalar(select(WriteUp.id).where(WriteUp.visit_id == visit_id))
        assert found is not None
        return found


def _writeup_status(bot: Bot, writeup_id: int) -> WriteUpStatus:
    with bot.session_factory() as session:
        found = session.get(WriteUp, writeup_id)
        assert found is not None
        return found.status


def test_a_write_up_goes_to_its_regions_coordinators_and_only_they_moderate_it(bot: Bot) -> None:
    north = _north(bot)
    _add_coordinator(bot, NORTH_COORD, north["region"])
    visit_id = confirmed_visit(bot, _north_places(bot, north), visitor=NORTH_VISITOR)
    submit_writeup(bot, visit_id, form_values(publish=False), user=NORTH_VISITOR)  # for the coordinators
    settle(bot)
    writeup = _writeup_id(bot, visit_id)
    # The notice with its publish button went to Pohjois-Karjala's coordinator, not to Savo's.
    [notice] = posted_to(bot, NORTH_COORD)
    assert buttons(notice)[ids.WRITEUP_PUBLISH_FOR]["value"] == str(writeup)
    assert posted_to(bot, COORDINATOR) == []
    # Savo's coordinator may neither publish nor hide it (an old message, a forged press).
    assert OTHER_REGION in _press(bot, ids.WRITEUP_PUBLISH_FOR, str(writeup), COORDINATOR)
    assert _writeup_status(bot, writeup) == WriteUpStatus.DRAFT
    bot.slack.action(ids.WRITEUP_PUBLISH_FOR, str(writeup), user=NORTH_COORD)
    wait_until(bot, lambda: _writeup_status(bot, writeup) == WriteUpStatus.PUBLISHED)
    settle(bot)
    assert OTHER_REGION in _press(bot, ids.WRITEUP_HIDE, str(writeup), COORDINATOR)
    assert bot.api.of("views.open") == []
    reason = {ids.WRITEUP_HIDE_REASON: {ids.WRITEUP_HIDE_REASON: text_value("Ei kuulu tänne")}}
    meta = json.dumps({"writeup": writeup})
    bot.slack.submit(ids.WRITEUP_HIDE_VIEW, reason, user=COORDINATOR, private_metadata=meta)
    settle(bot)
    assert _writeup_status(bot, writeup) == WriteUpStatus.PUBLISHED
    # In the idea bank only the region's own coordinator gets the hide button.
    assert ids.WRITEUP_HIDE not in bot.slack.command("ideat", user=COORDINATOR).text
    assert ids.WRITEUP_HIDE in bot.slack.command("ideat", user=NORTH_COORD).text
    bot.slack.action(ids.WRITEUP_HIDE, str(writeup), user=NORTH_COORD)
    bot.api.wait_for("views.open")
    bot.slack.submit(ids.WRITEUP_HIDE_VIEW, reason, user=NORTH_COORD, private_metadata=meta)
    wait_until(bot, lambda: _writeup_status(bot, writeup) == WriteUpStatus.HIDDEN)


def test_a_coordinator_is_not_asked_to_moderate_their_own_write_up(bot: Bot) -> None:
    _add_coordinator(bot, SECOND, _savo(bot))
    setup = set_up_people(bot)
    visit_id = confirmed_visit(bot, setup, visitor=COORDINATOR)  # the coordinator visited Joroinen
    submit_writeup(bot, visit_id, form_values(publish=False), user=COORDINATOR)
    settle(bot)
    assert ids.WRITEUP_PUBLISH_FOR in buttons(posted_to(bot, SECOND)[-1])
    assert posted_to(bot, COORDINATOR) == []


def _suggest_from_north(bot: Bot, north: dict[str, Any], text: str = "Sirkuskoulu") -> None:
    """The northern host contact (home library Outokumpu) offers their library and suggests a topic."""
    now = bot.clock()
    staff.update_settings(
        bot.session_factory,
        NORTH_HOST,
        home_library_id=north["host"],
        language=None,
        now=now,
        default_language="fi",
    )
    values = offer_values(
        bot,
        **{
            ids.OFFER_LIBRARY: select_value(str(north["host"]), kind="external_select"),
            ids.OFFER_TOPICS: multi([]),
            ids.OFFER_SUGGESTION: text_value(text),
            ids.OFFER_CONTACTS: {"type": "multi_users_select", "selected_users": [NORTH_HOST]},
        },
    )
    assert submit_offer(bot, values, user=NORTH_HOST)["response_action"] == "update"
    settle(bot)


def test_a_suggested_topic_goes_to_the_suggesters_regions_coordinators(bot: Bot) -> None:
    north = _north(bot)
    _add_coordinator(bot, NORTH_COORD, north["region"])
    _suggest_from_north(bot, north)
    [dm] = posted_to(bot, NORTH_COORD)
    assert "Sirkuskoulu" in text_of(dm) and ids.SUGGESTION_REJECT in buttons(dm)
    assert posted_to(bot, COORDINATOR) == []


def test_a_suggestion_from_a_region_without_coordinators_goes_to_the_configured_ones(bot: Bot) -> None:
    north = _north(bot)  # no coordinator of its own
    _suggest_from_north(bot, north)
    [dm] = posted_to(bot, COORDINATOR)
    assert "Sirkuskoulu" in text_of(dm)


def _suggestion(bot: Bot) -> TopicSuggestion:
    with bot.session_factory() as session:
        found = session.scalar(select(TopicSuggestion))
        assert found is not None
        return found


def _catalogue(bot: Bot) -> tuple[object, ...]:
    """What deciding a suggestion changes: the suggestion, the topics and their synonyms, the
    suggesting offer's topics, the audit trail."""
    with bot.session_factory() as session:
        topics = [(t.id, t.name_fi, t.synonyms) for t in session.scalars(select(Topic).order_by(Topic.id))]
        offers = [[t.id for t in o.topics] for o in session.scalars(select(HostOffer).order_by(HostOffer.id))]
        audit = session.scalar(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.action.like("topic_suggestion.%"))
        )
    s = _suggestion(bot)
    return (s.status, s.decided_by, s.topic_id), topics, offers, audit


def _decide_suggestion(bot: Bot, act: str, dm: dict[str, Any], user: str) -> None:
    """Press approve (into the first category), merge (into a topic) or reject on a suggestion's DM."""
    actions = next(b for b in jsonish(dm["blocks"]) if b["type"] == "actions")
    if act == "approve":
        category = actions["elements"][0]["options"][0]["value"]
        select_action(bot, ids.SUGGESTION_APPROVE, actions["block_id"], category, user=user)
    elif act == "merge":
        topic = str(a_topic(bot.session_factory).id)
        select_action(
            bot, ids.SUGGESTION_MERGE, actions["block_id"], topic, user=user, kind="external_select"
        )
    else:
        value = buttons(dm)[ids.SUGGESTION_REJECT]["value"]
        assert (
            bot.slack.action(ids.SUGGESTION_REJECT, value, user=user, block_id=actions["block_id"]).status
            == 200
        )


def _dm_place(bot: Bot) -> tuple[str, str]:
    """(channel, ts) of the first DM the bot sent about the suggestion."""
    channel, ts, *_ = _suggestion(bot).messages.splitlines()[0].split()
    return channel, ts


def _reject_in(bot: Bot, dm: dict[str, Any], user: str, channel: str, ts: str) -> None:
    """Press reject on the suggestion's DM as Slack says it was pressed: in `channel`, message `ts`."""
    actions = next(b for b in jsonish(dm["blocks"]) if b["type"] == "actions")
    value = buttons(dm)[ids.SUGGESTION_REJECT]["value"]
    reply = bot.slack.action(
        ids.SUGGESTION_REJECT,
        value,
        user=user,
        block_id=actions["block_id"],
        message=dict(dm, ts=ts),
        channel=channel,
    )
    assert reply.status == 200


def test_a_suggestion_is_decided_from_its_dm_after_its_region_gets_a_coordinator(bot: Bot) -> None:
    """The suggestion went to the configured coordinator because its region had none; then the
    region's first coordinator is added, who has no DM about it. The configured coordinator still
    decides it from the DM it was sent to (else nobody could); the same press made anywhere else
    is refused and changes nothing."""
    north = _north(bot)
    _suggest_from_north(bot, north)
    [dm] = posted_to(bot, COORDINATOR)
    channel, ts = _dm_place(bot)
    _add_coordinator(bot, NORTH_COORD, north["region"])
    [_] = posted_to(bot, NORTH_COORD)  # it is sent to them now (see the tests below)
    before = _catalogue(bot)
    _reject_in(bot, dm, COORDINATOR, channel, "1700000000.999999")  # not the suggestion's message
    assert OTHER_SUGGESTION in _said(bot, 1)
    assert _catalogue(bot) == before
    _reject_in(bot, dm, COORDINATOR, channel, ts)
    wait_until(bot, lambda: _suggestion(bot).status == SuggestionStatus.REJECTED)
    assert _suggestion(bot).decided_by == COORDINATOR


def _suggestion_rows(bot: Bot) -> list[tuple[int, list[str], str]]:
    """The suggestions' outbox rows: (suggestion, done, status), oldest first."""
    with bot.session_factory() as session:
        rows = session.scalars(
            select(Reminder).where(Reminder.kind == visit_outbox.SUGGESTION_SYNC).order_by(Reminder.id)
        ).all()
        return [(r.params["suggestion"], r.params["done"], str(r.status)) for r in rows]


def _places(bot: Bot) -> set[tuple[str, str]]:
    """(channel, ts) of every DM the bot remembers about the suggestion."""
    return {(line.split()[0], line.split()[1]) for line in _suggestion(bot).messages.splitlines()}


def test_a_pending_suggestion_goes_to_the_configured_coordinators_when_its_region_loses_its_last(
    bot: Bot,
) -> None:
    """The region's only coordinator is removed: the configured ones may decide its pending
    suggestion now (nobody else may), so they get its DM, and approve it from there; the
    decision shows in both DMs."""
    north = _north(bot)
    _add_coordinator(bot, NORTH_COORD, north["region"])
    _suggest_from_north(bot, north)
    [first] = posted_to(bot, NORTH_COORD)
    assert posted_to(bot, COORDINATOR) == []
    assert _remove(bot, NORTH_COORD).json()["response_action"] == "update"
    settle(bot)
    [dm] = posted_to(bot, COORDINATOR)
    assert "Sirkuskoulu" in text_of(dm) and ids.SUGGESTION_REJECT in buttons(dm)
    assert posted_to(bot, NORTH_COORD) == [first]  # no second DM to the one removed
    suggestion = _suggestion(bot).id
    assert _suggestion_rows(bot)[-1][:2] == (suggestion, [NORTH_COORD])  # only the new one told
    assert len(_places(bot)) == 2
    _decide_suggestion(bot, "approve", dm, COORDINATOR)
    wait_until(bot, lambda: _suggestion(bot).status == SuggestionStatus.APPROVED)
    assert _suggestion(bot).decided_by == COORDINATOR
    settle(bot)
    updated = {(str(c.body["channel"]), str(c.body["ts"])) for c in bot.api.of("chat.update")}
    assert _places(bot) <= updated  # both DMs show the decision


def test_a_regions_first_coordinator_gets_its_pending_suggestions(bot: Bot) -> None:
    """The suggestion went to the configured coordinator because its region had none; the
    region's first coordinator gets it when added (and may decide it), the configured one no
    second DM."""
    north = _north(bot)
    _suggest_from_north(bot, north)
    [configured_dm] = posted_to(bot, COORDINATOR)
    _add_coordinator(bot, NORTH_COORD, north["region"])
    [dm] = posted_to(bot, NORTH_COORD)
    assert "Sirkuskoulu" in text_of(dm) and ids.SUGGESTION_REJECT in buttons(dm)
    assert posted_to(bot, COORDINATOR) == [configured_dm]
    _decide_suggestion(bot, "reject", dm, NORTH_COORD)
    wait_until(bot, lambda: _suggestion(bot).status == SuggestionStatus.REJECTED)
    assert _suggestion(bot).decided_by == NORTH_COORD
    settle(bot)
    updated = {(str(c.body["channel"]), str(c.body["ts"])) for c in bot.api.of("chat.update")}
    assert len(_places(bot)) == 2 and _places(bot) <= updated


def test_a_decided_suggestion_is_not_sent_again_when_the_coordinators_change(bot: Bot) -> None:
    """Of two suggestions from a region without coordinators, the decided one is not sent to the
    region's first coordinator; the pending one is."""
    north = _north(bot)
    _suggest_from_north(bot, north)
    [decided_dm] = posted_to(bot, COORDINATOR)
    _decide_suggestion(bot, "reject", decided_dm, COORDINATOR)
    wait_until(bot, lambda: _suggestion(bot).status == SuggestionStatus.REJECTED)
    _suggest_from_north(bot, north, "Kuplaleikit")
    assert len(posted_to(bot, COORDINATOR)) == 2
    rows = len(_suggestion_rows(bot))
    _add_coordinator(bot, NORTH_COORD, north["region"])
    [dm] = posted_to(bot, NORTH_COORD)
    assert "Kuplaleikit" in text_of(dm) and "Sirkuskoulu" not in text_of(dm)
    assert len(posted_to(bot, COORDINATOR)) == 2
    assert len(_suggestion_rows(bot)) == rows + 1
    assert _suggestion_rows(bot)[-1][:2] == (_suggestion(bot).id + 1, [COORDINATOR])


def test_nobody_gets_a_suggestion_twice_when_the_coordinators_change_back_and_forth(bot: Bot) -> None:
    """The configured coordinator has the suggestion's DM; the region's first coordinator is
    added (and gets it), removed (the configured one, who has it, gets no second DM) and added
    again (nor do they)."""
    north = _north(bot)
    _suggest_from_north(bot, north)
    [configured_dm] = posted_to(bot, COORDINATOR)
    _add_coordinator(bot, NORTH_COORD, north["region"])
    [north_dm] = posted_to(bot, NORTH_COORD)
    rows = len(_suggestion_rows(bot))
    assert _remove(bot, NORTH_COORD).json()["response_action"] == "update"
    settle(bot)
    assert posted_to(bot, COORDINATOR) == [configured_dm]
    _add_coordinator(bot, NORTH_COORD, north["region"])
    settle(bot)
    assert posted_to(bot, NORTH_COORD) == [north_dm]
    assert len(_suggestion_rows(bot)) == rows  # nothing owed to anyone
    assert len(_places(bot)) == 2
    bot.clock.advance(hours=1)
    sweep(bot)
    assert (posted_to(bot, COORDINATOR), posted_to(bot, NORTH_COORD)) == ([configured_dm], [north_dm])


def test_a_suggestion_waiting_for_its_retry_is_not_sent_again_to_a_new_coordinator(bot: Bot) -> None:
    """The suggestion's DM to the configured coordinator fails and waits for the sweep; meanwhile
    the region gets its first coordinator, who is sent it at once. The retry, which now goes to
    the region's coordinator, sees that they have it."""

    def dms(user: str) -> list[dict[str, Any]]:
        return [c.body for c in bot.api.delivered("chat.postMessage") if c.body.get("channel") == user]

    north = _north(bot)
    bot.api.fail_while(server_error(), "chat.postMessage")
    _suggest_from_north(bot, north)
    settle(bot)
    bot.api.heal()
    assert posted_to(bot, COORDINATOR) != [] and dms(COORDINATOR) == []  # tried, failed
    assert [status for _, _, status in _suggestion_rows(bot)] == [str(ReminderStatus.PENDING)]
    _add_coordinator(bot, NORTH_COORD, north["region"])
    [dm] = dms(NORTH_COORD)
    bot.clock.advance(minutes=5)
    sweep(bot)
    assert dms(NORTH_COORD) == [dm]
    assert dms(COORDINATOR) == []  # no longer the one to decide it
    assert {status for _, _, status in _suggestion_rows(bot)} == {str(ReminderStatus.SENT)}


DECIDED = {
    "approve": SuggestionStatus.APPROVED,
    "merge": SuggestionStatus.MERGED,
    "reject": SuggestionStatus.REJECTED,
}


@pytest.mark.parametrize("act", list(DECIDED))
def test_only_the_suggesters_regions_coordinators_decide_a_suggested_topic(bot: Bot, act: str) -> None:
    north = _north(bot)
    _add_coordinator(bot, NORTH_COORD, north["region"])
    _suggest_from_north(bot, north)
    [dm] = posted_to(bot, NORTH_COORD)
    before = _catalogue(bot)
    # Savo's coordinator (a forwarded message, a forged press) is refused politely; nothing changes.
    _decide_suggestion(bot, act, dm, COORDINATOR)
    assert OTHER_SUGGESTION in _said(bot, 1)
    settle(bot)
    assert _catalogue(bot) == before
    assert bot.api.of("chat.update") == []
    # Pohjois-Karjala's coordinator decides it.
    _decide_suggestion(bot, act, dm, NORTH_COORD)
    wait_until(bot, lambda: _suggestion(bot).status == DECIDED[act])
    assert _suggestion(bot).decided_by == NORTH_COORD


def test_a_suggestion_sent_to_the_configured_coordinators_is_theirs_to_decide(bot: Bot) -> None:
    north = _north(bot)  # no coordinator of its own: the suggestion goes to the configured ones
    _add_coordinator(bot, SECOND, _savo(bot))  # Savo's, added in the bot: neither told nor deciding
    bot.api.locales[SECOND] = "sv-SE"
    _suggest_from_north(bot, north)
    [dm] = posted_to(bot, COORDINATOR)
    assert posted_to(bot, SECOND) == []
    before = _catalogue(bot)
    for n, act in enumerate(DECIDED, start=1):
        _decide_suggestion(bot, act, dm, SECOND)
        assert "Förslaget kommer från en annan region" in _said(bot, n), act  # in their language
    settle(bot)
    assert _catalogue(bot) == before
    _decide_suggestion(bot, "approve", dm, COORDINATOR)
    wait_until(bot, lambda: _suggestion(bot).status == SuggestionStatus.APPROVED)
    assert _suggestion(bot).decided_by == COORDINATOR


def _stuck_host_reminder(bot: Bot, visit_id: int) -> int:
    with bot.session_factory() as session:
        found = session.scalars(
            select(Reminder).where(Reminder.visit_id == visit_id, Reminder.kind == "decision_stuck")
        ).all()
    return next(r.id for r in found if r.params["party"] == "host")


def _reminder_ids(bot: Bot) -> list[int]:
    with bot.session_factory() as session:
        return list(session.scalars(select(Reminder.id).order_by(Reminder.id)))


def test_a_stuck_decisions_buttons_are_for_its_regions_coordinators(bot: Bot) -> None:
    north = _north(bot)
    _add_coordinator(bot, NORTH_COORD, north["region"])
    north_visit = _propose_north(bot, north)
    _sweep(bot, datetime(2026, 12, 2, 12, 0, tzinfo=TZ))  # nudges and stuck notices, all at once
    stuck = _stuck_host_reminder(bot, north_visit.id)
    before, posted = _reminder_ids(bot), len(bot.api.of("chat.postMessage"))
    # Savo's coordinator may neither remind again nor take over a visit of Pohjois-Karjala.
    assert OTHER_REGION in _press(bot, ids.REMINDER_AGAIN, str(stuck), COORDINATOR)
    assert OTHER_REGION in _press(bot, ids.REMINDER_TAKE_OVER, str(stuck), COORDINATOR)
    settle(bot)
    assert _reminder_ids(bot) == before
    assert len(bot.api.of("chat.postMessage")) == posted
    # The region's coordinator reminds the host again.
    assert "A reminder goes out now" in _press(bot, ids.REMINDER_AGAIN, str(stuck), NORTH_COORD)
    assert len(_reminder_ids(bot)) == len(before) + 1


def _published_in_both_regions(bot: Bot) -> None:
    """A published write-up of a visit in Savo and one in Pohjois-Karjala (whose coordinator is added)."""
    north = _north(bot)
    _add_coordinator(bot, NORTH_COORD, north["region"])
    savo_visit = confirmed_visit(bot, set_up_people(bot))
    north_visit = confirmed_visit(bot, _north_places(bot, north), visitor=NORTH_VISITOR)
    submit_writeup(bot, savo_visit, form_values(title="Lukukoirat Joroisissa"))
    submit_writeup(bot, north_visit, form_values(title="Sirkuskoulu Outokummussa"), user=NORTH_VISITOR)
    settle(bot)


def _export(bot: Bot, user: str) -> str:
    """`/vertais ideat vienti` as `user`: the uploaded file's text."""
    done = len(bot.api.of("files.completeUploadExternal"))
    assert bot.slack.command("ideat vienti 2026-11-01", user=user).status == 200
    bot.api.wait_for("files.completeUploadExternal", count=done + 1)
    settle(bot)
    return str(bot.api.of("upload")[-1].body["raw"])


def test_a_regions_coordinator_exports_their_regions_write_ups(bot: Bot) -> None:
    _published_in_both_regions(bot)
    north = _export(bot, NORTH_COORD)
    assert "Sirkuskoulu Outokummussa" in north and "Lukukoirat Joroisissa" not in north
    savo = _export(bot, COORDINATOR)  # the configured coordinators coordinate the default region
    assert "Lukukoirat Joroisissa" in savo and "Sirkuskoulu Outokummussa" not in savo


@pytest.mark.parametrize("bot_settings", [{"default_region": "koko-suomi"}])
def test_a_coordinator_of_every_region_exports_every_regions_write_ups(bot: Bot) -> None:
    # The default region is not in the database: the configured coordinators act for every region.
    _published_in_both_regions(bot)
    everything = _export(bot, COORDINATOR)
    assert "Lukukoirat Joroisissa" in everything and "Sirkuskoulu Outokummussa" in everything
    north = _export(bot, NORTH_COORD)
    assert "Sirkuskoulu Outokummussa" in north and "Lukukoirat Joroisissa" not in north


def test_a_host_who_has_left_is_reported_to_the_visits_regions_coordinators(bot: Bot) -> None:
    north = _north(bot)
    _add_coordinator(bot, NORTH_COORD, north["region"])
    north_visit = _propose_north(bot, north)
    bot.api.gone.add(NORTH_HOST)  # the host contact's account was deactivated
    first = _sweep(bot, datetime(2026, 11, 26, 12, 0, tzinfo=TZ))  # the first nudges
    assert [r.recipient for r, reason in first.failed] == [NORTH_HOST]
    told = _sweep(bot, datetime(2026, 11, 26, 12, 1, tzinfo=TZ))
    gone = [(r.recipient, r.visit_id) for r in told.sent if r.kind == reminders.RECIPIENT_GONE]
    assert gone == [(NORTH_COORD, north_visit.id)]
    assert all(r.recipient != COORDINATOR for r in told.sent)


def test_a_removed_coordinators_funding_message_loses_its_buttons(bot: Bot) -> None:
    _add_coordinator(bot, SECOND, _savo(bot))
    bot.api.locales[SECOND] = "en-US"
    visit = propose(bot, set_up_people(bot))
    settle(bot)
    [asked] = posted_to(bot, SECOND)
    assert ids.FUNDING_APPROVE in buttons(asked)
    assert _remove(bot, SECOND).json()["response_action"] == "update"
    # Their copy is updated at once: no funding buttons, and it says why.
    wait_until(bot, lambda: "no longer a coordinator" in text_of(last_update_for(bot, SECOND)))
    settle(bot)
    assert ids.FUNDING_APPROVE not in buttons(last_update_for(bot, SECOND))
    assert ids.FUNDING_APPROVE in buttons(last_update_for(bot, COORDINATOR))
    # It follows the visit (confirmed by the region's coordinator), still without the desk's buttons.
    confirm_visit(bot, visit)
    settle(bot)
    theirs, coordinators = last_update_for(bot, SECOND), last_update_for(bot, COORDINATOR)
    assert "Travel invoice: waiting" in text_of(coordinators) and ids.INVOICE_RECEIVED in buttons(
        coordinators
    )
    assert "Funding (AKE): ✅ approved by <@U0COORD>" in text_of(theirs)
    assert not {ids.INVOICE_RECEIVED, ids.TICKETS_BOUGHT, ids.FUNDING_APPROVE} & set(buttons(theirs))
    assert len(posted_to(bot, SECOND)) == 1  # updated, never posted again


# --- Offers: a coordinator edits their own region's libraries' offers ------------------------------
HOST = "U0HOST"  # the contact of a Savo library's offer
OTHER_LIBRARY = "belongs to another region: its offers are edited by its contact persons and that region's"


def _offers(bot: Bot) -> tuple[object, ...]:
    """What saving an offer changes: the offers, the libraries' contacts, the "not until" periods
    and the offers' audit entries."""
    with bot.session_factory() as session:
        offers = [
            (o.id, o.library_id, [t.id for t in o.topics], o.monthly_capacity, o.description, o.weekdays)
            for o in session.scalars(select(HostOffer).order_by(HostOffer.id))
        ]
        contacts = sorted((c.library_id, c.slack_user_id) for c in session.scalars(select(LibraryContact)))
        closed = session.scalar(select(func.count()).select_from(ClosedPeriod))
        audited = session.scalar(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.action.like("offer.%"))
        )
    return offers, contacts, closed, audited


def _offer_at(bot: Bot, key: str, contacts: list[str], capacity: str = "3") -> dict[str, Any]:
    return offer_values(
        bot,
        **{
            ids.OFFER_LIBRARY: select_value(
                str(library_id(bot.session_factory, key)), kind="external_select"
            ),
            ids.OFFER_CONTACTS: {"type": "multi_users_select", "selected_users": contacts},
            ids.OFFER_CAPACITY: {"type": "number_input", "value": capacity},
        },
    )


def _picked(bot: Bot, user: str, query: str = "") -> set[int]:
    """The libraries the offer form's library picker offers `user` for `query`."""
    answer = bot.slack.suggest(ids.OFFER_LIBRARY, query, user=user).json()
    check_options_response(answer)
    return {int(o["value"]) for o in answer["options"]}


def test_a_coordinator_edits_only_the_offers_of_their_regions_libraries(bot: Bot) -> None:
    north = _north(bot)
    _add_coordinator(bot, NORTH_COORD, north["region"])
    sf, now = bot.session_factory, bot.clock()
    set_home(sf, COORDINATOR, "kuopio-paakirjasto", now, language="en")
    set_home(sf, NORTH_COORD, "joensuu-test", now, language="en")
    savo_offer = add_offer(sf, "siilinjarvi", ["reading-dogs"], now, contacts=(HOST,))
    north_offer = add_offer(sf, "outokumpu-test", ["reading-dogs"], now, contacts=(NORTH_HOST,))
    before = _offers(bot)
    # A forged or stale form for another region's library (with contacts or without, the offer
    # itself or moved there) is refused in the person's language; nothing changes.
    for user, offer, key, contacts in (
        (NORTH_COORD, savo_offer, "siilinjarvi", [HOST]),
        (NORTH_COORD, None, "siilinjarvi", [NORTH_COORD]),
        (NORTH_COORD, None, "joroinen", [NORTH_COORD]),  # no contacts yet
        (NORTH_COORD, north_offer, "siilinjarvi", [NORTH_HOST]),
        (COORDINATOR, north_offer, "outokumpu-test", [NORTH_HOST]),
        (COORDINATOR, None, "outokumpu-test", [COORDINATOR]),
        (COORDINATOR, None, "joensuu-test", [COORDINATOR]),  # no contacts yet
        (COORDINATOR, savo_offer, "outokumpu-test", [HOST]),
    ):
        answer = submit_offer(bot, _offer_at(bot, key, contacts), user=user, offer=offer)
        told = json.dumps(answer, ensure_ascii=False)
        assert answer["response_action"] in ("errors", "push") and OTHER_LIBRARY in told, (user, offer, key)
        if answer["response_action"] == "errors":
            assert OTHER_LIBRARY in answer["errors"][ids.OFFER_LIBRARY]
    assert _offers(bot) == before
    # Nor is another region's offer opened for editing, listed for it, or its library offered.
    opened = len(bot.api.of("views.open"))
    assert OTHER_LIBRARY in _press(bot, ids.EDIT_OFFER, str(north_offer), COORDINATOR)
    assert len(bot.api.of("views.open")) == opened
    for user, word, name in (
        (COORDINATOR, "outokum", "Outokummun"),
        (NORTH_COORD, "siilinj", "Siilinjärven"),
    ):
        listing = bot.slack.command(f"tarjoa {word}", user=user)
        assert listing.status == 200 and name not in listing.text and ids.EDIT_OFFER not in listing.text
    north_libraries = {north["home"], north["host"]}
    assert _picked(bot, NORTH_COORD) == north_libraries
    assert not _picked(bot, COORDINATOR) & north_libraries and _picked(bot, COORDINATOR, "outokum") == set()
    assert _picked(bot, HOST, "outokum") == {north["host"]}  # staff pick as before (saving checks)
    assert _offers(bot) == before
    # Each region's coordinator edits their own region's offers.
    for user, offer, key, contacts, capacity in (
        (NORTH_COORD, north_offer, "outokumpu-test", [NORTH_HOST], "5"),
        (COORDINATOR, savo_offer, "siilinjarvi", [HOST], "4"),
    ):
        answer = submit_offer(bot, _offer_at(bot, key, contacts, capacity), user=user, offer=offer)
        assert answer["response_action"] == "update", answer
    with sf() as session:
        assert session.get(HostOffer, north_offer).monthly_capacity == 5  # type: ignore[union-attr]
        assert session.get(HostOffer, savo_offer).monthly_capacity == 4  # type: ignore[union-attr]
    assert [(e.actor, e.entity_id) for e in _audit(bot, "offer.update")] == [
        (NORTH_COORD, str(north_offer)),
        (COORDINATOR, str(savo_offer)),
    ]
    # A library's contact keeps editing its offers, in another region too.
    iisalmi = library_id(sf, "iisalmi")
    with sf.begin() as session:
        session.add(LibraryContact(library_id=iisalmi, slack_user_id=NORTH_COORD, added_at=now))
    assert _picked(bot, NORTH_COORD, "iisalm") == {iisalmi}
    answer = submit_offer(bot, _offer_at(bot, "iisalmi", [NORTH_COORD]), user=NORTH_COORD)
    assert answer["response_action"] == "update"


# --- Coordinators: a coordinator manages their own region's coordinators ---------------------------
MANAGE_OTHER = "You can add, move and remove only the coordinators of your own region"


def _coordinators(bot: Bot) -> tuple[object, ...]:
    """Who coordinates where (the rows added in the bot) and the audit entries of their changes."""
    with bot.session_factory() as session:
        rows = sorted((c.slack_user_id, c.region_id) for c in session.scalars(select(Coordinator)))
        audited = session.scalar(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.action.like("coordinator.%"))
        )
    return rows, audited


def _add(bot: Bot, user: str, region_id: int, by: str) -> dict[str, Any]:
    return bot.slack.submit(
        ids.COORDINATOR_VIEW,
        {
            ids.DESK_USER: {ids.DESK_USER: user_value(user)},
            ids.DESK_REGION: {ids.DESK_REGION: select_value(str(region_id))},
        },
        user=by,
    ).json()


def _region_choices(bot: Bot, user: str) -> set[int]:
    """The regions the add-coordinator modal lets `user` pick."""
    opened = len(bot.api.of("views.open"))
    bot.slack.action(ids.OPEN_ADD_COORDINATOR, "", user=user, where="home")
    view = jsonish(bot.api.wait_for("views.open", count=opened + 1)[-1].body["view"])
    check_view(view)
    region = next(b for b in view["blocks"] if b.get("block_id") == ids.DESK_REGION)
    return {int(o["value"]) for o in region["element"]["options"]}


def test_a_coordinator_adds_moves_and_removes_only_their_regions_coordinators(bot: Bot) -> None:
    north = _north(bot)
    savo = _savo(bot)
    _add_coordinator(bot, NORTH_COORD, north["region"])
    _add_coordinator(bot, SECOND, savo)
    bot.api.locales[SECOND] = "en-US"
    assert _region_choices(bot, SECOND) == {savo}
    assert _region_choices(bot, NORTH_COORD) == {north["region"]}
    before = _coordinators(bot)
    # Adding into another region, moving someone from or to it, removing its coordinator: refused.
    for user, region, by in (
        (STRANGER, north["region"], SECOND),  # add into another region
        (NORTH_COORD, savo, SECOND),  # move from another region into one's own
        (SECOND, north["region"], NORTH_COORD),  # move from another region into one's own
        (COORDINATOR, north["region"], NORTH_COORD),  # a configured one, of the default region
        (STRANGER, savo, NORTH_COORD),
    ):
        answer = _add(bot, user, region, by)
        assert answer["response_action"] == "errors", (user, region, by)
        assert MANAGE_OTHER in answer["errors"][ids.DESK_REGION]
    for user, by in ((NORTH_COORD, SECOND), (SECOND, NORTH_COORD)):
        answer = _remove(bot, user, by=by).json()
        assert answer["response_action"] == "errors" and MANAGE_OTHER in answer["errors"][ids.DESK_USER]
    assert _coordinators(bot) == before
    assert bot.deps.coordinator_scope(NORTH_COORD).regions == {north["region"]}
    # Within their own region they add, and remove, a coordinator.
    assert _add(bot, NORTH_HOST, north["region"], NORTH_COORD)["response_action"] == "update"
    assert _add(bot, STRANGER, savo, SECOND)["response_action"] == "update"
    assert _remove(bot, NORTH_HOST, by=NORTH_COORD).json()["response_action"] == "update"
    assert [(e.actor, e.entity_id) for e in _audit(bot, "coordinator.added")][-2:] == [
        (NORTH_COORD, NORTH_HOST),
        (SECOND, STRANGER),
    ]
    assert [(e.actor, e.entity_id) for e in _audit(bot, "coordinator.removed")] == [(NORTH_COORD, NORTH_HOST)]
    # The configured coordinator manages every region: it moves Savo's coordinator north.
    assert _add(bot, SECOND, north["region"], COORDINATOR)["response_action"] == "update"
    assert bot.deps.coordinator_scope(SECOND).regions == {north["region"]}


def test_a_configured_coordinator_adds_the_first_coordinator_of_a_region(bot: Bot) -> None:
    north = _north(bot)  # no coordinator of its own yet
    savo = _savo(bot)
    _add_coordinator(bot, SECOND, savo)
    bot.api.locales[SECOND] = "en-US"
    # Savo's coordinator added in the bot can neither pick the new region nor add into it.
    assert _region_choices(bot, SECOND) == {savo}
    before = _coordinators(bot)
    answer = _add(bot, NORTH_COORD, north["region"], SECOND)
    assert answer["response_action"] == "errors" and MANAGE_OTHER in answer["errors"][ids.DESK_REGION]
    assert _coordinators(bot) == before and not bot.deps.is_coordinator(NORTH_COORD)
    # The configured one (COORDINATOR_USER_IDS) may pick every region and adds its first coordinator.
    assert _region_choices(bot, COORDINATOR) == {savo, north["region"]}
    answer = _add(bot, NORTH_COORD, north["region"], COORDINATOR)
    assert answer["response_action"] == "update"
    assert bot.deps.coordinator_scope(NORTH_COORD).regions == {north["region"]}
    (entry,) = [e for e in _audit(bot, "coordinator.added") if e.entity_id == NORTH_COORD]
    assert (entry.actor, entry.details) == (COORDINATOR, {"region_id": north["region"]})
