"""A two-day visit: its second day counts (a Friday start is refused), it has one night of
accommodation (asked for only then, shown as nights x price), and its invite has one event a day."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from icalendar import Calendar

from bot import ids
from bot.views.limits import check_view
from models import Visit, VisitStatus
from services.common import workdays
from tests.conftest import Bot
from tests.e2e.test_decide import confirm_visit, uploads
from tests.e2e.visit_helpers import (
    SUPERVISOR,
    VISITOR,
    count,
    only_visit,
    posted_to,
    proposal_values,
    set_up_people,
    settle,
    text_of,
)
from tests.fakes.slack_requests import fixture, select_value


@pytest.fixture(autouse=True)
def _quiet_at_the_end(bot: Bot) -> Iterator[None]:
    yield
    settle(bot)


def next_weekday(bot: Bot, weekday: int) -> date:
    """The next `weekday` (0 = Monday) after the bot's today that is a working day, and whose next
    day is one as well when it is a Tuesday (for a Tuesday-Wednesday visit)."""
    today = workdays.local_today(bot.clock())
    day = today + timedelta(days=1)
    while (
        day.weekday() != weekday
        or workdays.why_not(day, today=today) is not None
        or (weekday == 1 and workdays.why_not(day + timedelta(days=1), today=today) is not None)
    ):
        day += timedelta(days=1)
    return day


def block_ids(view: dict[str, Any]) -> list[str]:
    return [block.get("block_id", "") for block in view["blocks"]]


def choose_length(bot: Bot, view: dict[str, Any], length: str) -> dict[str, Any]:
    """The visitor picks a length in the open form; the form Slack shows after the bot's update."""
    payload = fixture("block_actions_message")
    payload["user"].update(id=VISITOR, username="u0visitor", name="u0visitor")
    payload["container"] = {"type": "view", "view_id": view["id"]}
    payload["view"] = view
    payload["actions"] = [
        {
            "type": "static_select",
            "action_id": ids.PROPOSE_LENGTH,
            "block_id": ids.PROPOSE_LENGTH,
            "selected_option": {"text": {"type": "plain_text", "text": length}, "value": length},
            "action_ts": "1700000001.000200",
        }
    ]
    before = len(bot.api.of("views.update"))
    assert bot.slack.interactive(payload).status == 200
    update = bot.api.wait_for("views.update", count=before + 1)[-1].body
    assert update["view_id"] == view["id"] and update["hash"] == view["hash"]
    shown = json.loads(update["view"]) if isinstance(update["view"], str) else update["view"]
    check_view(shown)
    return dict(shown, id=view["id"], hash=f"{view['hash']}-{before + 1}")


def test_the_night_is_asked_for_a_two_day_visit_only(bot: Bot) -> None:
    set_up_people(bot)
    assert bot.slack.command("ehdota lukukoira", user=VISITOR).status == 200
    call = bot.api.wait_for("views.open")[-1]
    view = json.loads(call.body["view"]) if isinstance(call.body["view"], str) else call.body["view"]
    view = dict(view, id="V0FORM", hash="1700000000.aaaa")
    assert ids.PROPOSE_ACCOMMODATION not in block_ids(view)  # a one-day visit (the default) has no night

    two_days = choose_length(bot, view, "two_days")
    shown = block_ids(two_days)
    assert shown.index(ids.PROPOSE_ACCOMMODATION) == shown.index(ids.PROPOSE_TICKETS) + 1
    assert "yhden yön hinta" in json.dumps(two_days, ensure_ascii=False)
    assert (
        block_ids(two_days)[: shown.index(ids.PROPOSE_TICKETS)]
        == block_ids(view)[: shown.index(ids.PROPOSE_TICKETS)]
    )
    one_day = choose_length(bot, two_days, "day")
    assert ids.PROPOSE_ACCOMMODATION not in block_ids(one_day)
    assert block_ids(one_day) == block_ids(view)


def test_refused_on_a_friday_accepted_tuesday_to_wednesday_with_one_night(bot: Bot) -> None:
    setup = set_up_people(bot)
    friday, tuesday = next_weekday(bot, 4), next_weekday(bot, 1)

    def submit(day: date, length: str, accommodation: str) -> dict[str, Any]:
        values = proposal_values(
            setup["topic"].id,
            setup["host"].id,
            dates=(day.isoformat(), None, None),
            accommodation=accommodation,
        )
        values[ids.PROPOSE_LENGTH] = {ids.PROPOSE_LENGTH: select_value(length)}
        reply = bot.slack.submit(ids.PROPOSE_VIEW, values)
        assert reply.status == 200
        return reply.json()

    refused = submit(friday, "two_days", "95")
    assert "toinen päivä" in refused["errors"][f"{ids.PROPOSE_DATE}_1"]  # its second day is a Saturday
    one_day = submit(tuesday, "day", "95")  # a night for a one-day visit (a stale form)
    assert "kahden päivän vierailuun" in one_day["errors"][ids.PROPOSE_ACCOMMODATION]
    assert count(bot.session_factory, Visit) == 0

    assert submit(tuesday, "two_days", "95,50")["response_action"] == "update"
    bot.api.wait_for("chat.postMessage", count=5)
    visit = only_visit(bot.session_factory)
    assert visit.length == "two_days" and visit.accommodation_cost == Decimal("95.50")
    card = text_of(posted_to(bot, SUPERVISOR)[-1])
    assert "1 yö × 95,50 € = 95,50 €" in card.replace("\u00a0", " ")

    confirmed = confirm_visit(bot, visit)
    assert confirmed.status == VisitStatus.CONFIRMED
    invite = Calendar.from_ical(uploads(bot, 1)[0])
    events = invite.walk("VEVENT")
    assert [
        (e.decoded("DTSTART").date(), e.decoded("DTSTART").hour, e.decoded("DTEND").hour) for e in events
    ] == [
        (tuesday, 9, 16),
        (tuesday + timedelta(days=1), 9, 16),
    ]
