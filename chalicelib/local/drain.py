"""The local stack's outbox drain: what the outbox table's stream consumer does in AWS.

In AWS a commit writes its outbox records and returns; the table's DynamoDB stream invokes
``notify_outbox_stream`` (app.py), which publishes the new records. chalice local runs no
stream consumers, so the local stack hands each commit's record ids to this worker thread
instead: the request returns after its transaction, and the receipt SMS leaves a few
milliseconds later, through the same ``Publisher.drain`` (its claim/mark protocol keeps every
SMS to exactly once, whoever else — the sweep, a second drainer — races for the record).

``flush()`` waits until everything handed over so far is delivered (or failed and left queued
for the sweep): ``GET /_local/outbox`` and ``POST /_local/sweep`` call it first, so a test or an
operator reading the local outbox right after an action sees its SMS, as they would a second
later on AWS.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from typing import Any

log = logging.getLogger("fzt.local")

Deliver = Callable[[list[str], Any], object]  # (record ids, the committing request's Env)
BATCH = 64


class LocalDrain:
    def __init__(self, deliver: Deliver, name: str = "fzt-outbox-drain") -> None:
        self._deliver = deliver
        # Handoffs, flush markers, and None to stop.
        self._queue: queue.Queue[tuple[list[str], Any] | threading.Event | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._started = False

    def start(self) -> LocalDrain:
        if not self._started:
            self._started = True
            self._thread.start()
        return self

    def submit(self, ids: list[str], env: Any) -> None:
        """Called by the unit of work right after a commit: never blocks the request."""
        if ids:
            self._queue.put((list(ids), env))

    def flush(self) -> None:
        """Returns once every record handed over before the call has been through the publisher.

        A marker joins the queue behind them and the worker sets it once it has drained everything
        ahead of it. (``Queue.join`` would also wait for whatever is handed over while it waits: under
        a steady load that is forever, and a sweep that flushes first would never start.)"""
        if self._started and self._thread.is_alive():
            reached = threading.Event()
            self._queue.put(reached)
            while not reached.wait(timeout=1.0):
                if not self._thread.is_alive():
                    return

    def stop(self, timeout: float = 5.0) -> None:
        if self._started:
            self._queue.put(None)
            self._thread.join(timeout)

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            batch = [first]
            # What piled up meanwhile goes in one drain (one BatchGetItem for all of it), as a stream
            # consumer receives a batch of records.
            while len(batch) < BATCH:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            markers = [b for b in batch if isinstance(b, threading.Event)]
            batch = [b for b in batch if not isinstance(b, threading.Event)]
            try:
                work = [b for b in batch if isinstance(b, tuple)]
                if work:
                    ids = [i for b in work for i in b[0]]
                    env = max((b[1] for b in work), key=lambda e: e.now)  # the latest commit's clock
                    self._deliver(ids, env)
            except BaseException:  # noqa: BLE001 - the records stay queued for the sweep; keep draining
                log.exception("local outbox drain failed; the sweep will retry")
            finally:
                for _ in batch + markers:
                    self._queue.task_done()
                for marker in markers:  # everything handed over before each marker is through
                    marker.set()
            if any(b is None for b in batch):
                return
