"""The whole program as a newcomer runs it: `python -m bot` in HTTP mode against a fake Web API."""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot import ids
from tests.e2e.test_settings import settings_values
from tests.fakes.slack_api import FakeSlackApi
from tests.fakes.slack_requests import SlackClient

ROOT = Path(__file__).resolve().parents[2]
SECRET = "process-signing-secret"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def bot_env(tmp_path: Path, api: FakeSlackApi, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLACK_")}
    env.update(
        PYTHONPATH=str(ROOT),
        SLACK_BOT_TOKEN="xoxb-process-token",
        SLACK_SIGNING_SECRET=SECRET,
        SLACK_API_URL=api.url,
        DATABASE_URL=f"sqlite:///{tmp_path / 'bot.sqlite3'}",
        SCHEDULER_ENABLED="false",
        HOST="127.0.0.1",
    )
    env.update(extra)
    return env


def wait_until_healthy(base: str, process: subprocess.Popen[Any], seconds: float = 30) -> None:
    """Until the started bot answers GET /healthz with 200; fails the test (with the bot's
    output when it is captured) if the process ends or the time runs out first."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=1) as response:
                assert response.status == 200
                return
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                if process.poll() is None:  # still running: its output ends only when it does
                    process.kill()
                    process.wait()
                output = process.stdout.read() if process.stdout else ""
                pytest.fail(f"bot did not start: {output}")
            time.sleep(0.2)


def start_bot(cwd: Path, env: dict[str, str]) -> subprocess.Popen[str]:
    """`python -m bot` in `cwd`, its output (stdout and stderr) captured as text."""
    return subprocess.Popen(
        [sys.executable, "-m", "bot"],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


@pytest.fixture
def running_bot(
    tmp_path: Path, slack_api: FakeSlackApi
) -> Iterator[tuple[SlackClient, subprocess.Popen[str], str]]:
    port = free_port()
    env = bot_env(tmp_path, slack_api, PORT=str(port))
    process = start_bot(tmp_path, env)
    base = f"http://127.0.0.1:{port}"
    wait_until_healthy(base, process)
    yield SlackClient(f"{base}/slack/events", SECRET, slack_api.response_url()), process, base
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=10)
    if process.stdout:
        process.stdout.close()


def test_python_m_bot_answers_help_in_finnish_and_english_and_opens_settings(running_bot, slack_api) -> None:
    slack, process, base = running_bot
    slack_api.locales["U0FINN"] = "fi-FI"
    slack_api.locales["U0ENGLISH"] = "en-US"

    finnish = slack.command("apua", user="U0FINN")
    assert finnish.status == 200
    assert finnish.json()["response_type"] == "ephemeral"
    assert "Vertaisoppiminen: mitä haluat tehdä?" in finnish.said

    english = slack.command("apua", user="U0ENGLISH")
    assert "Peer learning: what would you like to do?" in english.said

    settings = slack.command("asetukset", user="U0FINN")
    assert settings.status == 200
    opened = slack_api.wait_for("views.open")
    view = (
        json.loads(opened[0].body["view"])
        if isinstance(opened[0].body["view"], str)
        else opened[0].body["view"]
    )
    assert view["title"]["text"] == "Asetukset"

    forged = slack.command("apua", user="U0FINN", signature="v0=" + "0" * 64)
    assert forged.status == 401

    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=10) == 0
    output = process.stdout.read() if process.stdout else ""
    requests = [
        json.loads(line.split(" vertaisbot.request ", 1)[1])
        for line in output.splitlines()
        if " vertaisbot.request " in line
    ]
    assert {
        "kind": "command",
        "name": "/vertais",
        "user": "U0FINN",
        "sub": "apua",
        "status": 200,
    }.items() <= requests[0].items()
    assert all("ms" in r for r in requests)
    assert SECRET not in output and "xoxb-process-token" not in output
    assert "mitä haluat" not in output  # message texts are never logged
    assert "will be unused" not in output  # Bolt's notice about the token it read from the env


@pytest.mark.parametrize(
    ("env", "names"),
    [
        ({"SLACK_BOT_TOKEN": ""}, "SLACK_BOT_TOKEN"),
        ({"SLACK_BOT_TOKEN": "not-a-token"}, "SLACK_BOT_TOKEN"),
        ({"SLACK_SIGNING_SECRET": ""}, "SLACK_SIGNING_SECRET"),
        ({"SLACK_APP_TOKEN": "xoxb-wrong-kind"}, "SLACK_APP_TOKEN"),
        ({"PORT": "eighty"}, "PORT"),
        ({"DATABASE_URL": "postgresql+psycopg://nobody@127.0.0.1:1/none"}, "DATABASE_URL"),
        ({"DATABASE_URL": "not a url at all"}, "DATABASE_URL"),
        ({"SLACK_APP_TOKEN": "xapp-1-revoked"}, "SLACK_APP_TOKEN"),
    ],
)
def test_bad_credentials_end_with_one_clear_line_and_exit_code_2(tmp_path, slack_api, env, names) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot"],
        cwd=tmp_path,
        env=bot_env(tmp_path, slack_api, **env),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert names in lines[0]
    assert "Traceback" not in result.stderr + result.stdout


@pytest.mark.parametrize("url", [f"http://127.0.0.1:{free_port()}/api/", "http://slack.invalid/api/"])
def test_a_slack_that_cannot_be_reached_is_one_clear_line_and_exit_code_2(tmp_path, slack_api, url) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot"],
        cwd=tmp_path,
        env=bot_env(tmp_path, slack_api, SLACK_API_URL=url, SLACK_TIMEOUT="2"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "cannot reach Slack" in lines[0] and "SLACK_API_URL" in lines[0] and url in lines[0]
    assert "Traceback" not in result.stderr + result.stdout and "URLError" not in result.stderr


def test_token_slack_rejects_is_one_clear_line(tmp_path, slack_api) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot"],
        cwd=tmp_path,
        env=bot_env(tmp_path, slack_api, SLACK_BOT_TOKEN="xoxb-revoked"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2, result.stderr
    assert "SLACK_BOT_TOKEN" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_socket_mode_is_used_when_an_app_token_is_set(tmp_path, slack_api) -> None:
    from tests.fakes.socket_mode import FakeSocketMode

    socket_mode = FakeSocketMode()
    slack_api.socket_url = socket_mode.url
    slack_api.locales["U0FINN"] = "fi-FI"
    process = start_bot(
        tmp_path,
        bot_env(tmp_path, slack_api, SLACK_APP_TOKEN="xapp-1-A0VERTAIS-test", SLACK_SIGNING_SECRET=""),
    )
    try:
        fields = json.loads((ROOT / "tests" / "fixtures" / "slack" / "slash_command.json").read_text())
        fields.update(text="apua", user_id="U0FINN")
        socket_mode.send(
            {
                "envelope_id": "env-apua-1",
                "type": "slash_commands",
                "payload": fields,
                "accepts_response_payload": True,
            }
        )
        ack = socket_mode.wait_for_ack("env-apua-1", timeout=20)
        assert "Vertaisoppiminen: mitä haluat tehdä?" in json.dumps(ack["payload"], ensure_ascii=False)
        assert slack_api.of("apps.connections.open")
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)
        if process.stdout:
            process.stdout.close()
        socket_mode.close()


def _workers(pid: int) -> list[int]:
    try:
        return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    return state != "Z"


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


def _until(check, seconds: float = 20):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while not (found := check()):
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)
    return found


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="reads the process tree from /proc")
def test_http_processes_share_the_port_replace_a_dead_worker_and_stop_together(tmp_path, slack_api) -> None:
    port = free_port()
    slack_api.locales["U0FINN"] = "fi-FI"
    process = start_bot(tmp_path, bot_env(tmp_path, slack_api, PORT=str(port), HTTP_PROCESSES="2"))
    base = f"http://127.0.0.1:{port}"
    early = ""
    try:
        wait_until_healthy(base, process)
        early = _read_until(process, "2 worker processes serve")  # both have started
        workers = _workers(process.pid)
        assert len(workers) == 2
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

        os.kill(workers[0], signal.SIGKILL)  # a worker dies: another takes its place and serves
        early = _read_until(process, " serves", times=3, already=early)
        replaced = _workers(process.pid)
        assert len(replaced) == 2 and workers[0] not in replaced
        for _ in range(8):
            assert "Kollegialt lärande: vad vill du göra?" in slack.command("apua", user="U0FINN").said
        time.sleep(0.5)  # the replacement stays up (it used to end with an error after its start)
        assert _workers(process.pid) == replaced

        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=20) == 0
        assert not any(_alive(pid) for pid in replaced)  # nothing is left running
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    output = early + (process.stdout.read() if process.stdout else "")
    if process.stdout:
        process.stdout.close()
    assert "worker 0 ended" in output or "worker 1 ended" in output
    assert "Traceback" not in output
    assert output.count(" vertaisbot.request ") >= 10  # every worker writes its request log


def test_workers_that_cannot_start_end_the_program_with_one_clear_line(tmp_path, slack_api) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot"],
        cwd=tmp_path,
        env=bot_env(
            tmp_path, slack_api, SLACK_BOT_TOKEN="xoxb-revoked", HTTP_PROCESSES="3", PORT=str(free_port())
        ),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "SLACK_BOT_TOKEN" in lines[0]
    assert "worker 0 could not start" in result.stdout  # the first worker: the others never began
    assert "worker 1" not in result.stdout
    assert "Traceback" not in result.stderr + result.stdout


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the kernel ends the workers (prctl)")
def test_workers_end_when_their_parent_is_killed(tmp_path, slack_api) -> None:
    port = free_port()
    process = start_bot(tmp_path, bot_env(tmp_path, slack_api, PORT=str(port), HTTP_PROCESSES="2"))
    workers: list[int] = []
    try:
        _read_until(process, "2 worker processes serve")
        workers = _workers(process.pid)
        assert len(workers) == 2
        process.kill()  # no time for the parent to stop anyone
        process.wait()
        _until(lambda: not any(_alive(pid) for pid in workers))  # no orphan keeps the port
        with socket.socket() as probe:
            assert probe.connect_ex(("127.0.0.1", port)) != 0
    finally:
        for pid in [process.pid, *workers]:  # nothing outlives a failed test either
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        process.wait()
        if process.stdout:
            process.stdout.close()
