"""The `teamssim` fixture: a loopback Bot Framework key set and fake Bot Connector
(tests/fakes/teams_sim.py) for the Teams tests in this folder."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

import pytest

# The Teams SDK loads a `.env` at import (load_dotenv(find_dotenv(usecwd=True))). This conftest
# runs before the modules beside it are collected: import the SDK here from an empty directory,
# so that no developer's .env reaches this process's environment (and so every test's Settings).
with TemporaryDirectory() as _empty:
    _before = Path.cwd()
    os.chdir(_empty)
    try:
        import microsoft_teams.apps  # noqa: F401
    finally:
        os.chdir(_before)

from tests.fakes.teams_sim import TeamsSim

SDK_ENVIRONMENT = (
    "CLIENT_ID",
    "CLIENT_SECRET",
    "TENANT_ID",
    "MANAGED_IDENTITY_CLIENT_ID",
    "SERVICE_URL",
    "CLOUD",
    "DANGEROUSLY_ALLOW_UNAUTHENTICATED_REQUESTS",
    "PORT",
)


@pytest.fixture(scope="session")
def teams_sim_server() -> Iterator[TeamsSim]:
    sim = TeamsSim()
    yield sim
    sim.close()


@pytest.fixture
def teamssim(teams_sim_server: TeamsSim, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The simulator, its records cleared, with none of the SDK's own environment variables set."""
    for name in SDK_ENVIRONMENT:
        monkeypatch.delenv(name, raising=False)
    teams_sim_server.reset()
    return teams_sim_server
