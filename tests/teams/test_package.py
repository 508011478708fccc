"""`python -m bot teams package` builds a zip that Teams accepts, checked offline: the manifest's
required fields and limits (schema 1.22), the icons' sizes, the bot id and the command words."""

from __future__ import annotations

import io
import json
import re
import zipfile
from pathlib import Path

import pytest
from PIL import Image

from bot.__main__ import main
from bot.commands import Sub, word
from bot.config import ConfigError, Settings
from teams.package import build_package

CLIENT_ID = "0f6a3c1e-2b4d-4e8f-9a1b-3c5d7e9f1a2b"
WEBSITE = "https://vertaisbot.example.org/teams"
REQUIRED = (
    "$schema",
    "manifestVersion",
    "version",
    "id",
    "developer",
    "name",
    "description",
    "icons",
    "accentColor",
)


def settings(**overrides: str) -> Settings:
    values = {"teams_client_id": CLIENT_ID, "teams_website_url": WEBSITE, **overrides}
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def unzip(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        assert archive.testzip() is None
        assert all("/" not in name for name in archive.namelist())  # Teams wants the files at the root
        return {name: archive.read(name) for name in archive.namelist()}


def test_the_package_holds_a_valid_manifest_and_two_icons(tmp_path: Path) -> None:
    files = unzip(build_package(settings(), tmp_path / "app.zip"))
    assert set(files) == {"manifest.json", "color.png", "outline.png", "sv.json", "en.json"}
    manifest = json.loads(files["manifest.json"])
    for field in REQUIRED:
        assert manifest.get(field), field
    version = manifest["manifestVersion"]
    assert re.fullmatch(r"1\.\d+", version) and manifest["$schema"].endswith(
        f"/v{version}/MicrosoftTeams.schema.json"
    )
    assert re.fullmatch(r"\d+\.\d+\.\d+", manifest["version"])
    assert manifest["id"] == CLIENT_ID
    assert re.fullmatch(r"#[0-9A-Fa-f]{6}", manifest["accentColor"])
    for url in ("websiteUrl", "privacyUrl", "termsOfUseUrl"):
        assert manifest["developer"][url].startswith("https://")
    assert 0 < len(manifest["developer"]["name"]) <= 32
    assert 0 < len(manifest["name"]["short"]) <= 30 and len(manifest["name"]["full"]) <= 100
    assert 0 < len(manifest["description"]["short"]) <= 80 and len(manifest["description"]["full"]) <= 4000
    (bot,) = manifest["bots"]
    assert bot["botId"] == CLIENT_ID
    assert bot["scopes"] == ["personal"]
    (commands,) = bot["commandLists"]
    titles = [command["title"] for command in commands["commands"]]
    assert sorted(titles) == sorted(sub.value for sub in Sub)  # the command words users type
    assert len(titles) <= 10
    for command in commands["commands"]:
        assert len(command["title"]) <= 32 and 0 < len(command["description"]) <= 128
    assert manifest["icons"] == {"color": "color.png", "outline": "outline.png"}


def test_the_icons_are_192_and_32_pixels_and_the_outline_is_white_on_transparent(tmp_path: Path) -> None:
    files = unzip(build_package(settings(), tmp_path / "app.zip"))
    color = Image.open(io.BytesIO(files["color.png"]))
    outline = Image.open(io.BytesIO(files["outline.png"]))
    assert (color.format, color.size) == ("PNG", (192, 192))
    assert (outline.format, outline.size) == ("PNG", (32, 32))
    raw = outline.convert("RGBA").tobytes()
    pixels = [tuple(raw[index : index + 4]) for index in range(0, len(raw), 4)]
    assert all(alpha == 0 or (red, green, blue) == (255, 255, 255) for red, green, blue, alpha in pixels)
    assert any(alpha == 255 for *_rgb, alpha in pixels)


@pytest.mark.parametrize(("lang", "tag"), [("sv", "sv-fi"), ("en", "en-us")])
def test_the_command_list_is_localized(tmp_path: Path, lang: str, tag: str) -> None:
    files = unzip(build_package(settings(), tmp_path / "app.zip"))
    manifest = json.loads(files["manifest.json"])
    assert {"languageTag": tag, "file": f"{lang}.json"} in manifest["localizationInfo"]["additionalLanguages"]
    localized = json.loads(files[f"{lang}.json"])
    commands = manifest["bots"][0]["commandLists"][0]["commands"]
    by_word = {sub.value: sub for sub in Sub}
    for index, command in enumerate(commands):
        title = localized[f"bots[0].commandLists[0].commands[{index}].title"]
        assert title == word(by_word[command["title"]], lang)
    assert localized["name.short"] and len(localized["name.short"]) <= 30


@pytest.mark.parametrize(
    ("overrides", "named"),
    [
        ({"teams_client_id": ""}, "TEAMS_CLIENT_ID"),
        ({"teams_website_url": "http://plain.example"}, "TEAMS_WEBSITE_URL"),
    ],
)
def test_the_package_needs_a_bot_id_and_an_https_website(
    tmp_path: Path, overrides: dict[str, str], named: str
) -> None:
    with pytest.raises(ConfigError, match=named):
        build_package(settings(**overrides), tmp_path / "app.zip")


def test_python_m_bot_teams_package_writes_the_zip(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    monkeypatch.chdir(tmp_path)  # no .env here
    monkeypatch.setenv("TEAMS_CLIENT_ID", CLIENT_ID)
    monkeypatch.setenv("TEAMS_WEBSITE_URL", WEBSITE)
    assert main(["teams", "package", "--output", str(tmp_path / "out.zip")]) == 0
    assert json.loads(unzip(tmp_path / "out.zip")["manifest.json"])["id"] == CLIENT_ID
    monkeypatch.setenv("TEAMS_WEBSITE_URL", "")
    assert main(["teams", "package", "--output", str(tmp_path / "bad.zip")]) == 2
    assert "TEAMS_WEBSITE_URL" in capsys.readouterr().err


def test_the_invite_links_domain_is_a_valid_domain_of_the_app(teamssim):
    from teams.package import manifest
    from tests.teams.support import teams_settings

    settings = teams_settings(
        teamssim,
        teams_website_url="https://kirjasto.example/vertaisbot",
        teams_public_url="https://vertaisbot.kunta.example",
    )
    assert manifest(settings)["validDomains"] == ["kirjasto.example", "vertaisbot.kunta.example"]
