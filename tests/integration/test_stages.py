"""Local controls exist on stage `local` only: every other stage answers 404 in the error shape."""

from __future__ import annotations

import pytest
from chalice.test import Client

LOCAL_ROUTES = [
    ("GET", "/_local/clock", None),
    ("POST", "/_local/clock", {"advance_seconds": 60}),
    ("POST", "/_local/sweep", None),
    ("GET", "/_local/outbox", None),
    ("POST", "/_local/token", {"user": "admin@210900"}),
]


@pytest.fixture
def dev_stage(stack, runtime_env):
    runtime_env({"FZT_STAGE": "dev", "FZT_DATA_KEY": "test-data-key", "FZT_PHONE_KEY": "test-phone-key"})


@pytest.mark.parametrize("method, path, body", LOCAL_ROUTES)
def test_local_controls_are_404_on_dev(dev_stage, method, path, body):
    from chalicelib.local.stack import load_app

    with Client(load_app()) as client:
        kwargs = {"headers": {"Content-Type": "application/json"}}
        if body is not None:
            import json

            kwargs["body"] = json.dumps(body)
        r = client.http.request(method, path, **kwargs)
    assert r.status_code == 404
    assert r.json_body["error"]["code"] == "not_found"


def test_openapi_on_dev_does_not_document_local_controls(dev_stage):
    from chalicelib.local.stack import load_app

    with Client(load_app()) as client:
        doc = client.http.get("/openapi.json").json_body
    assert not [p for p in doc["paths"] if p.startswith("/_local")]
