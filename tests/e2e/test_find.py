"""`/vertais etsi` as Slack sends it: hosts best first with a propose button, closest topics when
nothing matches, the catalogue for an empty query; mentions are never echoed live."""

from __future__ import annotations

import json

from bot import ids
from bot.views.limits import check_message
from models import HostOffer
from tests.conftest import COORDINATOR, Bot
from tests.find_support import add_offer, count, library_id, set_home, topic_id

VISITOR = "U0VISITOR"


def etsi(bot: Bot, words: str, user: str = VISITOR) -> dict:
    reply = bot.slack.command(f"etsi {words}".strip(), user=user)
    assert reply.status == 200, reply.text
    body = reply.json()
    check_message(body)
    assert body["response_type"] == "ephemeral"
    return body


def buttons(body: dict) -> list[dict]:
    found = []
    for block in body["blocks"]:
        if block.get("accessory", {}).get("type") == "button":
            found.append(block["accessory"])
        if block["type"] == "actions":
            found += [e for e in block["elements"] if e["type"] == "button"]
    return found


def test_finds_hosts_in_finnish_best_first_with_propose_buttons(bot: Bot) -> None:
    set_home(bot.session_factory, VISITOR, "kuopio-paakirjasto", bot.clock(), language="fi")
    add_offer(bot.session_factory, "varkaus", ["event-production"], bot.clock(), contacts=("U0VARKAUS",))
    add_offer(
        bot.session_factory,
        "siilinjarvi",
        ["event-production", "game-clubs"],
        bot.clock(),
        description="Karaokeilta kerran kuussa, laitteet lainattavissa.",
        contacts=("U0SIILIN", "U0SIILIN2"),
    )
    body = etsi(bot, "karaokea")
    text = json.dumps(body, ensure_ascii=False)
    assert "Kirjastot, jotka osaavat aiheen ”karaokea”" in body["blocks"][0]["text"]["text"]
    hosts = [b for b in body["blocks"] if b.get("block_id", "").startswith("host_")]
    assert [h["text"]["text"].split("*")[1] for h in hosts] == ["Siilinjärven kirjasto", "Varkauden kirjasto"]
    assert "20 km" in hosts[0]["text"]["text"] and "65 km" in hosts[1]["text"]["text"]
    assert "<@U0SIILIN>, <@U0SIILIN2>" in hosts[0]["text"]["text"]
    assert "Tarjoaa: musiikki-, elokuva- ym. tapahtumatuotanto" in text
    assert "Sopivat päivät: ma, ti, ke, to, pe" in text
    propose = [b for b in buttons(body) if b["action_id"] == ids.PROPOSE_HOST]
    assert [b["text"]["text"] for b in propose] == ["Ehdota vierailua"] * 2
    assert json.loads(propose[0]["value"]) == {
        "library": library_id(bot.session_factory, "siilinjarvi"),
        "topic": topic_id(bot.session_factory, "event-production"),
    }


def test_answers_in_the_users_language(bot: Bot) -> None:
    set_home(bot.session_factory, VISITOR, "kuopio-paakirjasto", bot.clock(), language="sv")
    add_offer(bot.session_factory, "varkaus", ["bookmobile"], bot.clock())
    body = etsi(bot, "bokbuss")
    text = json.dumps(body, ensure_ascii=False)
    assert "Bibliotek som kan ämnet" in text and "biblioteksbussverksamhet" in text
    assert "Föreslå ett besök" in text


def test_no_match_gives_closest_topics_and_categories(bot: Bot) -> None:
    set_home(bot.session_factory, VISITOR, "kuopio-paakirjasto", bot.clock(), language="fi")
    add_offer(bot.session_factory, "varkaus", ["reading-dogs"], bot.clock())
    body = etsi(bot, "lukukoirra kurssi")  # a typo and a word of no topic: still an answer
    assert body["blocks"], "never empty"
    body = etsi(bot, "qqzzxx")
    text = json.dumps(body, ensure_ascii=False)
    assert "En löytänyt kirjastoa enkä aihetta" in text
    assert "*Aihealueet:*" in text and "Lapset ja nuoret" in text


def test_topic_without_hosts_offers_buttons_that_search_again(bot: Bot) -> None:
    set_home(bot.session_factory, VISITOR, "kuopio-paakirjasto", bot.clock(), language="fi")
    body = etsi(bot, "digitointia")
    text = json.dumps(body, ensure_ascii=False)
    assert "yksikään kirjasto ei vielä tarjoa sitä" in text
    topic_buttons = [b for b in buttons(body) if b["action_id"].startswith(ids.FIND_TOPIC)]
    assert topic_buttons and topic_buttons[0]["value"] == str(topic_id(bot.session_factory, "digitisation"))

    add_offer(bot.session_factory, "keitele", ["digitisation"], bot.clock())
    reply = bot.slack.action(topic_buttons[0]["action_id"], topic_buttons[0]["value"], user=VISITOR)
    assert reply.status == 200
    answer = bot.api.wait_for("response_url")[-1].body
    check_message(answer)
    assert "Keiteleen kirjasto" in json.dumps(answer, ensure_ascii=False)


def test_empty_query_shows_the_catalogue_and_coordinators_can_edit_it(bot: Bot) -> None:
    set_home(bot.session_factory, VISITOR, "kuopio-paakirjasto", bot.clock(), language="en")
    set_home(bot.session_factory, COORDINATOR, "kuopio-paakirjasto", bot.clock(), language="en")
    body = etsi(bot, "")
    text = json.dumps(body, ensure_ascii=False)
    assert "What you can learn: topics" in text and "bookmobile service" in text
    assert ids.OPEN_TOPICS not in text
    assert ids.OPEN_TOPICS in json.dumps(etsi(bot, "", user=COORDINATOR))


def test_mentions_markup_and_long_queries_are_inert(bot: Bot) -> None:
    set_home(bot.session_factory, VISITOR, "kuopio-paakirjasto", bot.clock(), language="fi")
    add_offer(bot.session_factory, "varkaus", ["reading-dogs"], bot.clock())
    for query in (
        "<!channel> <@U123> lukukoira",
        "<!here|here> 🐶" * 100,
        "x" * 2990,
        "'; DROP TABLE host_offers; --",
    ):
        body = etsi(bot, query)
        text = json.dumps(body)
        assert "<!channel>" not in text and "<@U123>" not in text and "<!here" not in text
        assert len(body["blocks"]) >= 2
    assert count(bot.session_factory, HostOffer) == 1


def test_many_hosts_fit_in_one_message(bot: Bot) -> None:
    set_home(bot.session_factory, VISITOR, "kuopio-paakirjasto", bot.clock(), language="fi")
    from sqlalchemy import select

    from models import Library

    with bot.session_factory() as s:
        keys = list(s.scalars(select(Library.key)))
    for key in keys:
        add_offer(
            bot.session_factory,
            key,
            ["reading-dogs", "book-talks", "game-clubs"],
            bot.clock(),
            description="Lukukoira " + "pitkä kuvaus " * 200,
            contacts=tuple(f"U0{key.upper().replace('-', '')[:8]}{n}" for n in range(8)),
        )
    body = etsi(bot, "lukukoira kirjavinkkaus pelikerho")
    assert len(body["blocks"]) <= 50
    assert "…ja vielä" in json.dumps(body, ensure_ascii=False)


def test_propose_button_opens_the_proposal_for_that_host_and_topic(bot: Bot) -> None:
    set_home(bot.session_factory, VISITOR, "kuopio-paakirjasto", bot.clock(), language="fi")
    add_offer(bot.session_factory, "siilinjarvi", ["event-production"], bot.clock(), contacts=("U0SIILIN",))
    body = etsi(bot, "karaoke")
    button = next(b for b in buttons(body) if b["action_id"] == ids.PROPOSE_HOST)
    assert bot.slack.action(ids.PROPOSE_HOST, button["value"], user=VISITOR).status == 200
    view = bot.api.wait_for("views.open")[-1].body["view"]
    view = json.loads(view) if isinstance(view, str) else view
    blocks = {b.get("block_id"): b for b in view["blocks"]}
    host = blocks[ids.PROPOSE_HOST_SELECT]["element"]["initial_option"]
    assert host["value"] == str(library_id(bot.session_factory, "siilinjarvi"))
    topic = blocks[ids.PROPOSE_TOPIC]["element"]["initial_option"]
    assert topic["value"] == str(topic_id(bot.session_factory, "event-production"))


def test_home_find_button_shows_the_catalogue(bot: Bot) -> None:
    set_home(bot.session_factory, VISITOR, "kuopio-paakirjasto", bot.clock(), language="fi")
    assert bot.slack.action(ids.OPEN_FIND, where="home", user=VISITOR).status == 200
    message = bot.api.wait_for("chat.postMessage")[-1].body
    blocks = json.loads(message["blocks"]) if isinstance(message["blocks"], str) else message["blocks"]
    check_message({"text": message["text"], "blocks": blocks})
    assert "Mitä voi oppia" in json.dumps(blocks, ensure_ascii=False)


def test_forged_and_stale_requests_are_refused(bot: Bot) -> None:
    forged = bot.slack.command("etsi karaoke", signature="v0=" + "0" * 64)
    assert forged.status == 401
    stale = bot.slack.command("etsi karaoke", timestamp=1_000_000_000)
    assert stale.status == 401
