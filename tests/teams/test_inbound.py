"""Signed Teams requests against the real app (build_teams_app), the loopback key set and the
fake Bot Connector: a signed 1:1 `apua` is answered; forged, expired and misdirected requests get
401 and change nothing; malformed bodies get 400/401, never 5xx."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.i18n import translator
from models import ChatAccount, Library, StaffProfile
from tests.teams.support import build, client, run


def count_accounts(session_factory: Any) -> int:
    with session_factory() as session:
        return session.scalar(select(func.count()).select_from(ChatAccount)) or 0


def card_of(call: Any) -> dict[str, Any]:
    attachments = call.body.get("attachments") or []
    assert attachments, call.body
    assert attachments[0]["contentType"] == "application/vnd.microsoft.card.adaptive"
    return attachments[0]["content"]


def card_text(card: dict[str, Any]) -> str:
    return "\n".join(block.get("text", "") for block in card.get("body", []))


async def post(
    sim: Any, session_factory: Any, clock: Any, body: Any, headers: dict[str, str], **kw: Any
) -> Any:
    bot = await build(sim, session_factory, clock)
    async with client(bot) as http:
        content = body if isinstance(body, (bytes, str)) else json.dumps(body)
        return await http.post("/api/messages", content=content, headers=headers)


@pytest.mark.parametrize(
    ("locale", "word", "title"),
    [
        ("fi-FI", "apua", "Vertaisoppiminen: mitä haluat tehdä?"),
        ("sv-FI", "hjälp", "Kollegialt lärande: vad vill du göra?"),
        ("en-US", "help", "Peer learning: what would you like to do?"),
    ],
)
def test_a_signed_apua_from_a_1_1_chat_gets_the_help_card_in_the_activity_s_language(
    teamssim, session_factory, clock, locale, word, title
):
    body = teamssim.message(word, locale=locale)
    response = run(post, teamssim, session_factory, clock, body, teamssim.headers(body))
    assert response.status_code == 200, response.text
    sent = teamssim.wait_sent(1)
    assert len(sent) == 1
    call = sent[0]
    assert call.path == f"/teams/v3/conversations/{body['conversation']['id']}/activities"
    assert call.authorization.startswith("Bearer ")
    card = card_of(call)
    assert card["type"] == "AdaptiveCard" and card["version"] == "1.5"
    assert card["body"][0]["text"] == title
    assert word in card_text(card) or locale.startswith("fi")


def test_an_unknown_locale_falls_back_to_finnish(teamssim, session_factory, clock):
    body = teamssim.message("apua", locale="de-DE")
    response = run(post, teamssim, session_factory, clock, body, teamssim.headers(body))
    assert response.status_code == 200
    assert card_of(teamssim.wait_sent(1)[0])["body"][0]["text"] == "Vertaisoppiminen: mitä haluat tehdä?"


def test_the_first_message_stores_the_conversation_reference(teamssim, session_factory, clock):
    body = teamssim.message("apua", user="29:first", aad="aad-first")
    response = run(post, teamssim, session_factory, clock, body, teamssim.headers(body))
    assert response.status_code == 200
    with session_factory() as session:
        account = session.scalars(select(ChatAccount)).one()
    assert (account.platform, account.user_id, account.directory_id) == ("teams", "29:first", "aad-first")
    assert account.conversation_id == "a:29:first-chat"
    assert account.service_url == teamssim.service_url
    assert account.tenant_id == teamssim.tenant_id


def forged(sim: Any, body: dict[str, Any], how: str) -> dict[str, str]:
    now = int(time.time())
    if how == "unsigned":
        return {"Content-Type": "application/json"}
    if how == "not a JWT":
        return {"Authorization": "Bearer not-a-jwt", "Content-Type": "application/json"}
    if how == "wrong key":
        token = sim.sign(body, key=sim.other_key)
    elif how == "unknown key id":
        token = sim.sign(body, kid="someone-else")
    elif how == "wrong audience":
        token = sim.sign(body, aud="another-bot")
    elif how == "wrong issuer":
        token = sim.sign(body, iss="https://evil.example")
    elif how == "expired":
        token = sim.sign(body, iat=now - 7200, nbf=now - 7200, exp=now - 3600)  # beyond the 300 s leeway
    elif how == "serviceurl mismatch":
        token = sim.sign(body, serviceurl="https://smba.trafficmanager.net/emea/")
    elif how == "no serviceurl claim":
        token = sim.sign(body, serviceurl=None)
    else:
        raise AssertionError(how)
    return {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}


@pytest.mark.parametrize(
    "how",
    [
        "unsigned",
        "not a JWT",
        "wrong key",
        "unknown key id",
        "wrong audience",
        "wrong issuer",
        "expired",
        "serviceurl mismatch",
        "no serviceurl claim",
    ],
)
def test_a_forged_or_misdirected_request_gets_401_and_changes_nothing(teamssim, session_factory, clock, how):
    body = teamssim.message("apua")
    response = run(post, teamssim, session_factory, clock, body, forged(teamssim, body, how))
    assert response.status_code == 401, response.text
    time.sleep(0.1)
    assert teamssim.calls == []
    assert count_accounts(session_factory) == 0


def malformed(sim: Any) -> dict[str, Any]:
    message = sim.message("apua")
    return {
        "not JSON": b"this is {not json",
        "empty object": {},
        "a JSON list": [message],
        "a JSON string": "apua",
        "unknown activity type": {**message, "type": "somethingElse"},
        "no type": {key: value for key, value in message.items() if key != "type"},
        "invoke without a name": {**message, "type": "invoke", "value": {}},
        "no serviceUrl": {key: value for key, value in message.items() if key != "serviceUrl"},
        "from is a number": {**message, "from": 5},
        "1 MB of text": {**message, "text": "a" * (1024 * 1024)},
        "1 MB not JSON": b"x" * (1024 * 1024),
        "deep nesting": b"[" * 100_000 + b"]" * 100_000,
        "not UTF-8": b"\xff\xfe\x00{",
    }


MALFORMED = [
    "not JSON",
    "empty object",
    "a JSON list",
    "a JSON string",
    "unknown activity type",
    "no type",
    "invoke without a name",
    "no serviceUrl",
    "from is a number",
    "1 MB of text",
    "1 MB not JSON",
    "deep nesting",
    "not UTF-8",
]


@pytest.mark.parametrize("name", MALFORMED)
@pytest.mark.parametrize("signed", [True, False], ids=["signed", "unsigned"])
def test_a_malformed_body_gets_400_or_401_never_5xx(teamssim, session_factory, clock, name, signed):
    body = malformed(teamssim)[name]
    if signed:
        claims_body = body if isinstance(body, dict) else {}
        headers = teamssim.headers(claims_body)
    else:
        headers = {"Content-Type": "application/json"}
    response = run(post, teamssim, session_factory, clock, body, headers)
    assert response.status_code in ((400,) if signed else (401,)), (response.status_code, response.text[:200])
    time.sleep(0.05)
    assert teamssim.calls == []
    assert count_accounts(session_factory) == 0


def test_an_install_stores_the_reference_and_sends_the_welcome_card(teamssim, session_factory, clock):
    body = teamssim.message("", locale="sv-FI", user="29:installer")
    body.pop("text")
    body.update({"type": "installationUpdate", "action": "add"})
    response = run(post, teamssim, session_factory, clock, body, teamssim.headers(body))
    assert response.status_code == 200, response.text
    welcome = card_of(teamssim.wait_sent(1)[0])
    assert welcome["body"][0]["text"] == translator("sv")("home.title")  # the Home tab's content
    assert translator("sv")("help.button.choose_library") in json.dumps(welcome, ensure_ascii=False)
    with session_factory() as session:
        assert session.scalars(select(ChatAccount.user_id)).all() == ["29:installer"]


def test_a_mention_in_a_channel_is_answered_there_and_stores_no_1_1_reference(
    teamssim, session_factory, clock
):
    body = teamssim.message("<at>vertaisbot</at> apua", conversation_type="channel")
    body["entities"].append(
        {
            "type": "mention",
            "text": "<at>vertaisbot</at>",
            "mentioned": {"id": f"28:{teamssim.client_id}", "name": "vertaisbot"},
        }
    )
    response = run(post, teamssim, session_factory, clock, body, teamssim.headers(body))
    assert response.status_code == 200, response.text
    assert card_of(teamssim.wait_sent(1)[0])["body"][0]["text"] == "Vertaisoppiminen: mitä haluat tehdä?"
    assert count_accounts(session_factory) == 0


def test_a_misspelt_word_gets_a_suggestion_and_the_report_is_for_coordinators_only(
    teamssim, session_factory, clock
):
    with session_factory.begin() as session:  # a person with a home library (else it is asked first)
        home = session.scalars(select(Library.id).order_by(Library.id)).first()
        session.add(
            StaffProfile(
                slack_user_id="T0123456789ab",
                display_name="Testi Käyttäjä",
                home_library_id=home,
                directory_id="aad-object-1",
                created_at=clock(),
                updated_at=clock(),
            )
        )
    for text in ("etis", "raportti"):
        body = teamssim.message(text)
        assert run(post, teamssim, session_factory, clock, body, teamssim.headers(body)).status_code == 200
    first, second = (card_text(card_of(call)) for call in teamssim.wait_sent(2))
    assert "etis" in first and "**etsi**" in first
    assert second == translator("fi")("desk.only_coordinators")


def signed_kinds(sim: Any) -> dict[str, dict[str, Any]]:
    """Well-signed activities of every kind Teams sends (some not handled yet): none may get 5xx."""
    m = sim.message("apua")
    without_text = {key: value for key, value in m.items() if key != "text"}
    execute = {
        "action": {"type": "Action.Execute", "verb": "approve", "data": {"visit_id": 42}},
        "trigger": "manual",
    }
    return {
        "Action.Submit": {**without_text, "value": {"action": "approve", "visit_id": 42}},
        "Action.Execute": {**m, "type": "invoke", "name": "adaptiveCard/action", "value": execute},
        "task/fetch": {**m, "type": "invoke", "name": "task/fetch", "value": {"data": {}}},
        "task/submit": {**m, "type": "invoke", "name": "task/submit", "value": {"data": {}}},
        "application/search": {
            **m,
            "type": "invoke",
            "name": "application/search",
            "value": {"queryText": "kirja", "kind": "search", "dataset": "libraries"},
        },
        "an unknown invoke": {**m, "type": "invoke", "name": "zzz/zzz", "value": {}},
        "signin/verifyState": {**m, "type": "invoke", "name": "signin/verifyState", "value": {"state": "1"}},
        "signin/tokenExchange": {
            **m,
            "type": "invoke",
            "name": "signin/tokenExchange",
            "value": {"id": "1", "connectionName": "graph", "token": "x"},
        },
        "conversationUpdate": {**m, "type": "conversationUpdate", "membersAdded": [{"id": "29:x"}]},
        "typing": {**m, "type": "typing"},
        "messageReaction": {**m, "type": "messageReaction", "reactionsAdded": [{"type": "like"}]},
        "uninstall": {**m, "type": "installationUpdate", "action": "remove"},
        "messageDelete": {**m, "type": "messageDelete"},
        "no locale": {key: value for key, value in m.items() if key not in ("locale", "entities")},
        "no from": {key: value for key, value in m.items() if key != "from"},
        "text is a number": {**m, "text": 5},
        "a NUL in the text": {**m, "text": "apua\u0000"},
    }


SIGNED_KINDS = [
    "Action.Submit",
    "Action.Execute",
    "task/fetch",
    "task/submit",
    "application/search",
    "an unknown invoke",
    "signin/verifyState",
    "signin/tokenExchange",
    "conversationUpdate",
    "typing",
    "messageReaction",
    "uninstall",
    "messageDelete",
    "no locale",
    "no from",
    "text is a number",
    "a NUL in the text",
]


@pytest.mark.parametrize("kind", SIGNED_KINDS)
def test_no_signed_activity_of_any_kind_gets_5xx(teamssim, session_factory, clock, kind):
    body = signed_kinds(teamssim)[kind]
    response = run(post, teamssim, session_factory, clock, body, teamssim.headers(body))
    assert response.status_code < 500, (response.status_code, response.text[:200])


def test_a_person_of_another_tenant_gets_help_and_never_becomes_a_person_of_the_bot(
    teamssim, session_factory, clock
):
    """Anyone can upload an app package naming our bot id in their own tenant; its token is valid."""
    body = teamssim.message("omat", user="29:outsider", aad="aad-outsider")
    body["conversation"]["tenantId"] = "someone-elses-tenant"
    body["channelData"]["tenant"]["id"] = "someone-elses-tenant"

    async def scenario() -> Any:
        bot = await build(teamssim, session_factory, clock)
        async with client(bot) as http:
            return await http.post("/api/messages", json=body, headers=teamssim.headers(body))

    assert run(scenario).status_code == 200
    answer = card_of(teamssim.wait_sent(1)[0])
    assert answer["body"][0]["text"] == translator("fi")("help.title")
    assert count_accounts(session_factory) == 0
    with session_factory() as session:
        assert session.scalars(select(StaffProfile)).all() == []


def test_a_failure_inside_a_handler_is_answered_in_the_person_s_language_never_500(
    teamssim, session_factory, clock, monkeypatch, caplog
):
    import teams.commands

    def broken(*_args: Any, **_kwargs: Any) -> Any:
        raise ValueError("what someone typed: salainen")

    monkeypatch.setattr(teams.commands, "answer", broken)
    body = teamssim.message("omat", locale="sv-FI")
    response = run(post, teamssim, session_factory, clock, body, teamssim.headers(body))
    assert response.status_code == 200
    text = card_text(card_of(teamssim.wait_sent(1)[0]))
    assert text.startswith(translator("sv")("error.unexpected", error_id="x")[:20])
    assert "salainen" not in caplog.text  # the log has the failure's type and id, not its text
