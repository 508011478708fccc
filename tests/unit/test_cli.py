"""`python -m bot` subcommands that need no Slack: manifest, db upgrade, import."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from bot.config import Settings
from bot.manifest import BOT_SCOPES, build_manifest

ROOT = Path(__file__).resolve().parents[2]


def run_bot(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {
        k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "REQUEST_URL", "VERTAIS_"))
    }
    environment.update(PYTHONPATH=str(ROOT), DATABASE_URL=f"sqlite:///{tmp_path / 'cli.sqlite3'}", **env)
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_shipped_manifest_is_what_the_command_prints(tmp_path: Path) -> None:
    result = run_bot(tmp_path, "manifest")
    assert result.returncode == 0, result.stderr
    printed = json.loads(result.stdout)
    assert printed == json.loads((ROOT / "manifest.json").read_text(encoding="utf-8"))
    assert printed["settings"]["socket_mode_enabled"] is True
    assert printed["features"]["slash_commands"][0]["command"] == "/vertais"
    assert printed["settings"]["event_subscriptions"]["bot_events"] == ["app_home_opened"]
    assert printed["features"]["app_home"]["home_tab_enabled"] is True
    assert printed["settings"]["interactivity"]["is_enabled"] is True
    assert sorted(printed["oauth_config"]["scopes"]["bot"]) == sorted(BOT_SCOPES)


def test_manifest_uses_the_configured_command_and_request_url(tmp_path: Path) -> None:
    result = run_bot(
        tmp_path,
        "manifest",
        VERTAIS_COMMAND="/vertaisoppiminen",
        REQUEST_URL="https://bot.example.org/slack/events",
    )
    manifest = json.loads(result.stdout)
    command = manifest["features"]["slash_commands"][0]
    assert command["command"] == "/vertaisoppiminen"
    assert command["url"] == "https://bot.example.org/slack/events"
    assert manifest["settings"]["interactivity"]["request_url"] == "https://bot.example.org/slack/events"
    assert (
        manifest["settings"]["interactivity"]["message_menu_options_url"]
        == "https://bot.example.org/slack/events"
    )
    assert manifest["settings"]["socket_mode_enabled"] is False


def test_every_scope_is_explained_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    manifest = build_manifest(Settings(_env_file=None))  # type: ignore[call-arg]
    for scope in manifest["oauth_config"]["scopes"]["bot"]:
        assert f"`{scope}`" in readme


def test_db_upgrade_and_import(tmp_path: Path) -> None:
    upgraded = run_bot(tmp_path, "db", "upgrade")
    assert upgraded.returncode == 0, upgraded.stderr
    assert "database at revision" in upgraded.stdout
    csv = tmp_path / "libs.csv"
    csv.write_text(
        "key,name,municipality,region,lat,lon\n"
        "joensuu,Joensuun pääkirjasto,Joensuu,Pohjois-Karjala,62.6010,29.7636\n"
        "broken,Rikki,Joensuu,Pohjois-Karjala,x,y\n",
        encoding="utf-8",
    )
    imported = run_bot(tmp_path, "import", "libraries", str(csv), "--region", "pohjois-karjala")
    assert imported.returncode == 0, imported.stderr
    assert "added 1, changed 0, unchanged 0, rejected 1" in imported.stdout
    assert "rejected line 3: lat/lon must be numbers" in imported.stdout
    again = run_bot(tmp_path, "import", "libraries", str(csv), "--region", "pohjois-karjala")
    assert "added 0, changed 0, unchanged 1, rejected 1" in again.stdout
    missing = run_bot(tmp_path, "import", "libraries", str(tmp_path / "nope.csv"))
    assert missing.returncode == 2 and "cannot read" in missing.stderr and "Traceback" not in missing.stderr
