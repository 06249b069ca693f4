"""The export job's states, on a folder store and a held clock (no stack)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.audit.jobs import ExportJobs, FolderJobs, valid_id
from chalicelib.errors import NotFound


class Clock:
    def __init__(self) -> None:
        self.at = datetime(2026, 11, 2, 2, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.at += timedelta(seconds=1)
        return self.at


def test_queued_then_running_then_done_with_the_exports_answer(tmp_path):
    seen: list[str] = []
    store = FolderJobs(tmp_path)

    def export() -> dict:
        seen.append(store.get(job["id"]).state)  # what a reader sees while it runs
        return {"location": str(tmp_path), "dt": "2026-11-02", "tables": {"petitions": 3}}

    jobs = ExportJobs(store, start=lambda _id: None, export=export, clock=Clock())
    job = jobs.request("auditor@210900")
    assert valid_id(job["id"]) and jobs.status(job["id"])["state"] == "queued"
    done = jobs.run(job["id"])
    assert seen == ["running"]
    assert done["state"] == "done" and done["result"]["tables"] == {"petitions": 3}
    assert done["requested_at"] < done["started_at"] < done["finished_at"]
    assert jobs.run(job["id"]) == done  # run again (a retried invoke): nothing exported twice
    assert seen == ["running"]


def test_a_failing_export_leaves_the_job_failed_with_the_errors_type(tmp_path):
    def export() -> dict:
        raise OSError("disk full")

    jobs = ExportJobs(FolderJobs(tmp_path), start=lambda _id: None, export=export, clock=Clock())
    job = jobs.request("admin@210900")
    with pytest.raises(OSError):
        jobs.run(job["id"])
    failed = jobs.status(job["id"])
    assert failed["state"] == "failed" and failed["error"] == "OSError" and failed["result"] is None


def test_ids_outside_the_alphabet_are_not_looked_up(tmp_path):
    jobs = ExportJobs(FolderJobs(tmp_path), start=lambda _id: None, export=dict, clock=Clock())
    (tmp_path / "_jobs").mkdir()
    (tmp_path / "secret.json").write_text("{}")
    for bad in ("../secret", "20260101T000000ABCDEFGHJK", "x" * 25, ""):
        with pytest.raises(NotFound):
            jobs.status(bad)
