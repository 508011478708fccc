"""My data in Slack (issue 21): `/vertais omat tiedot` DMs the person their own export as a JSON
file; from it they ask to be forgotten, the coordinators of their region get the request with a
button, only a coordinator's press erases (once, audit-logged), the person is told, and the
coordinators' messages say it is done and by whom. Everything through signed requests."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import func, select

from bot import ids
from models import AuditEntry, ForgetRequest, Region, StaffProfile
from services.admin import forget_requests
from tests.conftest import COORDINATOR, Bot
from tests.e2e.test_forget import dump, whole
from tests.e2e.test_regions import NORTH_COORD, NORTH_VISITOR, SECOND, _add_coordinator, _north
from tests.e2e.visit_helpers import (
    HOST1,
    HOST2,
    STRANGER,
    SUPERVISOR,
    VISITOR,
    buttons,
    jsonish,
    propose,
    set_up_people,
    settle,
    text_of,
)
from tests.fakes.slack_api import server_error

OTHERS = (SUPERVISOR, HOST1, HOST2, COORDINATOR, SECOND, STRANGER)


@pytest.fixture(autouse=True)
def _quiet_at_the_end(bot: Bot) -> Iterator[None]:
    yield
    settle(bot)


def a_visit_with_other_people(bot: Bot) -> None:
    """The visitor's proposal names their supervisor and the host's contacts; a stranger has
    settings of their own."""
    setup = set_up_people(bot)
    propose(bot, setup)
    settle(bot)
    bot.api.locales[STRANGER] = "sv-FI"
    bot.slack.command("omat", user=STRANGER)  # the stranger's own profile (first-time prompt)
    settle(bot)


def my_export(
    bot: Bot, text: str = "omat tiedot", user: str = VISITOR
) -> tuple[str, dict[str, Any], str, dict[str, Any]]:
    """Ask for one's data; (what the ack said, the file's JSON, its name, the DM beside it)."""
    uploads = len(bot.api.of("files.completeUploadExternal"))
    reply = bot.slack.command(text, user=user)
    assert reply.status == 200
    completed = bot.api.wait_for("files.completeUploadExternal", count=uploads + 1)[-1].body
    assert completed["channel_id"] == "D" + user[1:]  # the person's DM
    file_id = jsonish(completed["files"])[0]["id"]
    raw = next(c.body["bytes"] for c in bot.api.of("upload") if c.body["file_id"] == file_id)
    dm = [c.body for c in bot.api.of("chat.postMessage") if c.body.get("channel") == user][-1]
    return reply.said, json.loads(raw), str(bot.api.uploads[file_id]["name"]), dm


def test_my_data_arrives_as_a_json_file_with_my_data_and_nothing_of_other_people(bot: Bot) -> None:
    a_visit_with_other_people(bot)
    said, data, name, dm = my_export(bot)
    assert "JSON" in said and "yksityisviestinä" in said  # the ack, in the visitor's Finnish
    today = bot.clock().astimezone(bot.deps.settings.tz).date()
    assert name == f"vertaisbot-omat-tiedot-{today.isoformat()}.json"
    assert data["slack_user_id"] == VISITOR
    tables = data["tables"]
    assert [row["slack_user_id"] for row in tables["staff_profiles"]["slack_user_id"]] == [VISITOR]
    assert tables["visits"]["visitor_id"], tables.keys()  # the visit is there ...
    text = json.dumps(data, ensure_ascii=False)
    for other in OTHERS:  # ... but its supervisor and hosts are not, nor anybody else
        assert not whole(other).search(text), other
    assert "(someone else)" in text  # the visit named the supervisor: masked, not dropped
    ask = buttons(dm)[ids.PRIVACY_FORGET_ASK]
    assert ask["confirm"]["confirm"]["text"] == "Lähetä pyyntö"
    assert "Pyydä tietojeni poistamista" == ask["text"]["text"]
    with bot.session_factory() as session:  # the export itself is audited, by the person
        assert session.scalar(
            select(func.count()).where(AuditEntry.action == "person.exported", AuditEntry.actor == VISITOR)
        )


@pytest.mark.parametrize(
    ("text", "locale", "ack", "button"),
    [
        ("omat tiedot", "fi-FI", "Kokoan tietosi", "Pyydä tietojeni poistamista"),
        ("mina uppgifter", "sv-FI", "Jag samlar dina uppgifter", "Be om att mina uppgifter raderas"),
        ("my data", "en-US", "Gathering your data", "Ask for my data to be erased"),
    ],
)
def test_my_data_in_each_language_even_without_a_home_library(
    bot: Bot, text: str, locale: str, ack: str, button: str
) -> None:
    bot.api.locales[STRANGER] = locale
    said, data, _name, dm = my_export(bot, text, user=STRANGER)
    assert ack in said
    assert buttons(dm)[ids.PRIVACY_FORGET_ASK]["text"]["text"] == button
    assert data["slack_user_id"] == STRANGER


def test_help_lists_my_data_in_the_users_language(bot: Bot) -> None:
    bot.api.locales[STRANGER] = "sv-FI"
    assert "mina uppgifter" in bot.slack.command("hjälp", user=STRANGER).said


def ask_to_be_forgotten(bot: Bot) -> tuple[int, dict[str, dict[str, Any]]]:
    """The visitor asks from their export's DM; (the request id, coordinator -> their message)."""
    _said, _data, _name, dm = my_export(bot)
    told = len(bot.api.of("response_url"))
    bot.slack.action(ids.PRIVACY_FORGET_ASK, "forget", user=VISITOR, message=dm, channel="D" + VISITOR[1:])
    answer = bot.api.wait_for("response_url", count=told + 1)[-1].body
    assert "informaatikoille" in answer["text"]
    posts = bot.api.wait_for("chat.postMessage")
    to = {
        c.body["channel"]: c.body
        for c in posts
        if ids.PRIVACY_FORGET_CONFIRM in buttons(c.body) and c.body["channel"] in (COORDINATOR, SECOND)
    }
    assert set(to) == {COORDINATOR, SECOND}, to.keys()
    request_id = int(buttons(to[COORDINATOR])[ids.PRIVACY_FORGET_CONFIRM]["value"])
    return request_id, to


def with_two_coordinators(bot: Bot) -> None:
    a_visit_with_other_people(bot)
    with bot.session_factory() as session:
        savo = session.scalar(select(Region.id).where(Region.key == "savo"))
    assert savo is not None
    bot.api.locales[SECOND] = "fi-FI"
    _add_coordinator(bot, SECOND, savo)


def press(bot: Bot, user: str, request_id: int, message: dict[str, Any]) -> str:
    """A press of "erase" by `user`; what they were answered (if anything, else "")."""
    told = len(bot.api.of("response_url"))
    bot.slack.action(
        ids.PRIVACY_FORGET_CONFIRM, str(request_id), user=user, message=message, channel="D" + user[1:]
    )
    settle(bot)
    answers = bot.api.of("response_url")[told:]
    return " ".join(text_of(c.body) for c in answers)


def data_of(bot: Bot) -> dict[tuple[str, tuple[Any, ...]], str]:
    """Every row, but the record of Slack's requests seen (PostgreSQL keeps it in `deliveries`)."""
    return {key: row for key, row in dump(bot).items() if key[0] != "deliveries"}


def audit(bot: Bot, action: str) -> list[AuditEntry]:
    with bot.session_factory() as session:
        return list(session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def test_forget_request_reaches_the_coordinators_and_only_a_coordinator_erases(bot: Bot) -> None:
    with_two_coordinators(bot)
    request_id, to = ask_to_be_forgotten(bot)
    english = text_of(to[COORDINATOR])
    assert "Erasure request: <@U0VISITOR>" in english  # who asks, named by Slack, not inflected
    assert "Poistopyyntö: <@U0VISITOR>" in text_of(to[SECOND])
    assert buttons(to[SECOND])[ids.PRIVACY_FORGET_CONFIRM]["text"]["text"] == "Poista tiedot"

    # Someone who is not a coordinator presses: refused in their language, nothing changes.
    before = data_of(bot)
    refused = press(bot, STRANGER, request_id, to[COORDINATOR])
    assert "Bara en koordinator" in refused
    assert data_of(bot) == before
    assert not audit(bot, "person.forgotten")

    # A coordinator presses: the person is forgotten, the audit says who, for whom and when.
    updates = len(bot.api.of("chat.update"))
    press(bot, COORDINATOR, request_id, to[COORDINATOR])
    confirmed = audit(bot, "person.forget_confirmed")
    forgotten = audit(bot, "person.forgotten")
    assert [(a.actor, a.entity_id) for a in confirmed] == [(COORDINATOR, str(request_id))]
    assert [a.actor for a in forgotten] == [COORDINATOR]
    assert confirmed[0].details["person"] == forgotten[0].entity_id  # the pseudonym, not the id
    assert confirmed[0].at == bot.clock()
    left = [f"{table} {text}" for (table, _k), text in dump(bot).items() if whole(VISITOR).search(text)]
    assert not left, left[:3]
    with bot.session_factory() as session:
        request = session.get(ForgetRequest, request_id)
        assert request is not None and request.status == "done" and request.done_by == COORDINATOR
        assert request.requester == forgotten[0].entity_id
        assert not session.scalar(select(StaffProfile).where(StaffProfile.slack_user_id == VISITOR))

    # The person is told, in their language; both coordinators' messages say it is done, by whom.
    done = [c.body for c in bot.api.of("chat.postMessage") if c.body.get("channel") == VISITOR]
    assert "Tietosi on nyt poistettu" in done[-1]["text"]
    changed = {c.body["channel"]: c.body for c in bot.api.of("chat.update")[updates:]}
    assert set(changed) == {"D" + COORDINATOR[1:], "D" + SECOND[1:]}
    assert "Confirmed by <@U0COORD>" in text_of(changed["D" + COORDINATOR[1:]])
    assert "Vahvisti: <@U0COORD>" in text_of(changed["D" + SECOND[1:]])
    for update in changed.values():
        assert VISITOR not in text_of(update)  # the name leaves Slack's message too
        assert ids.PRIVACY_FORGET_CONFIRM not in buttons(update)

    # A second press: already done, by whom; nothing is erased again.
    again = press(bot, SECOND, request_id, to[SECOND])
    assert "Tiedot on jo poistettu. Vahvisti: <@U0COORD>" in again
    assert len(audit(bot, "person.forgotten")) == 1


def test_asking_twice_asks_the_coordinators_once(bot: Bot) -> None:
    with_two_coordinators(bot)
    _request_id, _to = ask_to_be_forgotten(bot)
    told = len(bot.api.of("response_url"))
    posts = len(bot.api.of("chat.postMessage"))
    bot.slack.action(ids.PRIVACY_FORGET_ASK, "forget", user=VISITOR)
    answer = bot.api.wait_for("response_url", count=told + 1)[-1].body
    assert "Olet jo pyytänyt" in answer["text"]
    settle(bot)
    assert len(bot.api.of("chat.postMessage")) == posts
    with bot.session_factory() as session:
        assert session.scalar(select(func.count()).select_from(ForgetRequest)) == 1


def test_two_presses_at_once_erase_once(bot: Bot) -> None:
    with_two_coordinators(bot)
    request_id, to = ask_to_be_forgotten(bot)
    presses = [
        threading.Thread(
            target=bot.slack.action,
            args=(ids.PRIVACY_FORGET_CONFIRM, str(request_id)),
            kwargs={"user": who, "message": to[who], "channel": "D" + who[1:]},
        )
        for who in (COORDINATOR, SECOND)
    ]
    for thread in presses:
        thread.start()
    for thread in presses:
        thread.join()
    settle(bot)
    assert len(audit(bot, "person.forgotten")) == 1
    assert len(audit(bot, "person.forget_confirmed")) == 1
    done = [c for c in bot.api.of("chat.postMessage") if c.body.get("channel") == VISITOR]
    assert sum("poistettu" in c.body.get("text", "") for c in done) == 1
    answers = " ".join(text_of(c.body) for c in bot.api.of("response_url"))
    assert re.search(r"already been erased|jo poistettu", answers)


def test_a_forged_press_erases_nothing(bot: Bot) -> None:
    with_two_coordinators(bot)
    request_id, to = ask_to_be_forgotten(bot)
    before = data_of(bot)
    forged = bot.slack.action(
        ids.PRIVACY_FORGET_CONFIRM,
        str(request_id),
        user=COORDINATOR,
        message=to[COORDINATOR],
        signature="v0=" + "0" * 64,
    )
    stale = bot.slack.action(
        ids.PRIVACY_FORGET_CONFIRM,
        str(request_id),
        user=COORDINATOR,
        message=to[COORDINATOR],
        timestamp=int(bot.clock().timestamp()) - 3600,
    )
    settle(bot)
    assert (forged.status, stale.status) == (401, 401)
    assert data_of(bot) == before
    assert not audit(bot, "person.forgotten")


def test_a_request_that_reached_no_coordinator_is_sent_when_asked_again(bot: Bot) -> None:
    with_two_coordinators(bot)
    _said, _data, _name, dm = my_export(bot)
    told = len(bot.api.of("response_url"))
    bot.api.fail_while(server_error(), "chat.postMessage")
    bot.slack.action(ids.PRIVACY_FORGET_ASK, "forget", user=VISITOR, message=dm)
    answer = bot.api.wait_for("response_url", count=told + 1)[-1].body
    assert "ei nyt saatu lähetettyä" in answer["text"]
    settle(bot)
    bot.api.heal()
    bot.slack.action(ids.PRIVACY_FORGET_ASK, "forget", user=VISITOR, message=dm)
    answer = bot.api.wait_for("response_url", count=told + 2)[-1].body
    assert "Olet jo pyytänyt" in answer["text"]
    settle(bot)
    asked = {
        c.body["channel"]
        for c in bot.api.delivered("chat.postMessage")
        if ids.PRIVACY_FORGET_CONFIRM in buttons(c.body)
    }
    assert asked == {COORDINATOR, SECOND}
    with bot.session_factory() as session:
        assert session.scalar(select(func.count()).select_from(ForgetRequest)) == 1


def test_a_second_request_of_the_same_person_is_done_with_the_first(bot: Bot) -> None:
    """Two requests asked at once (two replicas): confirming one closes both, so that nobody is
    asked to erase a pseudonym."""
    set_up_people(bot)
    sf = bot.session_factory
    now = bot.clock()
    first = forget_requests.ask(
        sf, VISITOR, lang="fi", now=now, default_region_key="savo", configured=(COORDINATOR,)
    )
    with sf.begin() as session:
        session.add(
            ForgetRequest(
                requester=VISITOR, region_id=None, lang="fi", status="pending", requested_at=now, posted={}
            )
        )
    done = forget_requests.confirm(sf, first.request_id, actor=COORDINATOR, is_coordinator=True, now=now)
    assert done.erased_now and done.requester == VISITOR
    with sf() as session:
        assert set(session.scalars(select(ForgetRequest.status))) == {"done"}


def test_the_request_goes_to_the_persons_region_and_only_its_coordinators_erase(bot: Bot) -> None:
    with_two_coordinators(bot)
    north = _north(bot)
    _add_coordinator(bot, NORTH_COORD, north["region"])
    request_id, to = ask_to_be_forgotten(bot)  # a Savo visitor: Savo's coordinators only
    assert not [c for c in bot.api.of("chat.postMessage") if c.body.get("channel") == NORTH_COORD]
    bot.slack.command("help", user=NORTH_COORD)  # known to the bot before the press
    settle(bot)
    before = data_of(bot)
    refused = press(bot, NORTH_COORD, request_id, to[COORDINATOR])
    assert "another region" in refused
    assert data_of(bot) == before

    _said, _data, _name, dm = my_export(bot, "my data", user=NORTH_VISITOR)
    bot.slack.action(ids.PRIVACY_FORGET_ASK, "forget", user=NORTH_VISITOR, message=dm)
    settle(bot)
    asked = [
        c.body["channel"]
        for c in bot.api.of("chat.postMessage")
        if ids.PRIVACY_FORGET_CONFIRM in buttons(c.body) and f"<@{NORTH_VISITOR}>" in c.body.get("text", "")
    ]
    assert asked == [NORTH_COORD]
