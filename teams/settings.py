"""Which Teams settings may start the bot: explicit values from our `Settings`, never the SDK's own
environment variables, and unauthenticated requests only in a declared, loopback-only dev mode.

Importing `microsoft_teams.apps` loads `.env` into the process environment, and `App()` falls back
to CLIENT_ID, CLIENT_SECRET, TENANT_ID, MANAGED_IDENTITY_CLIENT_ID, SERVICE_URL, CLOUD and
DANGEROUSLY_ALLOW_UNAUTHENTICATED_REQUESTS for every option it is not given (or given empty). We pass
every one of them explicitly; where ours is empty and the SDK's name is set, the SDK would use it,
so the bot refuses to start. This module imports nothing of the SDK.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass

from bot.config import ConfigError, Settings

# The environment variables the SDK reads when an option is missing (microsoft_teams.apps 2.1.1).
SDK_FALLBACKS = ("CLIENT_ID", "CLIENT_SECRET", "TENANT_ID", "MANAGED_IDENTITY_CLIENT_ID")
SDK_UNAUTHENTICATED = "DANGEROUSLY_ALLOW_UNAUTHENTICATED_REQUESTS"
TRUE_WORDS = {"1", "true", "yes", "on"}
MIN_LINK_SECRET = 32  # HS256 wants a key at least as long as its digest


@dataclass(frozen=True)
class TeamsCredentials:
    """What the SDK's App is given, resolved once from our settings."""

    client_id: str
    client_secret: str
    tenant_id: str
    insecure: bool
    service_url: str


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def resolve(
    settings: Settings, environ: Mapping[str, str], *, has_token_provider: bool = False
) -> TeamsCredentials:
    """Our settings as the SDK's options, or ConfigError saying in one line what to change."""
    client_id = settings.teams_client_id.strip()
    secret = settings.teams_client_secret.get_secret_value() if settings.teams_client_secret else ""
    tenant_id = settings.teams_tenant_id.strip()
    insecure = settings.teams_dev_insecure
    if environ.get(SDK_UNAUTHENTICATED, "").strip().lower() in TRUE_WORDS and not insecure:
        raise ConfigError(
            f"{SDK_UNAUTHENTICATED} is set, but vertaisbot accepts unauthenticated Teams requests only "
            "with TEAMS_DEV_INSECURE=1 (a local trial); unset it"
        )
    if insecure:
        if not is_loopback(settings.teams_host):
            raise ConfigError(
                f"TEAMS_DEV_INSECURE=1 accepts requests without a token: TEAMS_HOST must be a loopback "
                f"address (127.0.0.1), not {settings.teams_host!r}"
            )
    else:
        if not client_id:
            raise ConfigError(
                "TEAMS_CLIENT_ID is not set: copy the bot's app id from the Teams Developer Portal "
                "('Tools' > 'Bot management') into .env (or TEAMS_DEV_INSECURE=1 for a local trial)"
            )
        if not secret and not has_token_provider:
            raise ConfigError(
                "TEAMS_CLIENT_SECRET is not set: create a client secret for the bot in the Teams "
                "Developer Portal ('Bot management' > the bot > 'Client secrets') and put it in .env"
            )
    # Where we give the SDK nothing, it reads its own name from the environment (a CLIENT_SECRET
    # there even beats a token provider; MANAGED_IDENTITY_CLIENT_ID counts without secret or token).
    read_by_sdk = {
        "CLIENT_ID": not client_id,
        "CLIENT_SECRET": not secret,
        "TENANT_ID": not tenant_id,
        "MANAGED_IDENTITY_CLIENT_ID": not secret and not has_token_provider,
    }
    for name in SDK_FALLBACKS:
        if read_by_sdk[name] and environ.get(name, "").strip():
            raise ConfigError(
                f"{name} is set in the environment (or .env) and the Teams SDK would read it: vertaisbot "
                f"takes its Teams settings only from the TEAMS_* names; unset {name}"
            )
    check_links(settings)
    return TeamsCredentials(client_id, secret, tenant_id, insecure, settings.teams_service_url)


def check_links(settings: Settings) -> None:
    """ConfigError when calendar links (teams/ics_links.py) would be built but not safely signed,
    or on an address that is not https (plain http only in the loopback dev mode)."""
    url = settings.teams_public_url.strip()
    if not url:
        return
    if not url.startswith("https://") and not (settings.teams_dev_insecure and url.startswith("http://")):
        raise ConfigError(f"TEAMS_PUBLIC_URL must be an https:// address, not {url!r}")
    key = settings.teams_link_secret.get_secret_value() if settings.teams_link_secret else ""
    if len(key.strip()) < MIN_LINK_SECRET:
        raise ConfigError(
            f"TEAMS_PUBLIC_URL is set but TEAMS_LINK_SECRET {'is too short' if key.strip() else 'is not set'}: "
            f"put a random key of at least {MIN_LINK_SECRET} characters in .env "
            '(python -c "import secrets; print(secrets.token_urlsafe(32))")'
        )
