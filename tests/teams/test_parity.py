"""Every view of bot/views at its largest, in fi, sv and en: inside Slack's limits as Block Kit, and inside
Teams' limits as the Adaptive Card teams/cards/blockkit.py and teams/cards/dialog.py render from it.

VIEWS lists every public function of bot/views that returns a message, a modal or blocks of one, with a
builder of its largest cases; NOT_A_VIEW lists the other public functions, each with why. A new view
function fails `test_every_view_function_is_covered` until it is added to one of them."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections.abc import Callable, Iterator, Mapping
from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

import bot.views
from bot import ids
from bot.i18n import Translator, translator
from bot.views import blocks as b
from bot.views import (
    common,
    desk,
    find,
    help,
    home,
    offer,
    privacy,
    propose,
    reminders,
    settings,
    stops,
    topics,
    visit,
    visit_lists,
    writeups,
)
from bot.views.limits import check_message, check_view
from models import Library, PartyState, SuggestionStatus, Topic, VisitStatus, WriteUpStatus
from services.catalogue.categories import CategoryView, TopicView
from services.catalogue.closed_periods import Period
from services.catalogue.offers import OfferForm, OfferSummary, SavedOffer
from services.catalogue.topics import SuggestionInfo, TopicChoice
from services.find.matching import FindResult, HostMatch, TopicHit
from services.ideas.writeups import Form, SearchResult, WriteUpInput, WriteUpView
from services.money import reports
from services.money.budget import BudgetSummary
from services.outbox.reminders import DueReminder
from services.people.coordinators import EVERYWHERE
from services.people.staff import Staff
from services.people.substitutes import Away
from services.visits.substitution import BackReport, Decided
from services.visits.visit_card import HostChoice, VisitCard
from services.visits.visit_lists import Page, VisitLine
from teams.cards.blockkit import message_card
from teams.cards.dialog import dialog_card, dialog_title
from teams.cards.limits import MAX_CARD_BYTES, card_bytes, check_card
from tests.unit.test_visit_views import (
    AT,
    LONG,
    LONG_LIBRARY,
    LONG_TOPIC,
    SIX,
    SIX_COST,
    TRIP_STATES,
    big_card,
    trip_stops,
)

LANGS = ("fi", "sv", "en")
TODAY = date(2026, 11, 24)
LONG_NAME = "Hyvin " * 60 + "pitkä kirjasto"
PERSON = "Äijälä-Väänänen Marja-Liisa Kristiina"  # a long Finnish display name, for every user id
NAME = "Äijälä-Väänänen " * 12  # the long names tests/unit uses in the forms
DIALOGS = frozenset(v for k, v in vars(ids).items() if k.startswith("OPEN_") and isinstance(v, str))
# What the Teams side may give a dialog at most: Slack's own caps (100 options of 75 characters
# for a search-backed select), and a team's people to pick from.
OPTION_TITLE = "Å" * 75
PEOPLE = tuple((f"U0PERSON{n:02}", PERSON) for n in range(30))

View = dict[str, Any]
Builder = Callable[[Translator], list[View]]


class Everyone(Mapping[str, str]):
    """A display name for any id (the Teams side's name look-up at its longest)."""

    def __getitem__(self, key: str) -> str:
        return PERSON

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0


NAMES = Everyone()


def in_message(fragment: list[b.Block] | b.Block) -> View:
    """Blocks a view module gives for another message or Home to carry, as a message of their own."""
    return b.message("x", fragment if isinstance(fragment, list) else [fragment])


# --- the largest data --------------------------------------------------------------------------------


def the_trip(**kw: Any) -> VisitCard:
    return big_card(
        travellers=SIX,
        cost=SIX_COST,
        host_library_name=LONG_LIBRARY + " " + "N" * 150,
        stops=trip_stops("N" * 200, LONG_TOPIC, TRIP_STATES),
        straight_km=612.4,
        **kw,
    )


CARD_STATES: list[dict[str, Any]] = [
    {},
    {"host_state": PartyState.COUNTERED},
    {"host_state": PartyState.LAPSED},
    {"status": VisitStatus.DECLINED, "supervisor_state": PartyState.DECLINED},
    {"status": VisitStatus.CONFIRMED, "chosen_date": date(2026, 12, 3)},
    {"coordinators": ("U0VISITOR", "U0BOSS")},
    {"coordinators": ()},
    {"coordinators": ("U0BOSS", "U0OTHERCOORD")},
]
ROLES = ("visitor", "traveller", "supervisor", "host", "funding", "stop2", "stop3", "stop4")


def cards() -> list[VisitCard]:
    """The visit at its largest in every state: one host with six travellers, and a trip of four stops."""
    found = [replace(big_card(travellers=SIX, cost=SIX_COST), **state) for state in CARD_STATES]
    found += [the_trip(**state) for state in CARD_STATES]
    found.append(the_trip(status=VisitStatus.CONFIRMED, chosen_date=date(2026, 11, 20), happened=None))
    return found


def a_writeup(**kw: Any) -> WriteUpView:
    view = WriteUpView(
        id=1,
        visit_id=1,
        author_id="U0VISITOR",
        title="T" * 150,
        learned="<" * 3000,
        try_at_home="&" * 3000,
        tips="ä " * 1500,
        recommend="yes",
        link="https://example.fi/" + "a" * 470,
        publish=True,
        status=WriteUpStatus.PUBLISHED,
        submitted=True,
        hide_reason="H" * 500,
        home_library="K" * 200,
        host_library="J" * 200,
        host_library_id=1,
        topic_names={"fi": "A" * 200, "sv": "A" * 200, "en": "A" * 200},
        visit_date=date(2026, 11, 20),
        channel="C0IDEAS",
        ts="1.2",
        published_at=AT,
        region_id=1,
    )
    return replace(view, **kw)


def a_line(n: int, waiting_as: str = "") -> VisitLine:
    return VisitLine(
        id=n,
        visitor_id="U0VISITOR",
        topic_names={"fi": "T" * 200, "sv": "T" * 200, "en": "T" * 200},
        host_library_name="H" * 200,
        status=VisitStatus.PROPOSED,
        supervisor_state=PartyState.PENDING,
        host_state=PartyState.PENDING,
        funding_state=PartyState.PENDING,
        chosen_date=None,
        first_date=date(2026, 12, 2),
        created_at=AT,
        waiting_as=waiting_as,
    )


def full_page(waiting_as: str = "") -> Page:
    return Page([a_line(n, waiting_as) for n in range(10)], 200, 5, 10)


PARTS = tuple(
    (key, full_page()) for key in ("visits.list.with_me", "visits.list.to_my_library", "visits.list.my_staff")
)


def desk_line(n: int) -> reports.DeskLine:
    return reports.DeskLine(n, "U0VISITOR", "H" * 200, date(2026, 12, 2), "public")


def overview() -> reports.DeskOverview:
    lines = [desk_line(n) for n in range(12)]
    summary = BudgetSummary(1, 2026, Decimal("99999999.99"), Decimal("88888888.88"), Decimal("7777777.77"))
    return reports.DeskOverview(summary, lines, lines, lines, lines, lines, overdue_writeups=999)


def the_report() -> reports.Report:
    going = [3, 5, 9, 14, 18, 22, 6, 4, 19, 24, 17, 8]
    names = {"fi": "T" * 200, "sv": "T" * 200, "en": "T" * 200}
    return reports.Report(
        year=2026,
        region_name="R" * 200,
        summary=BudgetSummary(1, 2026, Decimal("8000.00"), Decimal("5200.00"), Decimal("3000.00")),
        total=9999,
        travellers=9999,
        library_visits=9999,
        by_status={s.value: 999 for s in VisitStatus},
        by_category=[(names, 99) for _ in range(30)],
        by_topic=[(names, names, 99) for _ in range(30)],
        by_host=[("H" * 200, 99) for _ in range(30)],
        by_municipality=[("M" * 200, 99) for _ in range(30)],
        per_month=going,
        declined_per_month=going,
        cancelled_per_month=going,
        spend_per_month=[Decimal(61 * n) for n in going],
        estimated=Decimal("99999.99"),
        happened=999,
        not_happened=999,
        with_writeup=999,
        days_to_confirm=list(range(200)),
    )


def reminder(kind: str, **params: Any) -> DueReminder:
    return DueReminder(123456, kind, "U0OTHERCOORD", 99999, params, AT)


def a_library(n: int = 1) -> Library:
    return Library(
        id=n,
        key=f"k{n}",
        name=f"{LONG_NAME} {n}",
        municipality="Kuopio",
        province="x",
        lat=0,
        lon=0,
        region_id=1,
    )


NO_HOME = Staff("U1", "fi", None, None, None, None)
WITH_HOME = Staff("U1", "sv", "sv", 1, LONG_NAME, 1)
TOPICS = [Topic(id=i, name_fi="T" * 200, name_sv="T" * 200, name_en="T" * 200) for i in range(150)]
HOSTS = [HostChoice(i, "N" * 300, 123.4) for i in range(150)]
COLLEAGUES = [(f"U0COLLEAGUE{n}", NAME) for n in range(5)]


# --- the builders, by module ------------------------------------------------------------------------------


def _visit_messages(t: Translator) -> list[View]:
    found = [visit.visit_message(card, role, t, today=TODAY) for card in cards() for role in ROLES]
    card = the_trip()
    found.append(visit.visit_message(card, "host", t, today=TODAY, former=True))
    found.append(visit.visit_message(card, "supervisor", t, today=TODAY, on_behalf=("U0BOSS", "U0BOSS1")))
    return found


def _decision_blocks(t: Translator) -> list[View]:
    return [
        in_message(visit.decision_blocks(card, role, t, reader="U0BOSS"))
        for card in cards()
        for role in ("visitor", "supervisor", "host", "funding", "stop2", "stop3", "stop4")
    ]


def _propose_forms(t: Translator) -> list[View]:
    view = propose.propose_modal(t, topics=TOPICS, topic=TOPICS[3], host=HostChoice(1, "N" * 300, 12.0))
    return [view, propose.with_colleagues(propose.with_length(view, t, "two_days"), t, COLLEAGUES, "U0BOSS")]


def _with_length(t: Translator) -> list[View]:
    view = propose.propose_modal(t, topics=TOPICS, topic=None, host=None)
    return [propose.with_length(view, t, length) for length in ("day", "two_days")]


def _with_colleagues(t: Translator) -> list[View]:
    return [propose.with_colleagues(_propose_forms(t)[0], t, COLLEAGUES, "U0BOSS")]


VIEWS: dict[str, Builder] = {
    # common
    "common.ephemeral": lambda t: [common.ephemeral(LONG, [common.main_actions(t)])],
    "common.coming_soon": lambda t: [common.coming_soon(t, "/vertais", "W" * 40)],
    "common.did_you_mean": lambda t: [
        common.did_you_mean(t, "/vertais", "<@U1>" * 30, "ehdota"),
        common.did_you_mean(t, "/vertais", "x" * 100, None),
    ],
    "common.error_modal": lambda t: [common.error_modal(t, LONG)],
    "common.main_actions": lambda t: [in_message(common.main_actions(t))],
    "common.home_library_prompt": lambda t: [in_message(common.home_library_prompt(t))],
    # help and home
    "help.help_message": lambda t: [
        help.help_message(t, command="/vertais", staff=staff, coordinator=True)
        for staff in (NO_HOME, WITH_HOME)
    ],
    "home.home_view": lambda t: [
        home.home_view(t, NO_HOME, command="/vertais"),
        home.home_view(
            t,
            WITH_HOME,
            command="/vertais",
            extra=[
                *desk.home_section(overview(), t, command="/vertais"),
                *writeups.home_blocks([(n, "T" * 200, "H" * 200, TODAY) for n in range(5)], t),
                *visit_lists.visit_list_blocks(
                    full_page("host"), full_page(), t, page_action=ids.HOME_PAGE, parts=PARTS, reader="U0BOSS"
                ),
            ][:60],
        ),
    ],
    "home.away_blocks": lambda t: [
        in_message(
            home.away_blocks(
                t,
                [Away(n, "U1", f"U0SUB{n}", TODAY, date(2026, 12, 24)) for n in range(8)],
                [Away(n, f"U0AWAY{n}", "U1", TODAY, date(2026, 12, 24)) for n in range(8)],
                today=TODAY,
            )
        )
    ],
    "home.away_modal": lambda t: [home.away_modal(t, today=TODAY)],
    # settings
    "settings.settings_modal": lambda t: [
        settings.settings_modal(t, WITH_HOME, current_library=a_library(), welcome=True, pending="ehdota"),
        settings.settings_modal(t, NO_HOME, current_library=None),
    ],
    "settings.settings_saved": lambda t: [
        settings.settings_saved(
            t, replace(WITH_HOME, chosen_language=None), command="/vertais", pending="ehdota"
        )
    ],
    # visits
    "visit.visit_message": _visit_messages,
    "visit.decision_blocks": _decision_blocks,
    "propose.propose_modal": _propose_forms,
    "propose.with_length": _with_length,
    "propose.with_colleagues": _with_colleagues,
    "propose.proposal_sent": lambda t: [propose.proposal_sent(t, the_trip())],
    "propose.decline_modal": lambda t: [
        propose.decline_modal(t, the_trip(), party) for party in ("host", "supervisor", "funding", "stop3")
    ],
    "propose.counter_modal": lambda t: [propose.counter_modal(t, the_trip())],
    "propose.redate_modal": lambda t: [propose.redate_modal(t, the_trip())],
    "propose.move_modal": lambda t: [propose.move_modal(t, the_trip(chosen_date=date(2026, 12, 3)))],
    "propose.forward_modal": lambda t: [propose.forward_modal(t, the_trip(), HOSTS)],
    "stops.stop_message": lambda t: [
        stops.stop_message(card, position, t, former=former)
        for card in cards()
        for position in (2, 3, 4)
        for former in (False, True)
    ],
    "stops.visitor_choices": lambda t: [in_message(stops.visitor_choices(card, t)) for card in cards()],
    "stops.route_hint": lambda t: [in_message(stops.route_hint(the_trip(), t) or [b.section("x")])],
    "stops.replace_modal": lambda t: [
        stops.replace_modal(t, the_trip(chosen_date=date(2026, 12, 3)), 3, HOSTS),
        stops.replace_modal(t, the_trip(chosen_date=date(2026, 12, 3)), 3, []),
    ],
    "visit_lists.visit_list_blocks": lambda t: [
        in_message(
            visit_lists.visit_list_blocks(
                full_page("host"), full_page(), t, page_action=ids.MINE_PAGE, parts=PARTS, reader="U0BOSS"
            )
        )
    ],
    "visit_lists.mine_message": lambda t: [
        visit_lists.mine_message(full_page("supervisor"), full_page(), t, parts=PARTS),
        visit_lists.mine_message(Page(), Page(), t),
    ],
    # reminders
    "reminders.decision_nudge": lambda t: [
        reminders.decision_nudge(reminder("decision_nudge", party=party, round=12, **extra), card, t)
        for card in (the_trip(), the_trip(host_state=PartyState.LAPSED))
        for party in ("visitor", "supervisor", "host", "funding", "stop2", "stop4")
        for extra in ({}, {"for": "U0BOSS"})
    ],
    "reminders.decision_deadline": lambda t: [
        reminders.decision_deadline(
            reminder("decision_deadline", party=party, deadline="2026-12-01"), card, t
        )
        for card in (the_trip(), the_trip(host_state=PartyState.LAPSED))
        for party in ("supervisor", "host", "funding")
    ],
    "reminders.decision_stuck": lambda t: [
        reminders.decision_stuck(
            replace(reminder("decision_stuck", party=party), recipient=who), the_trip(), t
        )
        for party in ("supervisor", "host", "funding", "stop3")
        for who in ("U0OTHERCOORD", "U0BOSS")
    ],
    "reminders.day_before": lambda t: [
        reminders.day_before(reminder("day_before", role=role), the_trip(chosen_date=date(2026, 12, 3)), t)
        for role in ("visitor", "host")
    ],
    "reminders.happened_buttons": lambda t: [in_message(reminders.happened_buttons(the_trip(), t))],
    "reminders.writeup_nag": lambda t: [
        reminders.writeup_nag(reminder("writeup_nag", step=step), card, t)
        for step in (1, 2, 3)
        for card in cards()[-2:]
    ],
    "reminders.snoozed_nag": lambda t: [
        m
        for m in (
            reminders.snoozed_nag(
                reminders.writeup_nag(reminder("writeup_nag", step=1), cards()[-1], t), LONG
            ),
        )
        if m is not None
    ],
    "reminders.writeup_overdue": lambda t: [
        reminders.writeup_overdue(reminder("writeup_overdue"), the_trip(), t)
    ],
    "reminders.travel_invoice": lambda t: [
        reminders.travel_invoice(reminder("travel_invoice"), the_trip(), t)
    ],
    "reminders.tip_request": lambda t: [reminders.tip_request(reminder("tip_request"), the_trip(), t)],
    "reminders.gone": lambda t: [reminders.gone(reminder("gone"), t)],
    "reminders.recipient_gone": lambda t: [
        reminders.recipient_gone(
            reminder("recipient_gone", recipient="U0BOSS", reason="R" * 2000), the_trip(), t
        )
    ],
    "reminders.handover_modal": lambda t: [
        reminders.handover_modal(t, the_trip(), tuple(f"U0BOSS{n}" for n in range(6)))
    ],
    "reminders.substitute_back": lambda t: [
        reminders.substitute_back(
            BackReport(
                Away(1, "U0BOSS", "U0SUB", TODAY, date(2026, 12, 24)),
                tuple(
                    Decided(n, {"fi": "T" * 200}, "H" * 200, "supervisor", "approved", "U0SUB", AT)
                    for n in range(60)
                ),
            ),
            t,
        )
    ],
    # find, offers, topics
    "find.find_message": lambda t: [
        find.find_message(
            FindResult(
                query="Q" * 500,
                hosts=[
                    HostMatch(
                        n,
                        "N" * 200,
                        123.4,
                        n % 2 == 0,
                        date(2026, 12, 24) if n % 3 == 0 else None,
                        n % 4 != 0,
                        topic_id=n,
                        topic_ids=tuple(range(10)),
                        municipality="M" * 100,
                        description="D " * 1000,
                        contacts=("U0HOST1", "U0HOST2"),
                        weekdays=127,
                    )
                    for n in range(15)
                ],
                total=150,
                outside_region=True,
                topic_names={n: "T" * 200 for n in range(10)},
                writeups=[a_writeup(id=n) for n in range(5)],
            ),
            t,
            command="/vertais",
        ),
        find.find_message(
            FindResult(
                query="Q" * 500,
                topics=[TopicHit(n, "T" * 200) for n in range(10)],
                suggestions=[TopicHit(n, "T" * 200) for n in range(10)],
                categories=[
                    CategoryView(
                        c,
                        f"c{c}",
                        "C" * 200,
                        tuple(TopicView(n, f"t{n}", "T" * 200, False) for n in range(30)),
                    )
                    for c in range(25)
                ],
            ),
            t,
            command="/vertais",
        ),
        find.find_message(
            FindResult(
                query="",
                empty_query=True,
                categories=[
                    CategoryView(
                        c,
                        f"c{c}",
                        "C" * 200,
                        tuple(TopicView(n, f"t{n}", "T" * 200, n % 5 == 0) for n in range(30)),
                    )
                    for c in range(25)
                ],
            ),
            t,
            command="/vertais",
            coordinator=True,
        ),
    ],
    "find.related_block": lambda t: [
        in_message(find.related_block([a_writeup(id=n) for n in range(5)], t, command="/vertais"))
    ],
    "offer.offer_modal": lambda t: [
        offer.offer_modal(
            OfferForm(
                offer_id=12,
                library_id=1,
                library_name=LONG_NAME,
                library_municipality="Kuopio",
                topics=tuple((n, "T" * 200) for n in range(100)),
                description="D" * 5000,
                contacts=tuple(f"U0HOST{n}" for n in range(12)),
                capacity=99,
                weekdays=127,
                not_until=date(2027, 1, 1),
                closed=tuple(Period(date(2027, 1, n), date(2027, 1, n + 1), "R" * 40) for n in range(1, 21)),
            ),
            t,
        ),
        offer.offer_modal(OfferForm(None, None, "", "", (), "", (), 0, 0, None), t),
    ],
    "offer.offer_saved": lambda t: [
        offer.offer_saved(
            SavedOffer(1, LONG_NAME, True, 5, tuple("T" * 200 for _ in range(30))), t, command="/vertais"
        )
    ],
    "offer.offers_message": lambda t: [
        offer.offers_message(
            [OfferSummary(n, LONG_NAME, tuple("T" * 200 for _ in range(10)), 99) for n in range(25)], t
        )
    ],
    "topics.suggestion_message": lambda t: [
        topics.suggestion_message(
            SuggestionInfo(
                7,
                "S" * 500,
                LONG_NAME,
                "U0VISITOR",
                status,
                "U0COORD",
                "T" * 200,
                tuple(TopicChoice(n, "C" * 200) for n in range(150)) if with_categories else (),
                (("C1", "1.2"),),
            ),
            t,
        )
        for status in SuggestionStatus
        for with_categories in (True, False)
    ],
    "topics.topics_modal": lambda t: [
        topics.topics_modal([TopicChoice(n, "C" * 200, n % 3 == 0) for n in range(150)], t)
    ],
    "topics.topic_saved": lambda t: [topics.topic_saved(t, "T" * 200, retired) for retired in (True, False)],
    # write-ups
    "writeups.writeup_modal": lambda t: [
        writeups.writeup_modal(
            Form(
                1,
                {"fi": "T" * 200},
                "H" * 200,
                date(2026, 11, 20),
                WriteUpInput(
                    "T" * 150, "L" * 3000, "Y" * 3000, "P" * 3000, "yes", "https://x.fi/" + "a" * 480, True
                ),
                submitted=True,
                from_draft=True,
            ),
            t,
        )
    ],
    "writeups.saved_view": lambda t: [writeups.saved_view(a_writeup(status=s), t) for s in WriteUpStatus],
    "writeups.hide_modal": lambda t: [writeups.hide_modal(1, "T" * 150, t)],
    "writeups.channel_message": lambda t: [writeups.channel_message(a_writeup(), t)],
    "writeups.hidden_channel_message": lambda t: [
        writeups.hidden_channel_message(t, withdrawn=withdrawn) for withdrawn in (True, False)
    ],
    "writeups.notice_message": lambda t: [
        writeups.notice_message(a_writeup(status=s), t, coordinator=True)
        for s in (WriteUpStatus.PUBLISHED, WriteUpStatus.DRAFT)
    ],
    "writeups.author_hidden_notice": lambda t: [writeups.author_hidden_notice(a_writeup(), t)],
    "writeups.author_published_notice": lambda t: [writeups.author_published_notice(a_writeup(), t)],
    "writeups.ideas_message": lambda t: [
        writeups.ideas_message(
            SearchResult("Q" * 500, [a_writeup(id=n) for n in range(10)], 999, 20, any_word=True),
            t,
            command="/vertais",
            coordinator=EVERYWHERE,
        ),
        writeups.ideas_message(SearchResult("Q" * 500), t, command="/vertais", coordinator=False),
    ],
    "writeups.home_blocks": lambda t: [
        in_message(writeups.home_blocks([(n, "T" * 200, "H" * 200, TODAY) for n in range(5)], t))
    ],
    "writeups.export_ack": lambda t: [writeups.export_ack(t, 9999)],
    # the coordinator's desk
    "desk.funding_budget_blocks": lambda t: [
        in_message(desk.funding_budget_blocks(overview().summary, Decimal("99999999.99"), t))
    ],
    "desk.funding_desk_blocks": lambda t: [
        in_message(desk.funding_desk_blocks(card, t, today=TODAY))
        for card in (
            the_trip(status=VisitStatus.CONFIRMED, chosen_date=date(2026, 11, 20), invoice_status=status)
            for status in ("waiting", "received", "paid", "not_needed")
        )
    ],
    "desk.home_section": lambda t: [in_message(desk.home_section(overview(), t, command="/vertais"))],
    "desk.budget_modal": lambda t: [
        desk.budget_modal(t, year=2026, current=Decimal("99999999.99"), region_name="R" * 200),
        desk.budget_modal(t, year=2026, current=None, region_name="R" * 200),
    ],
    "desk.rates_modal": lambda t: [
        desk.rates_modal(
            t, rates={y: Decimal("0.59") for y in range(2020, 2031)}, year=2026, pays_supplement=True
        )
    ],
    "desk.actuals_modal": lambda t: [
        desk.actuals_modal(t, visit_id=99999, title_line="T" * 500, estimate="9 999 999,99 €")
    ],
    "desk.coordinator_modal": lambda t: [
        desk.coordinator_modal(t, regions=[(n, "R" * 200) for n in range(150)])
    ],
    "desk.remove_coordinator_modal": lambda t: [
        desk.remove_coordinator_modal(t, listed=[(f"U0COORD{n}", "R" * 200, n % 2 == 0) for n in range(60)])
    ],
    "desk.saved_view": lambda t: [desk.saved_view(t, LONG)],
    "desk.report_message": lambda t: [desk.report_message(the_report(), t)],
    # privacy
    "privacy.export_sending": lambda t: [privacy.export_sending(t)],
    "privacy.export_message": lambda t: [privacy.export_message(t, n) for n in (0, 1, 250)],
    "privacy.export_failed": lambda t: [privacy.export_failed(t)],
    "privacy.asked": lambda t: [
        privacy.asked(t, new=new, anyone=anyone, reached=reached)
        for new in (True, False)
        for anyone in (True, False)
        for reached in (True, False)
    ],
    "privacy.coordinator_request": lambda t: [privacy.coordinator_request(t, "U0VISITOR", 99999)],
    "privacy.coordinator_done": lambda t: [
        privacy.coordinator_done(t, "U0COORD", date(2026, 12, 7), told=told) for told in (True, False)
    ],
    "privacy.already_done": lambda t: [privacy.already_done(t, "U0COORD", date(2026, 12, 7))],
    "privacy.forgotten": lambda t: [privacy.forgotten(t)],
}

NOT_A_VIEW: dict[str, str] = {
    **{
        f"blocks.{name}": "a Block Kit constructor: every view above is built from them"
        for name in (
            "escape",
            "plain",
            "mrkdwn",
            "header",
            "section",
            "fields",
            "context",
            "divider",
            "actions",
            "confirm",
            "button",
            "option",
            "input_block",
            "modal",
            "message",
        )
    },
    **{
        f"limits.{name}": "Slack's limit checker, not a view"
        for name in (
            "clip",
            "check_option",
            "check_options_response",
            "check_blocks",
            "check_message",
            "check_view",
        )
    },
    **{
        f"formatting.{name}": "formats a day or an amount (a string)"
        for name in ("day_text", "money", "kilometres")
    },
    "common.error_text": "a translated string",
    "desk.money_texts": "the budget's amounts as strings",
    "desk.budget_lines": "a string (in desk.home_section and the funding blocks)",
    "desk.csv_labels": "the report CSV's column labels (strings)",
    "desk.today_text": "a string",
    "find.weekdays_text": "a string",
    "find.quoted": "a string",
    "find.host_text": "a host's lines (a string) in find.find_message",
    "offer.topic_option": "a select option (a block_suggestion answer's part)",
    "offer.topic_options": "a block_suggestion answer (options), not a message or modal",
    "offer.weekday_option": "a select option",
    "privacy.export_filename": "a file name",
    "propose.block_of": "a block id",
    "propose.colleague_supervisor_blocks": "input blocks of the proposal form (covered by propose.with_colleagues)",
    "propose.host_option": "a select option",
    "propose.host_options": "a block_suggestion answer",
    "propose.stop_options": "a block_suggestion answer",
    "propose.date_inputs": "input blocks of the forms (covered by propose, counter and redate modals)",
    "propose.accommodation_block": "an input block of the proposal form (covered by propose.with_length)",
    "settings.library_option": "a select option",
    "settings.library_options": "a block_suggestion answer",
    "stops.role_of": "a role name",
    "stops.position_of": "a stop's position",
    "stops.still_on_the_trip": "a predicate",
    "stops.asks": "a predicate",
    "stops.stop_value": "a button value",
    "stops.summary_lines": "strings (in visit.visit_message and stops.stop_message)",
    "topics.suggestion_block_id": "a block id",
    "topics.suggestion_id_of": "parses a block id",
    "visit.parse_value": "parses a button value",
    "visit.who_decided": "a string",
    "visit.visit_name": "a string",
    "visit.visit_value": "a button value",
    "visit.substitute_line": "a string (in the reminders' nudges)",
    "visit.notice": "a notification text (a string)",
    "visit.invite_texts": "the calendar invite's texts (strings)",
    "visit.invite_file": "the calendar invite itself (.ics bytes, not a message)",
    "visit_lists.next_step": "a string",
    "visit_lists.line_head": "a string",
    "visit_lists.line_text": "a string",
    "writeup_line.inline": "makes user text inert (a string)",
    "writeup_line.mention": "a string",
    "writeup_line.permalink": "a URL",
    "writeup_line.summary_line": "a string",
    "writeups.split_text": "splits text (strings)",
    "writeups.dm_link": "a URL",
    "writeups.export_markdown": "a Markdown file's text, not a message",
    "writeups.export_html": "an HTML file's text, not a message",
}

CASES = [pytest.param(name, lang, id=f"{name}-{lang}") for name in VIEWS for lang in LANGS]
SIZES: dict[str, int] = {}  # the largest Teams card of each view, for the summary test


def teams_card(view: View, lang: str) -> View:
    if view.get("type") == "modal":
        assert dialog_title(view)
        values = {}
        choices = {}
        for block in view.get("blocks", []):
            element = block.get("element") or {}
            if element.get("type") in ("external_select", "multi_external_select"):
                choices[element["action_id"]] = [(f"{n}:{n}", OPTION_TITLE) for n in range(100)]
            if element.get("type") == "plain_text_input":  # what the person typed, kept on a re-shown form
                values[block["block_id"]] = "Ä" * element.get("max_length", 3000)
        errors = {block_id: "E" * 200 for block_id in values} | {"elsewhere": "E" * 200}
        return dialog_card(
            view, lang=lang, values=values, errors=errors, choices=choices, people=PEOPLE, names=NAMES
        )
    return message_card(view, lang=lang, names=NAMES, dialogs=DIALOGS)


@pytest.mark.parametrize(("name", "lang"), CASES)
def test_every_view_fits_slack_and_teams(name: str, lang: str) -> None:
    views = VIEWS[name](translator(lang))
    assert views, f"{name}: the builder made no view"
    for n, view in enumerate(views):
        if view.get("type") in ("modal", "home"):
            check_view(view)
        else:
            check_message({k: v for k, v in view.items() if k != "response_type"})
        card = teams_card(view, lang)
        problems = check_card(card)
        assert problems == [], f"{name}[{n}] ({lang}): {problems}"
        SIZES[name] = max(SIZES.get(name, 0), card_bytes(card))


def public_functions() -> set[str]:
    """Every public function defined in a module of bot/views, as "module.function"."""
    found = set()
    for info in pkgutil.iter_modules(bot.views.__path__):
        module = importlib.import_module(f"bot.views.{info.name}")
        for name, member in inspect.getmembers(module, inspect.isfunction):
            if not name.startswith("_") and member.__module__ == module.__name__:
                found.add(f"{info.name}.{name}")
    return found


def test_every_view_function_is_covered() -> None:
    functions = public_functions()
    missing = sorted(functions - VIEWS.keys() - NOT_A_VIEW.keys())
    assert not missing, (
        f"bot/views functions neither rendered here (VIEWS) nor listed in NOT_A_VIEW: {missing}"
    )
    stale = sorted((VIEWS.keys() | NOT_A_VIEW.keys()) - functions)
    assert not stale, f"listed here but no longer in bot/views: {stale}"
    assert not VIEWS.keys() & NOT_A_VIEW.keys()


def test_the_largest_cards_leave_room() -> None:
    """Measured over the cases above (when they ran in this session): the largest card and its view."""
    if not SIZES:
        pytest.skip("the parity cases did not run")
    name, size = max(SIZES.items(), key=lambda item: item[1])
    print(f"largest Teams card: {name}, {size} bytes of {MAX_CARD_BYTES}")
    assert size <= MAX_CARD_BYTES
