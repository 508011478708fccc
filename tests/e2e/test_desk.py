"""The coordinator's desk through the real App: authorization on every coordinator action,
the budget on the funding decision, App Home, the modals' inline errors and the report."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select

from bot import ids
from bot.views.limits import check_view
from models import AuditEntry, Budget, Coordinator, KilometreRate, Visit, VisitCost, VisitStatus
from services.money import budget, travel_invoices
from services.people import staff
from tests.conftest import COORDINATOR, Bot
from tests.desk_support import add_visit, region_id, topics
from tests.e2e.visit_helpers import (
    STRANGER,
    buttons,
    jsonish,
    last_update_for,
    library,
    posted_to,
    propose,
    set_up_people,
    settle,
    text_of,
)
from tests.fakes.slack_requests import select_value, text_value, user_value

ONLY = "Only coordinators can do this."


@pytest.fixture(autouse=True)
def _quiet_at_the_end(bot: Bot) -> Iterator[None]:
    yield
    settle(bot)


def _home_for(bot: Bot, user: str, lang: str = "en") -> None:
    home = library(bot.session_factory, "kuopio-paakirjasto")
    bot.api.locales[user] = "en-US"
    staff.update_settings(
        bot.session_factory,
        user,
        home_library_id=home.id,
        language=lang,
        now=bot.clock(),
        default_language="fi",
    )


def _a_confirmed_visit(bot: Bot, *, travel: str = "public", day: date = date(2026, 12, 10)) -> int:
    with bot.session_factory.begin() as s:
        return add_visit(
            s,
            home="kuopio-paakirjasto",
            host="joroinen",
            topic=topics(s)["A1"],
            status=VisitStatus.CONFIRMED,
            day=day,
            funded="80.00",
            travel_mode=travel,
        ).id


def _counts(bot: Bot) -> tuple[int, ...]:
    with bot.session_factory() as s:
        return tuple(
            s.scalar(select(func.count()).select_from(model)) or 0
            for model in (Budget, VisitCost, KilometreRate, Coordinator, AuditEntry)
        )


def _values(**blocks: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {block: {block: value} for block, value in blocks.items()}


def test_every_coordinator_action_refuses_others_and_changes_nothing(bot: Bot) -> None:
    visit_id = _a_confirmed_visit(bot)
    bot.api.locales[STRANGER] = "en-US"
    before = _counts(bot)
    buttons = [
        (ids.OPEN_BUDGET, "2026"),
        (ids.OPEN_RATES, ""),
        (ids.OPEN_ADD_COORDINATOR, ""),
        (ids.OPEN_REPORT, "2026"),
        (ids.OPEN_ACTUALS, str(visit_id)),
        (ids.TICKETS_BOUGHT, str(visit_id)),
        (ids.INVOICE_RECEIVED, str(visit_id)),
        (ids.INVOICE_PAID, str(visit_id)),
        (ids.OPEN_REMOVE_COORDINATOR, ""),
    ]
    for n, (action_id, value) in enumerate(buttons, start=1):
        reply = bot.slack.action(action_id, value, user=STRANGER)
        assert reply.status == 200
        said = bot.api.wait_for("response_url", count=n)[-1].body
        assert said["text"] == ONLY, action_id
    forms = [
        (
            ids.BUDGET_VIEW,
            _values(**{ids.DESK_YEAR: text_value("2026"), ids.DESK_AMOUNT: text_value("100")}),
            "",
        ),
        (
            ids.RATES_VIEW,
            _values(**{ids.DESK_YEAR: text_value("2027"), ids.DESK_RATE: text_value("0.6")}),
            "",
        ),
        (ids.ACTUALS_VIEW, _values(**{ids.DESK_KM: text_value("10")}), str(visit_id)),
        (
            ids.COORDINATOR_VIEW,
            _values(**{ids.DESK_USER: user_value(STRANGER), ids.DESK_REGION: select_value("1")}),
            "",
        ),
        (ids.REMOVE_COORDINATOR_VIEW, _values(**{ids.DESK_USER: user_value(COORDINATOR)}), ""),
    ]
    for callback_id, values, metadata in forms:
        reply = bot.slack.submit(callback_id, values, user=STRANGER, private_metadata=metadata)
        assert reply.status == 200
        assert ONLY in reply.said, callback_id
    reply = bot.slack.command("raportti 2026", user=STRANGER)
    assert ONLY in reply.said
    assert bot.api.of("views.open") == []
    assert bot.api.of("files.completeUploadExternal") == []
    assert _counts(bot) == before


def test_funding_decision_shows_the_budget_and_warns_when_over(bot: Bot) -> None:
    setup = set_up_people(bot)
    budget.set_budget(
        bot.session_factory,
        actor=COORDINATOR,
        is_coordinator=True,
        region_id=region_id(bot.session_factory),
        year_text="2026",
        amount_text="50",
        replace=False,
        now=bot.clock(),
    )
    visit = propose(bot, setup)  # 120 km x 0.55 = 66.00 by car
    message = posted_to(bot, COORDINATOR)[-1]
    text = text_of(message)
    assert "Budget 2026:* €50.00" in text
    assert "would go over the budget by €16.00" in text
    # The warning does not forbid: the approve button is there and works.
    reply = bot.slack.action(ids.FUNDING_APPROVE, f"{visit.id}:1", user=COORDINATOR)
    assert reply.status == 200
    settle(bot)
    with bot.session_factory() as s:
        v = s.get(Visit, visit.id)
        assert v is not None and v.funded_cost == Decimal("66.00")
    summary = budget.summary(bot.session_factory, region_id(bot.session_factory), 2026)
    assert (summary.committed, summary.remaining) == (Decimal("66.00"), Decimal("-16.00"))


def test_funding_decision_says_when_no_budget_is_set(bot: Bot) -> None:
    setup = set_up_people(bot)
    propose(bot, setup, km="10")
    text = text_of(posted_to(bot, COORDINATOR)[-1])
    assert "*No budget set for 2026*" in text and "Remaining" not in text
    # The visitor's own status card shows no budget.
    assert "Budget 2026" not in text_of(posted_to(bot, "U0VISITOR")[-1])


def test_coordinator_home_has_the_desk_and_others_do_not(bot: Bot) -> None:
    _home_for(bot, COORDINATOR)
    _home_for(bot, STRANGER)
    visit_id = _a_confirmed_visit(bot)
    bot.slack.home_opened(COORDINATOR)
    view = jsonish(bot.api.wait_for("views.publish")[0].body["view"])
    check_view(view)
    text = text_of({"blocks": view["blocks"]})
    assert "Coordinator's desk" in text and "Tickets to buy" in text and "Joroisten kirjasto" in text
    ticket_buttons = [
        block["accessory"]
        for block in view["blocks"]
        if block.get("accessory", {}).get("action_id") == ids.TICKETS_BOUGHT
    ]
    assert [b["value"] for b in ticket_buttons] == [str(visit_id)]
    bot.slack.home_opened(STRANGER)
    other = jsonish(bot.api.wait_for("views.publish", count=2)[1].body["view"])
    assert "Coordinator's desk" not in text_of({"blocks": other["blocks"]})


def test_tickets_bought_and_invoice_received_buttons(bot: Bot) -> None:
    _home_for(bot, COORDINATOR)
    train = _a_confirmed_visit(bot)
    car = _a_confirmed_visit(bot, travel="car", day=date(2026, 11, 2))
    bot.slack.action(ids.TICKETS_BOUGHT, str(train), user=COORDINATOR, where="home")
    bot.api.wait_for("views.publish")  # App Home re-rendered
    bot.slack.action(ids.TICKETS_BOUGHT, str(train), user=COORDINATOR, where="home")
    bot.slack.action(ids.INVOICE_RECEIVED, str(car), user=COORDINATOR, where="home")
    opened = bot.api.wait_for("views.open", count=3)
    texts = [text_of(jsonish(c.body["view"])) for c in opened]
    assert "Noted: the tickets are bought." in texts[0]
    assert "already marked as bought" in texts[1]
    assert "Noted: the travel invoice has arrived." in texts[2]
    with bot.session_factory() as s:
        row = s.get(VisitCost, train)
        assert row is not None and row.tickets_bought_by == COORDINATOR
        from services.money.travel_invoices import invoice_outstanding

        assert not invoice_outstanding(s, car)


def _open_modal(bot: Bot, action_id: str, value: str = "", n: int = 1) -> dict[str, Any]:
    bot.slack.action(action_id, value, user=COORDINATOR, where="home")
    view = jsonish(bot.api.wait_for("views.open", count=n)[n - 1].body["view"])
    check_view(view)
    return view


def test_budget_modal_inline_errors_and_replacing(bot: Bot) -> None:
    _home_for(bot, COORDINATOR)
    view = _open_modal(bot, ids.OPEN_BUDGET, "2026")
    assert view["callback_id"] == ids.BUDGET_VIEW

    def submit(amount: str, year: str = "2026", replace: bool = False) -> Any:
        values = _values(**{ids.DESK_YEAR: text_value(year), ids.DESK_AMOUNT: text_value(amount)})
        chosen = [{"value": "replace", "text": {"type": "plain_text", "text": "x"}}] if replace else []
        values[ids.DESK_REPLACE] = {ids.DESK_REPLACE: {"type": "checkboxes", "selected_options": chosen}}
        return bot.slack.submit(ids.BUDGET_VIEW, values, user=COORDINATOR).json()

    for bad in ("-5", "lots", "100000000"):
        answer = submit(bad)
        assert answer["response_action"] == "errors" and ids.DESK_AMOUNT in answer["errors"]
    assert submit("100", year="1999")["errors"][ids.DESK_YEAR].startswith("Give a year")
    assert _counts(bot)[0] == 0
    assert submit("5000")["response_action"] == "update"
    again = submit("6000")
    assert again["response_action"] == "errors"
    assert "already has a budget of €5,000.00" in again["errors"][ids.DESK_AMOUNT]
    assert submit("6000", replace=True)["response_action"] == "update"
    assert budget.summary(bot.session_factory, region_id(bot.session_factory), 2026).budget == Decimal(
        "6000.00"
    )


def test_rate_and_actual_cost_modals_refuse_absurd_amounts(bot: Bot) -> None:
    _home_for(bot, COORDINATOR)
    view = _open_modal(bot, ids.OPEN_RATES)
    assert "2026: 0,55 €/km" not in text_of(view)  # English: €0.55/km
    assert "2026: €0.55/km" in text_of(view)
    answer = bot.slack.submit(
        ids.RATES_VIEW,
        _values(**{ids.DESK_YEAR: text_value("2027"), ids.DESK_RATE: text_value("2,5")}),
        user=COORDINATOR,
    ).json()
    assert answer["response_action"] == "errors" and "at most" in answer["errors"][ids.DESK_RATE]
    answer = bot.slack.submit(
        ids.RATES_VIEW,
        _values(**{ids.DESK_YEAR: text_value("2027"), ids.DESK_RATE: text_value("0,60")}),
        user=COORDINATOR,
    ).json()
    assert answer["response_action"] == "update" and "2027: €0.60/km" in text_of(answer["view"])

    visit_id = _a_confirmed_visit(bot, travel="car", day=date(2026, 11, 2))
    view = _open_modal(bot, ids.OPEN_ACTUALS, str(visit_id), n=2)
    assert view["private_metadata"] == str(visit_id)
    bad = _values(
        **{
            ids.DESK_KM: text_value("-5"),
            ids.DESK_TICKETS: text_value("100000"),
            ids.DESK_ACCOMMODATION: text_value(""),
        }
    )
    answer = bot.slack.submit(ids.ACTUALS_VIEW, bad, user=COORDINATOR, private_metadata=str(visit_id)).json()
    assert set(answer["errors"]) == {ids.DESK_KM, ids.DESK_TICKETS}
    with bot.session_factory() as s:
        assert s.get(VisitCost, visit_id) is None
    good = _values(
        **{
            ids.DESK_KM: text_value("150"),
            ids.DESK_TICKETS: text_value(""),
            ids.DESK_ACCOMMODATION: text_value("89,90"),
        }
    )
    answer = bot.slack.submit(ids.ACTUALS_VIEW, good, user=COORDINATOR, private_metadata=str(visit_id)).json()
    assert answer["response_action"] == "update"
    assert "Total *€172.40*" in text_of(answer["view"])  # 150 x 0.55 = 82.50 + 89.90


def test_a_coordinator_adds_a_coordinator(bot: Bot) -> None:
    _home_for(bot, COORDINATOR)
    _home_for(bot, "U0NEWCOORD")
    view = _open_modal(bot, ids.OPEN_ADD_COORDINATOR)
    region = view["blocks"][2]["element"]["options"][0]["value"]
    answer = bot.slack.submit(
        ids.COORDINATOR_VIEW,
        _values(**{ids.DESK_USER: user_value("U0NEWCOORD"), ids.DESK_REGION: select_value(region)}),
        user=COORDINATOR,
    ).json()
    assert answer["response_action"] == "update" and "is now a coordinator" in text_of(answer["view"])
    bot.slack.action(ids.OPEN_RATES, "", user="U0NEWCOORD", where="home")
    assert jsonish(bot.api.wait_for("views.open", count=2)[1].body["view"])["callback_id"] == ids.RATES_VIEW
    # ... and is asked for funding decisions from now on.
    propose(bot, set_up_people(bot))
    settle(bot)
    assert ids.FUNDING_APPROVE in buttons(posted_to(bot, "U0NEWCOORD")[-1])


def test_a_bot_a_deactivated_account_or_a_tampered_id_is_no_coordinator(bot: Bot) -> None:
    from models import Coordinator

    _home_for(bot, COORDINATOR)
    view = _open_modal(bot, ids.OPEN_ADD_COORDINATOR)
    region = view["blocks"][2]["element"]["options"][0]["value"]
    bot.api.deactivated.add("U0LEFT")
    with bot.session_factory() as session:
        before = session.scalar(select(func.count()).select_from(Coordinator))
    for someone in ("U0BOT", "U0LEFT", "U1> <!channel", "USLACKBOT"):
        answer = bot.slack.submit(
            ids.COORDINATOR_VIEW,
            _values(**{ids.DESK_USER: user_value(someone), ids.DESK_REGION: select_value(region)}),
            user=COORDINATOR,
        ).json()
        assert answer["response_action"] == "errors", someone
        assert "person" in answer["errors"][ids.DESK_USER], someone
    with bot.session_factory() as session:
        assert session.scalar(select(func.count()).select_from(Coordinator)) == before


def test_report_command_answers_with_message_csv_and_chart(bot: Bot) -> None:
    _home_for(bot, COORDINATOR)
    _a_confirmed_visit(bot)
    bad = bot.slack.command("raportti ensi-vuonna", user=COORDINATOR)
    assert "is not a year" in bad.said
    reply = bot.slack.command("report 2026", user=COORDINATOR)
    assert "Putting the report together" in reply.said
    message = bot.api.wait_for("response_url")[0].body
    assert "Peer learning 2026" in text_of(message) and "Visits in all:* 1" in text_of(message)
    uploads = bot.api.wait_for("upload", count=2)
    complete = bot.api.wait_for("files.completeUploadExternal")[0].body
    assert complete["channel_id"] == "D0COORD"
    data = next(u.body["bytes"] for u in uploads if u.body["bytes"].startswith(b"\xef\xbb\xbf"))
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))
    assert rows[0] == ["section", "item", "detail", "visits", "people", "days", "per cent", "euros"]
    assert ["host library", "Joroisten kirjasto", "", "1", "", "", "", ""] in rows
    assert any(u.body["bytes"].startswith(b"\x89PNG") for u in uploads)
    assert json.loads(json.dumps(rows))  # plain strings only


def test_confirmed_visit_message_carries_the_invoice_button(bot: Bot) -> None:
    from tests.e2e.test_decide import confirm_visit

    setup = set_up_people(bot)
    visit = confirm_visit(bot, propose(bot, setup))  # by car: a travel invoice is expected
    settle(bot)
    message = last_update_for(bot, COORDINATOR)
    assert "Travel invoice: waiting" in text_of(message)
    assert ids.INVOICE_RECEIVED in buttons(message)
    updates = len(bot.api.of("chat.update"))
    bot.slack.action(ids.INVOICE_RECEIVED, str(visit.id), user=COORDINATOR)
    bot.api.wait_for("chat.update", count=updates + 1)
    settle(bot)
    message = last_update_for(bot, COORDINATOR)
    assert "Travel invoice: received" in text_of(message)
    assert ids.INVOICE_RECEIVED not in buttons(message)
    # The visitor's own card never shows the coordinators' desk.
    assert "Travel invoice" not in text_of(last_update_for(bot, "U0VISITOR"))


def test_coordinator_home_at_its_largest_fits_slack(bot: Bot) -> None:
    from tests.e2e.test_mine import many_visits

    setup = set_up_people(bot)
    _home_for(bot, COORDINATOR)
    many_visits(bot, setup, n=60)  # proposals waiting for funding, confirmed ones by car
    for i in range(12):
        _a_confirmed_visit(bot, day=date(2026, 12, 1 + i))  # tickets to buy
        _a_confirmed_visit(bot, travel="car", day=date(2026, 10, 1 + i))  # invoices and costs
        received = _a_confirmed_visit(bot, travel="car", day=date(2026, 9, 1 + i))
        travel_invoices.mark_received(  # invoices to pay
            bot.session_factory, received, actor=COORDINATOR, is_coordinator=True, now=bot.clock()
        )
    bot.slack.home_opened(COORDINATOR)
    view = jsonish(bot.api.wait_for("views.publish")[0].body["view"])
    check_view(view)
    text = text_of({"blocks": view["blocks"]})
    assert "Coordinator's desk" in text and "and 7 more" in text


def test_report_says_so_when_the_files_cannot_be_sent(bot: Bot) -> None:
    from tests.fakes.slack_api import Failure

    _home_for(bot, COORDINATOR)
    bot.api.fail_next("files.getUploadURLExternal", Failure(error="not_allowed_token_type"))
    bot.slack.command("raportti", user=COORDINATOR)
    bot.api.wait_for("response_url")  # the message itself is there
    bot.api.wait_for("chat.postMessage", timeout=10)  # after the chart is drawn: may take a while
    settle(bot)
    assert "could not be sent" in text_of(posted_to(bot, COORDINATOR)[-1])
