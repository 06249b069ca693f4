"""The local stack's outbox drain: what the outbox table's stream consumer does in AWS.

In AWS a commit writes its outbox records and returns; the table's DynamoDB stream invokes
``notify_outbox_stream`` (app.py), which publishes the new records. chalice local runs no
stream consumers, so the local stack hands each commit's record ids to these worker threads
instead: the request returns after its transaction, and the receipt SMS leaves a few
milliseconds later, through the same ``Publisher.drain`` (its claim/mark protocol keeps every
SMS to exactly once, whoever else — the sweep, another worker — races for the record). Several
workers, as a stream has several shards each with its own invocations: one worker alone fell
minutes behind a steady load, its share of moto one turn among the many request threads'.

``flush()`` waits until everything handed over before it is delivered (or failed and left
queued for the sweep), not for what keeps coming meanwhile: ``GET /_local/outbox`` and
``POST /_local/sweep`` call it first, so a test or an operator reading the local outbox right
after an action sees its SMS, as they would a second later on AWS.
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
WORKERS = 4


class LocalDrain:
    def __init__(self, deliver: Deliver, name: str = "fzt-outbox-drain", workers: int = WORKERS) -> None:
        self._deliver = deliver
        # (ticket, record ids, env) per handoff; None stops a worker.
        self._queue: queue.Queue[tuple[int, list[str], Any] | None] = queue.Queue()
        self._threads = [
            threading.Thread(target=self._run, name=f"{name}-{n}", daemon=True) for n in range(workers)
        ]
        self._started = False
        self._changed = threading.Condition()
        self._issued = 0  # the last ticket handed out
        self._open: set[int] = set()  # tickets handed over and not yet through the publisher

    def start(self) -> LocalDrain:
        if not self._started:
            self._started = True
            for t in self._threads:
                t.start()
        return self

    def submit(self, ids: list[str], env: Any) -> None:
        """Called by the unit of work right after a commit: never blocks the request."""
        if ids:
            with self._changed:
                self._issued += 1
                ticket = self._issued
                self._open.add(ticket)
            self._queue.put((ticket, list(ids), env))

    def flush(self) -> None:
        """Returns once every record handed over before the call has been through the publisher
        (whatever is handed over while it waits is not waited for: under a steady load that would be
        forever, and a sweep that flushes first would never start)."""
        if not self._started:
            return
        with self._changed:
            target = self._issued
            while self._open and min(self._open) <= target:
                if not self._changed.wait(timeout=1.0) and not any(t.is_alive() for t in self._threads):
                    return

    def stop(self, timeout: float = 5.0) -> None:
        if self._started:
            for _ in self._threads:
                self._queue.put(None)
            for t in self._threads:
                t.join(timeout)

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch = [first]
            # What piled up meanwhile goes in one drain (one BatchGetItem for all of it), as a stream
            # consumer receives a batch of records.
            while len(batch) < BATCH:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is None:  # another worker's stop: leave it to the next get
                    self._queue.put(None)
                    break
                batch.append(more)
            try:
                ids = [i for _, handed, _ in batch for i in handed]
                env = max((e for _, _, e in batch), key=lambda e: e.now)  # the latest commit's clock
                self._deliver(ids, env)
            except BaseException:  # noqa: BLE001 - the records stay queued for the sweep; keep draining
                log.exception("local outbox drain failed; the sweep will retry")
            finally:
                with self._changed:
                    self._open.difference_update(ticket for ticket, _, _ in batch)
                    self._changed.notify_all()
