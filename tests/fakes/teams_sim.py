"""Teams without Microsoft: a loopback server that publishes a Bot Framework key set (OpenID
metadata and JWKS, as login.botframework.com does) and plays the Bot Connector (records the
bot's outbound calls and answers them), and a signer of Bot Framework JWTs with a key it makes.

The app under test is pointed at it through the SDK's public options: `cloud` with the metadata
URL overridden (the validator fetches `.../keys` beside it) and a `token` provider, so that MSAL
and login.microsoftonline.com are never contacted.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm
from microsoft_teams.api.auth.cloud_environment import PUBLIC, CloudEnvironment, with_overrides

ISSUER = "https://api.botframework.com"
KID = "teamssim-key"


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256


@dataclass
class ConnectorCall:
    method: str
    path: str
    body: dict[str, Any]
    authorization: str
    status: int = 200  # what the connector answered


@dataclass
class TeamsSim:
    """The key set and the fake connector on 127.0.0.1, with what tests need to sign and check."""

    client_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    tenant_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    calls: list[ConnectorCall] = field(default_factory=list)
    # Answers to give instead of success: (a part of the path, HTTP status), each used once.
    failures: list[tuple[str, int]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)  # never published
        jwk = json.loads(RSAAlgorithm.to_jwk(self.key.public_key()))
        jwk.update({"kid": KID, "use": "sig", "alg": "RS256"})
        self.jwks = {"keys": [jwk]}
        self.lock = threading.Lock()
        self.server = _Server(("127.0.0.1", 0), self.handler())
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    # --- what the app is given ---------------------------------------------------------------
    @property
    def service_url(self) -> str:
        """The Bot Connector's base URL, as an activity's `serviceUrl` names it."""
        return f"{self.url}/teams/"

    @property
    def cloud(self) -> CloudEnvironment:
        return with_overrides(PUBLIC, openid_metadata_url=f"{self.url}/v1/.well-known/openidconfiguration")

    def app_token(self, scope: Any, tenant_id: str | None = None) -> str:
        """The bot's own token towards the connector (any well-formed JWT will do)."""
        now = int(time.time())
        return jwt.encode({"aud": "https://api.botframework.com", "iat": now, "exp": now + 3600}, "x" * 32)

    # --- signing inbound requests --------------------------------------------------------------
    def sign(self, body: dict[str, Any], *, key: Any = None, kid: str = KID, **claims: Any) -> str:
        now = int(time.time())
        payload: dict[str, Any] = {
            "iss": ISSUER,
            "aud": self.client_id,
            "serviceurl": body.get("serviceUrl", self.service_url),
            "nbf": now - 5,
            "iat": now - 5,
            "exp": now + 3600,
        }
        payload.update(claims)
        payload = {name: value for name, value in payload.items() if value is not None}
        return jwt.encode(payload, key or self.key, algorithm="RS256", headers={"kid": kid})

    def headers(self, body: dict[str, Any], **claims: Any) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.sign(body, **claims)}", "Content-Type": "application/json"}

    def message(
        self,
        text: str,
        *,
        locale: str | None = "fi-FI",
        user: str = "29:user-1",
        aad: str | None = "aad-object-1",
        conversation_type: str = "personal",
    ) -> dict[str, Any]:
        """A message to the bot as Teams sends it (TEAMS.md §2.5), from a 1:1 chat by default."""
        body: dict[str, Any] = {
            "type": "message",
            "id": f"msg-{uuid.uuid4().hex[:8]}",
            "timestamp": "2026-11-24T10:00:00.000Z",
            "channelId": "msteams",
            "serviceUrl": self.service_url,
            "from": {"id": user, "name": "Testi Käyttäjä", **({"aadObjectId": aad} if aad else {})},
            "recipient": {"id": f"28:{self.client_id}", "name": "vertaisbot"},
            "conversation": {
                "id": f"a:{user}-chat",
                "conversationType": conversation_type,
                "tenantId": self.tenant_id,
            },
            "text": text,
            "textFormat": "plain",
            "entities": [
                {"type": "clientInfo", "locale": locale or "", "country": "FI", "timezone": "Europe/Helsinki"}
            ],
            "channelData": {"tenant": {"id": self.tenant_id}},
        }
        if locale:
            body["locale"] = locale
        return body

    # --- the connector's side ------------------------------------------------------------------
    def sent(self) -> list[ConnectorCall]:
        with self.lock:
            return [
                call for call in self.calls if call.method == "POST" and call.path.endswith("/activities")
            ]

    def wait_sent(self, count: int = 1, timeout: float = 5.0) -> list[ConnectorCall]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.sent()
            if len(found) >= count:
                return found
            time.sleep(0.02)
        return self.sent()

    def fail_next(self, path_part: str, status: int = 500) -> None:
        """The next POST or PUT whose path contains `path_part` is answered with `status`."""
        with self.lock:
            self.failures.append((path_part, status))

    def reset(self) -> None:
        with self.lock:
            self.calls.clear()
            self.failures.clear()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def handler(self) -> type[BaseHTTPRequestHandler]:
        sim = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # quiet
                return

            def reply(self, status: int, payload: Any) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                if self.path == "/v1/.well-known/openidconfiguration":
                    self.reply(
                        200,
                        {
                            "issuer": ISSUER,
                            "jwks_uri": f"{sim.url}/v1/.well-known/keys",
                            "id_token_signing_alg_values_supported": ["RS256"],
                        },
                    )
                elif self.path == "/v1/.well-known/keys":
                    self.reply(200, sim.jwks)
                else:
                    self.reply(404, {"error": "not found"})

            def record(self) -> ConnectorCall:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    body = json.loads(raw) if raw else {}
                except ValueError:
                    body = {"_raw": raw.decode("utf-8", "replace")}
                call = ConnectorCall(self.command, self.path, body, self.headers.get("Authorization", ""))
                with sim.lock:
                    for failure in sim.failures:
                        if failure[0] in self.path:
                            sim.failures.remove(failure)
                            call.status = failure[1]
                            break
                    sim.calls.append(call)
                return call

            def do_POST(self) -> None:
                call = self.record()
                if call.status != 200:
                    self.reply(call.status, {"error": {"code": "ServiceError", "message": "failed"}})
                elif call.path.rstrip("/").endswith("/v3/conversations"):
                    self.reply(200, {"id": f"a:new-{uuid.uuid4().hex[:8]}"})
                elif call.path.endswith("/activities"):
                    self.reply(200, {"id": f"act-{uuid.uuid4().hex[:8]}"})
                else:
                    self.reply(404, {"error": "not found"})

            def do_PUT(self) -> None:
                call = self.record()
                if call.status != 200:
                    self.reply(call.status, {"error": {"code": "ServiceError", "message": "failed"}})
                    return
                self.reply(200, {"id": call.path.rsplit("/", 1)[-1]})

        return Handler
