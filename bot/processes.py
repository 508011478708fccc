"""HTTP mode on several cores: one listening socket, `HTTP_PROCESSES` worker processes.

One Python process runs Python code on one core at a time (the GIL), so a single server process
saturates one core however many threads it has. Here the parent binds the port, forks the
workers and watches them; the kernel hands each new connection to a worker waiting in `accept`.
Each worker builds its own app, database pool, listener pool and caches after the fork, as
separate replicas would: the caches are written for replicas, and a changed setting or
coordinator empties the other workers' copies within seconds (`services/common/generation.py`,
in the database); the reminder sweep claims its rows in the database, and on SQLite the writers of all the
workers queue on one file lock (`models/db.py`). Only the first worker runs the scheduler.

The workers start one after the other, each once the last has said it is ready, so a worker
that cannot start (a configuration error, a token Slack refuses) stops the program with its exit
code and one message, instead of one message per worker. A worker that dies later is started
again. SIGTERM or Ctrl-C stops the workers (each closes its server) and then the parent; a
worker that has not ended after STOP_GRACE seconds is killed."""

from __future__ import annotations

import logging
import os
import select
import signal
import socket
import time
from collections.abc import Callable

log = logging.getLogger(__name__)

STOP_GRACE = 10.0
RESTART_PAUSE = 1.0
START_TIMEOUT = 120.0  # seconds a worker may take to start (migrations, Slack's auth.test)
STOP_SIGNALS = {signal.SIGTERM, signal.SIGINT}

# (worker number, listening socket, ready) -> exit code; the worker calls ready() once it serves.
Worker = Callable[[int, socket.socket, Callable[[], None]], int]


def listen(host: str, port: int, backlog: int = 2048) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    return socket.create_server((host, port), family=family, backlog=backlog)


def serve(sock: socket.socket, count: int, worker: Worker) -> int:
    """Run `count` workers on `sock` until SIGTERM or SIGINT; the program's exit code."""
    children: dict[int, int] = {}  # pid -> worker number
    parent = os.getpid()
    stopping: list[float] = []  # the deadline, once asked to stop

    def start(number: int) -> tuple[int, int]:
        """The worker's pid, and the read end of the pipe it says "ready" on. SIGTERM and SIGINT
        wait while the worker is forked and registered, so that stop() never misses it."""
        readable, writable = os.pipe()
        signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
        try:
            pid = os.fork()
            if pid == 0:  # the worker
                os.close(readable)
                signal.signal(signal.SIGTERM, signal.SIG_DFL)
                signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the parent, which stops us
                signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)
                _end_with_parent(parent)
                _run_worker(worker, number, sock, writable)
            children[pid] = number
        finally:
            if os.getpid() == parent:
                signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)
        os.close(writable)
        return pid, readable

    def stop(*_: object) -> None:
        if not stopping:
            stopping.append(time.monotonic() + STOP_GRACE)
            for pid in children:
                _signal(pid, signal.SIGTERM)

    previous = {sig: signal.signal(sig, stop) for sig in STOP_SIGNALS}
    exit_code = 0
    try:
        for number in range(count):
            if stopping:
                break
            pid, readable = start(number)
            started = _wait_ready(readable, START_TIMEOUT)
            if started is None:  # it neither started nor ended: a database or Slack that never answers
                log.error("worker %s did not start within %s s: stopping", number, START_TIMEOUT)
                _signal(pid, signal.SIGKILL)
                exit_code = 1
                stop()
                break
            if not started:
                _, status = os.waitpid(pid, 0)
                children.pop(pid, None)
                if not stopping:
                    code = os.waitstatus_to_exitcode(status)
                    exit_code = code if code > 0 else 1
                    log.error("worker %s could not start (exit code %s)", number, code)
                stop()
                break
        else:
            log.info("%s worker processes serve", count)
        while children:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:  # nobody has ended
                if stopping and time.monotonic() > stopping[0]:
                    for child in children:
                        _signal(child, signal.SIGKILL)
                time.sleep(0.05 if stopping else 0.2)
                continue
            number = children.pop(pid, -1)
            if stopping or number < 0:
                continue
            log.error(
                "worker %s ended (exit code %s): starting it again",
                number,
                os.waitstatus_to_exitcode(status),
            )
            time.sleep(RESTART_PAUSE)
            if not stopping:
                os.close(start(number)[1])  # its "ready" goes nowhere (ready() does not mind)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        sock.close()
    return exit_code


def _run_worker(worker: Worker, number: int, sock: socket.socket, writable: int) -> None:
    """In the forked worker: run it, and end the process with its exit code (never return)."""

    def ready() -> None:
        try:
            os.write(writable, b"1")
            os.close(writable)
        except OSError:
            pass  # a restarted worker: nobody waits for its word
        log.info("worker %s serves", number)

    code = 1
    try:
        code = worker(number, sock, ready)
    except BaseException:
        log.exception("worker %s failed", number)
    finally:
        logging.shutdown()
        os._exit(code)


def _wait_ready(readable: int, timeout: float) -> bool | None:
    """True once the worker says it is ready, False if it ended first, None if neither
    happened within `timeout` seconds."""
    with os.fdopen(readable, "rb", buffering=0) as pipe:
        if not select.select([pipe], [], [], timeout)[0]:
            return None
        return pipe.read(1) == b"1"  # or the end of the pipe: the worker has ended


def _signal(pid: int, sig: signal.Signals) -> None:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


def _end_with_parent(parent: int) -> None:
    """A worker whose parent is killed (SIGKILL leaves it no time to stop us) gets SIGTERM
    from the kernel (Linux), instead of serving on as an orphan nobody stops."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGTERM))
    except (OSError, AttributeError):
        return  # not Linux: the parent's SIGTERM still stops the workers
    if os.getppid() != parent:  # the parent died before the line above
        os._exit(1)


PR_SET_PDEATHSIG = 1
