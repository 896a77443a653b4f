"""``python -m tests.abuse.poller URL``: ask ``URL`` every 20 ms until stdin closes, then print
the answer times (seconds, JSON list) on stdout.

The service's event loop is measured from another process: a poller running on the loop it
measures waits for the loop like every other task, so a loop blocked for 1.4 s answered it in
7 ms. A request that gets no answer within 5 s counts as 5 s.
"""

from __future__ import annotations

import json
import sys
import threading
import time
import urllib.request

INTERVAL = 0.02
TIMEOUT = 5.0


def main(url: str) -> int:
    stop = threading.Event()
    threading.Thread(target=lambda: (sys.stdin.read(), stop.set()), daemon=True).start()
    times: list[float] = []
    print("ready", flush=True)
    while not stop.is_set():
        started = time.perf_counter()
        try:
            with urllib.request.urlopen(url, timeout=TIMEOUT) as resp:  # noqa: S310 - loopback
                resp.read()
        except OSError:
            pass
        times.append(min(TIMEOUT, time.perf_counter() - started))
        time.sleep(INTERVAL)
    print(json.dumps(times), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1]))
