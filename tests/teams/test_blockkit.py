"""The Block Kit → Adaptive Card renderer: mrkdwn, buttons, dialogs and submitted values read back."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from bot import ids
from bot.i18n import translator
from bot.views import blocks as b
from bot.views.propose import propose_modal, with_colleagues, with_length
from handlers.propose import parse_proposal
from models import Topic
from services.visits.visit_card import HostChoice
from teams.cards.blockkit import message_card
from teams.cards.dialog import dialog_card, dialog_title, view_state
from teams.cards.limits import MAX_ACTIONS, assert_fits, check_card
from teams.cards.mrkdwn import mrkdwn_text
from tests.fakes.slack_requests import date_value, select_value, text_value, user_value


def walk(node: Any) -> list[dict[str, Any]]:
    """Every object in a card, depth first."""
    found: list[dict[str, Any]] = []
    if isinstance(node, dict):
        found.append(node)
        for value in node.values():
            found.extend(walk(value))
    elif isinstance(node, list):
        for value in node:
            found.extend(walk(value))
    return found


def of_type(card: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [n for n in walk(card) if n.get("type") == kind]


# --- mrkdwn ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("slack", "teams"),
    [
        ("*Kuopion kirjasto* kutsuu", "**Kuopion kirjasto** kutsuu"),
        ("a *b* c *d*", "a **b** c **d**"),
        ("5 * 3 * 2", "5 * 3 * 2"),  # not bold: spaces inside
        ("~vanha~ uusi", "vanha uusi"),  # no strikethrough in Adaptive Cards: the marks go
        ("<https://example.org/a?b=1|Lue lisää>", "[Lue lisää](https://example.org/a?b=1)"),
        ("<https://example.org>", "https://example.org"),
        ("<mailto:a@b.fi|a@b.fi>", "[a@b.fi](mailto:a@b.fi)"),
        ("hei <@U0VISITOR>!", "hei Anna Äijälä!"),
        ("<@U0UNKNOWN> ja <@T0ab12cd34ef5>", "– ja Tiimi"),
        ("<#C0CHANNEL>", "#–"),
        ("<#C0CHANNEL|yleinen>", "#yleinen"),
        ("<!date^1767225600^{date_short}|1.1.2026> klo", "1.1.2026 klo"),
        ("<!channel> huom", " huom"),
        ("&lt;!channel&gt; &amp; &lt;@U1&gt;", "<!channel> & <@U1>"),
        (":warning: Muista", "⚠️ Muista"),
        (":no_such_emoji: x", " x"),
        ("klo 10:30:00", "klo 10:30:00"),
        ("*Päivä:* ti\n*Kesto:* päivä", "**Päivä:** ti\n\n**Kesto:** päivä"),  # a lone newline breaks no line
        ("Listat:\n- yksi\n- kaksi\n1. kolme", "Listat:\n- yksi\n- kaksi\n1. kolme"),  # list items do
        ("a\n\nb", "a\n\nb"),
        ("", ""),
    ],
)
def test_mrkdwn_becomes_card_markdown(slack: str, teams: str) -> None:
    names = {"U0VISITOR": "Anna Äijälä", "T0ab12cd34ef5": "Tiimi"}
    assert mrkdwn_text(slack, names) == teams


def test_escaped_user_text_stays_inert() -> None:
    """Text a person typed (escaped on the Slack side) never becomes a mention or link."""
    typed = b.escape("<@U0VISITOR> <https://evil.example|klikkaa>")
    card = message_card(b.message("x", [b.section(typed)]), lang="fi", names={"U0VISITOR": "Anna"})
    text = of_type(card, "TextBlock")[0]["text"]
    assert "Anna" not in text and "](https://evil" not in text
    assert text == "<@U0VISITOR> <https://evil.example|klikkaa>"


# --- messages ---------------------------------------------------------------------------------------------


def test_a_message_with_eight_buttons_gives_sets_of_at_most_six_in_order() -> None:
    buttons = [b.button(f"Nappi {n}", f"act_{n}", str(n), style="danger") for n in range(8)]
    card = message_card(b.message("Kahdeksan", [b.header("Otsikko"), b.actions(*buttons)]), lang="fi")
    sets = of_type(card, "ActionSet")
    assert [len(s["actions"]) for s in sets] == [6, 2]
    verbs = [a["verb"] for s in sets for a in s["actions"]]
    assert verbs == [f"act_{n}" for n in range(8)]
    first = sets[0]["actions"][0]
    assert first == {
        "type": "Action.Execute",
        "title": "Nappi 0",
        "verb": "act_0",
        "data": {"action_id": "act_0", "value": "0"},
    }  # no style: Teams does not support positive/destructive
    assert card["version"] == "1.5" and card["lang"] == "fi" and card["fallbackText"] == "Kahdeksan"
    assert card["body"][0] == {
        "type": "TextBlock",
        "text": "Otsikko",
        "weight": "Bolder",
        "size": "Medium",
        "wrap": True,
    }
    assert_fits(card)


def test_dialog_buttons_fetch_a_task_and_url_buttons_open_the_url() -> None:
    confirm = b.confirm("Varmasti?", "Peru", "Kyllä", "Ei", danger=True)
    message = b.message(
        "x",
        [
            b.section(
                "Vierailu", accessory=b.button("Hylkää", ids.OPEN_PROPOSE, "42", confirm_dialog=confirm)
            ),
            b.actions(
                {
                    "type": "button",
                    "text": b.plain("Avaa"),
                    "action_id": "link",
                    "url": "https://example.org/x",
                },
                b.button("Hyväksy", "approve", "42", style="primary"),
            ),
        ],
    )
    card = message_card(message, lang="sv", dialogs={ids.OPEN_PROPOSE})
    accessory_set, buttons = of_type(card, "ActionSet")
    assert card["body"][0]["type"] == "TextBlock" and card["body"][1] is accessory_set
    assert accessory_set["actions"] == [
        {
            "type": "Action.Submit",
            "title": "Hylkää",
            "data": {"msteams": {"type": "task/fetch"}, "action_id": ids.OPEN_PROPOSE, "value": "42"},
        }
    ]
    assert buttons["actions"][0] == {
        "type": "Action.OpenUrl",
        "title": "Avaa",
        "url": "https://example.org/x",
    }
    assert buttons["actions"][1]["type"] == "Action.Execute"
    assert "confirm" not in str(card)
    assert_fits(card)


def test_fields_become_facts_context_small_and_dividers_separators() -> None:
    message = b.message(
        "x",
        [
            b.section("Alku"),
            b.divider(),
            b.fields("*Kirjasto*\nKuopio", "*Päivä*\nti 2.12.2026"),
            b.fields("vapaa teksti", "*toinen*"),
            b.context("pieni", "teksti"),
            {"type": "image", "image_url": "https://example.org/a.png", "alt_text": "kuva"},
            {"type": "rich_text", "elements": []},
            {"type": "no_such_block"},
            "not even a dict",
        ],
    )
    card = message_card(message, lang="en")
    body = card["body"]
    assert body[0] == {"type": "TextBlock", "text": "Alku", "wrap": True}
    assert body[1] == {
        "type": "FactSet",
        "separator": True,
        "facts": [{"title": "Kirjasto", "value": "Kuopio"}, {"title": "Päivä", "value": "ti 2.12.2026"}],
    }
    assert body[2]["type"] == "ColumnSet" and len(body[2]["columns"]) == 2
    assert body[3] == {
        "type": "TextBlock",
        "text": "pieni  teksti",
        "wrap": True,
        "size": "Small",
        "isSubtle": True,
    }
    assert body[4] == {"type": "Image", "url": "https://example.org/a.png", "altText": "kuva"}
    assert len(body) == 5
    assert_fits(card)


def test_selects_and_overflows_in_an_actions_block_become_one_action_per_option() -> None:
    select = {
        "type": "static_select",
        "action_id": "pick",
        "options": [b.option(f"Valinta {n}", f"v{n}") for n in range(4)],
    }
    overflow = {
        "type": "overflow",
        "action_id": "more",
        "options": [b.option("Lisää", "m1"), b.option("Muu", "m2")],
    }
    card = message_card(b.message("x", [b.actions(b.button("Eka", "first"), select, overflow)]), lang="fi")
    sets = of_type(card, "ActionSet")
    assert [len(s["actions"]) for s in sets] == [6, 1]
    actions = [a for s in sets for a in s["actions"]]
    assert [(a["verb"], a["data"]["value"]) for a in actions] == [
        ("first", ""),
        ("pick", "v0"),
        ("pick", "v1"),
        ("pick", "v2"),
        ("pick", "v3"),
        ("more", "m1"),
        ("more", "m2"),
    ]


def test_consecutive_plain_texts_merge_into_one_block() -> None:
    card = message_card(b.message("x", [b.section("yksi"), b.section("kaksi"), b.header("h")]), lang="fi")
    assert card["body"][0]["text"] == "yksi\n\nkaksi" and len(card["body"]) == 2


@pytest.mark.parametrize(
    "garbage",
    [
        {},
        {"text": 5, "blocks": "no"},
        {"blocks": [None, 3, [], {"type": "section"}, {"type": "section", "text": "str"}]},
        {
            "blocks": [
                {"type": "actions", "elements": [None, {"type": "button"}, {"type": "button", "text": 3}]}
            ]
        },
        {"blocks": [{"type": "section", "fields": [None, {"text": None}], "accessory": {"type": "button"}}]},
        {"blocks": [{"type": "context", "elements": "x"}, {"type": "header", "text": {"text": ["x"]}}]},
        {
            "blocks": [
                {"type": "actions", "elements": [{"type": "static_select", "action_id": "a", "options": [1]}]}
            ]
        },
    ],
)
def test_malformed_messages_never_raise(garbage: dict[str, Any]) -> None:
    card = message_card(garbage, lang="fi")
    assert check_card(card) == []


# --- dialogs ----------------------------------------------------------------------------------------------

TOPICS = [Topic(id=i, name_fi=f"Aihe {i}", name_sv=f"Ämne {i}", name_en=f"Topic {i}") for i in range(1, 6)]


def the_form(lang: str = "fi") -> dict[str, Any]:
    t = translator(lang)
    view = propose_modal(t, topics=TOPICS, topic=None, host=HostChoice(7, "Joroisten kirjasto", 42.0))
    view = with_length(view, t, "two_days")
    return with_colleagues(view, t, [("U0COLLEAGUE1", "Väinö Väänänen")], "U0BOSS")


def by_id(card: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {n["id"]: n for n in walk(card) if n.get("type", "").startswith("Input.")}


def test_dialog_card_maps_every_input_and_submits_with_the_callback() -> None:
    form = the_form()
    card = dialog_card(
        form,
        lang="fi",
        choices={ids.PROPOSE_STOPS: [("7:3", "Joroinen: Aihe 3")]},
        people=[("U0BOSS", "Pomo Päällikkö"), ("U0COLLEAGUE1", "Väinö Väänänen")],
    )
    assert_fits(card)
    assert dialog_title(form) == translator("fi")("visits.form.title")
    inputs = by_id(card)
    topic = inputs[ids.PROPOSE_TOPIC]
    assert topic["type"] == "Input.ChoiceSet" and topic["style"] == "compact" and topic["isRequired"] is True
    assert [c["value"] for c in topic["choices"]] == ["1", "2", "3", "4", "5"]
    host = inputs[ids.PROPOSE_HOST_SELECT]
    assert host["style"] == "filtered" and host["value"] == "7"  # the initial option is offered and chosen
    assert inputs[ids.PROPOSE_TRAVEL]["style"] == "expanded"
    assert (
        inputs[ids.PROPOSE_LEARN]["isMultiline"] is True and inputs[ids.PROPOSE_LEARN]["type"] == "Input.Text"
    )
    assert inputs[ids.PROPOSE_KM]["isRequired"] is False and inputs[ids.PROPOSE_KM]["maxLength"] == 10
    assert inputs[f"{ids.PROPOSE_DATE}_1"]["type"] == "Input.Date"
    assert inputs[ids.PROPOSE_SUPERVISOR]["choices"][0] == {"title": "Pomo Päällikkö", "value": "U0BOSS"}
    assert inputs[ids.PROPOSE_STOPS]["isMultiSelect"] is True
    supervisor_of = inputs[f"{ids.PROPOSE_COLLEAGUE_SUPERVISOR}_U0COLLEAGUE1"]
    assert supervisor_of["value"] == "U0BOSS"  # initial_user
    assert all("errorMessage" not in i for i in inputs.values())
    assert card["actions"] == [
        {
            "type": "Action.Submit",
            "title": translator("fi")("visits.form.submit"),
            "data": {"callback_id": ids.PROPOSE_VIEW, "private_metadata": ""},
        }
    ]


def test_dialog_card_keeps_values_and_shows_each_error_under_its_input() -> None:
    form = the_form()
    values = {
        ids.PROPOSE_LEARN: "Omatoimikirjasto",
        ids.PROPOSE_KM: "abc",
        f"{ids.PROPOSE_DATE}_1": "2026-12-02",
    }
    errors = {ids.PROPOSE_KM: "Kilometrit numeroina", "somewhere_else": "Jokin meni vikaan"}
    card = dialog_card(form, lang="fi", values=values, errors=errors)
    body = card["body"]
    assert body[0] == {"type": "TextBlock", "text": "Jokin meni vikaan", "wrap": True, "color": "Attention"}
    km = next(i for i, e in enumerate(body) if e.get("id") == ids.PROPOSE_KM)
    assert body[km]["value"] == "abc"
    assert body[km + 1] == {
        "type": "TextBlock",
        "text": "Kilometrit numeroina",
        "wrap": True,
        "color": "Attention",
        "spacing": "None",
    }
    assert by_id(card)[ids.PROPOSE_LEARN]["value"] == "Omatoimikirjasto"
    assert by_id(card)[f"{ids.PROPOSE_DATE}_1"]["value"] == "2026-12-02"
    assert sum(1 for n in walk(card) if n.get("color") == "Attention") == 2
    assert_fits(card)


# --- view_state -------------------------------------------------------------------------------------------

EVERY_ELEMENT = b.modal(
    "every",
    "Kaikki",
    [
        b.section("Johdanto", accessory=b.button("ohitetaan", "skip")),
        b.input_block("text", "Teksti", {"type": "plain_text_input", "action_id": "text_a", "max_length": 5}),
        b.input_block("long", "Pitkä", {"type": "plain_text_input", "action_id": "long_a"}),
        b.input_block(
            "num", "Luku", {"type": "number_input", "action_id": "num_a", "is_decimal_allowed": False}
        ),
        b.input_block(
            "sel", "Valinta", {"type": "static_select", "action_id": "sel_a", "options": [b.option("A", "a")]}
        ),
        b.input_block("ext", "Haku", {"type": "external_select", "action_id": "ext_a"}),
        b.input_block(
            "radio",
            "Radio",
            {"type": "radio_buttons", "action_id": "radio_a", "options": [b.option("A", "a")]},
        ),
        b.input_block(
            "msel",
            "Monta",
            {"type": "multi_static_select", "action_id": "msel_a", "options": [b.option("A", "a")]},
        ),
        b.input_block("mext", "Monta hakua", {"type": "multi_external_select", "action_id": "mext_a"}),
        b.input_block(
            "boxes", "Ruudut", {"type": "checkboxes", "action_id": "boxes_a", "options": [b.option("A", "a")]}
        ),
        b.input_block("user", "Henkilö", {"type": "users_select", "action_id": "user_a"}),
        b.input_block("users", "Henkilöt", {"type": "multi_users_select", "action_id": "users_a"}),
        b.input_block("day", "Päivä", {"type": "datepicker", "action_id": "day_a"}),
        b.input_block("odd", "Outo", {"type": "timepicker", "action_id": "odd_a"}),
    ],
    submit="Tallenna",
    private_metadata="42",
)


def test_view_state_for_every_element_type() -> None:
    data = {
        "text": "abcdefgh",
        "long": "x" * 4000,
        "num": "12",
        "sel": "a",
        "ext": "7",
        "radio": "a",
        "msel": "a,b",
        "mext": "7:3, 8:4",
        "boxes": "pays",
        "user": "U0BOSS",
        "users": "U0A,U0B",
        "day": "2026-12-02",
        "odd": "10:00",
        "unknown": "ignored",
        "private_metadata": "43",
        "callback_id": "not read",
    }
    view = view_state(EVERY_ELEMENT, data)
    assert view["callback_id"] == "every" and view["private_metadata"] == "43"
    values = view["state"]["values"]
    assert values == {
        "text": {"text_a": {"type": "plain_text_input", "value": "abcde"}},
        "long": {"long_a": {"type": "plain_text_input", "value": "x" * 3000}},
        "num": {"num_a": {"type": "number_input", "value": "12"}},
        "sel": {"sel_a": {"type": "static_select", "selected_option": {"value": "a"}}},
        "ext": {"ext_a": {"type": "external_select", "selected_option": {"value": "7"}}},
        "radio": {"radio_a": {"type": "radio_buttons", "selected_option": {"value": "a"}}},
        "msel": {
            "msel_a": {"type": "multi_static_select", "selected_options": [{"value": "a"}, {"value": "b"}]}
        },
        "mext": {
            "mext_a": {
                "type": "multi_external_select",
                "selected_options": [{"value": "7:3"}, {"value": "8:4"}],
            }
        },
        "boxes": {"boxes_a": {"type": "checkboxes", "selected_options": [{"value": "pays"}]}},
        "user": {"user_a": {"type": "users_select", "selected_user": "U0BOSS"}},
        "users": {"users_a": {"type": "multi_users_select", "selected_users": ["U0A", "U0B"]}},
        "day": {"day_a": {"type": "datepicker", "selected_date": "2026-12-02"}},
    }


def test_view_state_of_an_empty_submission_is_empty_everywhere() -> None:
    view = view_state(EVERY_ELEMENT, {"day": "2.12.2026", "sel": ""})
    values = view["state"]["values"]
    assert view["private_metadata"] == "42"  # the modal's own
    assert values["text"]["text_a"]["value"] is None
    assert values["sel"]["sel_a"]["selected_option"] is None
    assert values["msel"]["msel_a"]["selected_options"] == []
    assert values["user"]["user_a"]["selected_user"] is None
    assert values["users"]["users_a"]["selected_users"] == []
    assert values["day"]["day_a"]["selected_date"] is None  # not an ISO date


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"text": 5, "num": 3.5, "sel": ["a"], "msel": {"a": 1}, "day": 20261202, "user": None, "users": True},
        {key: "Ä" * 10_000 for key in ("text", "long", "num", "sel", "msel", "mext", "user", "users", "day")},
        {key: "," * 10_000 for key in ("msel", "users", "boxes")},
        {"private_metadata": ["x"], "text": {"nested": "dict"}},
    ],
)
def test_garbage_submissions_never_raise(data: dict[str, Any]) -> None:
    view = view_state(EVERY_ELEMENT, data)
    assert set(view["state"]["values"]) <= {
        block["block_id"] for block in EVERY_ELEMENT["blocks"] if "block_id" in block
    }
    assert len(str(view)) < 40_000
    assert view_state({"blocks": "x"}, data)["state"]["values"] == {}
    assert view_state(
        {"blocks": [None, {"type": "input"}, {"type": "input", "block_id": "a", "element": 3}]}, data
    )
    # and the dialog renders anyway, garbage kept out of the typed inputs
    assert check_card(dialog_card(EVERY_ELEMENT, lang="fi", values=data, errors={"x": "y"})) == []


def test_a_teams_proposal_reads_as_the_same_proposal_input_as_slack() -> None:
    form = the_form()
    teams_data = {
        ids.PROPOSE_TOPIC: "3",
        ids.PROPOSE_HOST_SELECT: "7",
        ids.PROPOSE_STOPS: "8:2,9:4",
        ids.PROPOSE_LEARN: "Miten omatoimiaikaa valvotaan.",
        f"{ids.PROPOSE_DATE}_1": "2026-12-02",
        f"{ids.PROPOSE_DATE}_2": "2026-12-03",
        f"{ids.PROPOSE_DATE}_3": "",
        ids.PROPOSE_LENGTH: "two_days",
        ids.PROPOSE_TRAVEL: "car",
        ids.PROPOSE_KM: "120",
        ids.PROPOSE_TICKETS: "0",
        ids.PROPOSE_ACCOMMODATION: "89,50",
        ids.PROPOSE_SUPERVISOR: "U0BOSS",
        ids.PROPOSE_COLLEAGUES: "U0COLLEAGUE1",
        f"{ids.PROPOSE_COLLEAGUE_SUPERVISOR}_U0COLLEAGUE1": "U0BOSS2",
        ids.PROPOSE_NOTE: "Tulen aamupäivällä.",
        "callback_id": ids.PROPOSE_VIEW,
        "private_metadata": "",
    }
    slack_values: dict[str, dict[str, Any]] = {
        ids.PROPOSE_TOPIC: {ids.PROPOSE_TOPIC: select_value("3")},
        ids.PROPOSE_HOST_SELECT: {ids.PROPOSE_HOST_SELECT: select_value("7", kind="external_select")},
        ids.PROPOSE_STOPS: {
            ids.PROPOSE_STOPS: {
                "type": "multi_external_select",
                "selected_options": [{"value": "8:2"}, {"value": "9:4"}],
            }
        },
        ids.PROPOSE_LEARN: {ids.PROPOSE_LEARN: text_value("Miten omatoimiaikaa valvotaan.")},
        f"{ids.PROPOSE_DATE}_1": {f"{ids.PROPOSE_DATE}_1": date_value("2026-12-02")},
        f"{ids.PROPOSE_DATE}_2": {f"{ids.PROPOSE_DATE}_2": date_value("2026-12-03")},
        f"{ids.PROPOSE_DATE}_3": {f"{ids.PROPOSE_DATE}_3": date_value(None)},
        ids.PROPOSE_LENGTH: {ids.PROPOSE_LENGTH: select_value("two_days")},
        ids.PROPOSE_TRAVEL: {ids.PROPOSE_TRAVEL: select_value("car", kind="radio_buttons")},
        ids.PROPOSE_KM: {ids.PROPOSE_KM: text_value("120")},
        ids.PROPOSE_TICKETS: {ids.PROPOSE_TICKETS: text_value("0")},
        ids.PROPOSE_ACCOMMODATION: {ids.PROPOSE_ACCOMMODATION: text_value("89,50")},
        ids.PROPOSE_SUPERVISOR: {ids.PROPOSE_SUPERVISOR: user_value("U0BOSS")},
        ids.PROPOSE_COLLEAGUES: {
            ids.PROPOSE_COLLEAGUES: {"type": "multi_users_select", "selected_users": ["U0COLLEAGUE1"]}
        },
        f"{ids.PROPOSE_COLLEAGUE_SUPERVISOR}_U0COLLEAGUE1": {
            ids.PROPOSE_COLLEAGUE_SUPERVISOR: user_value("U0BOSS2")
        },
        ids.PROPOSE_NOTE: {ids.PROPOSE_NOTE: text_value("Tulen aamupäivällä.")},
    }
    from_teams = parse_proposal(view_state(form, teams_data))
    from_slack = parse_proposal({"state": {"values": slack_values}})
    assert from_teams == from_slack
    assert (
        from_teams.topic_id == 3 and from_teams.host_library_id == 7 and from_teams.stops == [(8, 2), (9, 4)]
    )
    assert from_teams.dates[:3] == [date(2026, 12, 2), date(2026, 12, 3), None]
    assert from_teams.colleague_supervisors == {"U0COLLEAGUE1": "U0BOSS2"}
    # every input of the form was read back
    inputs = {block["block_id"] for block in form["blocks"] if block.get("type") == "input"}
    assert set(view_state(form, teams_data)["state"]["values"]) == inputs


def test_max_actions_is_six() -> None:
    assert MAX_ACTIONS == 6


def test_typed_markdown_links_stay_plain_text() -> None:
    assert mrkdwn_text("[klikkaa](https://evil.example)") == "[klikkaa] (https://evil.example)"
    assert mrkdwn_text("<https://a.fi|ok>") == "[ok](https://a.fi)"


def test_number_inputs_keep_bounds_and_read_back_whole_numbers() -> None:
    modal = b.modal(
        "n",
        "Luku",
        [
            b.input_block(
                "cap",
                "Kapasiteetti",
                {
                    "type": "number_input",
                    "action_id": "cap",
                    "min_value": "0",
                    "max_value": "99",
                    "initial_value": "nan",
                },
            )
        ],
        submit="OK",
    )
    number = by_id(dialog_card(modal, lang="fi"))["cap"]
    assert (number["min"], number["max"]) == (0, 99) and "value" not in number
    assert by_id(dialog_card(modal, lang="fi", values={"cap": "12"}))["cap"]["value"] == 12
    assert view_state(modal, {"cap": 12.0})["state"]["values"]["cap"]["cap"]["value"] == "12"


# --- fitting into 28 KB, and the limits checker -------------------------------------------------------------


def test_an_oversized_message_is_cut_to_fit_and_a_small_one_is_untouched() -> None:
    small = b.message("x", [b.section("lyhyt " * 10)])
    assert message_card(small, lang="fi")["body"][0]["text"] == "lyhyt " * 10
    big = b.message(
        "x", [b.section(f"{n} " + "Ä" * 2900) for n in range(40)] + [b.actions(b.button("OK", "ok"))]
    )
    card = message_card(big, lang="fi")
    assert check_card(card) == []
    texts = [n["text"] for n in of_type(card, "TextBlock")]
    assert all(text.endswith("…") for text in texts) and texts[0].startswith("0 ÄÄÄ")
    assert of_type(card, "ActionSet")[0]["actions"][0]["verb"] == "ok"  # the buttons are kept whole


def test_an_oversized_dialog_drops_search_choices_first_and_keeps_the_chosen() -> None:
    select = {"type": "external_select", "action_id": "lib", "initial_option": b.option("Valittu", "v99")}
    modal = b.modal(
        "m", "Kirjasto", [b.section("Valitse"), b.input_block("lib", "Kirjasto", select)], submit="OK"
    )
    many = [(f"v{n}", "Å" * 75) for n in range(400)]
    card = dialog_card(modal, lang="fi", choices={"lib": many})
    assert check_card(card) == []
    chosen = by_id(card)["lib"]
    assert 0 < len(chosen["choices"]) < 400 and "v99" in {c["value"] for c in chosen["choices"]}
    assert chosen["value"] == "v99"
    assert card["body"][0]["text"] == "Valitse"  # the texts were not cut: fewer choices were enough


@pytest.mark.parametrize(
    ("card", "problem"),
    [
        ({"type": "AdaptiveCard", "version": "1.6", "body": []}, "version"),
        (
            {"type": "AdaptiveCard", "version": "1.5", "body": [{"type": "TextBlock", "text": "Ä" * 20_000}]},
            "bytes",
        ),
        (
            {
                "type": "AdaptiveCard",
                "version": "1.5",
                "body": [{"type": "ActionSet", "actions": [{"type": "Action.Execute", "verb": "x"}] * 7}],
            },
            "7 actions",
        ),
        ({"type": "AdaptiveCard", "version": "1.5", "actions": [{"type": "Action.Submit"}] * 7}, "7 actions"),
        ({"type": "AdaptiveCard", "version": "1.5", "body": [{"type": "Carousel"}]}, "Carousel"),
        (
            {
                "type": "AdaptiveCard",
                "version": "1.5",
                "body": [{"type": "Container", "items": [{"type": "Input.Rating"}]}],
            },
            "Input.Rating",
        ),
        (
            {"type": "AdaptiveCard", "version": "1.5", "actions": [{"type": "Action.Popover"}]},
            "Action.Popover",
        ),
        (
            {
                "type": "AdaptiveCard",
                "version": "1.5",
                "actions": [{"type": "Action.Submit", "style": "destructive"}],
            },
            "styling",
        ),
        ({"type": "AdaptiveCard", "version": "1.5", "body": [{"type": "TextBlock", "size": "Huge"}]}, "SDK"),
        ({"type": "AdaptiveCard", "version": "1.5", "lang": 5}, "SDK"),
        ({"type": "Nope", "version": "1.5"}, "AdaptiveCard"),
    ],
)
def test_the_checker_names_what_teams_would_reject(card: dict[str, Any], problem: str) -> None:
    problems = check_card(card)
    assert problems and any(problem in p for p in problems), problems
    with pytest.raises(AssertionError):
        assert_fits(card)
