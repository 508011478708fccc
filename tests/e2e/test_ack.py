"""A listener that fails right after its ack still answers Slack at once (Bolt would otherwise
forget the ack and answer 404 after 3 seconds), and the person is told about the failure."""

from __future__ import annotations

import pytest

from bot import ids
from tests.conftest import Bot
from tests.fakes.slack_requests import all_text


def test_a_failure_right_after_the_ack_keeps_the_ack(bot: Bot, monkeypatch: pytest.MonkeyPatch) -> None:
    from handlers import help as help_feature

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("rendering failed")

    monkeypatch.setattr(help_feature, "help_message", broken)  # fails microseconds after ack()
    for attempt in range(3):
        reply = bot.slack.action(ids.OPEN_HELP, where="message")
        assert reply.status == 200 and reply.elapsed < 1.0, (attempt, reply)
    told = bot.api.wait_for("response_url", 3)
    assert all("something unexpected happened" in all_text(call.body) for call in told)
