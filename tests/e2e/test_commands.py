"""`/vertais` as Slack sends it: help in the user's language, the router, security, errors."""

from __future__ import annotations

import json
import time

from sqlalchemy import func, select

from bot import ids
from bot.views import limits
from models import AuditEntry, Library, StaffProfile
from tests.conftest import COORDINATOR, Bot
from tests.fakes.slack_requests import all_text


def set_home(bot: Bot, user: str, key: str = "kuopio-paakirjasto", language: str | None = None) -> None:
    with bot.session_factory.begin() as session:
        library = session.scalar(select(Library).where(Library.key == key))
        now = bot.clock()
        profile = StaffProfile(
            slack_user_id=user, home_library=library, language=language, created_at=now, updated_at=now
        )
        session.add(profile)


def test_help_follows_the_slack_locale(bot: Bot) -> None:
    bot.api.locales.update({"U0FI": "fi-FI", "U0EN": "en-GB", "U0SV": "sv-SE", "U0DE": "de-DE"})
    assert "Vertaisoppiminen: mitä haluat tehdä?" in bot.slack.command("apua", user="U0FI").said
    assert "Peer learning: what would you like to do?" in bot.slack.command("help", user="U0EN").said
    assert "Kollegialt lärande: vad vill du göra?" in bot.slack.command("hjälp", user="U0SV").said
    # A locale we have no catalogue for falls back to Finnish, the default language.
    assert "Vertaisoppiminen: mitä haluat tehdä?" in bot.slack.command("", user="U0DE").said


def test_help_lists_actions_with_buttons_and_prompts_for_home_library(bot: Bot) -> None:
    reply = bot.slack.command("apua")
    body = reply.json()
    limits.check_message(body)
    assert body["response_type"] == "ephemeral"
    action_ids = [
        e["action_id"] for block in body["blocks"] if block["type"] == "actions" for e in block["elements"]
    ]
    assert action_ids == [ids.OPEN_PROPOSE, ids.OPEN_FIND, ids.OPEN_OFFER, ids.OPEN_MINE, ids.OPEN_SETTINGS]
    assert "Choose your home library first" in reply.said  # the fake's default locale is en-US
    assert "/vertais report" not in reply.said and "/vertais raportti" not in reply.said


def test_coordinators_see_the_report_command_in_help(bot: Bot) -> None:
    set_home(bot, COORDINATOR)
    reply = bot.slack.command("apua", user=COORDINATOR)
    assert "`/vertais report [year]`" in reply.said  # an English user sees their own word
    assert "Your home library: Kuopion pääkirjasto" in reply.said


def test_the_users_language_choice_beats_the_slack_locale(bot: Bot) -> None:
    set_home(bot, "U0VISITOR", language="sv")
    bot.api.locales["U0VISITOR"] = "en-US"
    assert "Kollegialt lärande" in bot.slack.command("apua").said


def test_locale_is_looked_up_once_and_cached(bot: Bot) -> None:
    bot.slack.command("apua")
    bot.slack.command("apua")
    bot.slack.command("help")
    assert len(bot.api.of("users.info")) == 1
    assert bot.api.of("users.info")[0].body["include_locale"] in ("1", "true", "True")
    bot.clock.advance(days=2)
    bot.slack.command("apua")
    assert len(bot.api.of("users.info")) == 2


def test_unknown_word_gets_did_you_mean_in_the_users_language(bot: Bot) -> None:
    reply = bot.slack.command("ehdot")
    assert reply.status == 200
    assert "Did you mean `/vertais ehdota`?" in reply.said
    bot.api.locales["U0FI"] = "fi-FI"
    assert "Tarkoititko `/vertais asetukset`?" in bot.slack.command("asetuks", user="U0FI").said
    nothing = bot.slack.command("xyzzy", user="U0FI")
    assert "En tunne sanaa `xyzzy`" in nothing.said


def test_a_command_whose_text_holds_the_word_payload_is_answered(bot: Bot) -> None:
    # Bolt reads any form containing the letters "payload" as a button's payload (and answered
    # 404 "unhandled request"); the gate re-spells such a form, signed again, before Bolt.
    bot.api.locales["U0FI"] = "fi-FI"
    reply = bot.slack.command("payload", user="U0FI")
    assert reply.status == 200, reply.text
    assert "En tunne sanaa `payload`" in reply.said
    set_home(bot, "U0FINDER", language="fi")
    found = bot.slack.command("etsi payload=2&payload", user="U0FINDER")
    assert found.status == 200, found.text
    assert "payload=2&amp;payload" in found.said, found.said


def test_unknown_word_never_echoes_a_live_mention(bot: Bot) -> None:
    reply = bot.slack.command("<!channel> hello")
    assert "<!channel>" not in reply.text
    assert "&lt;!channel&gt;" in reply.said


def test_every_subcommand_is_built(bot: Bot) -> None:
    from bot.commands import Sub

    set_home(bot, COORDINATOR)
    for sub in Sub:
        reply = bot.slack.command(sub.value, user=COORDINATOR)
        assert reply.status == 200, (sub, reply.text)
        assert "coming soon" not in reply.said, sub


def test_first_time_user_is_asked_for_home_library_before_anything_else(bot: Bot) -> None:
    bot.api.locales["U0NEW"] = "fi-FI"
    reply = bot.slack.command("ehdota", user="U0NEW")
    assert "Valitse ensin kotikirjastosi" in reply.said
    view = bot.api.wait_for("views.open")[0].body["view"]
    view = json.loads(view) if isinstance(view, str) else view
    limits.check_view(view)
    assert "Tervetuloa vertaisoppimaan!" in all_text(view)
    assert json.loads(view["private_metadata"]) == {"pending": "ehdota"}


def test_forged_and_stale_requests_get_401_and_change_nothing(bot: Bot) -> None:
    def counts() -> tuple[int, int]:
        with bot.session_factory() as session:
            return (
                session.scalar(select(func.count()).select_from(StaffProfile)) or 0,
                session.scalar(select(func.count()).select_from(AuditEntry)) or 0,
            )

    before = counts()
    forged = bot.slack.command("asetukset", signature="v0=" + "ab" * 32)
    stale = bot.slack.command("asetukset", timestamp=int(time.time()) - 6 * 60)
    forged_submit = bot.slack.submit(
        ids.SETTINGS_VIEW,
        {
            ids.HOME_LIBRARY: {
                ids.HOME_LIBRARY: {"type": "external_select", "selected_option": {"value": "1"}}
            }
        },
        signature="v0=" + "cd" * 32,
    )
    assert (forged.status, stale.status, forged_submit.status) == (401, 401, 401)
    assert forged.json() == {"error": "invalid request"}
    assert counts() == before
    assert bot.api.calls == []


def test_unexpected_failure_gets_a_polite_reply_with_an_error_id(bot: Bot, monkeypatch, caplog) -> None:
    from handlers import help as help_feature

    def explode(*args, **kwargs):
        raise RuntimeError("database on fire")

    monkeypatch.setattr(help_feature, "help_message", explode)
    reply = bot.slack.command("apua")
    assert reply.status == 200
    said = reply.said
    assert "Sorry, something unexpected happened" in said
    error_id = said.split("error id `")[1].split("`")[0]
    assert any(error_id in record.getMessage() for record in caplog.records)
    assert "database on fire" not in said
    # The process carries on.
    monkeypatch.undo()
    assert "Peer learning" in bot.slack.command("apua").said


def test_health_check(bot: Bot) -> None:
    import urllib.request

    with urllib.request.urlopen(f"{bot.url}/healthz", timeout=5) as response:
        assert response.status == 200
        assert json.loads(response.read()) == {"status": "ok"}


def test_app_home_is_published_in_the_users_language(bot: Bot) -> None:
    bot.api.locales["U0VISITOR"] = "fi-FI"
    reply = bot.slack.home_opened()
    assert reply.status == 200
    published = bot.api.wait_for("views.publish")[0].body
    assert published["user_id"] == "U0VISITOR"
    view = published["view"]
    limits.check_view(view)
    assert "Vertaisoppiminen" in all_text(view)
    assert "Valitse kotikirjasto" in all_text(view)


def test_buttons_of_later_features_answer_politely_where_they_were_pressed(bot: Bot) -> None:
    home = bot.slack.action(ids.OPEN_IDEAS, where="home")
    assert home.status == 200
    view = bot.api.wait_for("views.open")[0].body["view"]
    limits.check_view(view)
    assert "idea bank" in all_text(view)  # the ideas button is built now (issue 6)
    in_message = bot.slack.action(ids.OPEN_IDEAS, where="message")
    assert in_message.status == 200
    reply = bot.api.wait_for("response_url")[0].body
    assert reply["response_type"] == "ephemeral" and "idea bank" in all_text(reply)
