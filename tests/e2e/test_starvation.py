"""Slow Slack calls after an ack do not hold up the next person's answer.

Bolt runs listeners on a pool of five threads by default, and a listener keeps its thread for
its post-ack work: twenty people opening a form while Slack's views.open takes two seconds
would leave the twenty-first waiting for a free thread past Slack's 3-second limit. The bot's
pool is sized for such bursts (LISTENER_THREADS). Answers that are all computed before the ack
(typeahead, help, find, the settings form) run on the request thread, and answers that say nothing (a button
press, a command that opens a form) go before their listener starts: those need no free pool
thread at all."""

from __future__ import annotations

import threading
import time

import pytest

from bot import ids
from tests.conftest import Bot
from tests.e2e.test_settings import library_id, settings_values
from tests.e2e.visit_helpers import settle
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


@pytest.mark.parametrize("bot_settings", [{"listener_threads": 3}])
@pytest.mark.parametrize("ask", ["typeahead", "help", "find", "button", "form", "settings"])
def test_answers_computed_before_the_ack_need_no_free_listener(bot: Bot, ask: str) -> None:
    """With every listener thread held by slow Slack calls (a pool of 3 here), typeahead, help
    and find still answer at once and in full, and a press or a form-opening command is
    acknowledged at once (its form opens when a thread is free, within the trigger's life)."""
    bot.slack.submit(ids.SETTINGS_VIEW, settings_values(str(library_id(bot, "iisalmi")), "en"))
    settle(bot)
    threads = 3
    bot.api.fail_next("views.open", Failure(status=200, error="slow", delay=SLOW), times=threads)
    burst = [
        threading.Thread(target=bot.slack.command, args=("asetukset",), kwargs={"user": "U0BURST"})
        for _ in range(threads)
    ]
    for thread in burst:
        thread.start()
    bot.api.wait_for("views.open", threads, timeout=10)  # the whole pool now waits on Slack
    if ask == "typeahead":
        answer = bot.slack.suggest(ids.HOME_LIBRARY, "kuo", callback_id=ids.SETTINGS_VIEW)
        said = answer.json()["options"][0]["text"]["text"]
        assert "Kuopio" in said or "Kuopion" in said
    elif ask == "button":
        answer = bot.slack.action(ids.OPEN_HELP, "")
    elif ask == "form":
        answer = bot.slack.command("asetukset")
    elif ask == "settings":
        answer = bot.slack.submit(
            ids.SETTINGS_VIEW, settings_values(str(library_id(bot, "kuopio-jynkka")), "en")
        )
        assert answer.json()["response_action"] == "update"  # saved, and the modal says so
    else:
        answer = bot.slack.command("apua" if ask == "help" else "etsi lukukoira")
        assert ("Peer learning" if ask == "help" else "reading-dog") in answer.text
    for thread in burst:
        thread.join()
    assert answer.status == 200
    assert answer.elapsed < SLOW / 2, answer.elapsed


@pytest.mark.parametrize("bot_settings", [{"http_working_threads": 1}])
def test_a_first_time_users_slow_look_up_does_not_hold_up_anyone_elses_answer(bot: Bot) -> None:
    """A process works on few requests at once (HTTP_WORKING_THREADS; one here), the others in
    line. A first-time user's locale is looked up in Slack before their answer; while Slack
    takes two seconds, the next person in line is answered at once, and the newcomer still is."""
    bot.slack.command("apua")  # a known person, and a warm app
    assert bot.turns is not None
    bot.turns.patience = 10 * SLOW  # no going ahead of a stalled line: only standing aside helps
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


@pytest.mark.parametrize("bot_settings", [{"http_working_threads": 1, "listener_threads": 1}])
def test_a_request_waiting_for_a_free_listener_does_not_hold_up_anyone_elses_answer(bot: Bot) -> None:
    """`omat` is answered by its listener on the pool. While the only listener thread is held by
    a slow views.open, its request waits out of line, and the next person is answered at once."""
    bot.slack.command("apua")
    assert bot.turns is not None
    bot.turns.patience = 10 * SLOW
    bot.api.fail_next("views.open", Failure(status=200, error="slow", delay=SLOW))
    assert bot.slack.command("asetukset").status == 200  # acked; its form opens on the pool
    bot.api.wait_for("views.open", 1)
    replies: list[Reply] = []
    waiting = threading.Thread(target=lambda: replies.append(bot.slack.command("omat")))
    waiting.start()
    assert bot.app is not None
    queue = bot.app._listener_runner.listener_executor._work_queue  # type: ignore[attr-defined]
    deadline = time.monotonic() + 5
    while queue.qsize() < 1:  # `omat`'s listener waits for the pool
        assert time.monotonic() < deadline
        time.sleep(0.005)
    answer = bot.slack.command("apua", user="U0SOMEONE")
    waiting.join()

    assert answer.status == 200 and answer.text
    assert answer.elapsed < SLOW / 4, answer.elapsed
    assert [reply.status for reply in replies] == [200] and replies[0].text
