"""Load benchmark: the real bot behind its production HTTP server (gunicorn), driven by signed
requests as Slack sends them, against a fake Web API that answers at once; the same load runs
against a bare Bolt app (benchmarks/bare_app.py) in the same run, so the result is a ratio.

    python benchmarks/load.py [--database-url URL] [--seconds 8] [--clients 1,10,50]

Reports per client count: throughput, time to the HTTP answer (p50/p95/p99), the time from a
modal-opening request to the bot's views.open call, errors, and the bot's memory (RSS).
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.common import fresh_database, percentile  # noqa: E402
from tests.fakes.slack_requests import fixture, sign  # noqa: E402

SECRET = "load-signing-secret"
USERS = [f"U0LOAD{i:04d}" for i in range(200)]
PREPARED_PER_SECOND = 2500  # requests signed ahead per second of a closed-loop run
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


def family(pid: int) -> list[int]:
    """The process and its children (the worker processes of HTTP_PROCESSES > 1)."""
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        children = []
    return [pid, *map(int, children)]


def cpu_seconds(pid: int) -> float:
    """User + system CPU time the process and its workers have used so far."""
    total = 0.0
    for member in family(pid):
        fields = Path(f"/proc/{member}/stat").read_text().rsplit(")", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def memory_mb(pid: int) -> dict[str, float]:
    """RSS and peak RSS of each process, and their PSS summed (pages shared after the fork are
    counted once in the sum, shared out between the processes that share them)."""
    out: dict[str, float] = {"pss_total": 0.0}
    for member in family(pid):
        for line in Path(f"/proc/{member}/status").read_text().splitlines():
            if line.startswith(("VmRSS:", "VmHWM:")):
                key, value = line.split(":")
                out[f"{key}_{member}"] = int(value.split()[0]) / 1024
        for line in Path(f"/proc/{member}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                out["pss_total"] += int(line.split()[1]) / 1024
    return out


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
    built_late: int = 0  # requests signed inside the timed run because the prepared ones ran out

    def record(self, kind: str, ok: bool, started: float, trigger: str | None) -> None:
        took = time.monotonic() - started
        self.requests += 1
        self.latencies.append(took)
        self.by_kind.setdefault(kind, []).append(took)
        if not ok:
            self.errors += 1
        if trigger:
            self.sent_at[trigger] = started


@dataclass
class Prepared:
    kind: str
    raw: bytes  # the whole HTTP request, signed
    trigger: str | None


class Prepare:
    """Signed requests made before a run starts, so that the run measures the server and not
    the generator's JSON, URL-encoding and HMAC (about 0.1 ms a request, on the same cores)."""

    def __init__(self, requests: Requests, port: int, seed: int) -> None:
        self.requests = requests
        self.port = port
        self.rng = random.Random(seed)
        self.kinds = [kind for kind, weight in MIX for _ in range(weight)]
        self.ready: deque[Prepared] = deque()

    def one(self, kind: str | None = None, user: str | None = None) -> Prepared:
        kind = kind or self.rng.choice(self.kinds)
        body, content_type, trigger = self.requests.build(kind, user or self.rng.choice(USERS))
        data = body.encode()
        headers = {
            "Host": f"127.0.0.1:{self.port}",
            "Content-Type": content_type,
            "Content-Length": str(len(data)),
            **sign(SECRET, body),
        }
        head = "POST /slack/events HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        return Prepared(kind, head.encode() + b"\r\n" + data, trigger)

    def fill(self, count: int) -> None:
        self.ready.extend(self.one() for _ in range(count))

    def next(self, result: Result) -> Prepared:
        if self.ready:
            return self.ready.popleft()
        result.built_late += 1
        return self.one()


class Connection:
    """One keep-alive HTTP/1.1 connection to the server, as a Slack client would hold, on the
    generator's event loop (one thread: no GIL hand-overs inside the measurement)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def send(self, raw: bytes) -> bool:
        try:
            return await asyncio.wait_for(self._send(raw), timeout=10)
        except (TimeoutError, OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError):
            self.close()
            return False

    async def _send(self, raw: bytes) -> bool:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        assert self.reader is not None
        self.writer.write(raw)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        headers = {}
        for line in head.decode("latin-1").split("\r\n")[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip().lower()
        if "content-length" in headers:
            await self.reader.readexactly(int(headers["content-length"]))
        elif headers.get("transfer-encoding") == "chunked":
            while size := int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16):
                await self.reader.readexactly(size + 2)
            await self.reader.readuntil(b"\r\n")
        if headers.get("connection") == "close":
            self.close()
        return status == 200

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


async def _closed_loop(port: int, clients: int, seconds: float, prepare: Prepare) -> Result:
    result = Result()
    connections = [Connection(port) for _ in range(clients)]
    for connection in connections:  # connected before the clock starts
        connection.reader, connection.writer = await asyncio.open_connection("127.0.0.1", port)
    deadline = time.monotonic() + seconds

    async def client(connection: Connection) -> None:
        while time.monotonic() < deadline:
            request = prepare.next(result)
            started = time.monotonic()
            ok = await connection.send(request.raw)
            result.record(request.kind, ok, started, request.trigger)
        connection.close()

    began = time.monotonic()
    await asyncio.gather(*(client(c) for c in connections))
    result.elapsed = time.monotonic() - began
    return result


def run_load(port: int, clients: int, seconds: float, requests: Requests) -> Result:
    """Closed loop: each client sends its next request when the last is answered."""
    prepare = Prepare(requests, port, seed=clients)
    prepare.fill(int(PREPARED_PER_SECOND * seconds))
    return asyncio.run(_closed_loop(port, clients, seconds, prepare))


async def _open_loop(port: int, rate: float, seconds: float, prepare: Prepare, senders: int) -> Result:
    result = Result()
    idle: asyncio.Queue[Connection] = asyncio.Queue()
    for _ in range(senders):
        connection = Connection(port)
        connection.reader, connection.writer = await asyncio.open_connection("127.0.0.1", port)
        idle.put_nowait(connection)
    rng = random.Random(int(rate))

    async def one(at: float, request: Prepared) -> None:
        connection = await idle.get()
        ok = await connection.send(request.raw)
        result.record(request.kind, ok, at, request.trigger)
        idle.put_nowait(connection)

    tasks = []
    began = time.monotonic()
    at = began
    while at < began + seconds:
        at += rng.expovariate(rate)
        pause = at - time.monotonic()
        if pause > 0:
            await asyncio.sleep(pause)
        tasks.append(asyncio.create_task(one(at, prepare.next(result))))
    await asyncio.gather(*tasks)
    result.elapsed = time.monotonic() - began
    while not idle.empty():
        idle.get_nowait().close()
    return result


def run_rate(port: int, rate: float, seconds: float, requests: Requests, senders: int = 64) -> Result:
    """Open loop, as Slack's traffic arrives: requests at random (Poisson) times, `rate` a second
    on average, whether or not earlier ones were answered. The time counts from when a request
    was due, so a request that waited for a free connection counts its wait too."""
    prepare = Prepare(requests, port, seed=int(rate))
    prepare.fill(int(rate * seconds * 1.2) + 100)
    return asyncio.run(_open_loop(port, rate, seconds, prepare, senders))


def warm_up(port: int, requests: Requests) -> None:
    """Every simulated user saves their settings once (so each has a home library)."""
    prepare = Prepare(requests, port, seed=0)

    async def go() -> None:
        connection = Connection(port)
        for user in USERS:
            if not await connection.send(prepare.one("submit", user).raw):
                raise SystemExit(f"warm-up: the settings of {user} were not saved")
        connection.close()

    asyncio.run(go())


class FakeApi:
    """benchmarks/fake_api_server.py in a process of its own."""

    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, str(ROOT / "benchmarks" / "fake_api_server.py")],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdin is not None and self.process.stdout is not None
        self.stdin, self.stdout = self.process.stdin, self.process.stdout
        self.url = self.stdout.readline().strip()

    def ask(self, command: str) -> str:
        self.stdin.write(command + "\n")
        self.stdin.flush()
        return self.stdout.readline()

    def clear(self) -> None:
        self.ask("clear")

    def views_open(self) -> list[tuple[str, float]]:
        return [(trigger, at) for trigger, at in json.loads(self.ask("views"))]

    def close(self) -> None:
        self.stdin.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()


def views_open_delays(api: FakeApi, sent_at: dict[str, float]) -> list[float]:
    return [at - sent_at[trigger] for trigger, at in api.views_open() if trigger in sent_at]


def start_bot(
    port: int, api: FakeApi, database_url: str, workdir: str, processes: int = 1
) -> subprocess.Popen[bytes]:
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
        HTTP_PROCESSES=str(processes),
    )
    log = open(Path(workdir) / "bot.log", "wb")
    return subprocess.Popen(
        [sys.executable, "-m", "bot"], cwd=workdir, env=env, stdout=log, stderr=subprocess.STDOUT
    )


def start_bare(port: int, api: FakeApi, processes: int = 1) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "bare_app.py"),
            str(port),
            api.url,
            SECRET,
            str(processes),
        ],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


MEDIAN_KEYS = ("rps", "p50", "p95", "p99", "open_p95", "open_p99", "cpu_ms")


def measure(
    api: FakeApi,
    name: str,
    port: int,
    pid: int,
    how: str,
    amount: int,
    seconds: float,
    requests: Requests,
    round_: int,
) -> dict[str, Any]:
    """One run of one load against one server: its row of the table."""
    api.clear()
    cpu_before = cpu_seconds(pid)
    harness_before = cpu_seconds(api.process.pid) + time.process_time()
    if how == "clients":
        result = run_load(port, amount, seconds, requests)
    else:
        result = run_rate(port, amount, seconds, requests)
    cpu = cpu_seconds(pid) - cpu_before
    harness = cpu_seconds(api.process.pid) + time.process_time() - harness_before
    delays = views_open_delays(api, result.sent_at)
    return {
        "server": name,
        "load": f"{amount} clients" if how == "clients" else f"{amount}/s offered",
        "round": round_,
        "rps": result.requests / result.elapsed,
        "p50": percentile(result.latencies, 50) * 1000,
        "p95": percentile(result.latencies, 95) * 1000,
        "p99": percentile(result.latencies, 99) * 1000,
        "open_p95": percentile(delays, 95) * 1000,
        "open_p99": percentile(delays, 99) * 1000,
        "cpu_ms": cpu * 1000 / max(result.requests, 1),
        # the generator and the fake Web API: CPU the server under test could not have
        "harness_cpu_ms": harness * 1000 / max(result.requests, 1),
        "p99_by_kind": {
            kind: round(percentile(values, 99) * 1000, 1) for kind, values in result.by_kind.items()
        },
        "errors": result.errors,
        "built_late": result.built_late,
        "requests": result.requests,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--clients", default="1,10,50")
    parser.add_argument("--rates", default="100,300", help="open-loop request rates per second ('' for none)")
    parser.add_argument("--processes", type=int, default=1, help="HTTP_PROCESSES of the bot")
    parser.add_argument(
        "--bare-processes", type=int, default=None, help="of the bare app (default: --processes)"
    )
    parser.add_argument("--mix", default=None, help="e.g. help=1 (one kind only), default: the mix")
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="rounds per load: each round runs both servers back to back, first one then the other "
        "in turn; the table shows medians over the rounds and the median of the rounds' ratios",
    )
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

    api = FakeApi()
    bot_port, bare_port = free_port(), free_port()
    bot = start_bot(bot_port, api, database_url, workdir, args.processes)
    bare_processes = args.bare_processes or args.processes
    bare = start_bare(bare_port, api, bare_processes)
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
        servers = [("vertaisbot", bot_port, bot.pid), ("bare Bolt", bare_port, bare.pid)]
        for how, amount in loads:
            for round_ in range(args.repeat):
                # The server that runs first alternates: a machine that slows down or speeds up
                # during a round does not favour one of them every time.
                for name, port, pid in servers if round_ % 2 == 0 else servers[::-1]:
                    rows.append(measure(api, name, port, pid, how, amount, args.seconds, requests, round_))
                    print(json.dumps(rows[-1]), flush=True)
        memory = memory_mb(bot.pid)
        print()
        print(
            f"database: {database_url.split(':')[0]}; {args.seconds:.0f} s per run; "
            f"processes: bot {args.processes}, bare app {bare_processes}; mix {MIX}"
        )
        print(
            "| server | load | req/s | p50 ms | p95 ms | p99 ms | to views.open p95 / p99 ms | CPU ms/request "
            "| errors |"
        )
        print("|---|---|---|---|---|---|---|---|---|")
        for load in dict.fromkeys(row["load"] for row in rows):
            for name, _, _ in servers:
                runs = [r for r in rows if r["load"] == load and r["server"] == name]
                m = {key: statistics.median(r[key] for r in runs) for key in MEDIAN_KEYS}
                errors = sum(r["errors"] for r in runs)
                requests_ = sum(r["requests"] for r in runs)
                print(
                    f"| {name} | {load} | {m['rps']:.0f} | {m['p50']:.1f} | {m['p95']:.1f} | "
                    f"{m['p99']:.1f} | {m['open_p95']:.1f} / {m['open_p99']:.1f} | {m['cpu_ms']:.2f} | {errors} / {requests_} |"
                )
        for load in dict.fromkeys(row["load"] for row in rows):
            ratios = [
                ours["p99"] / bare_row["p99"]
                for round_ in range(args.repeat)
                for ours in rows
                if ours["load"] == load and ours["server"] == "vertaisbot" and ours["round"] == round_
                for bare_row in rows
                if bare_row["load"] == load
                and bare_row["server"] == "bare Bolt"
                and bare_row["round"] == round_
            ]
            each = f" (rounds: {', '.join(f'{r:.2f}' for r in ratios)})" if len(ratios) > 1 else ""
            print(f"p99 ratio at {load}: {statistics.median(ratios):.2f}x{each}")
        print(
            "bot memory (MB): "
            + ", ".join(f"{key} {value:.0f}" for key, value in memory.items())
            + " (VmRSS/VmHWM per process id: now/peak RSS)"
        )
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
