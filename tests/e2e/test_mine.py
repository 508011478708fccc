"""App Home and `/vertais omat` with 200 visits on record: inside Block Kit limits, paged."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import event

from bot import ids
from bot.views.limits import check_message, check_view
from models import PartyState, Visit, VisitDate, VisitStatus, VisitTraveller
from tests.conftest import COORDINATOR, Bot
from tests.e2e.visit_helpers import SUPERVISOR, VISITOR, buttons, jsonish, set_up_people, settle, text_of


@pytest.fixture(autouse=True)
def _quiet_at_the_end(bot: Bot) -> Iterator[None]:
    yield
    settle(bot)


def visit_row(
    setup: dict[str, Any], day: date, *, status: VisitStatus, state: PartyState, **kw: Any
) -> Visit:
    """A visit of VISITOR (supervisor SUPERVISOR) to the setup's host on `day`, every party in
    `state`; `learn`, `chosen_date`, `created_at` and `updated_at` from `kw`."""
    return Visit(
        visitor_id=VISITOR,
        home_library_id=setup["home"].id,
        host_library_id=setup["host"].id,
        topic_id=setup["topic"].id,
        length="day",
        travel_mode="car",
        supervisor_id=SUPERVISOR,
        note_to_host="",
        status=status,
        supervisor_state=state,
        host_state=state,
        funding_state=state,
        dates=[VisitDate(day=day, source="visitor", active=True)],
        travellers=[
            VisitTraveller(
                position=0,
                user_id=VISITOR,
                supervisor_id=SUPERVISOR,
                consent=state if state in (PartyState.APPROVED, PartyState.DECLINED) else PartyState.PENDING,
            )
        ],
        **kw,
    )


def many_visits(bot: Bot, setup: dict[str, Any], n: int = 200) -> None:
    statuses = [VisitStatus.PROPOSED, VisitStatus.CONFIRMED, VisitStatus.DECLINED, VisitStatus.CANCELLED]
    now = bot.clock()
    with bot.session_factory.begin() as session:
        for i in range(n):
            day = date(2026, 12, 1) + timedelta(days=i % 20)
            session.add(
                visit_row(
                    setup,
                    day,
                    status=statuses[i % 4],
                    state=PartyState.PENDING,
                    learn=f"Asia {i} " + "x" * 1400,
                    chosen_date=day if i % 4 == 1 else None,
                    created_at=now - timedelta(minutes=n - i),
                    updated_at=now,
                )
            )


def test_home_with_200_visits_stays_inside_limits_and_pages(bot: Bot) -> None:
    setup = set_up_people(bot)
    many_visits(bot, setup)
    engine = bot.session_factory.kw["bind"]
    statements: list[str] = []

    def listener(*args: object) -> None:
        if not str(args[2]).startswith("BEGIN"):  # transaction control is not a query
            statements.append(str(args[2]))

    event.listen(engine, "before_cursor_execute", listener)
    try:
        bot.slack.home_opened(VISITOR)
        view = jsonish(bot.api.wait_for("views.publish")[0].body["view"])
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    check_view(view)
    assert len(view["blocks"]) <= 100
    text = text_of({"blocks": view["blocks"]})
    assert "Omat vierailuni" in text and "Näytetään 1–10 / 200" in text
    # a constant handful, not one per visit (one of them: the periods away and substitutes)
    assert len(statements) < 17, statements
    older = buttons({"blocks": view["blocks"]})[f"{ids.HOME_PAGE}_next"]
    bot.slack.action(f"{ids.HOME_PAGE}_next", older["value"], where="home")
    second = jsonish(bot.api.wait_for("views.publish", count=2)[1].body["view"])
    check_view(second)
    assert "Näytetään 11–20 / 200" in text_of({"blocks": second["blocks"]})
    assert f"{ids.HOME_PAGE}_prev" in buttons({"blocks": second["blocks"]})


def test_supervisor_sees_what_waits_for_their_decision(bot: Bot) -> None:
    setup = set_up_people(bot)
    many_visits(bot, setup)
    bot.slack.home_opened(SUPERVISOR)
    view = jsonish(bot.api.wait_for("views.publish")[0].body["view"])
    check_view(view)
    text = text_of({"blocks": view["blocks"]})
    assert "Odottaa päätöstäni" in text and "Esihenkilönä" in text and "…ja 40 muuta" in text


def test_mine_command_with_200_visits_is_a_valid_ephemeral_message(bot: Bot) -> None:
    setup = set_up_people(bot)
    many_visits(bot, setup)
    reply = bot.slack.command("omat")
    body = reply.json()
    assert body["response_type"] == "ephemeral"
    check_message(body)
    assert len(body["blocks"]) <= 50
    assert "Näytetään 1–10 / 200" in text_of(body)
    older = buttons(body)[f"{ids.MINE_PAGE}_next"]
    bot.slack.action(f"{ids.MINE_PAGE}_next", older["value"])
    replaced = bot.api.wait_for("response_url")[0].body
    assert replaced["replace_original"] is True
    assert "Näytetään 11–20 / 200" in text_of(replaced)


def test_coordinator_home_lists_funding_waiting(bot: Bot) -> None:
    setup = set_up_people(bot)
    many_visits(bot, setup, n=8)
    bot.api.locales[COORDINATOR] = "en-US"
    from services.people import staff

    staff.update_settings(
        bot.session_factory,
        COORDINATOR,
        home_library_id=setup["home"].id,
        language="en",
        now=bot.clock(),
        default_language="fi",
    )
    bot.slack.home_opened(COORDINATOR)
    view = jsonish(bot.api.wait_for("views.publish")[0].body["view"])
    text = text_of({"blocks": view["blocks"]})
    assert "Waiting for my decision" in text and "Funding decision" in text


def test_host_contact_and_supervisor_see_their_part_upcoming_first(bot: Bot) -> None:
    """A host contact with visits to their library and a supervisor whose staff have visits see
    them in sections of their own, in App Home and in `omat` (they used to see only "no visits")."""
    from services.common.workdays import local_today
    from tests.e2e.visit_helpers import HOST2, STRANGER

    setup = set_up_people(bot)
    today = local_today(bot.clock())
    now = bot.clock()
    days = {
        "later": today + timedelta(days=30),
        "soon": today + timedelta(days=3),
        "past": today - timedelta(days=9),
    }
    with bot.session_factory.begin() as session:
        for name, day in days.items():
            session.add(
                visit_row(
                    setup,
                    day,
                    status=VisitStatus.CONFIRMED,
                    state=PartyState.APPROVED,
                    learn=name,
                    chosen_date=day,
                    created_at=now,
                    updated_at=now,
                )
            )
    from services.people import staff

    for person in (HOST2, SUPERVISOR, STRANGER):  # each has chosen a home library before
        bot.api.locales[person] = "fi-FI"
        staff.update_settings(
            bot.session_factory,
            person,
            home_library_id=setup["home"].id,
            language=None,
            now=now,
            default_language="fi",
        )

    def part(body: dict[str, Any], title: str) -> list[str]:
        """The section lines under the header `title`."""
        lines, inside = [], False
        for block in jsonish(body["blocks"]):
            if block["type"] == "header":
                inside = block["text"]["text"] == title
            elif inside and block["type"] == "section":
                lines.append(block["text"]["text"])
        return lines

    from bot.i18n import translator
    from bot.views.formatting import day_text

    t = translator("fi")
    expected = [day_text(days[n], t) for n in ("soon", "later", "past")]
    host_mine = bot.slack.command("omat", user=HOST2).json()
    check_message(host_mine)
    lines = part(host_mine, "Vierailut kirjastoonne")
    assert [next(d for d in expected if d in line) for line in lines] == expected  # upcoming first
    assert all(f"<@{VISITOR}>" in line for line in lines)
    assert not part(host_mine, "Henkilöstösi vierailut")

    boss_mine = bot.slack.command("omat", user=SUPERVISOR).json()
    assert len(part(boss_mine, "Henkilöstösi vierailut")) == 3
    assert not part(boss_mine, "Vierailut kirjastoonne")

    bot.slack.home_opened(HOST2)
    home = jsonish(bot.api.wait_for("views.publish")[0].body["view"])
    check_view(home)
    assert len(part(home, "Vierailut kirjastoonne")) == 3

    stranger = bot.slack.command("omat", user=STRANGER).json()
    assert not part(stranger, "Vierailut kirjastoonne") and not part(stranger, "Henkilöstösi vierailut")


def test_a_decision_owed_is_on_top_of_app_home_with_its_buttons_right_there(bot: Bot) -> None:
    """The supervisor's Home tab has the consent owed with its buttons; a press there is the same
    press as on the visit's message, and the Home tab follows at once."""
    from tests.e2e.test_decide import wait_until
    from tests.e2e.visit_helpers import only_visit, propose

    setup = set_up_people(bot)
    propose(bot, setup)
    settle(bot)
    bot.slack.home_opened(SUPERVISOR)
    view = jsonish(bot.api.wait_for("views.publish")[0].body["view"])
    check_view(view)
    blocks = view["blocks"]
    waiting = next(i for i, b in enumerate(blocks) if "Odottaa päätöstäni" in text_of({"blocks": [b]}))
    approve = buttons({"blocks": blocks})[ids.SUPERVISOR_APPROVE]
    assert ids.SUPERVISOR_DECLINE in buttons({"blocks": blocks})
    # The buttons sit right under the visit's line, before "my visits".
    mine = next(i for i, b in enumerate(blocks) if "Omat vierailuni" in text_of({"blocks": [b]}))
    at = next(
        i
        for i, b in enumerate(blocks)
        if b["type"] == "actions"
        and b.get("block_id", "").endswith("_home")
        and any(e.get("action_id") == ids.SUPERVISOR_APPROVE for e in b["elements"])
    )
    assert waiting < at < mine
    bot.slack.action(ids.SUPERVISOR_APPROVE, approve["value"], user=SUPERVISOR, where="home")
    wait_until(bot, lambda: only_visit(bot.session_factory).supervisor_state == PartyState.APPROVED)
    republished = jsonish(bot.api.wait_for("views.publish", count=2)[1].body["view"])
    assert ids.SUPERVISOR_APPROVE not in buttons({"blocks": republished["blocks"]})
    assert "Mikään ei odota päätöstäsi." in text_of({"blocks": republished["blocks"]})
