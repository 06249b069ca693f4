"""The schedule and SNS functions invoked as Lambda invokes them, with Chalice's generated events
(``Client().lambda_.invoke``): they do their work on the stack, and every line they log carries
the function's name and the invocation's request id, as the HTTP functions' lines do."""

from __future__ import annotations

import json
import logging
from datetime import timedelta

from chalice.test import Client

from chalicelib.clock import get_clock, iso
from chalicelib.local.stack import load_app
from tests.integration.petition_factory import PHONE, petition_in


def move_on(api, delta: timedelta) -> None:
    assert api.post("/_local/clock", {"set": iso(get_clock().now() + delta)}).status_code == 200


def records_of(caplog, function: str) -> list[logging.LogRecord]:
    return [r for r in caplog.records if getattr(r, "function", None) == function]


def test_the_sweep_schedule_fires_what_is_due_and_logs_as_itself(api, caplog):
    pid = petition_in(api, "received")
    move_on(api, timedelta(days=12))  # past due + 3 working days, whatever the weekday
    with Client(load_app(), stage_name="local") as client:
        event = client.events.generate_cw_event(
            source="aws.events",
            detail_type="Scheduled Event",
            detail={},
            resources=["arn:aws:events:rule/sweep"],
        )
        with caplog.at_level(logging.INFO, logger="fzt"):
            result = client.lambda_.invoke("sla_sweep", event).payload
    assert [f["type"] for f in result["fired"] if f["petition"] == pid] == [
        "reminder",
        "supervision_notice",
        "escalated",
        "escalated",
    ]
    done = [r for r in records_of(caplog, "sla_sweep") if r.getMessage() == "sweep done"]
    assert len(done) == 1 and len(done[0].request_id) == 36  # the Lambda context's request id


def test_the_inbound_sms_subscription_records_a_rating_and_logs_as_itself(api, caplog):
    pid = petition_in(api, "closed")
    with Client(load_app(), stage_name="local") as client:
        rating = client.events.generate_sns_event(
            message=json.dumps({"originationNumber": f"+86{PHONE}", "messageBody": "1"})
        )
        junk = client.events.generate_sns_event(message=json.dumps({"originationNumber": "+12025550123"}))
        with caplog.at_level(logging.INFO, logger="fzt"):
            recorded = client.lambda_.invoke("notify_inbound_sms", rating).payload
            ignored = client.lambda_.invoke("notify_inbound_sms", junk).payload
    assert recorded == {"outcome": "recorded", "petition": pid, "rating": "satisfied"}
    assert ignored["outcome"] == "ignored"
    lines = [r for r in records_of(caplog, "notify_inbound_sms") if r.getMessage() == "inbound SMS ignored"]
    assert len(lines) == 1 and lines[0].request_id
    p = api.get(f"/v1/petitions/{pid}", as_="admin@210900").json()
    assert p["rating"] == "satisfied"


def test_http_requests_log_their_route_and_petition(api, caplog):
    pid = petition_in(api, "received")
    with caplog.at_level(logging.INFO, logger="fzt"):
        r = api.post(
            f"/v1/petitions/{pid}/dispatch", {"department": "nowhere.at.all"}, as_="dispatcher@210902"
        )
    assert r.status_code == 400
    tagged = [rec for rec in caplog.records if getattr(rec, "petition", None) == pid]
    assert tagged, "no log line of the request carried its petition id"
    assert {rec.function for rec in tagged} == {"petitions_dispatch"}
    assert {rec.route for rec in tagged} == {"POST /v1/petitions/{id}/dispatch"}
