"""The fake Web API in a process of its own, for the load benchmark: the bot's and the bare app's
`views.open` calls are answered by a process that the load generator does not slow down (and
that does not slow the generator down).

    python benchmarks/fake_api_server.py

It prints its URL, then answers lines on standard input: `clear` forgets the calls so far
(answers `ok`), `views` answers a JSON list of `[trigger_id, monotonic time]` of every
`views.open` call since the last `clear`. The monotonic clock is the machine's, so the times
compare with the generator's."""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.fakes.slack_api import FakeSlackApi


def main() -> None:
    api = FakeSlackApi()
    print(api.url, flush=True)
    for line in sys.stdin:
        command = line.strip()
        if command == "clear":
            with api.lock:
                api.calls.clear()
            print("ok", flush=True)
        elif command == "views":
            calls = [[call.body.get("trigger_id"), call.at] for call in api.of("views.open")]
            print(json.dumps(calls), flush=True)
    api.close()


if __name__ == "__main__":
    main()
