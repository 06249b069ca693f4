"""The composition root: the only place that builds the Env (clock, directory, policy, the
calendar with the notices loaded since deployment), the stores, the SNS port, the unit of
work and the features' services — for every function alike: the API's views, the sweep,
inbound SMS, exports and calendar loading.

app.py, the local stack, bench/ and the tests take the runtime from :func:`get_runtime`
(tests may build one with fakes: ``Runtime.build(settings, stores=..., port=...)``). No
feature imports this module: the runtime hands each service what it needs.
"""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any, Protocol

from chalicelib import observability
from chalicelib.clock import Clock, get_clock, wall_now
from chalicelib.settings import Settings, get_settings

if TYPE_CHECKING:
    from chalicelib.audit.export import Exporter
    from chalicelib.audit.jobs import ExportJobs
    from chalicelib.auth.identity import Identity
    from chalicelib.center.service import Center
    from chalicelib.citizen.service import Citizens
    from chalicelib.directory.model import Directory
    from chalicelib.foresight.broadcast import Broadcasts
    from chalicelib.foresight.cases import Cases
    from chalicelib.foresight.hotspots import Hotspots
    from chalicelib.foresight.reports import Reports
    from chalicelib.grid.service import GridService
    from chalicelib.intake.service import Intake
    from chalicelib.notify.inbound import Inbound
    from chalicelib.notify.publisher import Publisher, SmsPort
    from chalicelib.petitions.domain import Env
    from chalicelib.petitions.service import PetitionService
    from chalicelib.sla.calendars import Calendars
    from chalicelib.sla.sweep import Sweep
    from chalicelib.stats.service import Stats
    from chalicelib.supervision.service import Supervision
    from chalicelib.timing.policy import Policy
    from chalicelib.unit_of_work import UnitOfWork

log = logging.getLogger("fzt.runtime")


class Handoff(Protocol):
    """Takes a commit's outbox record ids off the request path (the local stack's drain thread)."""

    def submit(self, ids: list[str], env: Env) -> None: ...
    def flush(self) -> None: ...


@dataclass
class Stores:
    """Every feature's store and the transaction factory they share."""

    database: Any
    petitions: Any  # petitions.repository.PetitionRepository
    outbox: Any  # notify.outbox_store.OutboxStore
    timers: Any  # sla.timer_store.TimerStore
    violations: Any  # sla.violation_store.ViolationStore
    idempotency: Any  # intake.idempotency_store.IdempotencyStore
    directory: Any  # directory.store.DirectoryStore
    citizen: Any = None  # citizen.store.CitizenStore
    center: Any = None  # center.store.CenterStore
    supervision: Any = None  # supervision.store.SupervisionStore
    foresight: Any = None  # foresight.store.ForesightStore
    grid: Any = None  # grid.store.GridStore

    @classmethod
    def dynamo(cls) -> Stores:
        from chalicelib.center.store import CenterStore
        from chalicelib.citizen.store import CitizenStore
        from chalicelib.db import DynamoDatabase
        from chalicelib.directory.store import DirectoryStore
        from chalicelib.foresight.store import ForesightStore
        from chalicelib.grid.store import GridStore
        from chalicelib.intake.idempotency_store import IdempotencyStore
        from chalicelib.notify.outbox_store import OutboxStore
        from chalicelib.petitions.repository import PetitionRepository
        from chalicelib.sla.timer_store import TimerStore
        from chalicelib.sla.violation_store import ViolationStore
        from chalicelib.supervision.store import SupervisionStore

        return cls(
            DynamoDatabase(),
            PetitionRepository(),
            OutboxStore(),
            TimerStore(),
            ViolationStore(),
            IdempotencyStore(),
            DirectoryStore(),
            CitizenStore(),
            center=CenterStore(),
            supervision=SupervisionStore(),
            foresight=ForesightStore(),
            grid=GridStore(),
        )


class Runtime:
    """Builds each part on first use (a cold start pays for what its function uses: the sweep
    never loads intake or the export, an HTTP read never loads the sweep) and then keeps it."""

    def __init__(
        self, settings: Settings, clock: Clock, stores: Stores, port: SmsPort, handoff: Handoff | None = None
    ) -> None:
        self.settings = settings
        self.clock = clock
        self.stores = stores
        self.port = port
        self._oidc: Any = None
        # Where a commit's notifications go (see after_commit): None publishes in the request on the
        # local stage (the unit tests' memory runtime) and leaves them to the outbox stream elsewhere.
        self.handoff = handoff

    @classmethod
    def build(
        cls,
        settings: Settings | None = None,
        *,
        stores: Stores | None = None,
        port: SmsPort | None = None,
        clock: Clock | None = None,
        handoff: Handoff | None = None,
    ) -> Runtime:
        settings = settings or get_settings()
        if port is None:
            from chalicelib.notify.sns import SnsPort

            port = SnsPort(settings)
        return cls(settings, clock or get_clock(), stores or Stores.dynamo(), port, handoff)

    # --- the parts ---------------------------------------------------------------------------------------

    @cached_property
    def policy(self) -> Policy:
        from chalicelib.timing.policy import Policy

        return Policy.bundled()

    @cached_property
    def calendars(self) -> Calendars:
        from chalicelib.sla.calendars import Calendars

        return Calendars(self.stores.directory)

    @cached_property
    def uow(self) -> UnitOfWork:
        from chalicelib.unit_of_work import UnitOfWork

        s = self.stores
        uow = UnitOfWork(s.database, s.petitions, s.outbox, s.timers, s.violations, s.supervision)
        uow.publish = self.after_commit
        if s.foresight is not None:  # a new petition's phone joins the broadcast recipients, same transaction
            uow.on_create.append(self._stage_recipient)
        if s.grid is not None:  # the claim pool's items move with their petitions, same transaction
            uow.on_change.append(self._stage_pool)
        return uow

    def _stage_pool(self, tx: Any, p: Any, events: list[dict]) -> None:
        from chalicelib.grid.pool import pool_writes

        for status, at, doc in pool_writes(p, events):
            self.stores.grid.stage_pool(tx, p.district, p.id, status, at, doc)

    def _stage_recipient(self, tx: Any, p: Any) -> None:
        phone_hash, sealed = p.contact.get("phone_hash"), p.contact.get("phone_sealed")
        if phone_hash and sealed:
            self.stores.foresight.stage_recipient(tx, phone_hash, sealed, p.district)

    @cached_property
    def publisher(self) -> Publisher:
        from chalicelib.notify.publisher import Publisher

        return Publisher(self.stores.outbox, self.stores.petitions, self.port, counts=self._counted)

    def after_commit(self, ids: list[str], env: Env) -> None:
        """Where a committed change's notifications go. The request never waits for SNS:
        - a handoff (the local stack's drain thread, chalicelib/local/drain.py) takes the ids;
        - on AWS stages, nothing here: the outbox table's stream invokes ``notify_outbox_stream``;
        - on the local stage without a handoff (the unit tests' memory runtime, scripts), they are
          published right here, in the caller's thread, so the tests read the outcome at once.
        Whatever is not delivered stays queued, and the sweep drains it."""
        if not ids:
            return
        if self.handoff is not None:
            self.handoff.submit(ids, env)
        elif self.settings.is_local:
            self.publisher.after_commit(ids, env)

    def settle(self) -> None:
        """Waits until every notification handed off so far has been through the publisher (the local
        controls: GET /_local/outbox, POST /_local/sweep)."""
        if self.handoff is not None:
            self.handoff.flush()

    def publish_stream(self, ids: list[str]) -> dict[str, int]:
        """The outbox stream's consumer: delivers the records just written (claimed, so a record the
        sweep or another invocation already took is skipped)."""
        return self.publisher.drain(self.env(), ids) if ids else {}

    def _deliveries(self, ids: list[str]) -> list[dict]:
        from chalicelib.notify.outbox import outcome_events

        return outcome_events(self.stores.outbox.get_many(ids))

    @cached_property
    def petitions(self) -> PetitionService:
        from chalicelib.petitions.service import PetitionService

        service = PetitionService(self.stores.petitions, self.uow, self.env)
        service.deliveries = self._deliveries
        if self.stores.grid is not None:  # §10 evidence: keys checked when attached, read by short links
            service.check_evidence = self.grid.check_evidence
            service.evidence_links = self.grid.evidence_links
        return service

    @cached_property
    def intake(self) -> Intake:
        from chalicelib.intake.service import Intake

        intake = Intake(self.stores.idempotency, self.stores.petitions, self.uow, self.env)
        if self.stores.grid is not None:  # §10: a point without a grid gets the smallest grid holding it
            from chalicelib.grid.service import locate

            intake.locate = locate
        return intake

    @cached_property
    def grid(self) -> GridService:
        """§10: locate, grid workers' filings and visits, evidence uploads, the claim pool."""
        from chalicelib.grid.service import GridService

        objects = None
        if self.settings.export_bucket:
            from chalicelib.grid.store import EvidenceBucket

            objects = EvidenceBucket(self.settings.export_bucket)
        return GridService(self.stores.grid, objects, self.intake, self.env)

    @cached_property
    def inbound(self) -> Inbound:
        from chalicelib.notify.inbound import Inbound

        opt_out = self.broadcasts.opt_out if self.stores.foresight is not None else None
        return Inbound(self.stores.petitions, self.uow, self.env, opt_out=opt_out)

    # --- foresight (CONTRACT §13) --------------------------------------------------------------------

    @cached_property
    def cases(self) -> Cases:
        from chalicelib.foresight.cases import Cases

        return Cases(self.stores.petitions, self.stores.foresight, self.env)

    @cached_property
    def broadcasts(self) -> Broadcasts:
        from chalicelib.foresight.broadcast import Broadcasts

        return Broadcasts(self.stores.foresight, self.port, self.env)

    @cached_property
    def reports(self) -> Reports:
        from chalicelib.foresight.report_store import ReportFiles
        from chalicelib.foresight.reports import Reports

        return Reports(
            self.stats,
            self.stores.foresight,
            ReportFiles(self.settings.export_bucket),
            self.env,
            mediation=self.center.stats,
        )

    @cached_property
    def hotspots(self) -> Hotspots:
        from chalicelib.foresight.hotspots import Hotspots
        from chalicelib.supervision.rollups import GridCounts

        return Hotspots(
            store=self.stores.foresight,
            # Received per (day, grid, category) from the rollups kept in each change's transaction.
            counts=GridCounts(self.stores.supervision),
            petitions=self.stores.petitions,
            database=self.stores.database,
            outbox=self.stores.outbox,
            publish=lambda ids, env: self.uow.publish(ids, env) if self.uow.publish else None,
            commit=self.uow.commit,
            open_case=self._proactive_petition,
            env=self.env,
        )

    @cached_property
    def stats(self) -> Stats:
        from chalicelib.stats.service import Stats

        return Stats(self.stores.supervision, self.env)

    @cached_property
    def supervision(self) -> Supervision:
        from chalicelib.supervision.service import Supervision

        s = self.stores
        return Supervision(s.supervision, s.violations, s.petitions, self.uow, self.env)

    @cached_property
    def citizen_key(self) -> bytes:
        """Hashes sign-in codes and signs citizens' sessions; derived from the data key."""
        import hashlib
        import hmac

        return hmac.new(self.settings.data_key.encode(), b"fzt-citizen-session", hashlib.sha256).digest()

    @cached_property
    def citizens(self) -> Citizens:
        from chalicelib.citizen.service import Citizens

        return Citizens(
            self.stores.citizen,
            self.stores.database,
            self.stores.outbox,
            self.after_commit,
            self.intake,
            self.petitions,
            self.stores.petitions,
            self.env,
            self.citizen_key,
        )

    @cached_property
    def center(self) -> Center:
        """§11: the service center's units, mediation cases and 逢六说事 meetings."""
        from chalicelib.center.service import Center

        return Center(
            self.stores.center,
            self.stores.database,
            self.stores.outbox,
            self.after_commit,
            self.uow,
            self.stores.petitions,
            self.intake,
            self.env,
            check_evidence=lambda who, keys, district: self.grid.check_evidence(who, keys, district),
        )

    @cached_property
    def sweep(self) -> Sweep:
        from chalicelib.sla.sweep import Sweep
        from chalicelib.unit_of_work import plan_timer

        return Sweep(
            self.stores.timers,
            self.stores.petitions,
            self.uow,
            env=self.env_at,
            drain=self.publisher.drain,
            plan_timer=plan_timer,
            metric=self.metric,
        )

    def _proactive_petition(self, who: Any, body: Any) -> tuple[int, dict]:
        """未诉先办: a hotspot's petition, filed by the dispatcher on channel ``proactive``."""
        return self.intake.file_for("proactive", who, f"proactive#{who.name}", body, None)

    # --- the Env ---------------------------------------------------------------------------------------

    def directory(self) -> Directory:
        return self.stores.directory.get()

    def env_at(self, now: datetime) -> Env:
        from chalicelib.petitions.domain import Env

        return Env(now=now, directory=self.directory(), policy=self.policy, calendar=self.calendars.current())

    def env(self) -> Env:
        return self.env_at(self.clock.now())

    # --- what several entry points share -------------------------------------------------------------

    def run_sweep(self, now: datetime | None = None, *, crash_after: int | None = None) -> dict:
        return self.sweep.run(now or self.clock.now(), crash_after=crash_after)

    def load_calendar_notice(self, notice: dict) -> dict:
        """Parse a year's notice (400 naming the field when it is wrong), store it, recompute."""
        from chalicelib.sla.calendars import parse_notice

        parsed = parse_notice(notice)
        return self.calendars.load(parsed, self.env, self.stores.timers, self.stores.petitions, self.uow)

    def attention(self, identity: Identity, district: str | None) -> dict:
        from chalicelib.notify.attention import list_attention

        return list_attention(self.stores.outbox, identity, district, self.directory())

    def violations(self, identity: Identity, query: Any) -> dict:
        from chalicelib.sla.violations import list_violations

        return list_violations(self.stores.violations, identity, query, self.directory())

    def exporter(self) -> Exporter:
        from chalicelib.audit.export import Exporter

        s = self.stores
        upload = None
        if not self.settings.export_dir:
            from chalicelib import aws

            def upload(path: str, bucket: str, key: str) -> None:
                aws.client("s3").upload_file(path, bucket, key)

        from chalicelib.audit.changes import ChangeReader
        from chalicelib.audit.jobs import FolderWatermark, S3Watermark

        download = None
        if self.settings.export_dir:
            watermark: Any = FolderWatermark(self.settings.export_dir)
        else:
            from chalicelib import aws

            watermark = S3Watermark(self.settings.export_bucket, lambda: aws.client("s3"))
            download = aws.download_if_exists

        changes = ChangeReader(
            events_on=s.petitions.events_on,
            petitions=s.petitions.items,
            notifications=s.outbox.items,
            notifications_on=s.outbox.changed_on,
            violations=lambda district, lo, hi: s.violations.of_district(district, lo, hi, None),
            districts=lambda: [d.code for d in self.directory().districts],
        )
        return Exporter(
            sources={
                "petitions": s.petitions.scan,
                "events": s.petitions.scan_events,
                "notifications": s.outbox.scan,
                "violations": lambda: (
                    v for d in self.directory().districts for v in s.violations.in_district(d.code)
                ),
            },
            export_dir=self.settings.export_dir,
            bucket=self.settings.export_bucket,
            upload=upload,
            changes=changes,
            watermark=watermark,
            download=download,
            # 年度考核 as of this export, every district's units (a few hundred rows, from the rollups).
            derived={"assessments": lambda: self.supervision.assessment_rows(self.clock.now())},
        )

    def export(self, progress=None) -> dict:
        return self.exporter().run(self.clock.now(), progress=progress)

    @cached_property
    def export_jobs(self) -> ExportJobs:
        """On-demand exports as jobs: recorded beside the exports, started on a thread of the local
        stack, or by an async invoke of the export function in AWS (chalicelib/audit/jobs.py)."""
        from chalicelib.audit.jobs import ExportJobs, FolderJobs, S3Jobs

        if self.settings.export_dir:
            store: Any = FolderJobs(self.settings.export_dir)
        else:
            from chalicelib import aws

            store = S3Jobs(self.settings.export_bucket, lambda: aws.client("s3"))
        start = self._start_job_thread if self.settings.is_local else self._invoke_export_job
        return ExportJobs(store, start, self.export, self.clock.now)

    def _start_job_thread(self, job_id: str) -> None:
        def run() -> None:
            try:
                with self.observed("audit_export_job", job=job_id):
                    self.export_jobs.run(job_id)
            except Exception:  # noqa: BLE001 - the job is marked failed; the thread ends
                log.exception("export job failed", extra={"job": job_id})

        threading.Thread(target=run, name=f"fzt-export-{job_id}", daemon=True).start()

    def _invoke_export_job(self, job_id: str) -> None:
        import json

        from chalicelib import aws
        from chalicelib.audit.jobs import job_event

        event = job_event(job_id, self.clock.now(), self.settings.region)
        aws.client("lambda").invoke(
            FunctionName=self.settings.export_function, InvocationType="Event", Payload=json.dumps(event)
        )

    # --- callers and observability -------------------------------------------------------------------

    def identify(self, headers: Any) -> Identity | None:
        """The caller of an HTTP request, from its headers (None when it sent no credentials)."""
        if headers.get("x-api-key") is None and headers.get("authorization") is None:
            return None
        from chalicelib.auth.identity import identify

        settings = self.settings
        oidc = None
        if headers.get("authorization") is not None and (not settings.is_local or settings.oidc_issuer):
            if self._oidc is None:
                from chalicelib.auth.oidc import verifier

                self._oidc = verifier(settings)
            oidc = self._oidc
        return identify(
            headers,
            self.directory(),
            stage=settings.stage,
            secret=settings.token_secret,
            now=wall_now(),  # token expiry runs on real time, not the movable SLA clock
            oidc=oidc,
            citizen_key=self.citizen_key,
        )

    def metric(self, name: str, value: float) -> None:
        observability.metric(name, value, self.settings)

    def _counted(self, outcome: str, n: int) -> None:
        self.metric(f"Notifications{outcome.title()}", n)

    def observed(self, function: str, request_id: str | None = None, **fields: Any):
        """The logging context of one invocation: logger set up, phones masked, ids on every line."""
        return observability.invocation(self.settings, function, request_id=request_id, **fields)


_lock = threading.Lock()
_runtime: Runtime | None = None


def get_runtime() -> Runtime:
    """The process's runtime, built on first use (never at import: a cold start pays for what it uses)."""
    global _runtime
    with _lock:
        if _runtime is None:
            _runtime = Runtime.build()
        return _runtime


def set_runtime(runtime: Runtime | None) -> None:
    """Replace (or, with None, drop) the process's runtime: the local stack after provisioning, tests."""
    global _runtime
    with _lock:
        _runtime = runtime


def observed(function: str) -> Callable:
    """Wraps a schedule or SNS handler of app.py: its invocation gets the logger, masking and ids."""

    def decorate(handler: Callable) -> Callable:
        @functools.wraps(handler)
        def run(event: Any) -> Any:
            context = getattr(event, "context", None)
            with get_runtime().observed(function, request_id=getattr(context, "aws_request_id", None)):
                return handler(event)

        return run

    return decorate
