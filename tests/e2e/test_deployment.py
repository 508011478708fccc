"""The deployment as a municipality's IT runs it. No container engine runs on the CI machine,
so the image's own commands (its ENTRYPOINT, CMD and HEALTHCHECK, read from the Dockerfile) run
on the host against the package installed as the image installs it (`pip install .`, not the
source tree); compose.yaml is parsed and checked; a pg_dump of a database with data in it is
restored into another and brought up with `python -m bot db upgrade`."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

from models import StaffProfile, make_session_factory
from tests.e2e.test_process import ROOT, bot_env

DOCKERFILE = ROOT / "Dockerfile"


def instructions() -> dict[str, list[str]]:
    """The Dockerfile's instructions by keyword (continued lines joined)."""
    found: dict[str, list[str]] = {}
    joined = DOCKERFILE.read_text().replace("\\\n", " ")
    for line in joined.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            found.setdefault(keyword.upper(), []).append(" ".join(rest.split()))
    return found


def exec_form(value: str) -> list[str]:
    words = json.loads(value)
    assert isinstance(words, list) and all(isinstance(w, str) for w in words)
    return words


def image_commands() -> tuple[list[str], list[str]]:
    """(ENTRYPOINT + CMD, the HEALTHCHECK's command), as the image runs them."""
    found = instructions()
    entrypoint = exec_form(found["ENTRYPOINT"][-1]) + exec_form(found["CMD"][-1])
    health = found["HEALTHCHECK"][-1]
    options, _, command = health.partition("CMD ")
    assert "--interval=" in options and "--timeout=" in options
    return entrypoint, exec_form(command)


def test_the_dockerfile_builds_a_slim_non_root_image_that_checks_its_health() -> None:
    found = instructions()
    base = found["FROM"][0]
    assert base.startswith("python:3.1") and base.endswith("-slim"), base
    assert found["USER"] and found["USER"][-1] not in ("root", "0")
    assert any("pip install ." in run for run in found["RUN"])
    entrypoint, health = image_commands()
    assert entrypoint == ["python", "-m", "bot", "run"]
    assert health == ["python", "-m", "bot", "health"]
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert ".env" in ignored and ".git" in ignored  # no secret and no history in the image


def test_compose_runs_postgresql_16_and_the_bot_in_socket_mode_or_http() -> None:
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    services = compose["services"]
    assert services["db"]["image"].startswith("postgres:16")
    assert "healthcheck" in services["db"]
    for name in ("bot", "bot-http"):
        bot = services[name]
        assert bot["build"] == "."
        assert bot["depends_on"]["db"]["condition"] == "service_healthy"
        url = make_url(bot["environment"]["DATABASE_URL"])
        assert (url.drivername, url.host, url.database) == ("postgresql+psycopg", "db", "vertaisbot")
        assert url.username == services["db"]["environment"]["POSTGRES_USER"]
        assert url.password == services["db"]["environment"]["POSTGRES_PASSWORD"]
        assert bot["env_file"] == ".env"
    assert "profiles" not in services["bot"] and "ports" not in services["bot"]  # `up`: Socket Mode
    http = services["bot-http"]
    assert http["profiles"] == ["http"] and http["ports"] == ["3000:3000"]
    assert http["environment"]["SLACK_APP_TOKEN"] == "" and http["environment"]["PORT"] == "3000"
    assert "pgdata" in compose["volumes"]


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """The package as the image installs it: built from the source tree, without the tree."""
    target = tmp_path_factory.mktemp("site")
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(target), str(ROOT)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    return target


def image_env(tmp_path: Path, slack_api, installed: Path, **extra: str) -> dict[str, str]:
    env = bot_env(tmp_path, slack_api, **extra)
    env["PYTHONPATH"] = str(installed)  # the installed package, not the source tree
    env["HEALTH_FILE"] = str(tmp_path / "var" / "health")
    return env


def run_as_image(words: list[str], cwd: Path, env: dict[str, str], **kw) -> subprocess.Popen[str]:
    assert words[0] == "python"
    return subprocess.Popen(
        [sys.executable, *words[1:]],
        cwd=cwd,
        env=env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        **kw,
    )


def wait_healthy(health: list[str], cwd: Path, env: dict[str, str], process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 40
    while True:
        checked = subprocess.run(
            [sys.executable, *health[1:]], cwd=cwd, env=env, capture_output=True, text=True, timeout=30
        )
        if checked.returncode == 0:
            return
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            output = process.communicate()[0]
            pytest.fail(f"never healthy ({checked.stdout.strip()}): {output}")
        time.sleep(0.5)


def stop(process: subprocess.Popen[str]) -> str:
    process.send_signal(signal.SIGTERM)
    output = process.communicate(timeout=15)[0]
    assert process.returncode == 0, output
    return output


def test_the_images_commands_serve_in_socket_mode_and_report_their_health(
    tmp_path, slack_api, installed
) -> None:
    from tests.fakes.socket_mode import FakeSocketMode

    socket_mode = FakeSocketMode()
    slack_api.socket_url = socket_mode.url
    slack_api.locales["U0FINN"] = "fi-FI"
    entrypoint, health = image_commands()
    workdir = tmp_path / "app"
    workdir.mkdir()
    env = image_env(
        workdir, slack_api, installed, SLACK_APP_TOKEN="xapp-1-A0VERTAIS-test", SLACK_SIGNING_SECRET=""
    )
    process = run_as_image(entrypoint, workdir, env)
    try:
        wait_healthy(health, workdir, env, process)
        fields = json.loads((ROOT / "tests" / "fixtures" / "slack" / "slash_command.json").read_text())
        fields.update(text="apua", user_id="U0FINN")
        socket_mode.send(
            {
                "envelope_id": "e1",
                "type": "slash_commands",
                "payload": fields,
                "accepts_response_payload": True,
            }
        )
        ack = socket_mode.wait_for_ack("e1", timeout=20)
        assert "Vertaisoppiminen: mitä" in json.dumps(
            ack["payload"], ensure_ascii=False
        )  # catalogues installed
        output = stop(process)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        socket_mode.close()
    assert "Traceback" not in output
    after = subprocess.run(
        [sys.executable, *health[1:]], cwd=workdir, env=env, capture_output=True, text=True
    )
    assert after.returncode == 1


def test_the_images_commands_serve_http(tmp_path, slack_api, installed) -> None:
    from tests.e2e.test_process import free_port

    entrypoint, health = image_commands()
    workdir = tmp_path / "app"
    workdir.mkdir()
    env = image_env(workdir, slack_api, installed, PORT=str(free_port()))
    process = run_as_image(entrypoint, workdir, env)
    try:
        wait_healthy(health, workdir, env, process)
        assert "gunicorn" in stop(process)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.mark.postgres
@pytest.mark.skipif(not (shutil.which("pg_dump") and shutil.which("pg_restore")), reason="needs pg_dump")
def test_a_pg_dump_restored_into_a_new_database_is_brought_up_by_db_upgrade(
    tmp_path, db_url, session_factory, slack_api, installed
) -> None:
    with session_factory.begin() as session:
        at = datetime.now(UTC)
        session.add(StaffProfile(slack_user_id="U0KEPT", language="sv", created_at=at, updated_at=at))
    dump = tmp_path / "vertaisbot.dump"
    subprocess.run(["pg_dump", "--format=custom", f"--file={dump}", libpq(db_url)], check=True, timeout=120)
    restored = make_url(db_url).set(database="vertaisbot_restore_test")
    admin = create_engine(make_url(db_url).set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text("DROP DATABASE IF EXISTS vertaisbot_restore_test WITH (FORCE)"))
        connection.execute(text("CREATE DATABASE vertaisbot_restore_test"))
    try:
        restored_url = restored.render_as_string(hide_password=False)
        subprocess.run(
            ["pg_restore", "--no-owner", f"--dbname={libpq(restored_url)}", str(dump)],
            check=True,
            timeout=120,
        )
        env = image_env(tmp_path, slack_api, installed, DATABASE_URL=restored_url)
        upgraded = subprocess.run(
            [sys.executable, "-m", "bot", "db", "upgrade"],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert upgraded.returncode == 0, upgraded.stderr
        revision = upgraded.stdout.split("database at revision ", 1)[1].split()[0]
        assert f"(head {revision})" in upgraded.stdout
        engine = create_engine(restored_url)
        try:
            with make_session_factory(engine)() as session:
                kept = session.scalars(
                    select(StaffProfile).where(StaffProfile.slack_user_id == "U0KEPT")
                ).one()
                assert kept.language == "sv"
        finally:
            engine.dispose()
    finally:
        with admin.connect() as connection:
            connection.execute(text("DROP DATABASE IF EXISTS vertaisbot_restore_test WITH (FORCE)"))
        admin.dispose()
