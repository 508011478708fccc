"""A host declares any number of closed periods on its offer form (from-to, with a reason); a
proposal for a day in one is refused inline with the reason, and the form shows them again."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from bot import ids
from bot.views.limits import check_view
from models import ClosedPeriod, HostOffer, Visit
from services.common import workdays
from tests.conftest import Bot
from tests.e2e.test_offer import HOST, offer_values, opened_view, submit
from tests.e2e.visit_helpers import count, library, proposal_values, set_up_people
from tests.fakes.slack_requests import text_value
from tests.find_support import set_home, topic_id


def dotted(day: date) -> str:
    return f"{day.day}.{day.month}.{day.year}"


def tuesday_in(start: date, end: date) -> date:
    """A Tuesday (the offer takes visitors on Tuesdays and Thursdays) that is a working day."""
    day = start
    while day.weekday() != 1 or workdays.holiday_name(day) is not None:
        day += timedelta(days=1)
    assert day <= end
    return day


def periods(bot: Bot) -> list[tuple[date, date, str]]:
    with bot.session_factory() as session:
        rows = session.scalars(select(ClosedPeriod).order_by(ClosedPeriod.starts_on))
        return [(r.starts_on, r.ends_on, r.note) for r in rows]


def test_closed_periods_are_declared_on_the_offer_and_refuse_proposals_for_their_days(bot: Bot) -> None:
    today = workdays.local_today(bot.clock())
    summer = (today + timedelta(days=40), today + timedelta(days=70))
    works = (today + timedelta(days=100), today + timedelta(days=101))
    set_home(bot.session_factory, HOST, "siilinjarvi", bot.clock(), language="fi")
    closed = f"{dotted(summer[0])}–{dotted(summer[1])} kesäsulku\n\n{dotted(works[0])} - {dotted(works[1])}  remontti"

    # A line the bot cannot read is an inline error on the field, naming the line; nothing saved.
    bad = submit(bot, offer_values(bot, **{ids.OFFER_CLOSED: text_value(f"{closed}\nheinäkuussa")}))
    assert bad["response_action"] == "errors"
    assert "Rivillä 4" in bad["errors"][ids.OFFER_CLOSED]
    backwards = submit(
        bot, offer_values(bot, **{ids.OFFER_CLOSED: text_value(f"{dotted(summer[1])}–{dotted(summer[0])}")})
    )
    assert "päättyy ennen kuin se alkaa" in backwards["errors"][ids.OFFER_CLOSED]
    assert count(bot.session_factory, HostOffer) == 0 and periods(bot) == []

    assert (
        submit(bot, offer_values(bot, **{ids.OFFER_CLOSED: text_value(closed)}))["response_action"]
        == "update"
    )
    assert periods(bot) == [(summer[0], summer[1], "kesäsulku"), (works[0], works[1], "remontti")]

    # The form shows them again, one per line.
    with bot.session_factory() as session:
        offer_id = session.scalar(select(HostOffer.id))
    assert bot.slack.action(ids.EDIT_OFFER, str(offer_id), user=HOST).status == 200
    view = opened_view(bot)
    check_view(view)
    field = next(b for b in view["blocks"] if b.get("block_id") == ids.OFFER_CLOSED)
    assert field["element"]["initial_value"].splitlines() == [
        f"{dotted(summer[0])}–{dotted(summer[1])} kesäsulku",
        f"{dotted(works[0])}–{dotted(works[1])} remontti",
    ]

    # A visitor proposing a day of the summer closure is told why, next to the date.
    set_up_people(bot)  # the visitor, at home in Kuopio
    host = library(bot.session_factory, "siilinjarvi")
    closed_day = tuesday_in(*summer)
    open_day = tuesday_in(summer[1] + timedelta(days=1), summer[1] + timedelta(days=14))
    values = proposal_values(
        topic_id(bot.session_factory, "reading-dogs"), host.id, dates=(closed_day.isoformat(), None, None)
    )
    reply = bot.slack.submit(ids.PROPOSE_VIEW, values)
    answer = reply.json()
    assert answer["response_action"] == "errors"
    assert "kesäsulku" in answer["errors"][f"{ids.PROPOSE_DATE}_1"]
    assert dotted(summer[1]) in answer["errors"][f"{ids.PROPOSE_DATE}_1"]
    assert count(bot.session_factory, Visit) == 0
    values = proposal_values(
        topic_id(bot.session_factory, "reading-dogs"), host.id, dates=(open_day.isoformat(), None, None)
    )
    assert bot.slack.submit(ids.PROPOSE_VIEW, values).json()["response_action"] == "update"
    assert count(bot.session_factory, Visit) == 1

    # Emptying the field opens the library again.
    assert submit(bot, offer_values(bot), offer=offer_id)["response_action"] == "update"
    assert periods(bot) == []
