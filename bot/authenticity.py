"""Only Slack's signed, fresh requests reach Bolt.

Slack signs every request with the app's signing secret over `v0:<timestamp>:<body>`
(<https://docs.slack.dev/authentication/verifying-requests-from-slack/>). This check runs on the
raw bytes before Bolt parses anything, so that a forged, stale or malformed request is a plain
401 and Bolt never handles it: Bolt's own check, which stays on behind this one, logs the whole
body of a request it refuses (message texts, user ids, `response_url`) at INFO. A timestamp
that is not a whole number of seconds within five minutes of now is refused here too (slack_sdk's
verifier would raise on it).
"""

from __future__ import annotations

import io
import re
from typing import Any
from urllib.parse import parse_qsl

from slack_sdk.signature import SignatureVerifier

TIMESTAMP = re.compile(r"[0-9]{1,12}")
SIGNATURE = re.compile(r"v0=[0-9a-f]{64}")
MAX_BODY = 512 << 10  # Slack's largest payloads (a modal's view and state) are far below this


class RequestGate:
    """Reads a request's body once and says whether Slack signed it; the WSGI `environ` it
    passes on reads the same bytes again."""

    def __init__(self, signing_secret: str) -> None:
        self.verifier = SignatureVerifier(signing_secret)

    def admit(self, environ: dict[str, Any]) -> bytes | None:
        """The body, if Slack signed it within five minutes; else None."""
        body = self._read(environ)
        if body is None:
            return None
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        timestamp = str(environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP", ""))
        signature = str(environ.get("HTTP_X_SLACK_SIGNATURE", ""))
        if not TIMESTAMP.fullmatch(timestamp) or not SIGNATURE.fullmatch(signature):
            return None
        return body if self.verifier.is_valid(body, timestamp, signature) else None

    def spell_for_bolt(self, environ: dict[str, Any], body: bytes, content_type: str) -> None:
        """Bolt reads a form that contains the letters `payload` anywhere (a slash command's text
        "etsi payload", say) as an interactive payload, finds none, and answers 404 "unhandled
        request". Such a form is handed on with those letters percent-encoded (`%70ayload`,
        which decodes to the same text) and signed again with the same secret and timestamp,
        so that Bolt's own check, still on, passes."""
        if content_type.startswith("application/json") or b"payload" not in body:
            return
        if any(key == "payload" for key, _ in parse_qsl(body.decode("utf-8", "replace"))):
            return  # an interactive payload: Bolt reads it as meant
        spelled = body.replace(b"payload", b"%70ayload")
        timestamp = str(environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP", ""))
        environ["wsgi.input"] = io.BytesIO(spelled)
        environ["CONTENT_LENGTH"] = str(len(spelled))
        environ["HTTP_X_SLACK_SIGNATURE"] = self.verifier.generate_signature(
            timestamp=timestamp, body=spelled
        )

    @staticmethod
    def _read(environ: dict[str, Any]) -> bytes | None:
        raw = str(environ.get("CONTENT_LENGTH") or "0")
        if not raw.isdigit() or int(raw) > MAX_BODY:
            return None
        stream = environ.get("wsgi.input")
        if stream is None:
            return b""
        return bytes(stream.read(int(raw)))
