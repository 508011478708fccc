"""HTTP mode's WSGI application: every Slack request at POST /slack/events (checked by the gate,
then Bolt's WSGI adapter), a health check at GET /healthz. gunicorn serves it (bot/serving.py)."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from typing import Any

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from sqlalchemy import Engine, text

from bot.authenticity import MAX_BODY, RequestGate
from bot.payload_shape import well_formed

log = logging.getLogger(__name__)

StartResponse = Callable[..., Any]


class WsgiApp:
    def __init__(self, app: App, engine: Engine, signing_secret: str) -> None:
        self.slack = SlackRequestHandler(app, path="/slack/events")
        self.gate = RequestGate(signing_secret)
        self.engine = engine

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        method = environ.get("REQUEST_METHOD", "GET")
        if path == "/slack/events":
            if method != "POST":
                return _json(start_response, "405 Method Not Allowed", {"error": "use POST"})
            if _too_long(environ):  # refused before a byte of it is read, whatever the server
                return _json(start_response, "413 Content Too Large", {"error": "body too large"})
            body = self.gate.admit(environ)
            if body is None:  # forged, stale or malformed: Bolt never sees it
                return _json(start_response, "401 Unauthorized", {"error": "invalid request"})
            if not well_formed(body, str(environ.get("CONTENT_TYPE") or "")):  # nothing Slack sends
                return _json(start_response, "400 Bad Request", {"error": "bad request"})
            self.gate.spell_for_bolt(environ, body, str(environ.get("CONTENT_TYPE") or ""))
            try:
                return self.slack(environ, start_response)
            except Exception:  # a body Bolt cannot even parse (it parses before it verifies)
                log.warning("unparseable request to /slack/events", exc_info=True)
                return _json(start_response, "400 Bad Request", {"error": "bad request"})
        if path == "/healthz" and method in ("GET", "HEAD"):
            return self.health(start_response)
        return _json(start_response, "404 Not Found", {"error": "not found"})

    def health(self, start_response: StartResponse) -> Iterable[bytes]:
        try:
            with self.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        except Exception:
            log.warning("health check: database does not answer", exc_info=True)
            return _json(start_response, "503 Service Unavailable", {"status": "database unavailable"})
        return _json(start_response, "200 OK", {"status": "ok"})


def _too_long(environ: dict[str, Any]) -> bool:
    raw = str(environ.get("CONTENT_LENGTH") or "0")
    return raw.isdigit() and int(raw) > MAX_BODY


def _json(start_response: StartResponse, status: str, body: dict[str, Any]) -> Iterable[bytes]:
    data = json.dumps(body).encode()
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
    return [data]
