"""Forgetting a person really forgets them. The real flows write about six people everywhere
(settings, an offer and a suggested topic, a proposal through every decision with its reminders
and invite, a write-up, a coordinator added, a budget, a travel invoice, an export); then
`export` lists exactly the rows that name each person, and after `forget` a dump of every table
holds none of their ids, in any column. A new table that stores people is filled here or this
test fails (`test_every_table_is_filled_or_names_nobody`)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import JSON, Enum, String, func, select

from bot.replays import SplitReplays
from models import (
    Base,
    ChatAccount,
    InvoiceStatus,
    Library,
    PartyState,
    Region,
    StaffProfile,
    Visit,
    VisitStop,
)
from services.admin import forget_requests, personal_data
from services.money import budget, travel_invoices
from services.people import chat_accounts
from services.visits import substitution
from tests.conftest import COORDINATOR, Bot
from tests.e2e.test_offer import HOST as OFFERER
from tests.e2e.test_offer import suggest_topic
from tests.e2e.test_regions import SECOND, _add_coordinator
from tests.e2e.test_reminders_flow import sweep_for_bot
from tests.e2e.test_writeups import confirmed_visit, form_values
from tests.e2e.test_writeups import submit as submit_writeup
from tests.e2e.visit_helpers import (
    HOST1,
    HOST2,
    SUPERVISOR,
    VISITOR,
    confirm_directly,
    propose,
    set_up_people,
    settle,
)

TZ = ZoneInfo("Europe/Helsinki")
PEOPLE = (VISITOR, SUPERVISOR, HOST1, HOST2, COORDINATOR, SECOND, OFFERER)
# Tables of places and topics: they never name a person (tables without a text column cannot).
NOBODY_IN = {
    "regions",
    "libraries",
    "closed_periods",
    "topic_categories",
    "topics",
    "kilometre_rates",
    "cache_generations",  # a number per name of a cache
}


def whole(user_id: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![A-Za-z0-9]){re.escape(user_id)}(?![A-Za-z0-9])")


def dump(bot: Bot) -> dict[tuple[str, tuple[Any, ...]], str]:
    """Every row of every table, as text, by (table, primary key)."""
    rows = {}
    with bot.session_factory() as session:
        for table in Base.metadata.sorted_tables:
            keys = [c.name for c in table.primary_key.columns]
            for row in session.execute(select(table)).mappings():
                rows[(table.name, tuple(row[k] for k in keys))] = repr(dict(row))
    return rows


def has_text(table_name: str) -> bool:
    table = Base.metadata.tables[table_name]
    return any(
        isinstance(c.type, JSON) or (isinstance(c.type, String) and not isinstance(c.type, Enum))
        for c in table.columns
    )


def everything_happens(bot: Bot) -> None:
    sf = bot.session_factory
    setup = set_up_people(bot)
    suggest_topic(bot)  # the offerer's settings, a suggested topic and its DM to the coordinator
    settle(bot)
    visit = propose(bot, setup)  # a proposal through Slack: its messages, outbox and audit
    settle(bot)
    sweep_for_bot(bot, datetime(2026, 11, 26, 12, 30, tzinfo=TZ).astimezone(UTC))  # the nudges
    confirm_directly(bot, visit)  # every decision and the invite
    settle(bot)
    with sf.begin() as session:  # a study trip's further stop, its host's answer
        tervo = session.scalar(select(Library.id).where(Library.key == "tervo"))
        assert tervo is not None
        session.add(
            VisitStop(
                visit_id=visit.id,
                position=2,
                library_id=tervo,
                topic_id=setup["topic"].id,
                state=PartyState.APPROVED,
                slot="morning",
                decided_by=HOST1,
            )
        )
    sweep_for_bot(bot, datetime(2026, 12, 1, 9, 30, tzinfo=TZ).astimezone(UTC))  # the day before
    past = confirmed_visit(bot, setup)
    submit_writeup(bot, past, form_values())
    settle(bot)
    with sf() as session:
        savo = session.scalar(select(Region.id).where(Region.key == "savo"))
    assert savo is not None
    _add_coordinator(bot, SECOND, savo)
    budget.set_budget(
        sf,
        actor=SECOND,
        is_coordinator=True,
        region_id=savo,
        year_text="2026",
        amount_text="5000",
        replace=False,
        now=bot.clock(),
    )
    travel_invoices.set_status(
        sf, visit.id, InvoiceStatus.RECEIVED, actor=COORDINATOR, is_coordinator=True, now=bot.clock()
    )
    today = bot.clock().astimezone(TZ).date()  # a period away, its substitute and its reminders
    substitution.set_away(sf, SUPERVISOR, HOST2, today, today + timedelta(days=3), now=bot.clock(), tz=TZ)
    personal_data.export(sf, VISITOR, now=bot.clock(), actor=COORDINATOR)  # the export is audited
    asked = forget_requests.ask(  # a request to be forgotten, and the coordinators' messages of it
        sf, HOST2, lang="fi", now=bot.clock(), default_region_key="savo", configured=(COORDINATOR,)
    )
    forget_requests.remember_posted(sf, asked.request_id, [{"channel": "D0COORD", "ts": "1.2", "lang": "en"}])
    link_a_teams_account(bot, VISITOR)


def link_a_teams_account(bot: Bot, person: str) -> None:
    """The person's Teams conversation reference, linked to their profile by the Entra object id."""
    with bot.session_factory.begin() as session:
        profile = session.scalars(select(StaffProfile).where(StaffProfile.slack_user_id == person)).one()
        profile.directory_id, profile.email = f"aad-{person}", f"{person.lower()}@kirjasto.example"
    reference = chat_accounts.ChatReference(
        platform="teams",
        user_id=f"29:{person}-teams",
        conversation_id="a:1to1",
        service_url="https://smba.example/emea/",
        directory_id=f"aad-{person}",
        tenant_id="tenant",
        display_name="Visitor In Teams",
    )
    chat_accounts.remember(bot.session_factory, reference, now=bot.clock())


def test_every_table_is_filled_or_names_nobody(bot: Bot) -> None:
    everything_happens(bot)
    filled = {table for table, _key in dump(bot)}
    if bot.deps.replays is not None and not isinstance(bot.deps.replays, SplitReplays):
        filled.add("deliveries")  # SQLite: the one process keeps Slack's retries in memory
    missing = {t.name for t in Base.metadata.sorted_tables if has_text(t.name)} - filled - NOBODY_IN
    assert not missing, f"fill these tables here, so that forgetting is tested on them: {sorted(missing)}"


def test_export_lists_every_row_that_names_the_person_and_forget_leaves_no_trace(bot: Bot) -> None:
    everything_happens(bot)
    before = dump(bot)
    for person in PEOPLE:
        naming = {key for key, text in before.items() if whole(person).search(text)}
        assert naming, person  # the flows named everyone somewhere
        exported = personal_data.export(bot.session_factory, person, now=bot.clock())
        listed = set()
        for table, columns in exported["tables"].items():
            pk = [c.name for c in Base.metadata.tables[table].primary_key.columns]
            for rows in columns.values():
                listed |= {(table, _row_key(table, row, pk)) for row in rows}
        assert {(t, tuple(_key(v) for v in key)) for t, key in naming} <= listed, person
    with bot.session_factory() as session:
        visits = session.scalar(select(func.count()).select_from(Visit))

    teams = personal_data.export(bot.session_factory, VISITOR, now=bot.clock())["tables"]["chat_accounts"]
    assert [row["display_name"] for row in teams["staff_profile_id"]] == ["Visitor In Teams"]
    for person in PEOPLE:
        personal_data.forget(bot.session_factory, person, now=bot.clock())
    with bot.session_factory() as session:  # the linked Teams account went with the profile
        assert session.scalar(select(func.count()).select_from(ChatAccount)) == 0
    after = dump(bot)
    for person in PEOPLE:
        left = sorted(f"{table} {text}" for (table, _k), text in after.items() if whole(person).search(text))
        assert not left, (person, left[:3])
    with bot.session_factory() as session:
        assert session.scalar(select(func.count()).select_from(Visit)) == visits  # the numbers stay


def _key(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


def _row_key(table: str, row: dict[str, Any], pk: list[str]) -> tuple[Any, ...]:
    if table == "topic_suggestions" and "suggestion_id" in row:  # a DM of it (topics.dms_to)
        return (row["suggestion_id"],)
    return tuple(_key(row[k]) for k in pk)
