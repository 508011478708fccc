"""Slow Slack calls after an ack do not hold up the next person's answer.

Bolt runs listeners on a pool of five threads by default, and a listener keeps its thread for
its post-ack work: twenty people opening a form while Slack's views.open takes two seconds
would leave the twenty-first waiting for a free thread past Slack's 3-second limit. The bot's
pool is sized for such bursts (LISTENER_THREADS), and the HTTP server's threads (HTTP_THREADS)
for requests that wait before their ack."""

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
    # `omat` answers with the person's visits, computed by its listener on a thread of the pool.
    answer = bot.slack.command("omat")
    for thread in burst:
        thread.join()

    assert answer.status == 200 and answer.text
    assert answer.elapsed < SLOW / 2, answer.elapsed
    assert [reply.status for reply in replies] == [200] * BURST


def test_a_first_time_users_slow_look_up_does_not_hold_up_anyone_elses_answer(bot: Bot) -> None:
    """A first-time user's locale is looked up in Slack before their answer; while Slack takes
    two seconds, the next person is answered at once (by another of the server's threads), and
    the newcomer still is."""
    bot.slack.command("apua")  # a known person, and a warm app
    bot.api.answer_delay["users.info"] = SLOW
    replies: list[Reply] = []
    newcomer = threading.Thread(target=lambda: replies.append(bot.slack.command("apua", user="U0NEWCOMER")))
    newcomer.start()
    bot.api.wait_for("users.info", 2)  # the newcomer's look-up has reached Slack
    answer = bot.slack.command("apua")
    newcomer.join()

    assert answer.status == 200 and answer.text
    assert answer.elapsed < SLOW / 4, answer.elapsed
    assert [reply.status for reply in replies] == [200] and replies[0].elapsed >= SLOW
