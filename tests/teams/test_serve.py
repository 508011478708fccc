"""`python -m bot teams` serves POST /api/messages with uvicorn on TEAMS_HOST:TEAMS_PORT: a real
process on a loopback port, answered through the fake Bot Connector (insecure dev mode, as with
Microsoft 365 Agents Playground), and stopped by SIGTERM."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def post(url: str, body: bytes) -> int:
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


def test_python_m_bot_teams_serves_api_messages_on_the_configured_port(
    teamssim, repo_root: Path, tmp_path: Path
):
    port = free_port()
    env = {
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": str(repo_root),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "TEAMS_DEV_INSECURE": "1",
        "TEAMS_HOST": "127.0.0.1",
        "TEAMS_PORT": str(port),
        "TEAMS_SERVICE_URL": teamssim.service_url,
        "SCHEDULER_ENABLED": "false",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "teams"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}/api/messages"
    try:
        deadline = time.monotonic() + 60
        status = 0
        while time.monotonic() < deadline:
            try:
                status = post(url, b"{not json")
                break
            except (ConnectionError, urllib.error.URLError):
                time.sleep(0.2)
        assert status == 400  # the guard runs in the served app too
        assert post(url, json.dumps(teamssim.message("help", locale="en-US")).encode()) == 200
        (sent,) = teamssim.wait_sent(1)
        assert (
            sent.body["attachments"][0]["content"]["body"][0]["text"]
            == "Peer learning: what would you like to do?"
        )
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=20)
    # uvicorn shuts down gracefully, then ends by the signal it caught
    assert process.returncode in (0, -signal.SIGTERM), output[-2000:]
    assert "Application shutdown complete" in output
    assert "Peer learning" not in output and "a:29:user-1-chat" not in output  # no texts, no ids


def test_the_composition_root_gives_the_slack_side_a_port_to_teams_only_when_teams_is_configured(
    teamssim, session_factory
):
    from bot.__main__ import slack_notifiers, teams_outbound
    from tests.teams.support import teams_settings

    slack_only = teams_settings(teamssim, teams_client_id="", teams_tenant_id="")
    assert teams_outbound(slack_only) is None  # a Slack-only deployment never imports the Teams side
    with_teams = teams_settings(teamssim)
    factory = teams_outbound(with_teams)
    assert callable(factory)

    class Port:  # what the factory would make: the notifiers keep it
        pass

    port = Port()
    visit_notifier, writeup_publisher = slack_notifiers(with_teams)(session_factory, port)
    assert visit_notifier.elsewhere is port
