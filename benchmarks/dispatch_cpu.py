"""CPU per request kind, in one process and one thread: the bot's `App.dispatch` against the
bare app's, on the same signed requests as `load.py` (no HTTP server, no concurrency).

    python benchmarks/dispatch_cpu.py                 # SQLite in a temporary file
    python benchmarks/dispatch_cpu.py --requests 2000

What it isolates: the code a request runs (Bolt, our middleware, listeners, queries), without
the thread hand-overs and GIL contention of a loaded server, so a change to the request path
shows up here even on a busy machine. The post-ack work (views.open to the fake Web API) is
waited for and counted."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from slack_bolt import App, BoltRequest  # noqa: E402

from benchmarks import bare_app  # noqa: E402
from benchmarks.load import SECRET, USERS, Requests  # noqa: E402
from tests.fakes.slack_api import FakeSlackApi  # noqa: E402
from tests.fakes.slack_requests import sign  # noqa: E402

KINDS = ["help", "settings_command", "suggest", "submit", "button"]


def our_app(api: FakeSlackApi, workdir: str) -> App:
    os.environ.update(
        SLACK_BOT_TOKEN="xoxb-load",
        SLACK_SIGNING_SECRET=SECRET,
        SLACK_API_URL=api.url,
        DATABASE_URL=f"sqlite:///{workdir}/cpu.sqlite3",
        SCHEDULER_ENABLED="false",
    )
    from bot.app import build_app
    from bot.config import Settings
    from bot.deps import Deps
    from bot.startup import configure_logging, open_database

    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    configure_logging("WARNING")
    _engine, session_factory = open_database(settings)
    return build_app(settings, Deps(settings=settings, session_factory=session_factory))


def drain(app: App) -> None:
    """Wait until the listener pool has done everything it was given (the post-ack work is
    counted): one job per pool thread that waits for all the others, queued after the rest."""
    threads = 32  # both apps' pools (LISTENER_THREADS' default, and the bare app's)
    everyone = threading.Barrier(threads + 1)
    for _ in range(threads):
        app.listener_pool.submit(everyone.wait)
    everyone.wait()


def run(app: App, requests: Requests, kind: str, count: int, api: FakeSlackApi) -> float:
    bodies = []
    for n in range(count):
        body, content_type, _ = requests.build(kind, USERS[n % len(USERS)])
        bodies.append(
            (body, {"content-type": [content_type], **{k: [v] for k, v in sign(SECRET, body).items()}})
        )
    opened = len(api.of("views.open"))
    started = time.process_time()
    for body, headers in bodies:
        response = app.dispatch(BoltRequest(body=body, headers=headers))
        assert response.status == 200, (kind, response.status, response.body)
    if kind in ("settings_command", "button"):
        api.wait_for("views.open", opened + count, timeout=60)
    drain(app)
    return (time.process_time() - started) * 1000 / count


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=1000)
    args = parser.parse_args()
    api = FakeSlackApi()
    workdir = tempfile.mkdtemp()
    ours, bare = our_app(api, workdir), bare_app.build(api.url, SECRET)
    requests = Requests(library_id="1")
    for user in USERS:  # every user has a home library, as in load.py
        body, content_type, _ = requests.build("submit", user)
        headers = {"content-type": [content_type], **{k: [v] for k, v in sign(SECRET, body).items()}}
        ours.dispatch(BoltRequest(body=body, headers=headers))
    drain(ours)
    print("| kind | ours CPU ms | bare CPU ms | ratio |\n|---|---|---|---|")
    for kind in KINDS:
        for app in (ours, bare):  # a warm-up round of each
            run(app, requests, kind, len(USERS), api)  # every user seen (and cached) again
        mine = run(ours, requests, kind, args.requests, api)
        theirs = run(bare, requests, kind, args.requests, api)
        print(f"| {kind} | {mine:.3f} | {theirs:.3f} | {mine / theirs:.2f}x |", flush=True)


if __name__ == "__main__":
    main()
