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
    assert imported.returncode == 1, imported.stderr  # a cron job sees the rejected row
    assert "added 1, changed 0, unchanged 0, rejected 1" in imported.stdout
    assert "rejected line 3: lat/lon must be numbers" in imported.stdout
    again = run_bot(tmp_path, "import", "libraries", str(csv), "--region", "pohjois-karjala")
    assert again.returncode == 1
    assert "added 0, changed 0, unchanged 1, rejected 1" in again.stdout
    clean = tmp_path / "clean.csv"
    clean.write_text(
        "key;name;municipality;region;lat;lon\n"  # what Finnish Excel saves
        "ilomantsi;Ilomantsin kirjasto;Ilomantsi;Pohjois-Karjala;62,6722;30,9306\n",
        encoding="utf-8-sig",
    )
    loaded = run_bot(tmp_path, "import", "libraries", str(clean), "--region", "pohjois-karjala")
    assert loaded.returncode == 0, loaded.stdout + loaded.stderr
    assert "added 1, changed 0, unchanged 0, rejected 0" in loaded.stdout
    missing = run_bot(tmp_path, "import", "libraries", str(tmp_path / "nope.csv"))
    assert missing.returncode == 2 and "cannot read" in missing.stderr and "Traceback" not in missing.stderr


def test_sweep_command_sends_what_is_due_once(tmp_path: Path, slack_api) -> None:
    from datetime import UTC, datetime

    from models import Reminder, ReminderStatus, create_engine_for, make_session_factory
    from models.migrate import upgrade

    engine = create_engine_for(f"sqlite:///{tmp_path / 'cli.sqlite3'}")
    upgrade(engine)
    created = datetime(2026, 11, 20, tzinfo=UTC)
    due = datetime(2026, 11, 26, 7, 0, tzinfo=UTC)  # 9:00 in Helsinki
    with make_session_factory(engine).begin() as session:
        session.add(
            Reminder(
                dedupe_key="k",
                visit_id=None,
                kind="other",
                recipient="U0HOST",
                due_at=due,
                next_attempt_at=due,
                status=ReminderStatus.PENDING,
                attempts=0,
                params={},
                created_at=created,
            )
        )
    engine.dispose()
    env = {"SLACK_BOT_TOKEN": "xoxb-cli", "SLACK_API_URL": slack_api.url}
    early = run_bot(tmp_path, "sweep", "--now", "2026-11-26T08:59", **env)
    assert early.returncode == 0, early.stderr
    assert early.stdout.startswith("sent 0,")
    first = run_bot(tmp_path, "sweep", "--now", "2026-11-26T09:00", **env)
    assert "sent 1," in first.stdout and "U0HOST" in first.stdout
    second = run_bot(tmp_path, "sweep", "--now", "2026-11-26T09:05:00+02:00", **env)
    assert second.stdout.startswith("sent 0,")
    assert len(slack_api.of("chat.postMessage")) == 1
    bad = run_bot(tmp_path, "sweep", "--now", "tomorrow", **env)
    assert bad.returncode == 2 and "ISO 8601" in bad.stderr


def test_sweep_now_takes_over_a_dead_requests_claim_by_its_own_time(tmp_path: Path, slack_api) -> None:
    """A request claimed a message and died (SIGKILL): its claim lasts REMINDER_CLAIM_SECONDS.
    An operator's `sweep --now` past that lifetime takes the row over at once, by the sweep's
    own time, whatever the machine's clock says (the claim here is still fresh by the machine's
    clock: it was stamped at 8:53 on the next working day)."""
    from datetime import UTC, datetime, time, timedelta

    from sqlalchemy import select

    from models import Reminder, ReminderStatus, create_engine_for, make_session_factory
    from models.migrate import upgrade
    from services.common.workdays import HELSINKI, is_working_day
    from services.outbox import reminders

    day = datetime.now(UTC).astimezone(HELSINKI).date() + timedelta(days=1)
    while not is_working_day(day):
        day += timedelta(days=1)
    sweep_at = datetime.combine(day, time(9, 0), tzinfo=HELSINKI)
    claimed = sweep_at - timedelta(minutes=7)
    engine = create_engine_for(f"sqlite:///{tmp_path / 'cli.sqlite3'}")
    upgrade(engine)
    with make_session_factory(engine).begin() as session:
        dead = reminders.add(
            session, key="dead", kind="other", recipient="U0HOST", due_at=claimed, now=claimed, tz=HELSINKI
        )
        dead.claimed_at, dead.claim_token = claimed, "deadrequest"  # the request that died had it
    env = {"SLACK_BOT_TOKEN": "xoxb-cli", "SLACK_API_URL": slack_api.url}
    early = run_bot(tmp_path, "sweep", "--now", (sweep_at - timedelta(minutes=4)).isoformat(), **env)
    assert early.returncode == 0, early.stderr
    assert early.stdout.startswith("sent 0,"), early.stdout  # the claim is 3 minutes old: not yet
    swept = run_bot(tmp_path, "sweep", "--now", sweep_at.isoformat(), **env)
    assert swept.returncode == 0, swept.stderr
    assert "sent 1," in swept.stdout and "U0HOST" in swept.stdout, swept.stdout
    assert len(slack_api.of("chat.postMessage")) == 1
    with make_session_factory(engine)() as session:
        row = session.scalars(select(Reminder).where(Reminder.dedupe_key == "dead")).one()
        assert row.status == ReminderStatus.SENT and row.claim_token != "deadrequest"
    engine.dispose()


def test_report_forget_and_export_commands(tmp_path: Path) -> None:
    import csv as csv_module

    assert run_bot(tmp_path, "db", "upgrade").returncode == 0
    out = tmp_path / "raportti.csv"
    result = run_bot(
        tmp_path, "report", "--year", "2026", "--csv", str(out), "--chart", str(tmp_path / "k.png")
    )
    assert result.returncode == 0, result.stderr
    assert "matplotlib" not in result.stdout + result.stderr
    data = out.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv_module.reader(data.decode("utf-8-sig").splitlines(), delimiter=";"))
    assert rows[0] == [
        "osio",
        "kohta",
        "tarkenne",
        "vierailuja",
        "henkilöitä",
        "päiviä",
        "prosenttia",
        "euroa",
    ]
    # no budget set: remaining is no number, and the detail says why
    assert ["talous", "jäljellä", "Vuodelle 2026 ei ole asetettu budjettia", "", "", "", "", ""] in rows
    assert (tmp_path / "k.png").read_bytes().startswith(b"\x89PNG")
    assert (
        run_bot(tmp_path, "report", "--year", "2026", "--csv", "x.csv", "--region", "nowhere").returncode == 2
    )

    exported = run_bot(tmp_path, "export-user", "U0NOBODY")
    assert exported.returncode == 0, exported.stderr
    assert json.loads(exported.stdout)["tables"] == {}
    forgotten = run_bot(tmp_path, "forget-user", "U0NOBODY")
    assert forgotten.returncode == 0 and "forgot U0NOBODY" in forgotten.stdout


def test_env_example_documents_every_setting() -> None:
    documented = {
        line.split("=", 1)[0].strip()
        for line in (ROOT / ".env.example").read_text(encoding="utf-8").splitlines()
        if "=" in line and not line.lstrip().startswith("#")
    }
    assert {name.upper() for name in Settings.model_fields} <= documented
