"""Every SNS publish the local stack made, for ``GET /_local/outbox``.

Recorded from botocore's ``after-call`` event of the real SNS client (talking
to moto), so only publishes that SNS accepted appear, exactly as sent.
"""

from __future__ import annotations

import threading

from chalicelib.clock import get_clock, iso

_lock = threading.Lock()
_entries: list[dict] = []


def record_publish(http_response, parsed, model, context=None, **_kwargs) -> None:
    if model.name != "Publish" or http_response.status_code >= 300:
        return
    # after-call does not receive the API parameters; stash_params left them in the request context.
    params = (context or {}).get("fzt_publish")
    if not params:
        return
    attrs = {k: v.get("StringValue", "") for k, v in (params.get("MessageAttributes") or {}).items()}
    entry: dict = {"message": params.get("Message", ""), "attributes": attrs, "at": iso(get_clock().now())}
    if params.get("PhoneNumber"):
        entry = {"kind": "sms", "to": params["PhoneNumber"], **entry}
    else:
        entry = {"kind": "topic", "topic": params.get("TopicArn") or params.get("TargetArn"), **entry}
    with _lock:
        _entries.append(entry)


def stash_params(params, model, context=None, **_kwargs) -> None:
    if model.name == "Publish" and context is not None:
        context["fzt_publish"] = dict(params)


def entries(to: str | None = None) -> list[dict]:
    with _lock:
        items = list(_entries)
    if to:
        items = [e for e in items if e.get("to") == to or e.get("to", "").endswith(to)]
    return items


def count() -> int:
    with _lock:
        return len(_entries)


def clear() -> None:
    with _lock:
        _entries.clear()


def restore(saved: list[dict]) -> None:
    """The entries a restarted stack had recorded (chalicelib/local/state.py keeps them)."""
    with _lock:
        _entries[:] = [dict(e) for e in saved]


def install() -> None:
    from chalicelib import aws

    aws.on_event("provide-client-params.sns.Publish", stash_params)
    aws.on_event("after-call.sns.Publish", record_publish)
