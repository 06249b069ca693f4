"""On-demand exports as jobs (issue 17, CONTRACT §8 as changed): POST /v1/exports answers 202 with a
job at once; GET /v1/exports/{id} follows it to done (with where and how many rows) or failed; the
export function runs a job handed to it by id (AWS: an async invoke), once."""

from __future__ import annotations

from chalice.test import Client

from chalicelib.audit.jobs import job_event
from chalicelib.local.stack import load_app
from chalicelib.runtime import get_runtime
from tests.integration.export_job import start_export, wait_for


def test_an_export_job_is_accepted_at_once_and_ends_done_with_its_counts(api):
    r = api.post(
        "/v1/petitions",
        {"district": "210903", "content": "公园健身器材损坏", "citizen": {"phone": "13400134001"}},
        as_="local-hotline",
    )
    assert r.status_code == 201, r.text
    job = start_export(api)
    assert job["requested_by"] == "auditor@210900" and job["result"] is None
    done = wait_for(api, job["id"])
    assert done["state"] == "done", done
    assert done["started_at"] and done["finished_at"] and done["error"] is None
    assert done["result"]["tables"]["petitions"] >= 1
    assert set(done["result"]) >= {"location", "dt", "tables"}


def test_an_unknown_or_malformed_job_is_404_and_operators_outside_audit_are_refused(api):
    r = api.get("/v1/exports/20260101T000000abcdefghjk", as_="auditor@210900")
    assert r.status_code == 404 and r.json()["error"]["field"] == "id"
    assert api.get("/v1/exports/..%2F..%2Fetc", as_="auditor@210900").status_code == 404
    job = start_export(api, "admin@210900")
    assert api.get(f"/v1/exports/{job['id']}", as_="handler@210902.urban").status_code == 403
    assert api.get(f"/v1/exports/{job['id']}").status_code == 401
    assert api.post("/v1/exports", {}, as_="dispatcher@210902").status_code == 403
    wait_for(api, job["id"], "admin@210900")


def test_the_export_function_runs_a_job_handed_to_it_and_a_retried_invoke_does_not_rerun_it(api):
    # Given a job recorded but not started (as the API leaves it for the async invoke in AWS)
    jobs = get_runtime().export_jobs
    started: list[str] = []
    start, jobs.start = jobs.start, started.append
    try:
        job = jobs.request("auditor@210900")
    finally:
        jobs.start = start
    assert started == [job["id"]] and job["state"] == "queued"
    event = job_event(job["id"], get_runtime().clock.now(), "cn-north-1")  # as the API invokes it
    with Client(load_app(), stage_name="local") as client:
        # When the export function receives it, then the job runs to done
        first = client.lambda_.invoke("audit_daily_export", event).payload
        assert first["state"] == "done" and first["result"]["tables"]
        # and Lambda's retry of the same async event finds it done and exports nothing again
        again = client.lambda_.invoke("audit_daily_export", event).payload
    assert again == first
    assert wait_for(api, job["id"])["state"] == "done"
