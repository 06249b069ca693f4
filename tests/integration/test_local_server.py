"""The local HTTP server under a burst of new connections, and what it answers by itself.

Python's socketserver listens with a backlog of 5: with it, some of 20 clients connecting at once were reset
(ECONNRESET) before the app saw them. http.server answers an unknown method (TRACE) with a 501 HTML page,
and Chalice's local gateway a path no route has with 403 "Missing Authentication Token" and a method the
route lacks with {"Code": "MethodNotAllowedError"}: all outside the contract's error shape."""

from __future__ import annotations

import http.client
import json
import threading
import uuid

import pytest

CLIENTS = 20
ROUNDS = 3


def _create(port: int, content: str) -> int | str:
    """One client: a fresh connection, one create; its status, or the error it met."""
    body = json.dumps({"district": "210902", "content": content, "citizen": {"phone": "13800138000"}})
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request(
            "POST",
            "/v1/petitions",
            body=body.encode("utf-8"),
            headers={"X-Api-Key": "local-wechat", "Content-Type": "application/json"},
        )
        response = conn.getresponse()
        response.read()
        return response.status
    except OSError as exc:
        return repr(exc)
    finally:
        conn.close()


def _burst(port: int, round_: int) -> list[int | str]:
    """CLIENTS clients released at once by a barrier, each on its own new connection."""
    start = threading.Barrier(CLIENTS)
    results: list[int | str] = []
    lock = threading.Lock()

    def client(i: int) -> None:
        start.wait(timeout=30)
        outcome = _create(port, f"小区门口路灯坏了一个月（并发 {round_}-{i} {uuid.uuid4().hex[:8]}）")
        with lock:
            results.append(outcome)

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return results


def test_twenty_clients_connecting_at_once_all_get_201(stack):
    for round_ in range(ROUNDS):
        results = _burst(stack.port, round_)
        assert len(results) == CLIENTS, f"round {round_}: {CLIENTS - len(results)} clients never finished"
        assert results == [201] * CLIENTS, f"round {round_}: {sorted(map(str, results))}"


@pytest.mark.parametrize("method", ["TRACE", "PROPFIND", "BREW"])
def test_an_unknown_method_is_a_405_in_the_error_shape(stack, method):
    conn = http.client.HTTPConnection("127.0.0.1", stack.port, timeout=30)
    try:
        conn.request(method, "/v1/petitions")
        response = conn.getresponse()
        body = response.read()
    finally:
        conn.close()
    assert response.status == 405
    assert response.getheader("Content-Type", "").startswith("application/json")
    assert "POST" in response.getheader("Allow", "")
    error = json.loads(body)["error"]
    assert error["code"] == "method_not_allowed"
    assert method in error["message"]
    # ... and the server answers the next client as before.
    conn = http.client.HTTPConnection("127.0.0.1", stack.port, timeout=30)
    try:
        conn.request("GET", "/health")
        health = conn.getresponse()
        assert health.status == 200 and json.loads(health.read()) == {"status": "ok"}
    finally:
        conn.close()


def _ask(port: int, method: str, path: str, headers: dict | None = None) -> tuple[int, dict, dict]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request(method, path, headers=headers or {})
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), json.loads(response.read())
    finally:
        conn.close()


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer x"}], ids=["anonymous", "with-a-token"])
@pytest.mark.parametrize("path", ["/v1/nosuch", "/v1/petitions/AAAAAAAAAAAA/nosuch", "/v1/%2e%2e/health"])
def test_a_path_no_route_has_is_a_404_in_the_error_shape(stack, path, headers):
    # Chalice's local gateway says 403 "Missing Authentication Token" (or asks for a SigV4 signature),
    # outside the contract's shape; API Gateway's answer is mapped to 404 not_found (infra/package.py).
    status, _, body = _ask(stack.port, "GET", path, headers)
    assert status == 404
    assert set(body) == {"error"} and body["error"]["code"] == "not_found"


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH"])
def test_a_method_the_route_lacks_is_a_405_in_the_error_shape(stack, method):
    status, headers, body = _ask(stack.port, method, "/v1/petitions", {"X-Api-Key": "local-wechat"})
    assert status == 405
    assert "POST" in headers.get("Allow", "")
    assert set(body) == {"error"} and body["error"]["code"] == "method_not_allowed"
