"""`python -m bot` as an operator runs it: gunicorn's worker processes in HTTP mode (on
PostgreSQL; SQLite serves one process), SIGTERM in both modes (what is under way is answered,
the process exits 0 within 10 s), `python -m bot health`, and JSON logs."""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from bot import ids
from tests.e2e.test_process import ROOT, SECRET, bot_env, free_port, start_bot, wait_until_healthy
from tests.e2e.test_settings import settings_values
from tests.fakes.slack_requests import SlackClient

STOP_WITHIN = 10.0  # seconds from SIGTERM to exit


def _workers(pid: int) -> list[int]:
    try:
        return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def _alive(pid: int) -> bool:
    """True while any thread of the process runs: a killed process's main thread turns zombie
    before its other threads have ended, and its files (the listening socket) close with the last."""
    try:
        threads = os.listdir(f"/proc/{pid}/task")
    except FileNotFoundError:
        return False
    for thread in threads:
        with contextlib.suppress(FileNotFoundError):
            if Path(f"/proc/{pid}/task/{thread}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z":
                return True
    return False


def _read_until(
    process: subprocess.Popen[str], text: str, seconds: float = 30, *, times: int = 1, already: str = ""
) -> str:
    """What the process has written (after `already`, which it returns too) until `text` has
    appeared `times` times (read past its buffer)."""
    assert process.stdout is not None
    fd, out = process.stdout.fileno(), already.encode()
    deadline = time.monotonic() + seconds
    while out.count(text.encode()) < times:
        assert time.monotonic() < deadline, out.decode(errors="replace")
        if select.select([fd], [], [], 0.2)[0]:
            chunk = os.read(fd, 65536)
            assert chunk, out.decode(errors="replace")
            out += chunk
    return out.decode()


def _rest(process: subprocess.Popen[str], already: str) -> str:
    assert process.stdout is not None
    rest = already + os.read(process.stdout.fileno(), 1 << 20).decode(errors="replace")
    while chunk := os.read(process.stdout.fileno(), 1 << 20):
        rest += chunk.decode(errors="replace")
    return rest


def _until(check, seconds: float = 20):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while not (found := check()):
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)
    return found


def _stop(process: subprocess.Popen[str]) -> float:
    """SIGTERM, then the seconds until the process ended (it must end with 0)."""
    asked = time.monotonic()
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=STOP_WITHIN + 5) == 0
    return time.monotonic() - asked


def _refused(cwd: Path, env: dict[str, str]) -> tuple[str, subprocess.CompletedProcess[str]]:
    """`python -m bot` that must end at once with exit code 2 and one line on stderr: that line."""
    result = subprocess.run(
        [sys.executable, "-m", "bot"], cwd=cwd, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0], result


def _health(cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", "health"], cwd=cwd, env=env, capture_output=True, text=True, timeout=30
    )


@pytest.mark.postgres
@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="reads the process tree from /proc")
def test_http_processes_share_the_port_replace_a_dead_worker_and_stop_together(
    tmp_path, slack_api, db_url, session_factory
) -> None:
    port = free_port()
    slack_api.locales["U0FINN"] = "fi-FI"
    env = bot_env(tmp_path, slack_api, PORT=str(port), HTTP_PROCESSES="2", DATABASE_URL=db_url)
    process = start_bot(tmp_path, env)
    base = f"http://127.0.0.1:{port}"
    early = ""
    try:
        wait_until_healthy(base, process)
        early = _read_until(process, "Booting worker", times=2)
        workers = _until(lambda: len(w := _workers(process.pid)) == 2 and w)
        slack = SlackClient(f"{base}/slack/events", SECRET, slack_api.response_url())
        for _ in range(6):  # new connections: the workers take turns
            assert "Vertaisoppiminen: mitä haluat tehdä?" in slack.command("apua", user="U0FINN").said
        # A changed language is used by every worker within seconds, though each had the person
        # cached (in Finnish) from the commands above (the generation in the database).
        picked = slack.suggest(ids.HOME_LIBRARY, "kuopio", user="U0FINN", callback_id=ids.SETTINGS_VIEW)
        library = picked.json()["options"][0]["value"]
        saved = slack.submit(ids.SETTINGS_VIEW, settings_values(library, "sv"), user="U0FINN")
        assert saved.status == 200

        def everyone_speaks_swedish() -> bool:
            return all(
                "Kollegialt lärande: vad vill du göra?" in slack.command("apua", user="U0FINN").said
                for _ in range(8)
            )

        _until(everyone_speaks_swedish, seconds=5)
        assert _health(tmp_path, env).returncode == 0

        os.kill(workers[0], signal.SIGKILL)  # a worker dies: gunicorn starts another, which serves
        early = _read_until(process, "Booting worker", times=3, already=early)
        replaced = _until(lambda: len(w := _workers(process.pid)) == 2 and workers[0] not in w and w)
        for _ in range(8):
            assert "Kollegialt lärande: vad vill du göra?" in slack.command("apua", user="U0FINN").said

        assert _stop(process) < STOP_WITHIN
        assert not any(_alive(pid) for pid in replaced)  # nothing is left running
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    output = early + (process.stdout.read() if process.stdout else "")
    if process.stdout:
        process.stdout.close()
    assert "Worker exiting" in output
    assert "Traceback" not in output
    assert output.count(" vertaisbot.request ") >= 10  # every worker writes its request log
    assert _health(tmp_path, env).returncode == 1  # nothing serves any more


def test_several_processes_on_sqlite_end_with_one_clear_line(tmp_path, slack_api) -> None:
    line, _ = _refused(tmp_path, bot_env(tmp_path, slack_api, HTTP_PROCESSES="2", PORT=str(free_port())))
    assert "HTTP_PROCESSES=2 needs PostgreSQL" in line
    assert not (tmp_path / "bot.sqlite3").exists()  # refused before anything was touched


@pytest.mark.postgres
def test_workers_that_cannot_start_end_the_program_with_one_clear_line(tmp_path, slack_api, db_url) -> None:
    env = bot_env(
        tmp_path,
        slack_api,
        SLACK_BOT_TOKEN="xoxb-revoked",
        HTTP_PROCESSES="3",
        PORT=str(free_port()),
        DATABASE_URL=db_url,
    )
    line, result = _refused(tmp_path, env)
    assert "SLACK_BOT_TOKEN" in line
    assert "Booting worker" not in result.stdout  # checked once, before any worker was started
    assert "Traceback" not in result.stderr + result.stdout


@pytest.mark.postgres
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads the process tree from /proc")
def test_workers_end_when_their_parent_is_killed(tmp_path, slack_api, db_url) -> None:
    import socket

    port = free_port()
    process = start_bot(
        tmp_path, bot_env(tmp_path, slack_api, PORT=str(port), HTTP_PROCESSES="2", DATABASE_URL=db_url)
    )
    workers: list[int] = []
    try:
        _read_until(process, "Booting worker", times=2)
        workers = _until(lambda: len(w := _workers(process.pid)) == 2 and w)
        process.kill()  # no time for the parent to stop anyone
        process.wait()
        _until(lambda: not any(_alive(pid) for pid in workers))  # no orphan keeps the port

        def refused() -> bool:
            with socket.socket() as probe:
                return probe.connect_ex(("127.0.0.1", port)) != 0

        assert refused()
    finally:
        for pid in [process.pid, *workers]:  # nothing outlives a failed test either
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        process.wait()
        if process.stdout:
            process.stdout.close()


def test_sigterm_in_http_mode_answers_the_request_under_way_then_exits_0(tmp_path, slack_api) -> None:
    port = free_port()
    env = bot_env(tmp_path, slack_api, PORT=str(port), LOG_FORMAT="json")
    process = start_bot(tmp_path, env)
    base = f"http://127.0.0.1:{port}"
    wait_until_healthy(base, process)
    slack = SlackClient(f"{base}/slack/events", SECRET, slack_api.response_url())
    slack_api.locales["U0NEW"] = "fi-FI"
    slack_api.answer_delay["users.info"] = 1.5  # a first-time user: the bot asks Slack before its ack
    answers: list[Any] = []
    asking = threading.Thread(target=lambda: answers.append(slack.command("apua", user="U0NEW")))
    asking.start()
    _until(lambda: slack_api.of("users.info"), seconds=10)  # the request is under way
    took = _stop(process)
    asking.join(timeout=10)
    assert answers and answers[0].status == 200
    assert "Vertaisoppiminen: mitä haluat tehdä?" in answers[0].said
    assert took < STOP_WITHIN
    output = process.stdout.read() if process.stdout else ""
    if process.stdout:
        process.stdout.close()
    records = [json.loads(line) for line in output.splitlines() if line.strip()]  # every line is JSON
    assert {"time", "level", "name", "message"} <= records[0].keys()
    assert any(r["name"] == "vertaisbot.request" for r in records)
    assert any(r["name"].startswith("gunicorn") for r in records)  # the server's lines too
    assert _health(tmp_path, env).returncode == 1


def test_sigterm_in_socket_mode_acks_what_is_under_way_then_exits_0(tmp_path, slack_api) -> None:
    from tests.fakes.socket_mode import FakeSocketMode

    socket_mode = FakeSocketMode()
    slack_api.socket_url = socket_mode.url
    slack_api.locales["U0NEW"] = "fi-FI"
    env = bot_env(tmp_path, slack_api, SLACK_APP_TOKEN="xapp-1-A0VERTAIS-test", SLACK_SIGNING_SECRET="")
    process = start_bot(tmp_path, env)
    try:
        assert socket_mode.connected.wait(30), "the bot never connected"
        _until(lambda: _health(tmp_path, env).returncode == 0, seconds=15)  # connected, database up
        fields = json.loads((ROOT / "tests" / "fixtures" / "slack" / "slash_command.json").read_text())
        fields.update(text="apua", user_id="U0NEW")
        slack_api.answer_delay["users.info"] = 1.5  # the ack waits for Slack's answer
        socket_mode.send(
            {
                "envelope_id": "env-1",
                "type": "slash_commands",
                "payload": fields,
                "accepts_response_payload": True,
            }
        )
        _until(lambda: slack_api.of("users.info"), seconds=10)
        took = _stop(process)
        ack = socket_mode.wait_for_ack("env-1", timeout=1)  # it was sent before the bot left
        assert "Vertaisoppiminen: mitä haluat tehdä?" in json.dumps(ack["payload"], ensure_ascii=False)
        assert took < STOP_WITHIN
        unhealthy = _health(tmp_path, env)
        assert unhealthy.returncode == 1 and "unhealthy" in unhealthy.stdout
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)
        output = process.stdout.read() if process.stdout else ""
        if process.stdout:
            process.stdout.close()
        socket_mode.close()
    assert "Traceback" not in output


def test_a_body_larger_than_slack_sends_is_refused_by_the_production_server_before_it_is_read(
    tmp_path, slack_api
) -> None:
    """gunicorn hands the app the request as its headers arrive: an 8 MiB body gets 413 after
    its first kilobyte, without the rest being read (the tests' in-process server refuses it
    itself, tests/e2e/test_fuzz.py)."""
    from tests.e2e.test_fuzz import assert_oversized_body_refused_unread

    port = free_port()
    process = start_bot(tmp_path, bot_env(tmp_path, slack_api, PORT=str(port)))
    try:
        wait_until_healthy(f"http://127.0.0.1:{port}", process)
        assert_oversized_body_refused_unread(f"http://127.0.0.1:{port}/slack/events")
        _stop(process)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        if process.stdout:
            process.stdout.close()
