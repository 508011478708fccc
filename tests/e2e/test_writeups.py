"""Write-ups and the idea bank through the real App: the modal, its draft on close, publishing to
the idea-bank channel, search by inflected words, edits that follow, hiding and publishing by a
coordinator, `etsi`'s related write-ups, App Home and the status card, and the export file."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from sqlalchemy import select

from bot import ids
from bot.i18n import translator
from bot.views.limits import check_message, check_view
from bot.views.visit import visit_message
from models import AuditEntry, PartyState, Visit, VisitStatus, WriteUp, WriteUpStatus
from services.ideas import writeups
from services.visits import visit_lists
from tests.conftest import COORDINATOR, Bot
from tests.e2e.visit_helpers import (
    HOST1,
    HOST2,
    STRANGER,
    VISITOR,
    buttons,
    jsonish,
    posted_to,
    set_up_people,
    settle,
    text_of,
)
from tests.fakes.slack_requests import fixture, select_value, text_value

IDEAS = "C0IDEAS"


@pytest.fixture(autouse=True)
def _quiet_at_the_end(bot: Bot) -> Iterator[None]:
    yield
    settle(bot)


def confirmed_visit(
    bot: Bot, setup: dict[str, Any], day: date = date(2026, 11, 20), *, visitor: str = VISITOR
) -> int:
    now = bot.clock()
    with bot.session_factory.begin() as session:
        visit = Visit(
            visitor_id=visitor,
            home_library_id=setup["home"].id,
            host_library_id=setup["host"].id,
            topic_id=setup["topic"].id,
            learn="Lukukoiratoiminta",
            length="day",
            travel_mode="car",
            supervisor_id="U0BOSS",
            status=VisitStatus.CONFIRMED,
            supervisor_state=PartyState.APPROVED,
            host_state=PartyState.APPROVED,
            funding_state=PartyState.APPROVED,
            chosen_date=day,
            created_at=now,
            updated_at=now,
        )
        session.add(visit)
        session.flush()
        return visit.id


def form_values(
    *,
    title: str = "Lukukoira kirjastossa",
    learned: str = "Näin, miten lukukoirat auttavat lapsia lukemaan ääneen rohkeammin.",
    try_at_home: str = "Kokeilen lukukoiria syyslomalla.",
    tips: str = "Varaa aikaa keskusteluun.",
    recommend: str | None = "yes",
    link: str = "",
    publish: bool = True,
) -> dict[str, dict[str, Any]]:
    chosen = [{"text": {"type": "plain_text", "text": "x"}, "value": "yes"}] if publish else []
    return {
        ids.WRITEUP_TITLE: {ids.WRITEUP_TITLE: text_value(title)},
        ids.WRITEUP_LEARNED: {ids.WRITEUP_LEARNED: text_value(learned)},
        ids.WRITEUP_TRY: {ids.WRITEUP_TRY: text_value(try_at_home)},
        ids.WRITEUP_TIPS: {ids.WRITEUP_TIPS: text_value(tips)},
        ids.WRITEUP_RECOMMEND: {ids.WRITEUP_RECOMMEND: select_value(recommend, kind="radio_buttons")},
        ids.WRITEUP_LINK: {ids.WRITEUP_LINK: text_value(link)},
        ids.WRITEUP_PUBLISH: {ids.WRITEUP_PUBLISH: {"type": "checkboxes", "selected_options": chosen}},
    }


def meta(visit_id: int) -> str:
    return json.dumps({"visit": visit_id})


def close_with(bot: Bot, visit_id: int, values: dict[str, Any], user: str = VISITOR) -> None:
    payload = fixture("view_closed")
    payload["user"].update(id=user)
    payload["view"].update(callback_id=ids.WRITEUP_VIEW, private_metadata=meta(visit_id))
    payload["view"]["state"] = {"values": copy.deepcopy(values)}
    reply = bot.slack.interactive(payload)
    assert reply.status == 200


def submit(bot: Bot, visit_id: int, values: dict[str, Any], user: str = VISITOR) -> Any:
    reply = bot.slack.submit(ids.WRITEUP_VIEW, values, user=user, private_metadata=meta(visit_id))
    assert reply.status == 200, reply.text
    return reply.json() if reply.text else None


def open_modal(bot: Bot, visit_id: int, user: str = VISITOR) -> dict[str, Any]:
    before = len(bot.api.of("views.open"))
    reply = bot.slack.action(ids.WRITEUP_OPEN, str(visit_id), user=user)
    assert reply.status == 200
    calls = bot.api.wait_for("views.open", count=before + 1)
    view = jsonish(calls[-1].body["view"])
    check_view(view)
    return view


def initial(view: dict[str, Any], block_id: str) -> Any:
    for block in view["blocks"]:
        if block.get("block_id") == block_id:
            element = block["element"]
            return element.get("initial_value", element.get("initial_option", element.get("initial_options")))
    raise AssertionError(block_id)


def channel_posts(bot: Bot) -> list[dict[str, Any]]:
    return [c.body for c in bot.api.of("chat.postMessage") if c.body.get("channel") == IDEAS]


def channel_updates(bot: Bot) -> list[dict[str, Any]]:
    return [c.body for c in bot.api.of("chat.update") if c.body.get("channel") == IDEAS]


def the_writeup(bot: Bot) -> WriteUp:
    with bot.session_factory() as session:
        found = session.scalar(select(WriteUp))
        assert found is not None
        return found


def has_writeup(bot: Bot, visit_id: int) -> bool:
    with bot.session_factory() as session:
        return writeups.has_writeup(session, visit_id)


def test_the_whole_cycle(bot: Bot) -> None:
    setup = set_up_people(bot)
    visit_id = confirmed_visit(bot, setup)

    # The status card of a confirmed visit whose day has passed offers "write it up".
    with bot.session_factory() as session:
        card = visit_lists.card_of(bot.session_factory, visit_id)
    message = visit_message(card, "visitor", translator("fi"), today=date(2026, 11, 24))
    assert buttons(message)[ids.WRITEUP_OPEN]["value"] == str(visit_id)
    assert buttons(message)[ids.WRITEUP_OPEN]["text"]["text"] == "Kirjoita kuvaus"

    # The modal: notify_on_close so that a closed modal keeps its draft.
    view = open_modal(bot, visit_id)
    assert view["notify_on_close"] is True
    assert view["title"]["text"] == "Vierailun kuvaus"
    assert initial(view, ids.WRITEUP_PUBLISH)  # publishing is the default

    # Closed half-written: the draft is kept, but nothing is submitted yet.
    half = form_values(title="Lukukoirat", learned="Lukukoirat ovat", recommend=None)
    close_with(bot, visit_id, half)
    settle(bot)
    draft = the_writeup(bot).draft
    assert draft is not None and draft["title"] == "Lukukoirat" and draft["learned"] == "Lukukoirat ovat"
    assert not has_writeup(bot, visit_id)

    # Reopened: the draft continues.
    view = open_modal(bot, visit_id)
    assert initial(view, ids.WRITEUP_TITLE) == "Lukukoirat"
    assert initial(view, ids.WRITEUP_LEARNED) == "Lukukoirat ovat"
    assert "luonnosta" in text_of({"blocks": view["blocks"]})

    # Submitted with inline errors: the modal stays, the database does not change.
    body = submit(bot, visit_id, form_values(title="", learned="lyhyt", recommend=None))
    assert body["response_action"] == "errors"
    assert set(body["errors"]) == {ids.WRITEUP_TITLE, ids.WRITEUP_LEARNED, ids.WRITEUP_RECOMMEND}
    assert "10" in body["errors"][ids.WRITEUP_LEARNED]
    assert the_writeup(bot).draft == draft and not has_writeup(bot, visit_id)
    assert channel_posts(bot) == []

    # Published: a post in the idea bank, stored; host contacts and coordinators told; nags stop.
    body = submit(bot, visit_id, form_values())
    assert body["response_action"] == "update"
    assert "ideapankissa" in text_of(body["view"])
    posts = bot.api.wait_for("chat.postMessage")
    settle(bot)
    [post] = channel_posts(bot)
    check_message({"blocks": jsonish(post["blocks"]), "text": post["text"]})
    shown = text_of(post)
    assert "Lukukoira kirjastossa" in shown and setup["host"].name in shown and setup["home"].name in shown
    assert f"<@{VISITOR}>" in shown and "20.11.2026" in shown
    w = the_writeup(bot)
    assert w.status == WriteUpStatus.PUBLISHED and w.channel == IDEAS and w.ts and w.draft is None
    assert has_writeup(bot, visit_id)
    assert posts  # (waited for above)
    for person in (HOST1, HOST2, COORDINATOR):
        assert posted_to(bot, person), person
    assert "Ruotsi" not in text_of(posted_to(bot, HOST1)[-1])
    assert "idébanken" in text_of(posted_to(bot, HOST1)[-1])  # HOST1 reads Swedish
    assert ids.WRITEUP_HIDE in buttons(posted_to(bot, COORDINATOR)[-1])
    assert ids.WRITEUP_HIDE not in buttons(posted_to(bot, HOST2)[-1])

    # Search finds it by an inflected word, newest first, with "ask the author".
    reply = bot.slack.command("ideat lukukoirien")
    answer = reply.json()
    check_message(answer)
    assert "Lukukoira kirjastossa" in reply.said
    asks = [e for e in buttons(answer).values() if e["action_id"].startswith(ids.IDEAS_ASK)]
    assert asks and VISITOR in asks[0]["url"]
    assert "Lukukoira kirjastossa" not in bot.slack.command("ideat karaoke").said

    # Opened and closed unchanged: no draft is left behind.
    view = open_modal(bot, visit_id)
    close_with(bot, visit_id, form_values())
    settle(bot)
    assert the_writeup(bot).draft is None

    # Edited by the author: the posted message follows (same ts), no second post.
    view = open_modal(bot, visit_id)
    assert initial(view, ids.WRITEUP_TITLE) == "Lukukoira kirjastossa"
    assert "luonnosta" not in text_of({"blocks": view["blocks"]})
    submit(bot, visit_id, form_values(title="Lukukoirat ja lapset"))
    [update] = bot.api.wait_for("chat.update")
    assert update.body["channel"] == IDEAS and update.body["ts"] == w.ts
    assert "Lukukoirat ja lapset" in text_of(update.body)
    assert len(channel_posts(bot)) == 1
    with bot.session_factory() as session:
        actions = list(session.scalars(select(AuditEntry.action).where(AuditEntry.entity == "writeup")))
    assert actions == ["writeup.submitted", "writeup.edited"]

    # Withdrawn by the author: the channel message says so, search no longer finds it.
    submit(bot, visit_id, form_values(title="Lukukoirat ja lapset", publish=False))
    updates = bot.api.wait_for("chat.update", count=2)
    assert updates[-1].body["ts"] == w.ts and "Kirjoittaja on poistanut" in text_of(updates[-1].body)
    assert "Lukukoirat ja lapset" not in bot.slack.command("ideat lukukoira").said
    assert has_writeup(bot, visit_id)


def test_mentions_never_ping_and_markup_cannot_break_the_layout(bot: Bot) -> None:
    setup = set_up_people(bot)
    visit_id = confirmed_visit(bot, setup)
    title = "*Lihava* <!here> _kallis_ `koodi` <https://x.fi|klikkaa>"
    learned = "Hei <!channel> ja <@U0HOST1>! <!subteam^S123> & <https://evil.example|tästä>\n" * 3
    submit(bot, visit_id, form_values(title=title, learned=learned, tips="<!everyone> kaikki"))
    settle(bot)
    [post] = channel_posts(bot)
    blocks = jsonish(post["blocks"])
    assert blocks[0]["type"] == "header" and blocks[0]["text"]["type"] == "plain_text"
    # The header is plain_text (Slack parses neither mentions nor markup there); all else is mrkdwn.
    assert blocks[0]["text"]["text"] == " ".join(title.split())
    body = json.dumps(blocks[1:]) + post["text"]
    for dangerous in ("<!channel>", "<!here>", "<@U0HOST1>", "<!everyone>", "<!subteam", "<https://evil"):
        assert dangerous not in body, dangerous
    assert "&lt;!channel&gt;" in body
    # In the `ideat` list the title sits inside bold: its markup characters are made inert.
    said = json.dumps(bot.slack.command("ideat").json())
    assert "<!here>" not in said and "*Lihava*" not in said


def test_a_long_write_up_splits_cleanly_within_slack_limits(bot: Bot) -> None:
    setup = set_up_people(bot)
    visit_id = confirmed_visit(bot, setup)
    paragraph = ("Lukukoira & lapsi <3 lukevat yhdessä. " * 20).strip()
    learned = "\n\n".join([paragraph] * 10)[:3000]
    submit(bot, visit_id, form_values(learned=learned, try_at_home="x" * 3000, tips="ä" * 3000))
    settle(bot)
    [post] = channel_posts(bot)
    message = {"blocks": jsonish(post["blocks"]), "text": post["text"]}
    check_message(message)
    sections = [b["text"]["text"] for b in message["blocks"] if b["type"] == "section"]
    assert len(sections) >= 5
    assert all(len(s) <= 3000 for s in sections)
    assert not any(s.endswith("&amp") or s.endswith("&lt") for s in sections)
    joined = "".join(sections).replace("&amp;", "&").replace("&lt;", "<")
    assert joined.count("Lukukoira") == learned.count("Lukukoira")  # nothing clipped away


def test_over_long_and_bad_fields_get_inline_errors_with_limits(bot: Bot) -> None:
    setup = set_up_people(bot)
    visit_id = confirmed_visit(bot, setup)
    bot.api.locales[VISITOR] = "en-US"
    body = submit(
        bot,
        visit_id,
        form_values(title="t" * 151, learned="x" * 3001, tips="y" * 3001, link="javascript:alert(1)"),
    )
    assert body["response_action"] == "errors"
    errors = body["errors"]
    assert "150" in errors[ids.WRITEUP_TITLE] and "3000" in errors[ids.WRITEUP_LEARNED]
    assert "3000" in errors[ids.WRITEUP_TIPS] and "https://" in errors[ids.WRITEUP_LINK]
    with bot.session_factory() as session:
        assert session.scalar(select(WriteUp)) is None


def test_only_the_visitor_writes_and_only_after_the_day(bot: Bot) -> None:
    setup = set_up_people(bot)
    past = confirmed_visit(bot, setup)
    bot.slack.action(ids.WRITEUP_OPEN, str(past), user=STRANGER)
    settle(bot)
    assert bot.api.of("views.open") == []
    body = submit(bot, past, form_values(), user=STRANGER)
    assert body is None or body.get("response_action") != "update"
    with bot.session_factory() as session:
        assert session.scalar(select(WriteUp)) is None
    with bot.session_factory.begin() as session:
        visit = session.get(Visit, past)
        assert visit is not None
        visit.chosen_date = date(2026, 12, 10)
    bot.slack.action(ids.WRITEUP_OPEN, str(past))
    settle(bot)
    assert bot.api.of("views.open") == []


def test_coordinator_hides_with_a_reason_and_it_leaves_the_idea_bank(bot: Bot) -> None:
    setup = set_up_people(bot)
    visit_id = confirmed_visit(bot, setup)
    submit(bot, visit_id, form_values())
    settle(bot)
    w = the_writeup(bot)
    # A non-coordinator cannot.
    bot.slack.action(ids.WRITEUP_HIDE, str(w.id), user=HOST1)
    settle(bot)
    assert bot.api.of("views.open") == []
    reply = bot.slack.submit(
        ids.WRITEUP_HIDE_VIEW,
        {ids.WRITEUP_HIDE_REASON: {ids.WRITEUP_HIDE_REASON: text_value("ei")}},
        user=HOST1,
        private_metadata=json.dumps({"writeup": w.id}),
    )
    assert the_writeup(bot).status == WriteUpStatus.PUBLISHED
    # The coordinator: the form, an empty reason is refused inline, then hidden.
    bot.slack.action(ids.WRITEUP_HIDE, str(w.id), user=COORDINATOR)
    bot.api.wait_for("views.open")
    hide_meta = json.dumps({"writeup": w.id})
    reply = bot.slack.submit(
        ids.WRITEUP_HIDE_VIEW,
        {ids.WRITEUP_HIDE_REASON: {ids.WRITEUP_HIDE_REASON: text_value("  ")}},
        user=COORDINATOR,
        private_metadata=hide_meta,
    )
    assert reply.json()["response_action"] == "errors"
    assert the_writeup(bot).status == WriteUpStatus.PUBLISHED
    bot.slack.submit(
        ids.WRITEUP_HIDE_VIEW,
        {ids.WRITEUP_HIDE_REASON: {ids.WRITEUP_HIDE_REASON: text_value("Sisältää henkilötietoja")}},
        user=COORDINATOR,
        private_metadata=hide_meta,
    )
    [update] = bot.api.wait_for("chat.update")
    settle(bot)
    assert update.body["channel"] == IDEAS and "poistanut" in text_of(update.body)
    assert "Lukukoira" not in text_of(update.body)
    assert "henkilötietoja" in text_of(posted_to(bot, VISITOR)[-1])
    assert the_writeup(bot).status == WriteUpStatus.HIDDEN
    assert "Lukukoira kirjastossa" not in bot.slack.command("ideat lukukoira").said
    assert has_writeup(bot, visit_id)  # the nags stay stopped: the visitor did write it


def test_a_private_write_up_goes_to_coordinators_who_can_publish_it(bot: Bot) -> None:
    setup = set_up_people(bot)
    visit_id = confirmed_visit(bot, setup)
    body = submit(bot, visit_id, form_values(publish=False))
    assert body["response_action"] == "update"
    settle(bot)
    assert channel_posts(bot) == []
    assert has_writeup(bot, visit_id)
    assert posted_to(bot, HOST1) == [] and posted_to(bot, HOST2) == []
    coordinator_dm = posted_to(bot, COORDINATOR)[-1]
    publish = buttons(coordinator_dm)[ids.WRITEUP_PUBLISH_FOR]
    assert "Lukukoira kirjastossa" not in bot.slack.command("ideat").said
    bot.slack.action(ids.WRITEUP_PUBLISH_FOR, publish["value"], user=STRANGER)
    settle(bot)
    assert channel_posts(bot) == []
    bot.slack.action(ids.WRITEUP_PUBLISH_FOR, publish["value"], user=COORDINATOR)
    settle(bot)
    assert len(channel_posts(bot)) == 1
    assert the_writeup(bot).status == WriteUpStatus.PUBLISHED
    assert "Lukukoira kirjastossa" in bot.slack.command("ideat").said


def test_ideat_pages_ten_at_a_time_newest_first(bot: Bot) -> None:
    setup = set_up_people(bot)
    for n in range(12):
        visit_id = confirmed_visit(bot, setup, day=date(2026, 11, 1 + n))
        submit(bot, visit_id, form_values(title=f"Kuvaus numero {n:02d}"))
        bot.clock.advance(minutes=1)
    settle(bot)
    reply = bot.slack.command("ideat")
    answer = reply.json()
    check_message(answer)
    said = reply.said
    assert "Kuvaus numero 11" in said and "Kuvaus numero 02" in said and "Kuvaus numero 01" not in said
    assert said.index("Kuvaus numero 11") < said.index("Kuvaus numero 10")
    more = buttons(answer)[ids.IDEAS_MORE]
    bot.slack.action(ids.IDEAS_MORE, more["value"])
    settle(bot)
    [response] = bot.api.of("response_url")
    seen = text_of(response.body)
    assert "Kuvaus numero 01" in seen and "Kuvaus numero 00" in seen and "Kuvaus numero 05" not in seen


def test_etsi_shows_related_write_ups_under_the_hosts(bot: Bot) -> None:
    setup = set_up_people(bot)
    visit_id = confirmed_visit(bot, setup)
    submit(bot, visit_id, form_values())
    settle(bot)
    reply = bot.slack.command("etsi lukukoiria")
    check_message(reply.json())
    assert "Lukukoira kirjastossa" in reply.said
    assert "Lukukoira kirjastossa" not in bot.slack.command("etsi karaoke").said


def test_home_lists_visits_waiting_for_their_write_up(bot: Bot) -> None:
    setup = set_up_people(bot)
    visit_id = confirmed_visit(bot, setup)
    bot.slack.home_opened(VISITOR)
    [call] = bot.api.wait_for("views.publish")
    view = jsonish(call.body["view"])
    assert buttons(view)[ids.WRITEUP_OPEN]["value"] == str(visit_id)
    submit(bot, visit_id, form_values())
    settle(bot)
    bot.slack.home_opened(VISITOR)
    calls = bot.api.wait_for("views.publish", count=2)
    assert ids.WRITEUP_OPEN not in buttons(jsonish(calls[-1].body["view"]))


def test_coordinator_gets_the_export_file(bot: Bot) -> None:
    setup = set_up_people(bot)
    visit_id = confirmed_visit(bot, setup)
    submit(bot, visit_id, form_values(title="Lukukoira & <lapset>"))
    settle(bot)
    refused = bot.slack.command("ideat vienti 2026-11-01", user=VISITOR)
    assert "informaatikot" in refused.said.lower()
    reply = bot.slack.command("ideat vienti 2026-11-01 html", user=COORDINATOR)
    assert reply.status == 200 and "1" in reply.said
    bot.api.wait_for("files.completeUploadExternal")
    [url_call] = bot.api.of("files.getUploadURLExternal")
    assert url_call.body.get("filename", "").endswith(".html")
    [upload] = bot.api.of("upload")
    assert "<h2>Lukukoira &amp; &lt;lapset&gt;</h2>" in upload.body["raw"]
    [done] = bot.api.of("files.completeUploadExternal")
    assert str(done.body.get("channel_id", "")).startswith("D")


def test_a_failed_channel_post_loses_nothing_and_the_next_edit_posts_it(bot: Bot) -> None:
    from tests.fakes.slack_api import Failure

    setup = set_up_people(bot)
    visit_id = confirmed_visit(bot, setup)
    bot.api.fail_next("chat.postMessage", Failure(error="channel_not_found"))
    body = submit(bot, visit_id, form_values())
    assert body["response_action"] == "update"  # acked before the post: the person is thanked
    settle(bot)
    w = the_writeup(bot)
    assert w.status == WriteUpStatus.PUBLISHED and w.channel is None and has_writeup(bot, visit_id)
    assert "Lukukoira kirjastossa" in bot.slack.command("ideat lukukoira").said  # the DB is the idea bank
    submit(bot, visit_id, form_values(title="Lukukoira kirjastossa, korjattu"))
    settle(bot)
    assert [p for p in channel_posts(bot) if "korjattu" in text_of(p)]
    assert the_writeup(bot).channel == IDEAS


def test_a_bot_not_in_the_idea_bank_channel_asks_to_be_invited_and_posts_once_it_is(bot: Bot) -> None:
    from models import Reminder, ReminderStatus
    from services.outbox.visit_outbox import WRITEUP_SYNC
    from tests.e2e.test_faults import sweep

    def sweep_at(minutes: float) -> Any:
        bot.clock.advance(minutes=minutes)
        return sweep(bot)

    def posted_in_channel() -> list[Any]:
        return [c for c in bot.api.delivered("chat.postMessage") if c.body.get("channel") == IDEAS]

    def outbox() -> Reminder:
        with bot.session_factory() as session:
            return session.scalars(select(Reminder).where(Reminder.kind == WRITEUP_SYNC)).one()

    setup = set_up_people(bot)
    visit_id = confirmed_visit(bot, setup)
    bot.api.outside.add(IDEAS)  # nobody has invited the bot to the idea-bank channel
    assert submit(bot, visit_id, form_values())["response_action"] == "update"
    settle(bot)
    assert posted_in_channel() == [] and the_writeup(bot).status == WriteUpStatus.PUBLISHED
    for _ in range(20):  # a day of hourly sweeps: still waiting, never given up
        sweep_at(61)
    row = outbox()
    assert row.status == ReminderStatus.PENDING and row.attempts == 0
    asked = [m for m in posted_to(bot, COORDINATOR) if "/invite @vertaisbot" in text_of(m)]
    assert len(asked) == 1 and f"<#{IDEAS}>" in text_of(asked[0])  # once, with the channel

    bot.api.outside.clear()  # the coordinator invites the bot
    sweep_at(61)
    assert len(posted_in_channel()) == 1
    assert outbox().status == ReminderStatus.SENT and the_writeup(bot).channel == IDEAS
    sweep_at(61)
    assert len(posted_in_channel()) == 1  # posted once
