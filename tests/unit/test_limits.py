"""The Block Kit limit checker catches what Slack would reject, and our views pass it at their largest."""

from __future__ import annotations

import pytest

from bot.i18n import translator
from bot.views import blocks as b
from bot.views import limits
from bot.views.help import help_message
from bot.views.home import home_view
from bot.views.settings import library_options, settings_modal
from models import Library
from services.people.staff import Staff

NO_HOME = Staff("U1", "fi", None, None, None, None)
LONG_NAME = "Hyvin " * 60 + "pitkä kirjasto"
WITH_HOME = Staff("U1", "sv", "sv", 1, LONG_NAME, 1)


@pytest.mark.parametrize(
    "bad",
    [
        {"type": "modal", "title": b.plain("x"), "blocks": []},
        {"type": "modal", "title": {"type": "plain_text", "text": "x" * 25}, "blocks": [b.section("x")]},
        {"type": "modal", "title": b.plain("x"), "blocks": [b.section("x")] * 101},
        {
            "type": "modal",
            "title": b.plain("x"),
            "blocks": [b.input_block("a", "b", {"type": "plain_text_input"})],
        },
        {"type": "home", "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}]},
        {"type": "home", "blocks": [b.section("x", block_id="same"), b.section("y", block_id="same")]},
        {"type": "home", "blocks": [{"type": "actions", "elements": [b.button("x", "a")] * 2}]},
        {"type": "home", "submit": b.plain("x"), "blocks": [b.section("x")]},
    ],
)
def test_checker_rejects_what_slack_rejects(bad: dict) -> None:
    with pytest.raises(limits.LimitError):
        limits.check_view(bad)


def test_checker_rejects_long_options_and_51_blocks() -> None:
    with pytest.raises(limits.LimitError):
        limits.check_options_response(
            {"options": [{"text": {"type": "plain_text", "text": "x" * 76}, "value": "1"}]}
        )
    with pytest.raises(limits.LimitError):
        limits.check_options_response({"options": [b.option("x", str(i)) for i in range(101)]})
    with pytest.raises(limits.LimitError):
        limits.check_message(b.message("x", []) | {"blocks": [b.divider()] * 51})


def test_builders_clip_to_the_limits() -> None:
    assert len(b.header("x" * 500)["text"]["text"]) == 150
    assert len(b.button("x" * 500, "a")["text"]["text"]) == 75
    assert len(b.option("x" * 500, "v" * 500)["text"]["text"]) == 75
    assert len(b.option("x", "v" * 500)["value"]) == 150
    assert b.escape("<!channel> & <@U123>") == "&lt;!channel&gt; &amp; &lt;@U123&gt;"


@pytest.mark.parametrize("lang", ["fi", "sv", "en"])
def test_help_home_and_settings_fit_in_every_language(lang: str) -> None:
    t = translator(lang)
    for staff in (NO_HOME, WITH_HOME):
        limits.check_message(help_message(t, command="/vertais", staff=staff, coordinator=True))
        limits.check_view(home_view(t, staff, command="/vertais"))
    library = Library(
        id=1, key="k", name=LONG_NAME, municipality="Kuopio", province="x", lat=0, lon=0, region_id=1
    )
    limits.check_view(settings_modal(t, WITH_HOME, current_library=library, welcome=True, pending="ehdota"))
    many = [
        Library(
            id=i,
            key=f"k{i}",
            name=f"{LONG_NAME} {i}",
            municipality="Kuopio",
            province="x",
            lat=0,
            lon=0,
            region_id=1,
        )
        for i in range(150)
    ]
    limits.check_options_response(library_options(many))
