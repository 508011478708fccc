"""The yardstick: a bare Bolt app that only acks and opens a fixed modal, behind the same
server as the bot (gunicorn, gthread workers of 8 threads), in as many worker processes.
`python benchmarks/bare_app.py PORT API_URL SECRET [PROCESSES]`."""

from __future__ import annotations

import sys
from concurrent.futures import ThreadPoolExecutor

from gunicorn.app.base import BaseApplication
from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_sdk import WebClient

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


class Bare(BaseApplication):  # type: ignore[misc]
    def __init__(self, api_url: str, secret: str, port: int, processes: int) -> None:
        self.api_url, self.secret, self.port, self.processes = api_url, secret, port, processes
        super().__init__()

    def load_config(self) -> None:  # the bot's own settings (bot/serving.py), its defaults
        for name, value in {
            "bind": [f"127.0.0.1:{self.port}"],
            "workers": self.processes,
            "worker_class": "gthread",
            "threads": 8,
            "backlog": 2048,
            "accesslog": None,
            "loglevel": "warning",
        }.items():
            self.cfg.set(name, value)

    def load(self) -> SlackRequestHandler:
        return SlackRequestHandler(build(self.api_url, self.secret))


def main() -> None:
    port, api_url, secret = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    processes = int(sys.argv[4]) if len(sys.argv) > 4 else 1
    Bare(api_url, secret, port, processes).run()


if __name__ == "__main__":
    main()
