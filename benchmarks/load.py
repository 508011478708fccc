"""Load benchmark: the real bot behind its production HTTP server (waitress), driven by signed
requests as Slack sends them, against a fake Web API that answers at once; the same load runs
against a bare Bolt app (benchmarks/bare_app.py) in the same run, so the result is a ratio.

    python benchmarks/load.py [--database-url URL] [--seconds 8] [--clients 1,10,50]

Reports per client count: throughput, time to the HTTP answer (p50/p95/p99), the time from a
modal-opening request to the bot's views.open call, errors, and the bot's memory (RSS).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import queue
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.common import fresh_database, percentile  # noqa: E402
from tests.fakes.slack_api import FakeSlackApi  # noqa: E402
from tests.fakes.slack_requests import fixture, sign  # noqa: E402

SECRET = "load-signing-secret"
USERS = [f"U0LOAD{i:04d}" for i in range(200)]
MIX = [("help", 30), ("settings_command", 15), ("suggest", 25), ("submit", 15), ("button", 15)]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_ready(port: int, process: subprocess.Popen[bytes], path: str = "/healthz") -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"server exited with {process.returncode}")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            connection.request("GET", path)
            connection.getresponse().read()
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("server did not start")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time the process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int) -> tuple[float, float]:
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(("VmRSS:", "VmHWM:")):
            key, value = line.split(":")
            values[key] = int(value.split()[0]) / 1024
    return values.get("VmRSS", 0.0), values.get("VmHWM", 0.0)


class Requests:
    """Signed bodies in Slack's shapes, with a fresh trigger_id each."""

    def __init__(self, library_id: str) -> None:
        self.library_id = library_id
        self.counter = 0
        self.lock = threading.Lock()

    def trigger(self) -> str:
        with self.lock:
            self.counter += 1
            return f"{1700000000 + self.counter}.1234567890.{self.counter:032x}"

    def build(self, kind: str, user: str) -> tuple[str, str, str | None]:
        trigger = self.trigger()
        if kind in ("help", "settings_command"):
            fields = fixture("slash_command")
            text = "apua" if kind == "help" else "asetukset"
            fields.update(text=text, user_id=user, trigger_id=trigger, response_url="http://127.0.0.1:9/none")
            return urlencode(fields), "application/x-www-form-urlencoded", trigger if kind != "help" else None
        if kind == "suggest":
            payload = fixture("block_suggestion")
            payload["user"]["id"] = user
            payload.update(
                action_id="home_library", block_id="home_library", value=random.choice(["kuo", "", "ii", "j"])
            )
            return "payload=" + quote(json.dumps(payload)), "application/x-www-form-urlencoded", None
        if kind == "submit":
            payload = fixture("view_submission")
            payload["user"]["id"] = user
            payload["trigger_id"] = trigger
            payload["view"]["callback_id"] = "settings"
            option = {"text": {"type": "plain_text", "text": "x"}, "value": self.library_id}
            payload["view"]["state"]["values"] = {
                "home_library": {"home_library": {"type": "external_select", "selected_option": option}},
                "language": {
                    "language": {
                        "type": "static_select",
                        "selected_option": {"text": {"type": "plain_text", "text": "x"}, "value": "auto"},
                    }
                },
            }
            return "payload=" + quote(json.dumps(payload)), "application/x-www-form-urlencoded", None
        payload = fixture("block_actions_home")
        payload["user"]["id"] = user
        payload["trigger_id"] = trigger
        payload["actions"][0].update(action_id="open_settings", block_id="b")
        return "payload=" + quote(json.dumps(payload)), "application/x-www-form-urlencoded", trigger


@dataclass
class Result:
    latencies: list[float] = field(default_factory=list)
    by_kind: dict[str, list[float]] = field(default_factory=dict)
    errors: int = 0
    sent_at: dict[str, float] = field(default_factory=dict)
    requests: int = 0
    elapsed: float = 0.0


class Sender:
    """One keep-alive connection to the server, as a Slack client would hold."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)

    def send(self, body: str, content_type: str) -> bool:
        headers = {"Content-Type": content_type, **sign(SECRET, body)}
        try:
            self.connection.request("POST", "/slack/events", body=body.encode(), headers=headers)
            response = self.connection.getresponse()
            response.read()
            return response.status == 200
        except (OSError, http.client.HTTPException):
            self.connection.close()
            self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
            return False


def record(
    result: Result, lock: threading.Lock, kind: str, ok: bool, started: float, trigger: str | None
) -> None:
    took = time.monotonic() - started
    with lock:
        result.requests += 1
        result.latencies.append(took)
        result.by_kind.setdefault(kind, []).append(took)
        if not ok:
            result.errors += 1
        if trigger:
            result.sent_at[trigger] = started


def run_load(port: int, clients: int, seconds: float, requests: Requests) -> Result:
    """Closed loop: each client sends its next request when the last is answered."""
    result = Result()
    lock = threading.Lock()
    kinds = [kind for kind, weight in MIX for _ in range(weight)]
    deadline = time.monotonic() + seconds
    start_barrier = threading.Barrier(clients)

    def client(number: int) -> None:
        rng = random.Random(number)
        sender = Sender(port)
        start_barrier.wait()
        while time.monotonic() < deadline:
            kind = rng.choice(kinds)
            body, content_type, trigger = requests.build(kind, rng.choice(USERS))
            started = time.monotonic()
            ok = sender.send(body, content_type)
            record(result, lock, kind, ok, started, trigger)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    began = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    result.elapsed = time.monotonic() - began
    return result


def run_rate(port: int, rate: float, seconds: float, requests: Requests, senders: int = 64) -> Result:
    """Open loop, as Slack's traffic arrives: requests at random (Poisson) times, `rate` a second
    on average, whether or not earlier ones were answered. The time counts from when a request
    was due, so a request that waited for a free sender counts its wait too."""
    result = Result()
    lock = threading.Lock()
    kinds = [kind for kind, weight in MIX for _ in range(weight)]
    due: queue.Queue[tuple[float, str, str] | None] = queue.Queue()
    rng = random.Random(int(rate))

    def sender_loop() -> None:
        sender = Sender(port)
        while (item := due.get()) is not None:
            at, kind, user = item
            body, content_type, trigger = requests.build(kind, user)
            ok = sender.send(body, content_type)
            record(result, lock, kind, ok, at, trigger)

    threads = [threading.Thread(target=sender_loop) for _ in range(senders)]
    for thread in threads:
        thread.start()
    began = time.monotonic()
    at = began
    while at < began + seconds:
        at += rng.expovariate(rate)
        pause = at - time.monotonic()
        if pause > 0:
            time.sleep(pause)
        due.put((at, rng.choice(kinds), rng.choice(USERS)))
    for _ in threads:
        due.put(None)
    for thread in threads:
        thread.join()
    result.elapsed = time.monotonic() - began
    return result


def warm_up(port: int, requests: Requests) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    for user in USERS:
        body, content_type, _ = requests.build("submit", user)
        connection.request(
            "POST",
            "/slack/events",
            body=body.encode(),
            headers={"Content-Type": content_type, **sign(SECRET, body)},
        )
        response = connection.getresponse()
        response.read()
        if response.status != 200:
            raise SystemExit(f"warm-up: settings of {user} answered {response.status}")
    connection.close()


def views_open_delays(api: FakeSlackApi, sent_at: dict[str, float]) -> list[float]:
    delays = []
    for call in api.of("views.open"):
        trigger = call.body.get("trigger_id")
        if trigger in sent_at:
            delays.append(call.at - sent_at[trigger])
    return delays


def start_bot(port: int, api: FakeSlackApi, database_url: str, workdir: str) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLACK_")}
    env.update(
        PYTHONPATH=str(ROOT),
        SLACK_BOT_TOKEN="xoxb-load",
        SLACK_SIGNING_SECRET=SECRET,
        SLACK_API_URL=api.url,
        DATABASE_URL=database_url,
        HOST="127.0.0.1",
        PORT=str(port),
        SCHEDULER_ENABLED="false",
    )
    log = open(Path(workdir) / "bot.log", "wb")
    return subprocess.Popen(
        [sys.executable, "-m", "bot"], cwd=workdir, env=env, stdout=log, stderr=subprocess.STDOUT
    )


def start_bare(port: int, api: FakeSlackApi) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, str(ROOT / "benchmarks" / "bare_app.py"), str(port), api.url, SECRET],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--clients", default="1,10,50")
    parser.add_argument("--rates", default="100,300", help="open-loop request rates per second ('' for none)")
    parser.add_argument("--mix", default=None, help="e.g. help=1 (one kind only), default: the mix")
    args = parser.parse_args()
    if args.mix:
        global MIX
        MIX = [
            (kind, int(weight)) for kind, _, weight in (part.partition("=") for part in args.mix.split(","))
        ]
    workdir = tempfile.mkdtemp()
    database_url = args.database_url or f"sqlite:///{workdir}/load.sqlite3"
    if args.database_url and args.database_url.startswith("postgres"):
        fresh_database(args.database_url)[0].dispose()  # wipes that database

    api = FakeSlackApi()
    bot_port, bare_port = free_port(), free_port()
    bot = start_bot(bot_port, api, database_url, workdir)
    bare = start_bare(bare_port, api)
    try:
        wait_ready(bot_port, bot)
        wait_ready(bare_port, bare, path="/slack/events")
        requests = Requests(library_id="1")
        # Every simulated user has chosen a home library before (a user without one is asked
        # for it first, a different path), then a short warm-up of the mix.
        warm_up(bot_port, requests)
        run_load(bot_port, 10, 2.0, requests)
        rows = []
        loads = [("clients", int(c)) for c in args.clients.split(",") if c]
        loads += [("rate", int(r)) for r in args.rates.split(",") if r]
        for how, amount in loads:
            for name, port, pid in (("vertaisbot", bot_port, bot.pid), ("bare Bolt", bare_port, bare.pid)):
                api.calls.clear()
                cpu_before = cpu_seconds(pid)
                if how == "clients":
                    result = run_load(port, amount, args.seconds, requests)
                else:
                    result = run_rate(port, amount, args.seconds, requests)
                cpu = cpu_seconds(pid) - cpu_before
                delays = views_open_delays(api, result.sent_at)
                rows.append(
                    {
                        "server": name,
                        "load": f"{amount} clients" if how == "clients" else f"{amount}/s offered",
                        "rps": result.requests / result.elapsed,
                        "p50": percentile(result.latencies, 50) * 1000,
                        "p95": percentile(result.latencies, 95) * 1000,
                        "p99": percentile(result.latencies, 99) * 1000,
                        "open_p95": percentile(delays, 95) * 1000,
                        "cpu_ms": cpu * 1000 / max(result.requests, 1),
                        "p99_by_kind": {
                            kind: round(percentile(values, 99) * 1000, 1)
                            for kind, values in result.by_kind.items()
                        },
                        "errors": result.errors,
                        "requests": result.requests,
                    }
                )
                print(json.dumps(rows[-1]), flush=True)
        rss, peak = rss_mb(bot.pid)
        print()
        print(f"database: {database_url.split(':')[0]}; {args.seconds:.0f} s per run; mix {MIX}")
        print(
            "| server | load | req/s | p50 ms | p95 ms | p99 ms | to views.open p95 ms | CPU ms/request | errors |"
        )
        print("|---|---|---|---|---|---|---|---|---|")
        for row in rows:
            print(
                f"| {row['server']} | {row['load']} | {row['rps']:.0f} | {row['p50']:.1f} | {row['p95']:.1f} | "
                f"{row['p99']:.1f} | {row['open_p95']:.1f} | {row['cpu_ms']:.2f} | {row['errors']} / {row['requests']} |"
            )
        for load in dict.fromkeys(row["load"] for row in rows):
            ours = next(r for r in rows if r["load"] == load and r["server"] == "vertaisbot")
            bare_row = next(r for r in rows if r["load"] == load and r["server"] == "bare Bolt")
            print(f"p99 ratio at {load}: {ours['p99'] / bare_row['p99']:.2f}x")
        print(f"bot memory: RSS {rss:.0f} MB now, peak {peak:.0f} MB")
    finally:
        for process in (bot, bare):
            process.send_signal(signal.SIGTERM)
        for process in (bot, bare):
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
        api.close()


if __name__ == "__main__":
    main()
