"""Serving the bot until it is told to stop, and the health signal that says it is serving.

- **Socket Mode** (SLACK_APP_TOKEN set; what we recommend to a municipality: no inbound port):
  one process holds the WebSocket to Slack (Bolt's SocketModeHandler). While the connection is
  up and the database answers, it touches HEALTH_FILE every few seconds; `python -m bot health`
  reads that file's age.
- **HTTP mode**: gunicorn, the standard pre-fork WSGI server, over Bolt's WSGI adapter
  (`bot/server.py`). It runs HTTP_PROCESSES worker processes of HTTP_THREADS threads each
  (`gthread`: a thread per request, as Bolt's synchronous listeners want), replaces a worker
  that dies, and stops gracefully on SIGTERM. Every worker builds its own app, pool and
  scheduler after the fork, as a replica would: what they must agree on is in PostgreSQL (the
  sweep's claims, the replay store, the cache generations). SQLite is for one process
  (`check_credentials` refuses more). `python -m bot health` asks GET /healthz. Gunicorn needs a
  POSIX system; on Windows use Socket Mode.

SIGTERM (or Ctrl-C), in both modes: no new requests are taken, those under way are answered,
a sweep under way hands back the reminders it has not sent, and the process exits 0 within
STOP_WITHIN seconds.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

from gunicorn.app.base import BaseApplication
from gunicorn.errors import AppImportError
from gunicorn.glogging import Logger
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_sdk.errors import SlackApiError

from bot import request_log
from bot.config import ConfigError, Settings, check_credentials
from bot.elsewhere import ElsewhereFactory
from bot.startup import Running, fail, open_database, reach_slack, start

log = logging.getLogger("vertaisbot")

STOP_WITHIN = 10.0  # seconds from SIGTERM to exit, in both modes
GRACEFUL = 6  # seconds gunicorn gives the requests under way (its graceful_timeout)
CLOSE_WITHIN = 3.0  # then seconds for the sweep, the listeners' work after their ack, the pool
HEARTBEAT_EVERY = 5.0  # seconds between two touches of HEALTH_FILE (Socket Mode)
HEALTHY_FOR = 30.0  # seconds a touch counts as a sign of life


def run(settings: Settings, elsewhere: ElsewhereFactory | None = None) -> int:
    """Serve the Slack bot; `elsewhere` (the composition root's, when Teams is configured) lets
    its messages reach the people who are in Teams."""
    try:
        check_credentials(settings)
    except ConfigError as exc:
        return fail(str(exc))
    if settings.socket_mode:
        return run_socket_mode(settings, elsewhere)
    return run_http(settings, elsewhere)


# --- Socket Mode ------------------------------------------------------------------------------


class SocketModeServer(SocketModeHandler):
    """Bolt's Socket Mode handler, counting the envelopes it is handling (the dispatch and the
    ack sent back), so that a stop waits for those acks before it closes the connection."""

    def __init__(self, app: Any, app_token: str) -> None:
        super().__init__(app, app_token)
        self.busy = 0
        self.quiet = threading.Condition()

    def handle(self, client: Any, req: Any) -> None:
        with self.quiet:
            self.busy += 1
        try:
            super().handle(client, req)
        finally:
            with self.quiet:
                self.busy -= 1
                self.quiet.notify_all()

    def wait_idle(self, timeout: float) -> bool:
        """Until no envelope is being handled; False if some still were after `timeout` s."""
        with self.quiet:
            return self.quiet.wait_for(lambda: self.busy == 0, timeout)


def run_socket_mode(settings: Settings, elsewhere: ElsewhereFactory | None = None) -> int:
    try:
        running = start(settings, elsewhere=elsewhere)
    except ConfigError as exc:
        return fail(str(exc))
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    assert settings.slack_app_token is not None
    handler = SocketModeServer(running.app, settings.slack_app_token.get_secret_value())
    try:
        handler.connect()
    except SlackApiError as exc:
        running.close(CLOSE_WITHIN)
        return fail(
            f"Slack did not accept SLACK_APP_TOKEN ({exc.response.get('error')}): it must be an "
            "app-level token with the connections:write scope ('Basic Information' > 'App-Level Tokens')"
        )
    log.info("connected to Slack in Socket Mode")
    heartbeat = Heartbeat(settings.health_file, handler.client.is_connected, running)
    heartbeat.start()
    while not stop.wait(1.0):
        pass
    log.info("stopping: answering what is under way")
    heartbeat.stop()
    handler.wait_idle(STOP_WITHIN - CLOSE_WITHIN - 2)  # the acks under way go out first
    handler.close()
    running.close(CLOSE_WITHIN)
    log.info("stopped")
    return 0


class Heartbeat:
    """Touches `path` every HEARTBEAT_EVERY seconds while `connected()` and the database answers
    `SELECT 1`; removes it at stop, so that a stopped bot is never reported healthy."""

    def __init__(self, path: Path, connected: Any, running: Running) -> None:
        self.path = Path(path)
        self.connected = connected
        self.running = running
        self.done = threading.Event()
        self.thread = threading.Thread(target=self.beat, name="heartbeat", daemon=True)

    def start(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.thread.start()

    def beat(self) -> None:
        while not self.done.is_set():
            if self.connected() and database_answers(self.running.engine):
                self.path.touch()
                now = time.time()  # this process's clock, as `health` reads it, not the file system's
                os.utime(self.path, (now, now))
            self.done.wait(HEARTBEAT_EVERY)

    def stop(self) -> None:
        self.done.set()
        self.thread.join(timeout=2)
        self.path.unlink(missing_ok=True)


def database_answers(engine: Any) -> bool:
    from sqlalchemy import text

    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception:
        log.warning("health: the database does not answer", exc_info=True)
        return False
    return True


# --- HTTP mode --------------------------------------------------------------------------------


def run_http(settings: Settings, elsewhere: ElsewhereFactory | None = None) -> int:
    """Check what can be checked once (the database migrated and seeded, Slack's answer to the
    token) before gunicorn forks, so that a mistake is one line and exit code 2, then serve."""
    try:
        engine, _ = open_database(settings)
        reach_slack(settings)
    except ConfigError as exc:
        return fail(str(exc))
    engine.dispose()  # no connection may be shared across the fork
    request_log.stop_background()  # nor a thread: each worker starts its own log writer
    server = GunicornServer(settings, elsewhere)
    log.info(
        "serving HTTP on %s:%s, %s worker processes of %s threads (POST /slack/events, GET /healthz)",
        settings.host,
        settings.port,
        settings.http_processes,
        settings.http_threads,
    )
    try:
        server.run()
    except SystemExit as exc:  # gunicorn's arbiter ends with sys.exit
        code = exc.code if isinstance(exc.code, int) else 1
        return code
    return 0


class BotLog(Logger):
    """gunicorn's own lines ("Booting worker", "Worker exiting") go through the bot's handlers
    (text, or JSON with LOG_FORMAT=json) instead of a format of gunicorn's."""

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        for logger in (self.error_log, self.access_log):
            for handler in list(logger.handlers):
                logger.removeHandler(handler)
        self.error_log.propagate = True
        self.access_log.disabled = True  # the bot's request log says more, and no text


class GunicornServer(BaseApplication):
    """gunicorn's documented custom application: our settings in, one app per worker out."""

    def __init__(self, settings: Settings, elsewhere: ElsewhereFactory | None = None) -> None:
        self.settings = settings
        self.elsewhere = elsewhere  # made in each worker, after the fork (its own thread and loop)
        self.running: Running | None = None
        super().__init__()

    def load_config(self) -> None:
        settings = self.settings
        host = f"[{settings.host}]" if ":" in settings.host else settings.host
        options: dict[str, Any] = {
            "bind": [f"{host}:{settings.port}"],
            "workers": settings.http_processes,
            "worker_class": "gthread",
            "threads": settings.http_threads,
            "graceful_timeout": GRACEFUL,
            "timeout": 60,  # a worker silent this long is restarted
            "keepalive": 5,
            "backlog": 2048,
            "accesslog": None,
            "logger_class": BotLog,
            "proc_name": "vertaisbot",
            "post_fork": self.post_fork,
            "worker_exit": self.worker_exit,
        }
        if Path("/dev/shm").is_dir():  # the workers' heartbeat files off the disk, as advised
            options["worker_tmp_dir"] = "/dev/shm"
        if "control_socket_disable" in self.cfg.settings:  # gunicorn >= 25: nothing to control
            options["control_socket_disable"] = True
        for name, value in options.items():
            self.cfg.set(name, value)

    def load(self) -> Any:
        """In each worker, after the fork: the worker's own app, engine and scheduler."""
        from bot.server import WsgiApp

        try:
            self.running = start(self.settings, elsewhere=self.elsewhere)
        except ConfigError as exc:  # gunicorn says it in one line and stops every worker
            raise AppImportError(str(exc)) from None
        return WsgiApp(self.running.app, self.running.engine, self.settings.signing_secret)

    def post_fork(self, server: Any, _worker: Any) -> None:
        end_with_parent(server.pid)
        request_log.write_in_background(logging.getLogger().handlers)

    def worker_exit(self, _server: Any, _worker: Any) -> None:
        if self.running is not None:
            self.running.close(CLOSE_WITHIN)
        request_log.stop_background()


def end_with_parent(parent: int) -> None:
    """On Linux, the kernel ends this worker the moment its master dies (a SIGKILL, the OOM
    killer), so that no orphan keeps serving the port that a restarted bot must bind; gunicorn
    alone would notice only at the worker's next look at its parent."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    pr_set_pdeathsig = 1
    ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:  # the master died before the line above
        os._exit(1)


# --- python -m bot health ---------------------------------------------------------------------


def health(settings: Settings) -> int:
    """0 while this machine's bot serves: in Socket Mode its HEALTH_FILE was touched in the last
    HEALTHY_FOR seconds (connected, database answering); in HTTP mode GET /healthz answers 200
    (which asks the database). 1 otherwise, with one line saying why."""
    if settings.socket_mode:
        try:
            age = time.time() - os.stat(settings.health_file).st_mtime
        except OSError:
            print(f"unhealthy: {settings.health_file} is missing (not connected to Slack yet?)")
            return 1
        if age > HEALTHY_FOR:
            print(f"unhealthy: no sign of life for {age:.0f} s (Slack connection or database)")
            return 1
        print("healthy: connected to Slack, database answers")
        return 0
    host = "127.0.0.1" if settings.host in ("0.0.0.0", "::", "") else settings.host
    url = f"http://{host}:{settings.port}/healthz"
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            ok = response.status == 200
    except OSError as exc:
        print(f"unhealthy: {url} does not answer 200 ({getattr(exc, 'reason', exc)})")
        return 1
    print("healthy: serving HTTP, database answers" if ok else f"unhealthy: {url}")
    return 0 if ok else 1
