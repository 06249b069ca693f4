"""Logging is set up by every entry point, not by the first HTTP request: a process whose first
(and only) invocation is the inbound-SMS function masks phones in every logger and puts the
function's name and request id on its lines. Run in a fresh interpreter, where nothing else
has set logging up; the reply is not a rating, so nothing reaches AWS."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = r"""
import json, logging
from chalice.test import Client
import app

lines = []
class Keep(logging.Handler):
    def emit(self, record):
        lines.append({"msg": record.getMessage(), "function": getattr(record, "function", None),
                      "request_id": getattr(record, "request_id", None)})
logging.getLogger().addHandler(Keep())
logging.getLogger().setLevel(logging.INFO)

with Client(app.app, stage_name="local") as client:
    event = client.events.generate_sns_event(message=json.dumps(
        {"originationNumber": "+8613800138000", "messageBody": "您好 13912345678 请回电"}))
    out = client.lambda_.invoke("notify_inbound_sms", event).payload
logging.getLogger("botocore.any").warning("a library line with 13800138000 in it")
print(json.dumps({"out": out, "lines": lines}, ensure_ascii=False))
"""


def test_an_sns_function_alone_gets_masking_and_its_ids():
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "FZT_STAGE": "local"}
    run = subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, env=env, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr[-2000:]
    seen = json.loads(run.stdout.strip().splitlines()[-1])
    assert seen["out"] == {"outcome": "ignored", "reason": "not a rating reply (1/2/3)"}
    ignored = [line for line in seen["lines"] if line["msg"] == "inbound SMS ignored"]
    assert len(ignored) == 1 and ignored[0]["function"] == "notify_inbound_sms" and ignored[0]["request_id"]
    library = [line["msg"] for line in seen["lines"] if "a library line" in line["msg"]]
    assert library == ["a library line with 138****8000 in it"]
    assert "13800138000" not in run.stdout + run.stderr
