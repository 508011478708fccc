"""Coordinators keep the catalogue: add, rename, retire and restore topics; ids never change."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select

from bot import ids
from bot.views.limits import check_options_response, check_view
from models import HostOffer, Topic, TopicStatus
from tests.conftest import COORDINATOR, Bot
from tests.fakes.slack_requests import select_value, text_value
from tests.find_support import add_offer, count, set_home, topic_id


def values(**fields: Any) -> dict[str, dict[str, Any]]:
    blocks = {
        ids.TOPIC_PICK: select_value(None, kind="external_select"),
        ids.TOPIC_CATEGORY: select_value(None),
        ids.TOPIC_NAME_FI: text_value(None),
        ids.TOPIC_NAME_SV: text_value(None),
        ids.TOPIC_NAME_EN: text_value(None),
        ids.TOPIC_SYNONYMS: text_value(None),
        ids.TOPIC_STATUS: {"type": "checkboxes", "selected_options": []},
    }
    blocks.update(fields)
    return {block: {block: value} for block, value in blocks.items()}


def retired() -> dict[str, Any]:
    return {
        "type": "checkboxes",
        "selected_options": [{"text": {"type": "plain_text", "text": "x"}, "value": "retired"}],
    }


def test_coordinator_adds_renames_and_retires_topics(bot: Bot) -> None:
    set_home(bot.session_factory, COORDINATOR, "kuopio-paakirjasto", bot.clock(), language="fi")
    assert bot.slack.action(ids.OPEN_TOPICS, user=COORDINATOR).status == 200
    view = bot.api.wait_for("views.open")[-1].body["view"]
    view = json.loads(view) if isinstance(view, str) else view
    check_view(view)
    category = next(b for b in view["blocks"] if b.get("block_id") == ids.TOPIC_CATEGORY)
    first_category = category["element"]["options"][0]["value"]

    # a new topic needs a Finnish name and a category
    answer = bot.slack.submit(ids.TOPICS_VIEW, values(), user=COORDINATOR).json()
    assert answer["response_action"] == "errors"
    assert set(answer["errors"]) == {ids.TOPIC_NAME_FI, ids.TOPIC_CATEGORY}
    assert count(bot.session_factory, Topic) == 20

    answer = bot.slack.submit(
        ids.TOPICS_VIEW,
        values(
            **{
                ids.TOPIC_CATEGORY: select_value(first_category),
                ids.TOPIC_NAME_FI: text_value("Sirkuskoulu"),
                ids.TOPIC_SYNONYMS: text_value("sirkus, jongleeraus"),
            }
        ),
        user=COORDINATOR,
    ).json()
    assert answer["response_action"] == "update"
    assert "Aihe ”Sirkuskoulu” on tallennettu" in json.dumps(answer, ensure_ascii=False)
    with bot.session_factory() as s:
        new = s.scalar(select(Topic).where(Topic.name_fi == "Sirkuskoulu"))
        assert new.name_sv == "Sirkuskoulu" and new.synonyms == "sirkus\njongleeraus"

    # rename: the id stays, offers keep pointing at it and find it under the new name
    dogs = topic_id(bot.session_factory, "reading-dogs")
    offer = add_offer(bot.session_factory, "varkaus", ["reading-dogs"], bot.clock())
    bot.slack.submit(
        ids.TOPICS_VIEW,
        values(
            **{
                ids.TOPIC_PICK: select_value(str(dogs), kind="external_select"),
                ids.TOPIC_NAME_FI: text_value("lukukoirat"),
            }
        ),
        user=COORDINATOR,
    )
    with bot.session_factory() as s:
        assert s.get(Topic, dogs).name_fi == "lukukoirat"
        assert [t.id for t in s.get(HostOffer, offer).topics] == [dogs]
    found = json.dumps(bot.slack.command("etsi lukukoiria", user=COORDINATOR).json(), ensure_ascii=False)
    assert "Tarjoaa: lukukoirat" in found

    # retire: hidden from etsi and pickers, still readable, and restorable
    bot.slack.submit(
        ids.TOPICS_VIEW,
        values(
            **{ids.TOPIC_PICK: select_value(str(dogs), kind="external_select"), ids.TOPIC_STATUS: retired()}
        ),
        user=COORDINATOR,
    )
    with bot.session_factory() as s:
        assert s.get(Topic, dogs).status == TopicStatus.RETIRED
    found = json.dumps(bot.slack.command("etsi lukukoiria", user=COORDINATOR).json(), ensure_ascii=False)
    assert "Varkauden kirjasto" not in found
    offer_options = bot.slack.suggest(ids.OFFER_TOPICS, "lukukoira", user=COORDINATOR).json()
    assert str(dogs) not in json.dumps(offer_options)
    pick = bot.slack.suggest(ids.TOPIC_PICK, "lukukoira", user=COORDINATOR).json()
    check_options_response(pick)
    assert "lukukoirat (poistettu)" in json.dumps(pick, ensure_ascii=False)
    bot.slack.submit(
        ids.TOPICS_VIEW,
        values(**{ids.TOPIC_PICK: select_value(str(dogs), kind="external_select")}),
        user=COORDINATOR,
    )
    found = json.dumps(bot.slack.command("etsi lukukoiria", user=COORDINATOR).json(), ensure_ascii=False)
    assert "Varkauden kirjasto" in found


def test_others_cannot_edit_the_catalogue(bot: Bot) -> None:
    set_home(bot.session_factory, "U0VISITOR", "kuopio-paakirjasto", bot.clock(), language="en")
    assert bot.slack.action(ids.OPEN_TOPICS, user="U0VISITOR").status == 200
    refused = bot.api.wait_for("response_url")[-1].body
    assert "This is not yours to decide" in json.dumps(refused)
    assert not bot.api.of("views.open")
    reply = bot.slack.submit(
        ids.TOPICS_VIEW,
        values(**{ids.TOPIC_CATEGORY: select_value("1"), ids.TOPIC_NAME_FI: text_value("Hakkerointi")}),
        user="U0VISITOR",
    ).json()
    assert reply["response_action"] == "push"
    assert count(bot.session_factory, Topic) == 20


def test_a_topic_name_already_in_the_catalogue_is_refused_inline(bot: Bot) -> None:
    """The new-topic form sent twice (or a rename onto another topic's name) adds nothing."""
    set_home(bot.session_factory, COORDINATOR, "kuopio-paakirjasto", bot.clock(), language="fi")
    with bot.session_factory() as s:
        category = str(s.scalar(select(Topic.category_id).limit(1)))
    new = values(**{ids.TOPIC_CATEGORY: select_value(category), ids.TOPIC_NAME_FI: text_value("Sirkuskoulu")})
    assert bot.slack.submit(ids.TOPICS_VIEW, new, user=COORDINATOR).json()["response_action"] == "update"
    before = count(bot.session_factory, Topic)
    again = values(
        **{ids.TOPIC_CATEGORY: select_value(category), ids.TOPIC_NAME_FI: text_value(" sirkuskoulu ")}
    )
    answer = bot.slack.submit(ids.TOPICS_VIEW, again, user=COORDINATOR).json()
    assert answer["response_action"] == "errors"
    assert (
        "Sirkuskoulu" in answer["errors"][ids.TOPIC_NAME_FI]
        and "on jo" in answer["errors"][ids.TOPIC_NAME_FI]
    )
    assert count(bot.session_factory, Topic) == before
    dogs = topic_id(bot.session_factory, "reading-dogs")
    rename = values(
        **{
            ids.TOPIC_PICK: select_value(str(dogs), kind="external_select"),
            ids.TOPIC_NAME_FI: text_value("Sirkuskoulu"),
        }
    )
    assert bot.slack.submit(ids.TOPICS_VIEW, rename, user=COORDINATOR).json()["response_action"] == "errors"
    with bot.session_factory() as s:
        assert s.get(Topic, dogs).name_fi != "Sirkuskoulu"
    with bot.session_factory() as s:
        own = s.get(Topic, dogs).name_fi
    keep = values(  # its own name again is no clash
        **{
            ids.TOPIC_PICK: select_value(str(dogs), kind="external_select"),
            ids.TOPIC_NAME_FI: text_value(own),
        }
    )
    assert bot.slack.submit(ids.TOPICS_VIEW, keep, user=COORDINATOR).json()["response_action"] == "update"
