"""The yardstick: a bare Bolt app that only acks and opens a fixed modal, behind the same
waitress server as the bot, in as many worker processes (bot/processes.py).
`python benchmarks/bare_app.py PORT API_URL SECRET [PROCESSES]`."""

from __future__ import annotations

import socket
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_sdk import WebClient
from waitress import serve

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bot import processes as processes_

MODAL = {
    "type": "modal",
    "callback_id": "bare",
    "title": {"type": "plain_text", "text": "Bare"},
    "close": {"type": "plain_text", "text": "Close"},
    "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "A fixed modal."}}],
}


def build(api_url: str, secret: str) -> App:
    pool = ThreadPoolExecutor(max_workers=32)
    app = App(
        client=WebClient(token="xoxb-bare", base_url=api_url),
        signing_secret=secret,
        listener_executor=pool,
    )
    app.listener_pool = pool  # type: ignore[attr-defined]  # as the bot's VertaisApp keeps it

    @app.command("/vertais")
    def command(ack, body, client) -> None:
        if body.get("text", "").startswith("asetukset"):
            ack()
            client.views_open(trigger_id=body["trigger_id"], view=MODAL)
        else:
            ack({"response_type": "ephemeral", "text": "ok"})

    @app.action("open_settings")
    def action(ack, body, client) -> None:
        ack()
        client.views_open(trigger_id=body["trigger_id"], view=MODAL)

    @app.options("home_library")
    def options(ack) -> None:
        ack(options=[{"text": {"type": "plain_text", "text": "Kuopio"}, "value": "1"}])

    @app.view("settings")
    def view(ack) -> None:
        ack()

    return app


def main() -> None:
    port, api_url, secret = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    processes = int(sys.argv[4]) if len(sys.argv) > 4 else 1
    if processes == 1:
        serve(
            SlackRequestHandler(build(api_url, secret)), host="127.0.0.1", port=port, threads=16, _quiet=True
        )
        return

    def worker(_number: int, sock: socket.socket, ready: Callable[[], None]) -> int:  # as the bot's
        ready()
        serve(SlackRequestHandler(build(api_url, secret)), sockets=[sock], threads=16, _quiet=True)
        return 0

    sys.exit(processes_.serve(processes_.listen("127.0.0.1", port), processes, worker))


if __name__ == "__main__":
    main()
