"""What people type, where the bot answers them and the bot's credentials never reach a log line,
at any level and from any logger (Bolt's and slack_sdk's included), whether the request is
forged, stale, malformed or valid."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from typing import Any

import pytest

from bot import ids
from bot.request_log import LIBRARIES, keep_libraries_quiet
from tests.conftest import SECRET, Bot
from tests.fakes.slack_requests import SlackClient, sign, text_value

TYPED = "salainen-Qz9-teksti"  # what a person typed: it must never be logged
PLACE = "vastaus-Kw7-osoite"  # in the response_url the bot answers on


class Everything(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def lines(self) -> list[str]:
        formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
        return [formatter.format(r) + repr(r.args) for r in self.records]


@pytest.fixture
def every_record() -> Iterator[Everything]:
    """Every record at DEBUG, with the bot's production levels for the libraries' loggers."""
    root = logging.getLogger()
    handler = Everything()
    before = root.level, {name: logging.getLogger(name).level for name in LIBRARIES}
    root.setLevel(logging.DEBUG)
    keep_libraries_quiet(logging.DEBUG)
    root.addHandler(handler)
    yield handler
    root.removeHandler(handler)
    root.setLevel(before[0])
    for name, level in before[1].items():
        logging.getLogger(name).setLevel(level)


@pytest.fixture
def bot_settings(every_record: Everything) -> dict[str, Any]:
    return {}  # the capture starts before the bot is built (Bolt copies the root's level then)


def test_no_log_line_holds_a_body_a_response_url_or_a_credential(bot: Bot, every_record: Everything) -> None:
    client = SlackClient(bot.slack.url, SECRET, bot.api.response_url(PLACE))
    forger = SlackClient(bot.slack.url, "not-the-secret", bot.api.response_url(PLACE))

    assert forger.command(f"etsi {TYPED}").status == 401
    assert client.command(f"etsi {TYPED}", timestamp=1_000_000_000).status == 401  # stale
    body = f"command=%2Fvertais&text={TYPED}"
    now = int(time.time())
    for timestamp in ("abc", "1e9", f"+{now}", f"{now}.5", f"{now:_}", ""):
        headers = sign(SECRET, body, timestamp)  # type: ignore[arg-type]
        reply = client.post(body, "application/x-www-form-urlencoded", headers=headers)
        assert reply.status == 401, (timestamp, reply.text)
    assert forger.post("payload=%7B" + TYPED, "application/x-www-form-urlencoded").status == 401
    assert bot.api.calls == []  # none of these reached a listener

    assert client.command(f"etsi {TYPED}").status == 200
    assert client.command(f"ideat {TYPED}").status == 200
    reply = client.submit(ids.PROPOSE_VIEW, {ids.PROPOSE_LEARN: {ids.PROPOSE_LEARN: text_value(TYPED)}})
    assert reply.status == 200
    bot.api.wait_for("chat.postMessage", count=0)

    secrets = {
        "typed text": TYPED,
        "response_url": PLACE,
        "signing secret": SECRET,
        "bot token": bot.deps.settings.slack_bot_token.get_secret_value(),  # type: ignore[union-attr]
    }
    lines = every_record.lines()
    assert any("etsi" in line or "/vertais" in line for line in lines), "the capture saw no request"
    leaks = [(what, line) for line in lines for what, value in secrets.items() if value in line]
    assert leaks == []
