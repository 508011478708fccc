"""The Teams app package: manifest.json (schema 1.22) with the bot in the personal scope and the
command words as its command list, localized (fi default; sv, en), and the two icons of
teams/appPackage/, zipped for sideloading (`python -m bot teams package`). Pure apart from
reading the icons and writing the zip; imports nothing of the Teams SDK."""

from __future__ import annotations

import io
import json
import re
import zipfile
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from bot.commands import Sub, word
from bot.config import ConfigError, Settings
from bot.i18n import Translator, translator

APP_PACKAGE = Path(__file__).parent / "appPackage"
MANIFEST_VERSION = "1.22"
SCHEMA = f"https://developer.microsoft.com/json-schemas/teams/v{MANIFEST_VERSION}/MicrosoftTeams.schema.json"
LOCALIZATION_SCHEMA = f"https://developer.microsoft.com/json-schemas/teams/v{MANIFEST_VERSION}/MicrosoftTeams.Localization.schema.json"
APP_VERSION = "1.0.0"
ACCENT_COLOR = "#1F6E8C"
COLOR_ICON, OUTLINE_ICON = "color.png", "outline.png"
COLOR_SIZE, OUTLINE_SIZE = 192, 32
DEFAULT_LANGUAGE_TAG = "fi-fi"
LANGUAGE_TAGS = {"sv": "sv-fi", "en": "en-us"}  # the additional languages and their files (sv.json, en.json)
GUID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")

# The command list, in the order Teams shows it (at most 10), with each command's description.
COMMANDS: tuple[tuple[Sub, str], ...] = (
    (Sub.HELP, "teams.command.help"),
    (Sub.FIND, "teams.command.find"),
    (Sub.PROPOSE, "teams.command.propose"),
    (Sub.OFFER, "teams.command.offer"),
    (Sub.MINE, "teams.command.mine"),
    (Sub.IDEAS, "teams.command.ideas"),
    (Sub.SETTINGS, "teams.command.settings"),
    (Sub.REPORT, "teams.command.report"),
)


def check(settings: Settings) -> tuple[str, str]:
    """The bot id and website the manifest needs, or ConfigError."""
    client_id = settings.teams_client_id.strip()
    if not GUID.match(client_id):
        raise ConfigError("TEAMS_CLIENT_ID must be the bot's app id (a GUID) to build the Teams app package")
    website = settings.teams_website_url.strip()
    if urlparse(website).scheme != "https" or not urlparse(website).netloc:
        raise ConfigError(
            "TEAMS_WEBSITE_URL must be an https address (a page about the bot, its privacy notice and "
            "terms) to build the Teams app package"
        )
    return client_id, website


def texts(t: Translator) -> dict[str, str]:
    """The manifest's localizable strings in one language, by the localization file's keys."""
    found = {
        "name.short": t("teams.app.name.short"),
        "name.full": t("teams.app.name.full"),
        "description.short": t("teams.app.description.short"),
        "description.full": t("teams.app.description.full"),
    }
    for index, (sub, description) in enumerate(COMMANDS):
        found[f"bots[0].commandLists[0].commands[{index}].title"] = word(sub, t.lang)
        found[f"bots[0].commandLists[0].commands[{index}].description"] = t(description)
    return found


def manifest(settings: Settings) -> dict[str, Any]:
    client_id, website = check(settings)
    t = translator("fi")
    words = texts(t)
    commands = [
        {
            "title": words[f"bots[0].commandLists[0].commands[{index}].title"],
            "description": words[f"bots[0].commandLists[0].commands[{index}].description"],
        }
        for index in range(len(COMMANDS))
    ]
    return {
        "$schema": SCHEMA,
        "manifestVersion": MANIFEST_VERSION,
        "version": APP_VERSION,
        "id": client_id,
        "developer": {
            "name": t("teams.app.developer"),
            "websiteUrl": website,
            "privacyUrl": website,
            "termsOfUseUrl": website,
        },
        "name": {"short": words["name.short"], "full": words["name.full"]},
        "description": {"short": words["description.short"], "full": words["description.full"]},
        "icons": {"color": COLOR_ICON, "outline": OUTLINE_ICON},
        "accentColor": ACCENT_COLOR,
        "localizationInfo": {
            "defaultLanguageTag": DEFAULT_LANGUAGE_TAG,
            "additionalLanguages": [
                {"languageTag": tag, "file": f"{lang}.json"} for lang, tag in LANGUAGE_TAGS.items()
            ],
        },
        "bots": [
            {
                "botId": client_id,
                "scopes": ["personal"],
                "supportsFiles": False,
                "isNotificationOnly": False,
                "commandLists": [{"scopes": ["personal"], "commands": commands}],
            }
        ],
        "permissions": ["identity", "messageTeamMembers"],
        # The website, and the endpoint's public address (the invite links' domain).
        "validDomains": list(
            dict.fromkeys(
                urlparse(url).netloc for url in (website, settings.teams_public_url) if urlparse(url).netloc
            )
        ),
    }


def localization(lang: str) -> dict[str, Any]:
    return {"$schema": LOCALIZATION_SCHEMA, **texts(translator(lang))}


def draw_icons() -> dict[str, bytes]:
    """The two icons Teams asks for: a 192x192 colour icon and a 32x32 white-on-transparent
    outline (drawn with Pillow, which matplotlib brings)."""
    from PIL import Image, ImageDraw

    color = Image.new("RGBA", (COLOR_SIZE, COLOR_SIZE), ACCENT_COLOR)
    draw = ImageDraw.Draw(color)
    draw.rectangle((44, 52, 92, 140), fill="white")  # two open book pages
    draw.rectangle((100, 52, 148, 140), fill="white")
    draw.ellipse((84, 144, 108, 168), fill="white")
    outline = Image.new("RGBA", (OUTLINE_SIZE, OUTLINE_SIZE), (0, 0, 0, 0))
    draw = ImageDraw.Draw(outline)
    draw.rectangle((6, 8, 14, 23), outline="white", width=2)
    draw.rectangle((17, 8, 25, 23), outline="white", width=2)
    icons = {}
    for name, image in ((COLOR_ICON, color), (OUTLINE_ICON, outline)):
        buffer = io.BytesIO()
        image.save(buffer, format="PNG")
        icons[name] = buffer.getvalue()
    return icons


def icons() -> dict[str, bytes]:
    """The committed icons of teams/appPackage/ (drawn anew where one is missing)."""
    drawn: dict[str, bytes] | None = None
    found = {}
    for name in (COLOR_ICON, OUTLINE_ICON):
        path = APP_PACKAGE / name
        if path.is_file():
            found[name] = path.read_bytes()
        else:
            drawn = drawn or draw_icons()
            found[name] = drawn[name]
    return found


def build_package(settings: Settings, output: Path) -> Path:
    """Write the zip Teams sideloads (manifest.json, the icons, sv.json, en.json at its root)."""
    files: dict[str, bytes] = {
        "manifest.json": json.dumps(manifest(settings), ensure_ascii=False, indent=2).encode()
    }
    files.update(icons())
    for lang in LANGUAGE_TAGS:
        files[f"{lang}.json"] = json.dumps(localization(lang), ensure_ascii=False, indent=2).encode()
    output.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(output, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return output
