"""Every setting of the bot, read once by the composition root (`bot.__main__`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEFAULT_DB_PATH = Path("var") / "vertaisbot.sqlite3"
SUPPORTED_LANGUAGES = ("fi", "sv", "en")


class Settings(BaseSettings):
    """Settings from the environment and `.env`; `.env.example` documents each one."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    slack_bot_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_api_url: str = "https://slack.com/api/"
    slack_timeout: float = Field(default=10.0, gt=0, le=120)

    database_url: str = f"sqlite:///{DEFAULT_DB_PATH}"
    host: str = "0.0.0.0"
    port: int = Field(default=3000, ge=0, le=65535)
    http_threads: int = Field(default=8, ge=1, le=256)
    http_processes: int = Field(default=1, ge=1, le=64)
    listener_threads: int = Field(default=32, ge=1, le=512)

    vertais_command: str = "/vertais"
    coordinator_user_ids: Annotated[tuple[str, ...], NoDecode] = ()
    idea_bank_channel: str = ""
    timezone: str = "Europe/Helsinki"
    default_language: str = "fi"
    default_region: str = "savo"
    visit_months_ahead: int = Field(default=18, ge=1, le=60)
    scheduler_enabled: bool = True
    reminder_claim_seconds: int = Field(default=300, ge=1, le=3600)
    request_url: str = ""
    log_level: str = "INFO"
    log_format: Literal["text", "json"] = "text"
    health_file: Path = Path("var") / "health"

    # Microsoft Teams (`python -m bot teams`, the `teams` extra); see teams/ and the README.
    teams_client_id: str = ""
    teams_client_secret: SecretStr | None = None
    teams_tenant_id: str = ""
    # The Microsoft 365 tenants whose people may use the bot (comma-separated ids), besides
    # TEAMS_TENANT_ID; empty with an empty TEAMS_TENANT_ID: any tenant (a local trial).
    teams_allowed_tenants: str = ""
    teams_dev_insecure: bool = False
    teams_host: str = "127.0.0.1"
    teams_port: int = Field(default=3978, ge=0, le=65535)
    teams_service_url: str = "https://smba.trafficmanager.net/teams/"
    teams_website_url: str = ""
    teams_public_url: str = ""  # https base URL of this endpoint; calendar links are built on it
    teams_link_secret: SecretStr | None = None  # signs the calendar links (teams/ics_links.py)
    teams_link_days: int = Field(default=60, ge=1, le=3650)
    # The idea bank in Teams: a channel's conversation id ("19:…@thread.tacv2") of a team the
    # bot is installed in; published write-ups are posted there (through TEAMS_SERVICE_URL).
    teams_idea_bank_conversation: str = ""

    @field_validator("coordinator_user_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value

    @field_validator("vertais_command")
    @classmethod
    def _command_has_slash(cls, value: str) -> str:
        value = value.strip()
        if not value.startswith("/") or len(value) < 2 or " " in value:
            raise ValueError("must look like /vertais")
        return value

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @field_validator("default_language")
    @classmethod
    def _supported_language(cls, value: str) -> str:
        if value not in SUPPORTED_LANGUAGES:
            raise ValueError(f"must be one of {', '.join(SUPPORTED_LANGUAGES)}")
        return value

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def signing_secret(self) -> str:
        """The signing secret's value, or "" when none is set."""
        return self.slack_signing_secret.get_secret_value() if self.slack_signing_secret else ""

    @property
    def socket_mode(self) -> bool:
        return self.slack_app_token is not None and bool(self.slack_app_token.get_secret_value())


class ConfigError(Exception):
    """A setting is missing or malformed; the message is one line for the operator."""


def check_credentials(settings: Settings) -> None:
    """Raise ConfigError naming the first missing or malformed credential and where to get it
    (and refuse what cannot work, such as several processes on one SQLite file)."""
    bot = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else ""
    if not bot:
        raise ConfigError(
            "SLACK_BOT_TOKEN is not set: copy the Bot User OAuth Token (xoxb-...) from your Slack "
            "app's 'OAuth & Permissions' page into .env"
        )
    if not bot.startswith("xoxb-"):
        raise ConfigError(
            "SLACK_BOT_TOKEN must be a bot token starting with 'xoxb-' (see 'OAuth & Permissions' "
            "in your Slack app's settings)"
        )
    if settings.socket_mode:
        app_token = settings.slack_app_token.get_secret_value() if settings.slack_app_token else ""
        if not app_token.startswith("xapp-"):
            raise ConfigError(
                "SLACK_APP_TOKEN must be an app-level token starting with 'xapp-' with the "
                "connections:write scope ('Basic Information' > 'App-Level Tokens'); leave it empty "
                "to serve HTTP instead"
            )
    else:
        if not settings.signing_secret:
            raise ConfigError(
                "SLACK_SIGNING_SECRET is not set: copy the Signing Secret from your Slack app's "
                "'Basic Information' page into .env (or set SLACK_APP_TOKEN for Socket Mode)"
            )
    if (
        not settings.socket_mode
        and settings.http_processes > 1
        and settings.database_url.startswith("sqlite")
    ):
        raise ConfigError(
            f"HTTP_PROCESSES={settings.http_processes} needs PostgreSQL: SQLite serves one process; "
            "set HTTP_PROCESSES=1 or DATABASE_URL=postgresql+psycopg://... (see .env.example)"
        )
