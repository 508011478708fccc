"""Shared set-up for the visit tests: people, libraries, a valid proposal form, and look-ups."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from bot import ids
from models import AuditEntry, Library, LibraryContact, Topic, Visit, VisitDecision
from services.people import staff
from services.visits import state_machine, visit_lists
from tests.conftest import COORDINATOR, Bot
from tests.fakes.slack_requests import date_value, select_value, text_value, user_value

VISITOR = "U0VISITOR"
SUPERVISOR = "U0BOSS"
HOST1 = "U0HOST1"
HOST2 = "U0HOST2"
STRANGER = "U0STRANGER"
HOME_KEY = "kuopio-paakirjasto"
HOST_KEY = "joroinen"


def library(session_factory: sessionmaker[Session], key: str) -> Library:
    with session_factory() as session:
        found = session.scalar(select(Library).where(Library.key == key))
        assert found is not None
        return found


def a_topic(session_factory: sessionmaker[Session]) -> Topic:
    with session_factory() as session:
        topic = session.scalar(select(Topic).order_by(Topic.id).limit(1))
        assert topic is not None
        return topic


def set_up_people(bot: Bot, *, visitor_lang: str = "fi-FI") -> dict[str, Any]:
    """The visitor (home library Kuopio), two contacts of the host library (Joroinen)."""
    sf = bot.session_factory
    home = library(sf, HOME_KEY)
    host = library(sf, HOST_KEY)
    now: datetime = bot.clock()
    bot.api.locales.update({VISITOR: visitor_lang, SUPERVISOR: "fi-FI", HOST1: "sv-FI", HOST2: "fi-FI"})
    bot.api.locales[COORDINATOR] = "en-US"
    staff.update_settings(sf, VISITOR, home_library_id=home.id, language=None, now=now, default_language="fi")
    with sf.begin() as session:
        session.add_all(
            [
                LibraryContact(library_id=host.id, slack_user_id=HOST1, added_at=now),
                LibraryContact(library_id=host.id, slack_user_id=HOST2, added_at=now),
            ]
        )
    return {"home": home, "host": host, "topic": a_topic(sf)}


def proposal_values(
    topic_id: int,
    host_id: int,
    *,
    dates: tuple[str | None, ...] = ("2026-12-02", "2026-12-03", None),
    supervisor: str | None = SUPERVISOR,
    km: str = "120",
    tickets: str = "0",
    accommodation: str = "",
    learn: str = "Miten omatoimiaikaa valvotaan ja miten asiakkaat opastetaan.",
) -> dict[str, dict[str, Any]]:
    values: dict[str, dict[str, Any]] = {
        ids.PROPOSE_TOPIC: {ids.PROPOSE_TOPIC: select_value(str(topic_id))},
        ids.PROPOSE_HOST_SELECT: {
            ids.PROPOSE_HOST_SELECT: select_value(str(host_id), kind="external_select")
        },
        ids.PROPOSE_LEARN: {ids.PROPOSE_LEARN: text_value(learn)},
        ids.PROPOSE_LENGTH: {ids.PROPOSE_LENGTH: select_value("day")},
        ids.PROPOSE_TRAVEL: {ids.PROPOSE_TRAVEL: select_value("car", kind="radio_buttons")},
        ids.PROPOSE_KM: {ids.PROPOSE_KM: text_value(km)},
        ids.PROPOSE_TICKETS: {ids.PROPOSE_TICKETS: text_value(tickets)},
        ids.PROPOSE_ACCOMMODATION: {ids.PROPOSE_ACCOMMODATION: text_value(accommodation)},
        ids.PROPOSE_SUPERVISOR: {ids.PROPOSE_SUPERVISOR: user_value(supervisor)},
        ids.PROPOSE_NOTE: {ids.PROPOSE_NOTE: text_value("Tulen mielelläni aamupäivällä.")},
    }
    for i, day in enumerate(dates, start=1):
        block = f"{ids.PROPOSE_DATE}_{i}"
        values[block] = {block: date_value(day)}
    return values


def propose(bot: Bot, setup: dict[str, Any], **kwargs: Any) -> Visit:
    reply = bot.slack.submit(ids.PROPOSE_VIEW, proposal_values(setup["topic"].id, setup["host"].id, **kwargs))
    assert reply.status == 200, reply.text
    assert reply.json()["response_action"] == "update", reply.text
    bot.api.wait_for("chat.postMessage", count=5)
    return only_visit(bot.session_factory)


def only_visit(session_factory: sessionmaker[Session]) -> Visit:
    with session_factory() as session:
        visits = list(session.scalars(select(Visit)))
        assert len(visits) == 1
        return visits[0]


def count(session_factory: sessionmaker[Session], model: type, **where: Any) -> int:
    with session_factory() as session:
        stmt = select(func.count()).select_from(model)
        for name, value in where.items():
            stmt = stmt.where(getattr(model, name) == value)
        return int(session.scalar(stmt) or 0)


def decisions(session_factory: sessionmaker[Session]) -> list[tuple[str, str, str]]:
    with session_factory() as session:
        return [
            (d.party, d.decided_by, d.outcome)
            for d in session.scalars(select(VisitDecision).order_by(VisitDecision.id))
        ]


def audit_actions(session_factory: sessionmaker[Session]) -> list[str]:
    with session_factory() as session:
        return list(
            session.scalars(
                select(AuditEntry.action).where(AuditEntry.entity == "visit").order_by(AuditEntry.id)
            )
        )


def posted_to(bot: Bot, user: str) -> list[dict[str, Any]]:
    """Messages posted to a user (DM by user id), newest last."""
    return [c.body for c in bot.api.of("chat.postMessage") if c.body.get("channel") == user]


def notices_to(bot: Bot, user: str) -> str:
    """Every notice posted into the person's DM channel (what notifies them), one per line."""
    channel = "D" + user[1:]
    return "\n".join(
        c.body.get("text", "") for c in bot.api.of("chat.postMessage") if c.body.get("channel") == channel
    )


def buttons(message: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """action_id -> button element of a message body."""
    found = {}
    blocks = message.get("blocks")
    if isinstance(blocks, str):
        import json

        blocks = json.loads(blocks)
    for block in blocks or []:
        for element in block.get("elements", []) + ([block["accessory"]] if "accessory" in block else []):
            if element.get("type") == "button":
                found[element["action_id"]] = element
    return found


def last_update_for(bot: Bot, user: str) -> dict[str, Any]:
    channel = "D" + user[1:]
    updates = [c.body for c in bot.api.of("chat.update") if c.body.get("channel") == channel]
    assert updates, f"no chat.update for {user}"
    return updates[-1]


def jsonish(value: Any) -> Any:
    import json

    return json.loads(value) if isinstance(value, str) else value


def text_of(message: dict[str, Any]) -> str:
    """The fallback text and every text in the blocks, for assertions on what a person reads."""
    import json

    return message.get("text", "") + json.dumps(jsonish(message.get("blocks") or []), ensure_ascii=False)


def settle(bot: Bot, quiet: float = 0.3, timeout: float = 10.0) -> None:
    """Wait until the bot's listeners have finished their work after the acks (no Web API call
    for `quiet` seconds), so that a test never ends while a listener still writes."""
    import time

    deadline = time.monotonic() + timeout
    seen = len(bot.api.calls)
    while time.monotonic() < deadline:
        time.sleep(quiet)
        now = len(bot.api.calls)
        if now == seen:
            return
        seen = now


def confirm_directly(bot: Bot, visit: Visit) -> None:
    """The three yeses through the service (no Slack requests): supervisor, host on the
    visitor's first date, funding."""
    sf = bot.session_factory
    state_machine.decide(
        sf,
        visit.id,
        party="supervisor",
        approve=True,
        actor=SUPERVISOR,
        is_coordinator=False,
        now=bot.clock(),
    )
    date_id = visit_lists.card_of(sf, visit.id).visitor_dates[0].id
    state_machine.decide(
        sf,
        visit.id,
        party="host",
        approve=True,
        actor=HOST1,
        is_coordinator=False,
        now=bot.clock(),
        date_id=date_id,
    )
    state_machine.decide(
        sf, visit.id, party="funding", approve=True, actor=COORDINATOR, is_coordinator=True, now=bot.clock()
    )
