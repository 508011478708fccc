"""`/vertais tarjoa`: the offer modal, its pickers, saving and editing rules, bad input, and a
suggested topic going to the coordinators and back."""

from __future__ import annotations

import copy
import json
from datetime import date
from typing import Any

from sqlalchemy import select

from bot import ids
from bot.views.limits import check_message, check_options_response, check_view
from models import ClosedPeriod, HostOffer, LibraryContact, Topic, TopicCategory, TopicStatus, TopicSuggestion
from tests.conftest import COORDINATOR, Bot
from tests.fakes.slack_requests import date_value, fixture, select_value, text_value
from tests.find_support import add_offer, count, library_id, set_home, topic_id

HOST = "U0HOST"
OTHER = "U0OTHER"


def multi(values: list[str], kind: str = "multi_external_select") -> dict[str, Any]:
    return {
        "type": kind,
        "selected_options": [{"text": {"type": "plain_text", "text": v}, "value": v} for v in values],
    }


def offer_values(bot: Bot, **overrides: Any) -> dict[str, dict[str, Any]]:
    values = {
        ids.OFFER_LIBRARY: select_value(
            str(library_id(bot.session_factory, "siilinjarvi")), kind="external_select"
        ),
        ids.OFFER_TOPICS: multi([str(topic_id(bot.session_factory, "reading-dogs"))]),
        ids.OFFER_SUGGESTION: text_value(None),
        ids.OFFER_DESCRIPTION: text_value(
            "Lukukoira Onni käy lauantaisin; kerromme vapaaehtoisten koulutuksesta."
        ),
        ids.OFFER_CONTACTS: {"type": "multi_users_select", "selected_users": [HOST]},
        ids.OFFER_CAPACITY: {"type": "number_input", "value": "3"},
        ids.OFFER_WEEKDAYS: multi(["1", "3"], "checkboxes"),
        ids.OFFER_NOT_UNTIL: date_value(None),
    }
    values.update(overrides)
    return {block: {block: value} for block, value in values.items()}


def submit(bot: Bot, values: dict[str, Any], user: str = HOST, offer: int | None = None) -> dict[str, Any]:
    reply = bot.slack.submit(ids.OFFER_VIEW, values, user=user, private_metadata=json.dumps({"offer": offer}))
    assert reply.status == 200, reply.text
    return reply.json()


def select_action(
    bot: Bot, action_id: str, block_id: str, value: str, *, user: str, kind: str = "static_select"
) -> None:
    payload = fixture("block_actions_message")
    payload["user"].update(id=user, username=user.lower(), name=user.lower())
    payload["response_url"] = bot.slack.response_url
    payload["trigger_id"] = bot.slack.trigger_id()  # every click has its own
    payload["actions"] = [
        {
            "type": kind,
            "action_id": action_id,
            "block_id": block_id,
            "selected_option": {"text": {"type": "plain_text", "text": "x"}, "value": value},
            "action_ts": "1700000001.000200",
        }
    ]
    assert bot.slack.interactive(payload).status == 200


def opened_view(bot: Bot) -> dict[str, Any]:
    view = bot.api.wait_for("views.open")[-1].body["view"]
    return json.loads(view) if isinstance(view, str) else view


def test_first_offer_opens_the_modal_at_home_library_and_saves(bot: Bot) -> None:
    set_home(bot.session_factory, HOST, "siilinjarvi", bot.clock(), language="fi")
    reply = bot.slack.command("tarjoa", user=HOST)
    assert reply.status == 200
    view = opened_view(bot)
    check_view(view)
    assert view["title"]["text"] == "Uusi tarjous"
    library_block = next(b for b in view["blocks"] if b.get("block_id") == ids.OFFER_LIBRARY)
    assert library_block["element"]["initial_option"]["text"]["text"] == "Siilinjärven kirjasto (Siilinjärvi)"
    contacts = next(b for b in view["blocks"] if b.get("block_id") == ids.OFFER_CONTACTS)
    assert contacts["element"]["initial_users"] == [HOST]

    answer = submit(bot, offer_values(bot))
    assert answer["response_action"] == "update"
    check_view(answer["view"])
    assert "Kiitos! Tarjous on tallennettu: *Siilinjärven kirjasto*" in json.dumps(answer, ensure_ascii=False)
    with bot.session_factory() as s:
        offer = s.scalar(select(HostOffer))
        assert offer.monthly_capacity == 3 and offer.weekdays == 0b1010
        assert [t.key for t in offer.topics] == ["reading-dogs"]
        assert [c.slack_user_id for c in offer.library.contacts] == [HOST]

    set_home(bot.session_factory, "U0VISITOR", "kuopio-paakirjasto", bot.clock(), language="fi")
    found = bot.slack.command("etsi vapaaehtoisten koulutus", user="U0VISITOR").json()
    assert "Siilinjärven kirjasto" in json.dumps(found, ensure_ascii=False)


def test_bad_offers_get_inline_errors_and_save_nothing(bot: Bot) -> None:
    set_home(bot.session_factory, HOST, "siilinjarvi", bot.clock(), language="fi")
    cases = {
        ids.OFFER_TOPICS: (offer_values(bot, **{ids.OFFER_TOPICS: multi([])}), "Valitse vähintään yksi aihe"),
        ids.OFFER_CAPACITY: (
            offer_values(bot, **{ids.OFFER_CAPACITY: {"type": "number_input", "value": "-1"}}),
            "kokonaisluku väliltä 0–100",
        ),
        ids.OFFER_NOT_UNTIL: (
            offer_values(bot, **{ids.OFFER_NOT_UNTIL: date_value("2026-11-01")}),
            "Päivä on jo mennyt",
        ),
        ids.OFFER_WEEKDAYS: (
            offer_values(bot, **{ids.OFFER_WEEKDAYS: multi([], "checkboxes")}),
            "viikonpäivä",
        ),
        ids.OFFER_CONTACTS: (
            offer_values(bot, **{ids.OFFER_CONTACTS: {"type": "multi_users_select", "selected_users": []}}),
            "yhteyshenkilö",
        ),
    }
    for block, (values, words) in cases.items():
        answer = submit(bot, values)
        assert answer["response_action"] == "errors", block
        assert words in answer["errors"][block]
    # a retired or unknown topic id is refused too
    answer = submit(bot, offer_values(bot, **{ids.OFFER_TOPICS: multi(["999999"])}))
    assert ids.OFFER_TOPICS in answer["errors"]
    assert count(bot.session_factory, HostOffer) == 0
    assert count(bot.session_factory, LibraryContact) == 0
    assert count(bot.session_factory, TopicSuggestion) == 0


def test_a_contact_who_is_not_a_person_is_an_inline_error(bot: Bot) -> None:
    set_home(bot.session_factory, HOST, "siilinjarvi", bot.clock(), language="fi")
    bot.api.deactivated.add("U0LEFT")
    for someone in ("U0BOTAPP", "U0LEFT", "U1> <!channel"):
        picked = {"type": "multi_users_select", "selected_users": [HOST, someone]}
        answer = submit(bot, offer_values(bot, **{ids.OFFER_CONTACTS: picked}))
        assert answer["response_action"] == "errors", someone
        assert "henkilö" in answer["errors"][ids.OFFER_CONTACTS], someone
    assert count(bot.session_factory, HostOffer) == 0
    assert count(bot.session_factory, LibraryContact) == 0
    assert submit(bot, offer_values(bot))["response_action"] == "update"  # a person is taken


def test_only_contacts_and_coordinators_edit_a_librarys_offers(bot: Bot) -> None:
    offer = add_offer(bot.session_factory, "siilinjarvi", ["reading-dogs"], bot.clock(), contacts=(HOST,))
    set_home(bot.session_factory, OTHER, "siilinjarvi", bot.clock(), language="en")
    answer = submit(
        bot, offer_values(bot, **{ids.OFFER_CAPACITY: {"type": "number_input", "value": "9"}}), user=OTHER
    )
    assert answer["response_action"] == "errors"
    assert "You are not a contact person of Siilinjärven kirjasto" in answer["errors"][ids.OFFER_LIBRARY]
    assert count(bot.session_factory, HostOffer) == 1

    # editing someone else's offer by id is refused as well
    reply = bot.slack.submit(
        ids.OFFER_VIEW, offer_values(bot), user=OTHER, private_metadata=json.dumps({"offer": offer})
    )
    refused = reply.json()
    assert refused["response_action"] == "push"  # an error modal over the form, which stays filled
    assert "You are not a contact person of Siilinjärven kirjasto" in json.dumps(refused, ensure_ascii=False)
    with bot.session_factory() as s:
        assert s.get(HostOffer, offer).monthly_capacity == 2

    set_home(bot.session_factory, COORDINATOR, "kuopio-paakirjasto", bot.clock(), language="en")
    values = offer_values(
        bot,
        **{
            ids.OFFER_CAPACITY: {"type": "number_input", "value": "0"},
            ids.OFFER_CONTACTS: {"type": "multi_users_select", "selected_users": [HOST, OTHER]},
        },
    )
    answer = submit(bot, values, user=COORDINATOR, offer=offer)
    assert answer["response_action"] == "update"
    with bot.session_factory() as s:
        saved = s.get(HostOffer, offer)
        assert saved.monthly_capacity == 0
        assert [c.slack_user_id for c in saved.library.contacts] == [HOST, OTHER]
    # now OTHER is a contact and may edit
    answer = submit(bot, offer_values(bot), user=OTHER, offer=offer)
    assert answer["response_action"] == "update"


def test_tarjoa_lists_own_offers_and_edit_opens_them_prefilled(bot: Bot) -> None:
    set_home(bot.session_factory, HOST, "siilinjarvi", bot.clock(), language="fi")
    offer = add_offer(
        bot.session_factory, "siilinjarvi", ["reading-dogs", "bookmobile"], bot.clock(), capacity=4
    )
    body = bot.slack.command("tarjoa", user=HOST).json()
    check_message(body)
    text = json.dumps(body, ensure_ascii=False)
    assert "Kirjastojesi tarjoukset" in text and "lukukoiratoiminta, kirjastoautotoiminta" in text
    edit = next(
        b["accessory"] for b in body["blocks"] if b.get("accessory", {}).get("action_id") == ids.EDIT_OFFER
    )
    assert bot.slack.action(ids.EDIT_OFFER, edit["value"], user=HOST).status == 200
    view = opened_view(bot)
    check_view(view)
    assert view["title"]["text"] == "Muokkaa tarjousta"
    assert json.loads(view["private_metadata"]) == {"offer": offer}
    topics_block = next(b for b in view["blocks"] if b.get("block_id") == ids.OFFER_TOPICS)
    assert [o["text"]["text"] for o in topics_block["element"]["initial_options"]] == [
        "lukukoiratoiminta",
        "kirjastoautotoiminta",
    ]
    capacity = next(b for b in view["blocks"] if b.get("block_id") == ids.OFFER_CAPACITY)
    assert capacity["element"]["initial_value"] == "4"


def test_not_until_closes_the_library_until_that_day(bot: Bot) -> None:
    set_home(bot.session_factory, HOST, "siilinjarvi", bot.clock(), language="fi")
    submit(bot, offer_values(bot, **{ids.OFFER_NOT_UNTIL: date_value("2027-01-15")}))
    with bot.session_factory() as s:
        period = s.scalar(select(ClosedPeriod))
        assert (period.starts_on, period.ends_on) == (date(2026, 11, 24), date(2027, 1, 14))
    set_home(bot.session_factory, "U0VISITOR", "kuopio-paakirjasto", bot.clock(), language="fi")
    found = json.dumps(bot.slack.command("etsi lukukoira", user="U0VISITOR").json(), ensure_ascii=False)
    assert "ei ota vierailijoita 14.01.2027 asti" in found
    # clearing the date opens the library again
    offer = count(bot.session_factory, HostOffer)
    submit(bot, offer_values(bot), offer=offer)
    assert count(bot.session_factory, ClosedPeriod) == 0


def test_pickers_answer_within_slacks_limits(bot: Bot) -> None:
    set_home(bot.session_factory, HOST, "siilinjarvi", bot.clock(), language="fi")
    with bot.session_factory.begin() as s:
        category = s.scalar(select(TopicCategory))
        for n in range(150):
            s.add(
                Topic(
                    key=f"extra-{n}",
                    category_id=category.id,
                    name_fi=f"lisäaihe {n} " + "hyvin pitkä nimi " * 10,
                    name_sv=f"extra {n}",
                    name_en=f"extra {n}",
                    synonyms="",
                    status=TopicStatus.ACTIVE,
                    created_at=bot.clock(),
                )
            )
    reply = bot.slack.suggest(ids.OFFER_TOPICS, "", user=HOST)
    body = reply.json()
    check_options_response(body)
    assert sum(len(g["options"]) for g in body["option_groups"]) == 100
    assert body["option_groups"][0]["label"]["text"] == "Lapset ja nuoret"
    typed = bot.slack.suggest(ids.OFFER_TOPICS, "karaokea", user=HOST).json()
    check_options_response(typed)
    assert typed["option_groups"][0]["options"][0]["value"] == str(
        topic_id(bot.session_factory, "event-production")
    )
    libraries = bot.slack.suggest(ids.OFFER_LIBRARY, "kuo", user=HOST).json()
    check_options_response(libraries)
    assert libraries["options"][0]["text"]["text"] == "Kuopion pääkirjasto"


def suggest_topic(bot: Bot, text: str = "Sirkuskoulu") -> int:
    set_home(bot.session_factory, HOST, "siilinjarvi", bot.clock(), language="fi")
    answer = submit(
        bot, offer_values(bot, **{ids.OFFER_TOPICS: multi([]), ids.OFFER_SUGGESTION: text_value(text)})
    )
    assert answer["response_action"] == "update"
    assert "lähetetty informaatikoille" in json.dumps(answer, ensure_ascii=False)
    with bot.session_factory() as s:
        return s.scalar(select(TopicSuggestion.id))


def suggestion_dm(bot: Bot) -> dict[str, Any]:
    call = next(c for c in bot.api.wait_for("chat.postMessage") if c.body["channel"] == COORDINATOR)
    body = copy.deepcopy(call.body)
    if isinstance(body.get("blocks"), str):
        body["blocks"] = json.loads(body["blocks"])
    check_message(body)
    return body


def test_suggested_topic_is_approved_into_the_catalogue_and_the_offer(bot: Bot) -> None:
    suggestion = suggest_topic(bot)
    dm = suggestion_dm(bot)
    text = json.dumps(dm, ensure_ascii=False)
    assert "Uusi aihe-ehdotus:* ”Sirkuskoulu”" in text and f"<@{HOST}>" in text
    actions = next(b for b in dm["blocks"] if b["type"] == "actions")
    assert [e["action_id"] for e in actions["elements"]] == [
        ids.SUGGESTION_APPROVE,
        ids.SUGGESTION_MERGE,
        ids.SUGGESTION_REJECT,
    ]
    category = actions["elements"][0]["options"][0]["value"]

    # a non-coordinator cannot decide
    select_action(bot, ids.SUGGESTION_APPROVE, actions["block_id"], category, user=OTHER)
    with bot.session_factory() as s:
        assert s.get(TopicSuggestion, suggestion).status.value == "pending"

    select_action(bot, ids.SUGGESTION_APPROVE, actions["block_id"], category, user=COORDINATOR)
    updated = bot.api.wait_for("chat.update")[-1].body
    assert "Hyväksytty aiheeksi ”Sirkuskoulu”" in json.dumps(updated, ensure_ascii=False)
    with bot.session_factory() as s:
        topic = s.scalar(select(Topic).where(Topic.name_fi == "Sirkuskoulu"))
        assert topic is not None and topic.status == TopicStatus.ACTIVE
        offer = s.scalar(select(HostOffer))
        assert [t.id for t in offer.topics] == [topic.id]
    told = [c for c in bot.api.wait_for("chat.postMessage", count=2) if c.body["channel"] == HOST]
    assert told and "hyväksytty" in json.dumps(told[-1].body, ensure_ascii=False)

    # a second click is stale: nothing changes, the clicker is told who decided
    select_action(bot, ids.SUGGESTION_APPROVE, actions["block_id"], category, user=COORDINATOR)
    late = bot.api.wait_for("response_url", count=2)[-1].body
    assert "already decided (<@U0COORD>)" in json.dumps(late, ensure_ascii=False)  # in the clicker's language
    assert count(bot.session_factory, Topic) == 21

    set_home(bot.session_factory, "U0VISITOR", "kuopio-paakirjasto", bot.clock(), language="fi")
    found = json.dumps(bot.slack.command("etsi sirkuskoulua", user="U0VISITOR").json(), ensure_ascii=False)
    assert "Siilinjärven kirjasto" in found


def test_suggestion_merged_into_an_existing_topic(bot: Bot) -> None:
    suggest_topic(bot, "Lukukoirat kouluilla")
    dm = suggestion_dm(bot)
    actions = next(b for b in dm["blocks"] if b["type"] == "actions")
    options = bot.slack.suggest(
        ids.SUGGESTION_MERGE, "lukukoira", user=COORDINATOR, block_id=actions["block_id"]
    ).json()
    check_options_response(options)
    reading_dogs = str(topic_id(bot.session_factory, "reading-dogs"))
    assert options["option_groups"][0]["options"][0]["value"] == reading_dogs
    select_action(
        bot, ids.SUGGESTION_MERGE, actions["block_id"], reading_dogs, user=COORDINATOR, kind="external_select"
    )
    bot.api.wait_for("chat.update")
    with bot.session_factory() as s:
        topic = s.get(Topic, int(reading_dogs))
        assert "Lukukoirat kouluilla" in topic.synonyms.split("\n")
        assert [t.id for t in s.scalar(select(HostOffer)).topics] == [topic.id]
    assert count(bot.session_factory, Topic) == 20


def test_suggestion_rejected(bot: Bot) -> None:
    suggestion = suggest_topic(bot, "Kahvinkeitto")
    dm = suggestion_dm(bot)
    actions = next(b for b in dm["blocks"] if b["type"] == "actions")
    assert (
        bot.slack.action(
            ids.SUGGESTION_REJECT, str(suggestion), user=COORDINATOR, block_id=actions["block_id"]
        ).status
        == 200
    )
    assert "Hylätty" in json.dumps(bot.api.wait_for("chat.update")[-1].body, ensure_ascii=False)
    with bot.session_factory() as s:
        assert s.get(TopicSuggestion, suggestion).status.value == "rejected"
        assert s.scalar(select(HostOffer)).topics == []
    assert count(bot.session_factory, Topic) == 20


def test_an_offer_with_a_retired_topic_can_still_be_edited(bot: Bot) -> None:
    set_home(bot.session_factory, HOST, "siilinjarvi", bot.clock(), language="fi")
    offer = add_offer(
        bot.session_factory, "siilinjarvi", ["reading-dogs", "bookmobile"], bot.clock(), contacts=(HOST,)
    )
    dogs, bus = topic_id(bot.session_factory, "reading-dogs"), topic_id(bot.session_factory, "bookmobile")
    with bot.session_factory.begin() as s:
        s.get(Topic, dogs).status = TopicStatus.RETIRED
    answer = submit(bot, offer_values(bot, **{ids.OFFER_TOPICS: multi([str(dogs), str(bus)])}), offer=offer)
    assert answer["response_action"] == "update"
    with bot.session_factory() as s:
        assert sorted(t.id for t in s.get(HostOffer, offer).topics) == sorted([dogs, bus])
    # but a retired topic cannot be added to another offer
    answer = submit(bot, offer_values(bot, **{ids.OFFER_TOPICS: multi([str(dogs)])}))
    assert ids.OFFER_TOPICS in answer["errors"]
    assert count(bot.session_factory, HostOffer) == 1


def test_app_home_offer_button_opens_the_form(bot: Bot) -> None:
    set_home(bot.session_factory, HOST, "siilinjarvi", bot.clock(), language="en")
    assert bot.slack.action(ids.OPEN_OFFER, where="home", user=HOST).status == 200
    view = opened_view(bot)
    check_view(view)
    assert view["title"]["text"] == "New offer"
    assert view["callback_id"] == ids.OFFER_VIEW


def test_coordinator_finds_any_librarys_offers_by_name(bot: Bot) -> None:
    add_offer(bot.session_factory, "varkaus", ["bookmobile"], bot.clock(), contacts=(HOST,))
    set_home(bot.session_factory, COORDINATOR, "kuopio-paakirjasto", bot.clock(), language="fi")
    body = bot.slack.command("tarjoa varkau", user=COORDINATOR).json()
    check_message(body)
    assert "Varkauden kirjasto" in json.dumps(body, ensure_ascii=False)
    assert any(b.get("accessory", {}).get("action_id") == ids.EDIT_OFFER for b in body["blocks"])
    # someone else gets no edit button for it: a new-offer form opens instead
    set_home(bot.session_factory, OTHER, "kuopio-paakirjasto", bot.clock(), language="fi")
    reply = bot.slack.command("tarjoa varkau", user=OTHER)
    assert reply.status == 200 and "Varkauden" not in reply.text
    assert opened_view(bot)["title"]["text"] == "Uusi tarjous"
