"""Our TEAMS_* settings decide, never the SDK's own environment variables (which its import-time
.env loading would fill); requests without a token are accepted only with TEAMS_DEV_INSECURE=1 on
a loopback address; the Slack bot neither needs nor imports the Teams SDK."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bot.config import ConfigError
from tests.teams.support import build, client, run, teams_settings

EVIL = "11111111-2222-3333-4444-555555555555"


def test_the_sdk_s_environment_variables_cannot_change_our_settings(
    teamssim, session_factory, clock, monkeypatch
):
    # What `load_dotenv` at the SDK's import would put in the environment from a .env.
    monkeypatch.setenv("CLIENT_ID", EVIL)
    monkeypatch.setenv("TENANT_ID", EVIL)
    monkeypatch.setenv("MANAGED_IDENTITY_CLIENT_ID", EVIL)
    monkeypatch.setenv("SERVICE_URL", "https://evil.example/")
    monkeypatch.setenv("CLOUD", "USGov")
    monkeypatch.setenv("DANGEROUSLY_ALLOW_UNAUTHENTICATED_REQUESTS", "false")

    async def scenario() -> tuple[object, int, int]:
        bot = await build(teamssim, session_factory, clock)
        body = teamssim.message("apua")
        async with client(bot) as http:
            signed = await http.post(
                "/api/messages", content=json.dumps(body), headers=teamssim.headers(body)
            )
            unsigned = await http.post(
                "/api/messages", content=json.dumps(body), headers={"Content-Type": "application/json"}
            )
        return bot, signed.status_code, unsigned.status_code

    bot, signed, unsigned = run(scenario)
    app = bot.app  # type: ignore[attr-defined]
    assert app.id == teamssim.client_id
    assert app.credentials.tenant_id == teamssim.tenant_id
    assert app.api.service_url == teamssim.service_url.rstrip("/")
    assert app.cloud.openid_metadata_url.startswith(teamssim.url)
    assert (signed, unsigned) == (200, 401)
    assert len(teamssim.wait_sent(1)) == 1


def test_our_client_secret_wins_over_the_sdk_s(teamssim, session_factory, clock, monkeypatch):
    monkeypatch.setenv("CLIENT_ID", EVIL)
    monkeypatch.setenv("CLIENT_SECRET", "evil-secret")
    from teams.app import build_teams_app
    from teams.deps import TeamsDeps

    async def scenario() -> object:
        settings = teams_settings(teamssim, teams_client_secret="our-secret")
        return await build_teams_app(
            settings, TeamsDeps(session_factory=session_factory, clock=clock), cloud=teamssim.cloud
        )

    credentials = run(scenario).app.credentials
    assert (credentials.client_id, credentials.client_secret) == (teamssim.client_id, "our-secret")


@pytest.mark.parametrize("name", ["CLIENT_ID", "CLIENT_SECRET", "TENANT_ID"])
def test_an_sdk_variable_that_would_fill_an_empty_setting_is_refused(
    teamssim, session_factory, clock, monkeypatch, name
):
    monkeypatch.setenv(name, EVIL)
    overrides = {"teams_tenant_id": ""} if name == "TENANT_ID" else {}
    if name == "CLIENT_ID":
        overrides = {"teams_client_id": "", "teams_dev_insecure": True}
    with pytest.raises(ConfigError, match=f"unset {name}"):
        run(build, teamssim, session_factory, clock, **overrides)


def test_unauthenticated_mode_is_refused_unless_teams_dev_insecure(
    teamssim, session_factory, clock, monkeypatch
):
    monkeypatch.setenv("DANGEROUSLY_ALLOW_UNAUTHENTICATED_REQUESTS", "1")
    with pytest.raises(ConfigError, match="TEAMS_DEV_INSECURE=1"):
        run(build, teamssim, session_factory, clock)


@pytest.mark.parametrize(
    ("overrides", "named"),
    [
        ({"teams_client_id": ""}, "TEAMS_CLIENT_ID is not set"),
        ({"teams_dev_insecure": True, "teams_host": "0.0.0.0"}, "TEAMS_HOST must be a loopback"),
    ],
)
def test_production_refuses_to_start_without_credentials(teamssim, session_factory, clock, overrides, named):
    with pytest.raises(ConfigError, match=named):
        run(build, teamssim, session_factory, clock, **overrides)


def test_no_client_secret_and_no_token_provider_is_refused(teamssim, session_factory, clock):
    from teams.app import build_teams_app
    from teams.deps import TeamsDeps

    async def scenario() -> None:
        await build_teams_app(
            teams_settings(teamssim), TeamsDeps(session_factory=session_factory, clock=clock)
        )

    with pytest.raises(ConfigError, match="TEAMS_CLIENT_SECRET is not set"):
        run(scenario)


def test_insecure_dev_mode_on_loopback_accepts_an_unsigned_message(teamssim, session_factory, clock):
    async def scenario() -> int:
        bot = await build(teamssim, session_factory, clock, teams_client_id="", teams_dev_insecure=True)
        body = teamssim.message("apua")
        async with client(bot) as http:
            response = await http.post(
                "/api/messages", content=json.dumps(body), headers={"Content-Type": "application/json"}
            )
        return response.status_code

    assert run(scenario) == 200
    assert len(teamssim.wait_sent(1)) == 1


LINK_SECRET = "k" * 32


@pytest.mark.parametrize(
    ("overrides", "named"),
    [
        ({}, "TEAMS_LINK_SECRET is not set"),
        ({"teams_link_secret": "   "}, "TEAMS_LINK_SECRET is not set"),
        ({"teams_link_secret": "short"}, "TEAMS_LINK_SECRET is too short"),
        ({"teams_link_secret": LINK_SECRET, "teams_public_url": "http://bot.example"}, "must be an https://"),
    ],
)
def test_a_public_url_without_a_link_secret_refuses_to_start(
    teamssim, session_factory, clock, overrides, named
):
    values = {"teams_public_url": "https://vertaisbot.example", **overrides}
    with pytest.raises(ConfigError, match=named) as caught:
        run(build, teamssim, session_factory, clock, **values)
    assert "\n" not in str(caught.value)


def test_invite_links_are_optional_and_start_with_a_secret(teamssim, session_factory, clock):
    run(build, teamssim, session_factory, clock)  # no public URL: no links, no secret needed
    run(
        build,
        teamssim,
        session_factory,
        clock,
        teams_public_url="https://x.example",
        teams_link_secret=LINK_SECRET,
    )


def test_the_slack_bot_runs_without_the_teams_sdk(repo_root: Path, tmp_path: Path) -> None:
    """With microsoft_teams unimportable, the Slack side imports and prints its manifest, and
    `teams package` still works; `teams serve` says to install the extra."""
    code = (
        "import sys; sys.modules['microsoft_teams'] = None\n"
        "import bot.app, bot.serving, handlers, scheduler\n"
        "from bot.__main__ import main\n"
        "assert main(['manifest']) == 0\n"
        "assert main(['teams', 'package', '--output', 'app.zip']) == 0\n"
        "assert main(['teams']) == 2\n"
        "assert not [m for m in sys.modules if m.startswith('microsoft_teams') and sys.modules[m] is not None]\n"
    )
    env = {
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": str(repo_root),
        "TEAMS_CLIENT_ID": EVIL,
        "TEAMS_WEBSITE_URL": "https://vertaisbot.example.org/",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
    }
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "pip install '.[teams]'" in done.stderr
