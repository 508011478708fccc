"""`/vertais asetukset`: the settings modal, its library picker and its submission."""

from __future__ import annotations

import json
import time

from sqlalchemy import func, select

from bot import ids
from bot.views import limits
from models import AuditEntry, Library, StaffProfile
from tests.conftest import Bot
from tests.fakes.slack_api import Failure
from tests.fakes.slack_requests import all_text


def library_id(bot: Bot, key: str) -> int:
    with bot.session_factory() as session:
        return session.scalar(select(Library.id).where(Library.key == key)) or 0


def settings_values(library: str | None, language: str | None = "auto") -> dict:
    def selected(value: str | None, kind: str) -> dict:
        option = None if value is None else {"text": {"type": "plain_text", "text": "x"}, "value": value}
        return {"type": kind, "selected_option": option}

    return {
        ids.HOME_LIBRARY: {ids.HOME_LIBRARY: selected(library, "external_select")},
        ids.LANGUAGE: {ids.LANGUAGE: selected(language, "static_select")},
    }


def opened_view(bot: Bot, n: int = 1) -> dict:
    view = bot.api.wait_for("views.open", n)[n - 1].body["view"]
    return json.loads(view) if isinstance(view, str) else view


def test_settings_modal_opens_within_limits_with_a_library_picker(bot: Bot) -> None:
    bot.api.locales["U0VISITOR"] = "fi-FI"
    reply = bot.slack.command("asetukset")
    assert reply.status == 200 and reply.text == ""
    view = opened_view(bot)
    limits.check_view(view)
    assert view["title"]["text"] == "Asetukset"
    picker = next(b for b in view["blocks"] if b.get("block_id") == ids.HOME_LIBRARY)["element"]
    assert picker["type"] == "external_select"
    language = next(b for b in view["blocks"] if b.get("block_id") == ids.LANGUAGE)["element"]
    assert [o["value"] for o in language["options"]] == ["auto", "fi", "sv", "en"]


def test_library_picker_finds_libraries_by_name_or_municipality(bot: Bot) -> None:
    everything = bot.slack.suggest(ids.HOME_LIBRARY, "").json()
    limits.check_options_response(everything)
    assert len(everything["options"]) == 32
    kuo = bot.slack.suggest(ids.HOME_LIBRARY, "kuo").json()
    names = [o["text"]["text"] for o in kuo["options"]]
    assert names[0] == "Kuopion pääkirjasto"
    assert any("Jynkän kirjasto" in name for name in names)
    assert bot.slack.suggest(ids.HOME_LIBRARY, "_").json() == {"options": []}  # LIKE wildcards are literal
    assert bot.slack.suggest(ids.HOME_LIBRARY, "%").json() == {"options": []}
    assert bot.slack.suggest(ids.HOME_LIBRARY, "'; drop table libraries; --").json() == {"options": []}


def test_library_picker_folds_finnish_letters_on_every_database(bot: Bot) -> None:
    from services.catalogue.libraries import import_libraries

    with bot.session_factory.begin() as session:
        import_libraries(
            session,
            "key,name,municipality,region,lat,lon\nlaanekoski,Äänekosken kirjasto,Äänekoski,Keski-Suomi,62.69,25.81\n",
            region_key="keski-suomi",
            now=bot.clock(),
        )
    found = bot.slack.suggest(ids.HOME_LIBRARY, "ääNE").json()
    assert [o["text"]["text"] for o in found["options"]] == ["Äänekosken kirjasto (Äänekoski)"]


def test_saving_settings_stores_them_and_answers_in_the_new_language(bot: Bot) -> None:
    bot.api.locales["U0VISITOR"] = "en-US"
    jynkka = library_id(bot, "kuopio-jynkka")
    reply = bot.slack.submit(ids.SETTINGS_VIEW, settings_values(str(jynkka), "sv"))
    body = reply.json()
    assert body["response_action"] == "update"
    limits.check_view(body["view"])
    assert "Sparat. Hembibliotek: *Jynkän kirjasto*. Språk: *Svenska*." in all_text(body["view"])
    with bot.session_factory() as session:
        profile = session.scalar(select(StaffProfile).where(StaffProfile.slack_user_id == "U0VISITOR"))
        assert profile is not None and profile.home_library_id == jynkka and profile.language == "sv"
        entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "settings.update"))
        assert entry is not None and entry.actor == "U0VISITOR"
    assert "Kollegialt lärande" in bot.slack.command("apua").said


def test_welcome_flow_tells_how_to_continue(bot: Bot) -> None:
    iisalmi = library_id(bot, "iisalmi")
    reply = bot.slack.submit(
        ids.SETTINGS_VIEW, settings_values(str(iisalmi)), private_metadata=json.dumps({"pending": "ehdota"})
    )
    assert "You can now go on: `/vertais ehdota`" in all_text(reply.json())


def test_missing_or_unknown_library_is_an_inline_error_and_saves_nothing(bot: Bot) -> None:
    def rows() -> int:
        with bot.session_factory() as session:
            return (
                session.scalar(
                    select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "settings.update")
                )
                or 0
            )

    bot.api.locales["U0VISITOR"] = "fi-FI"
    missing = bot.slack.submit(ids.SETTINGS_VIEW, settings_values(None))
    assert missing.json() == {
        "response_action": "errors",
        "errors": {ids.HOME_LIBRARY: "Valitse kotikirjasto."},
    }
    unknown = bot.slack.submit(ids.SETTINGS_VIEW, settings_values("999999"))
    assert unknown.json()["errors"] == {ids.HOME_LIBRARY: "Tätä kirjastoa ei enää löydy. Valitse toinen."}
    hostile = bot.slack.submit(ids.SETTINGS_VIEW, settings_values("1; DROP TABLE libraries", "klingon"))
    assert hostile.json()["response_action"] == "errors"
    bad_language = bot.slack.submit(
        ids.SETTINGS_VIEW, settings_values(str(library_id(bot, "iisalmi")), "klingon")
    )
    assert bad_language.json()["errors"] == {ids.LANGUAGE: "Valitse kieli listasta."}
    assert rows() == 0
    with bot.session_factory() as session:
        profile = session.scalar(select(StaffProfile).where(StaffProfile.slack_user_id == "U0VISITOR"))
        assert profile is None or profile.home_library_id is None


def test_settings_button_opens_the_modal_with_the_current_choice(bot: Bot) -> None:
    iisalmi = library_id(bot, "iisalmi")
    bot.slack.submit(ids.SETTINGS_VIEW, settings_values(str(iisalmi), "en"))
    bot.slack.action(ids.OPEN_SETTINGS, where="home")
    view = opened_view(bot)
    picker = next(b for b in view["blocks"] if b.get("block_id") == ids.HOME_LIBRARY)["element"]
    assert picker["initial_option"] == {
        "text": {"type": "plain_text", "text": "Iisalmen kirjasto (Iisalmi)", "emoji": True},
        "value": str(iisalmi),
    }
    language = next(b for b in view["blocks"] if b.get("block_id") == ids.LANGUAGE)["element"]
    assert language["initial_option"]["value"] == "en"


def test_a_failure_after_the_ack_still_answers_200_and_tells_the_user(bot: Bot) -> None:
    bot.api.fail_next("views.open", Failure(error="internal_error"), times=2)  # and the notice modal
    reply = bot.slack.action(ids.OPEN_SETTINGS, where="home")
    assert reply.status == 200
    message = bot.api.wait_for("chat.postMessage")[0].body
    assert message["channel"] == "U0VISITOR"
    # A failed Slack call is no bug of ours: the person is asked to try again, nothing was lost.
    assert "Slack did not answer in time" in all_text(message) and "try again" in all_text(message)


def test_saving_settings_republishes_the_home_tab(bot: Bot) -> None:
    iisalmi = library_id(bot, "iisalmi")
    bot.slack.submit(ids.SETTINGS_VIEW, settings_values(str(iisalmi), "en"))
    published = bot.api.wait_for("views.publish")[-1].body
    assert published["user_id"] == "U0VISITOR"
    text = all_text(published["view"])
    assert "Iisalmen kirjasto" in text and "Choose your home library" not in text


def test_saving_unchanged_settings_does_not_republish_the_home_tab(bot: Bot) -> None:
    iisalmi = library_id(bot, "iisalmi")
    bot.slack.submit(ids.SETTINGS_VIEW, settings_values(str(iisalmi), "en"))
    bot.api.wait_for("views.publish")
    bot.slack.submit(ids.SETTINGS_VIEW, settings_values(str(iisalmi), "en"))
    bot.slack.submit(ids.SETTINGS_VIEW, settings_values(str(library_id(bot, "kuopio-jynkka")), "en"))
    bot.api.wait_for("views.publish", 2)
    time.sleep(0.5)  # a third publish, if any, would have arrived
    published = bot.api.of("views.publish")
    assert len(published) == 2 and "Jynkän kirjasto" in all_text(published[-1].body["view"])
