"""The local stack's outbox drain (chalicelib/local/drain.py): ``flush`` waits for what was handed over
before it, not for what keeps coming while it waits (a sweep under a steady load must still start)."""

from __future__ import annotations

import threading
import time

from chalicelib.local.drain import LocalDrain


class Env:
    def __init__(self, now: float) -> None:
        self.now = now


def test_flush_returns_once_what_came_before_is_through_even_under_a_steady_load():
    delivered: list[str] = []
    lock = threading.Lock()

    def deliver(ids, env):
        time.sleep(0.01)  # a publish takes a while
        with lock:
            delivered.extend(ids)

    drain = LocalDrain(deliver).start()
    stop = threading.Event()

    def steady():  # a handoff every few milliseconds, for as long as the test runs
        n = 0
        while not stop.is_set():
            drain.submit([f"later-{n}"], Env(n))
            n += 1
            time.sleep(0.002)

    try:
        for n in range(20):
            drain.submit([f"before-{n}"], Env(n))
        producer = threading.Thread(target=steady)
        producer.start()
        time.sleep(0.02)
        done = threading.Event()
        flusher = threading.Thread(target=lambda: (drain.flush(), done.set()))
        flusher.start()
        # Then the flush returns while the load goes on, with everything handed over before it delivered
        assert done.wait(timeout=10), "flush waited for the handoffs that came after it"
        with lock:
            assert {f"before-{n}" for n in range(20)} <= set(delivered)
        assert producer.is_alive()
    finally:
        stop.set()
        drain.flush()
        drain.stop()


def test_flush_waits_for_an_earlier_handoff_a_slow_worker_still_holds():
    delivered: list[str] = []
    release = threading.Event()

    def deliver(ids, env):
        if "slow" in ids:
            release.wait(timeout=10)  # one worker is held on the earlier handoff
        delivered.extend(ids)

    drain = LocalDrain(deliver, workers=4).start()
    try:
        drain.submit(["slow"], Env(0))
        time.sleep(0.05)  # a worker has taken it
        drain.submit(["quick"], Env(1))  # another worker delivers this one at once
        done = threading.Event()
        threading.Thread(target=lambda: (drain.flush(), done.set())).start()
        time.sleep(0.2)
        assert "quick" in delivered and not done.is_set()  # the later one is through, the earlier not
        release.set()
        assert done.wait(timeout=5) and "slow" in delivered
    finally:
        release.set()
        drain.stop()
