"""The yardstick: a bare Bolt app that only acks and opens a fixed modal, behind the same
waitress server as the bot. `python benchmarks/bare_app.py PORT API_URL SECRET`."""

from __future__ import annotations

import sys
from concurrent.futures import ThreadPoolExecutor

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_sdk import WebClient
from waitress import serve

MODAL = {
    "type": "modal",
    "callback_id": "bare",
    "title": {"type": "plain_text", "text": "Bare"},
    "close": {"type": "plain_text", "text": "Close"},
    "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "A fixed modal."}}],
}


def build(api_url: str, secret: str) -> App:
    app = App(
        client=WebClient(token="xoxb-bare", base_url=api_url),
        signing_secret=secret,
        listener_executor=ThreadPoolExecutor(max_workers=32),
    )

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
    serve(SlackRequestHandler(build(api_url, secret)), host="127.0.0.1", port=port, threads=16, _quiet=True)


if __name__ == "__main__":
    main()
