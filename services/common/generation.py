"""A number every worker process sees: changed when something that processes cache has changed,
so that each process drops its copy at its next look instead of when the copy expires.

It lives in an anonymous shared memory mapping, so it is shared by the processes forked after it
was made (the HTTP workers of bot/processes.py); in one process it is simply a number. A change
writes a value no process has written before (the writer's pid and its own count), so two
processes that change things at once cannot write the same value and hide one change."""

from __future__ import annotations

import itertools
import mmap
import os
import struct
import threading

_FORMAT = "Q"


class Generation:
    def __init__(self) -> None:
        self._map = mmap.mmap(-1, struct.calcsize(_FORMAT))  # MAP_SHARED | MAP_ANONYMOUS
        self._counter = itertools.count(1)
        self._lock = threading.Lock()

    @property
    def value(self) -> int:
        return int(struct.unpack_from(_FORMAT, self._map, 0)[0])

    def change(self) -> int:
        """Mark a change; the value written (another process may write over it at once)."""
        with self._lock:
            stamp = (os.getpid() & 0xFFFFFFFF) << 32 | (next(self._counter) & 0xFFFFFFFF)
            struct.pack_into(_FORMAT, self._map, 0, stamp)
            return stamp
