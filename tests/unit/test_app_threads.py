"""The app's per-request state is per thread: the local server answers each request on its own
thread, and two racing requests must not read each other's body or credentials."""

from __future__ import annotations

import threading

from chalicelib.api.http import ThreadLocalChalice


def test_each_thread_sees_the_request_it_set():
    app = ThreadLocalChalice(app_name="t")
    barrier = threading.Barrier(2, timeout=10)
    seen: dict[str, object] = {}

    def handle(name: str) -> None:
        app.current_request = f"request of {name}"
        app.lambda_context = f"context of {name}"
        barrier.wait()  # both have set theirs before either reads
        seen[name] = (app.current_request, app.lambda_context)

    threads = [threading.Thread(target=handle, args=(n,)) for n in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert seen == {
        "a": ("request of a", "context of a"),
        "b": ("request of b", "context of b"),
    }
    assert app.current_request is None  # the test's own thread set nothing


def test_the_served_app_is_the_thread_safe_one():
    import app as served

    assert isinstance(served.app, ThreadLocalChalice)
    seen = []
    t = threading.Thread(target=lambda: seen.append(served.app.current_request))  # a fresh thread sees none,
    t.start()  # whatever requests the suite's own thread has made through chalice.test.Client
    t.join()
    assert seen == [None]
