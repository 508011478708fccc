"""respond(): Bolt's arguments, and no longer than SLACK_TIMEOUT on a response_url that hangs."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from bot.middleware import TimedRespond
from handlers.replies import SLACK_FAILURES
from tests.fakes.slack_api import Failure, FakeSlackApi


@pytest.fixture
def api() -> Iterator[FakeSlackApi]:
    fake = FakeSlackApi()
    yield fake
    fake.heal()
    fake.close()


def test_respond_takes_bolts_arguments(api: FakeSlackApi) -> None:
    respond = TimedRespond(response_url=api.response_url(), timeout=5, proxy=None, ssl=None)
    section = {"type": "section", "text": {"type": "mrkdwn", "text": "Tallennettu."}}
    assert respond("Tallennettu.", [section], response_type="ephemeral").status_code == 200  # as Bolt's
    assert respond({"text": "Koko viesti", "replace_original": True}).status_code == 200
    first, second = [call.body for call in api.wait_for("response_url", count=2)]
    assert (first["text"], first["blocks"], first["response_type"]) == (
        "Tallennettu.",
        [section],
        "ephemeral",
    )
    assert (second["text"], second["replace_original"]) == ("Koko viesti", True)


def test_respond_gives_up_after_its_timeout(api: FakeSlackApi) -> None:
    api.fail_while(Failure(hang=True), "response_url")
    respond = TimedRespond(response_url=api.response_url(), timeout=0.3, proxy=None, ssl=None)
    started = time.monotonic()
    with pytest.raises(SLACK_FAILURES):
        respond("Tallennettu.")
    assert time.monotonic() - started < 3  # slack_sdk's WebhookClient alone waits 30 s
