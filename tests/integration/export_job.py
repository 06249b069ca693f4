"""Running an on-demand export through the API as an auditor does: POST /v1/exports answers 202
with a job, GET /v1/exports/{id} until it is done (or failed)."""

from __future__ import annotations

import time

WAIT_SECONDS = 120


def start_export(api, who: str = "auditor@210900") -> dict:
    r = api.post("/v1/exports", {}, as_=who)
    assert r.status_code == 202, r.text
    job = r.json()
    assert job["state"] in ("queued", "running", "done"), job
    return job


def wait_for(api, job_id: str, who: str = "auditor@210900") -> dict:
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        r = api.get(f"/v1/exports/{job_id}", as_=who)
        assert r.status_code == 200, r.text
        job = r.json()
        if job["state"] in ("done", "failed") or time.monotonic() > deadline:
            return job
        time.sleep(0.05)


def export_now(api, who: str = "auditor@210900") -> dict:
    """The finished export's result: location, dt, tables (rows per table)."""
    job = wait_for(api, start_export(api, who)["id"], who)
    assert job["state"] == "done", job
    return job["result"]
