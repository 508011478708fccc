"""Slow Slack calls after an ack do not hold up the next person's answer.

Bolt runs listeners on a pool of five threads by default, and a listener keeps its thread for
its post-ack work: twenty people opening a form while Slack's views.open takes two seconds
would leave the twenty-first waiting for a free thread past Slack's 3-second limit. The bot's
pool is sized for such bursts (LISTENER_THREADS)."""

from __future__ import annotations

import threading

from tests.conftest import Bot
from tests.fakes.slack_api import Failure
from tests.fakes.slack_requests import Reply

SLOW = 2.0
BURST = 20


def test_a_burst_of_slow_post_ack_work_does_not_delay_the_next_answer(bot: Bot) -> None:
    bot.slack.command("apua")  # the person exists and the app is warm
    bot.api.fail_next("views.open", Failure(status=200, error="slow", delay=SLOW), times=BURST)
    replies: list[Reply] = []

    def open_settings() -> None:
        replies.append(bot.slack.command("asetukset", user="U0BURST"))

    burst = [threading.Thread(target=open_settings) for _ in range(BURST)]
    for thread in burst:
        thread.start()
    bot.api.wait_for("views.open", BURST, timeout=10)  # every listener now waits on Slack
    answer = bot.slack.command("apua")
    for thread in burst:
        thread.join()

    assert answer.status == 200 and "/vertais" in answer.text
    assert answer.elapsed < SLOW / 2, answer.elapsed
    assert [reply.status for reply in replies] == [200] * BURST
