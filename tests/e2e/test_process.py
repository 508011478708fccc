"""The whole program as a newcomer runs it: `python -m bot` in HTTP mode against a fake Web API."""

from __future__ import annotations

import json
import os
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
