"""On-demand exports as jobs: ``POST /v1/exports`` answers 202 with a job id at once, the export
runs elsewhere, and ``GET /v1/exports/{id}`` tells its state (queued → running → done | failed).

An export of a big table outlasts API Gateway's 29 s, so the request only records the job and
starts it: locally on a thread of the stack, in AWS by an asynchronous invoke of the export
function (``audit_daily_export`` with the job's id in its event). A job is one small JSON object
beside the exports (locally ``<export dir>.jobs/<id>.json``; in AWS ``export-jobs/<id>.json`` in
the export bucket), written whole each time its state changes; nothing else keeps it. The export's
watermark (the last day exported, chalicelib/audit/export.py) is kept the same way.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from chalicelib.clock import iso
from chalicelib.errors import NotFound

STATES = ("queued", "running", "done", "failed")
ID_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"


@dataclass(frozen=True)
class ExportJob:
    id: str
    state: str  # queued | running | done | failed
    requested_by: str
    requested_at: str
    started_at: str | None = None
    finished_at: str | None = None
    result: dict | None = None  # the export's answer: location, dt, tables (rows written), read
    error: str | None = None  # the failure's type, for the auditor to report (details in the logs)

    def out(self) -> dict:
        return asdict(self)


class JobStore(Protocol):
    def put(self, job: ExportJob) -> None: ...
    def get(self, job_id: str) -> ExportJob | None: ...


def new_job_id(now: datetime) -> str:
    """Sortable by request time, unguessable: yyyymmddThhmmss + 10 random characters."""
    return now.strftime("%Y%m%dT%H%M%S") + "".join(secrets.choice(ID_ALPHABET) for _ in range(10))


def valid_id(job_id: str) -> bool:
    stamp, rand = job_id[:15], job_id[15:]
    return (
        len(job_id) == 25
        and stamp[:8].isdigit()
        and stamp[8] == "T"
        and stamp[9:].isdigit()
        and all(c in ID_ALPHABET for c in rand)
    )


def job_event(job_id: str, now: datetime, region: str) -> dict:
    """The export function's event for a job: shaped as the schedule's (an EventBridge event, which
    is what the function's handler parses), with the job's id in ``detail``."""
    return {
        "version": "0",
        "id": job_id,
        "detail-type": "fzt export job",
        "source": "fzt.api",
        "account": "",
        "time": iso(now),
        "region": region,
        "resources": [],
        "detail": {"job": job_id},
    }


def beside(export_dir: str | Path) -> Path:
    """The folder beside the local exports for jobs and the watermark (not in them: the exports
    folder holds the auditors' Parquet files and nothing else)."""
    path = Path(export_dir).resolve()
    return path.with_name(path.name + ".jobs")


class FolderJobs:
    """Jobs as files beside the local export folder (written whole: a reader never sees half)."""

    def __init__(self, export_dir: str | Path) -> None:
        self.folder = beside(export_dir)

    def put(self, job: ExportJob) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        tmp = self.folder / f".{job.id}.{secrets.token_hex(4)}.tmp"
        tmp.write_text(json.dumps(job.out(), ensure_ascii=False), encoding="utf-8")
        os.replace(tmp, self.folder / f"{job.id}.json")

    def get(self, job_id: str) -> ExportJob | None:
        try:
            return ExportJob(**json.loads((self.folder / f"{job_id}.json").read_text(encoding="utf-8")))
        except FileNotFoundError:
            return None


class S3Jobs:
    """Jobs as objects in the export bucket, beside (not under) the exported tables."""

    PREFIX = "export-jobs/"

    def __init__(self, bucket: str, client: Callable[[], Any]) -> None:
        self.bucket = bucket
        self.client = client

    def put(self, job: ExportJob) -> None:
        body = json.dumps(job.out(), ensure_ascii=False).encode()
        self.client().put_object(Bucket=self.bucket, Key=f"{self.PREFIX}{job.id}.json", Body=body)

    def get(self, job_id: str) -> ExportJob | None:
        try:
            obj = self.client().get_object(Bucket=self.bucket, Key=f"{self.PREFIX}{job_id}.json")
        except Exception as exc:  # noqa: BLE001 - botocore's NoSuchKey is a generated class
            if type(exc).__name__ == "NoSuchKey":
                return None
            raise
        return ExportJob(**json.loads(obj["Body"].read()))


@dataclass
class ExportJobs:
    """Records a job, starts it (``start(job_id)``: a thread, or an async invoke), runs it."""

    store: JobStore
    start: Callable[[str], None]
    export: Callable[[], dict]  # the export itself (Runtime.export)
    clock: Callable[[], datetime]

    def request(self, who: str) -> dict:
        now = self.clock()
        job = ExportJob(new_job_id(now), "queued", who, iso(now))
        self.store.put(job)
        self.start(job.id)
        return job.out()

    def status(self, job_id: str) -> dict:
        job = self.store.get(job_id) if valid_id(job_id) else None
        if job is None:
            raise NotFound(f"no export job {job_id!r}", field="id")
        return job.out()

    def run(self, job_id: str) -> dict:
        """Runs a queued job to its end (done or failed) and returns its last state."""
        job = self.store.get(job_id)
        if job is None:
            raise NotFound(f"no export job {job_id!r}", field="id")
        if job.state != "queued":  # an async invoke retried by Lambda: the job ran (or runs) already
            return job.out()
        job = replace(job, state="running", started_at=iso(self.clock()))
        self.store.put(job)
        try:
            result = self.export()
        except Exception as exc:  # noqa: BLE001 - the job says it failed; the log has the details
            job = replace(job, state="failed", finished_at=iso(self.clock()), error=type(exc).__name__)
            self.store.put(job)
            raise
        job = replace(job, state="done", finished_at=iso(self.clock()), result=result)
        self.store.put(job)
        return job.out()


class FolderWatermark:
    """From when the next export reads (an ISO instant), in a file beside the local exports."""

    def __init__(self, export_dir: str | Path) -> None:
        self.path = beside(export_dir) / "watermark.json"

    def get(self) -> str | None:
        try:
            return json.loads(self.path.read_text(encoding="utf-8"))["through"]
        except FileNotFoundError:
            return None

    def put(self, day: str) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(f".watermark.{secrets.token_hex(4)}.tmp")
        tmp.write_text(json.dumps({"through": day}), encoding="utf-8")
        os.replace(tmp, self.path)


class S3Watermark:
    KEY = "export-jobs/watermark.json"

    def __init__(self, bucket: str, client: Callable[[], Any]) -> None:
        self.bucket = bucket
        self.client = client

    def get(self) -> str | None:
        try:
            obj = self.client().get_object(Bucket=self.bucket, Key=self.KEY)
        except Exception as exc:  # noqa: BLE001 - botocore's NoSuchKey is a generated class
            if type(exc).__name__ == "NoSuchKey":
                return None
            raise
        return json.loads(obj["Body"].read())["through"]

    def put(self, day: str) -> None:
        self.client().put_object(Bucket=self.bucket, Key=self.KEY, Body=json.dumps({"through": day}).encode())
