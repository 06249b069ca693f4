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
from typing import TYPE_CHECKING, Any

from chalicelib import observability
from chalicelib.clock import Clock, get_clock, wall_now
from chalicelib.settings import Settings, get_settings

if TYPE_CHECKING:
    from chalicelib.audit.export import Exporter
    from chalicelib.auth.identity import Identity
    from chalicelib.citizen.service import Citizens
    from chalicelib.directory.model import Directory
    from chalicelib.intake.service import Intake
    from chalicelib.notify.inbound import Inbound
    from chalicelib.notify.publisher import Publisher, SmsPort
    from chalicelib.petitions.domain import Env
    from chalicelib.petitions.service import PetitionService
    from chalicelib.sla.calendars import Calendars
    from chalicelib.sla.sweep import Sweep
    from chalicelib.stats.service import Stats
    from chalicelib.timing.policy import Policy
    from chalicelib.unit_of_work import UnitOfWork

log = logging.getLogger("fzt.runtime")


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

    @classmethod
    def dynamo(cls) -> Stores:
        from chalicelib.citizen.store import CitizenStore
        from chalicelib.db import DynamoDatabase
        from chalicelib.directory.store import DirectoryStore
        from chalicelib.intake.idempotency_store import IdempotencyStore
        from chalicelib.notify.outbox_store import OutboxStore
        from chalicelib.petitions.repository import PetitionRepository
        from chalicelib.sla.timer_store import TimerStore
        from chalicelib.sla.violation_store import ViolationStore

        return cls(
            DynamoDatabase(),
            PetitionRepository(),
            OutboxStore(),
            TimerStore(),
            ViolationStore(),
            IdempotencyStore(),
            DirectoryStore(),
            CitizenStore(),
        )


class Runtime:
    """Builds each part on first use (a cold start pays for what its function uses: the sweep
    never loads intake or the export, an HTTP read never loads the sweep) and then keeps it."""

    def __init__(self, settings: Settings, clock: Clock, stores: Stores, port: SmsPort) -> None:
        self.settings = settings
        self.clock = clock
        self.stores = stores
        self.port = port
        self._oidc: Any = None

    @classmethod
    def build(
        cls,
        settings: Settings | None = None,
        *,
        stores: Stores | None = None,
        port: SmsPort | None = None,
        clock: Clock | None = None,
    ) -> Runtime:
        settings = settings or get_settings()
        if port is None:
            from chalicelib.notify.sns import SnsPort

            port = SnsPort(settings)
        return cls(settings, clock or get_clock(), stores or Stores.dynamo(), port)

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
        uow = UnitOfWork(s.database, s.petitions, s.outbox, s.timers, s.violations)
        uow.publish = lambda ids, env: self.publisher.after_commit(ids, env)
        return uow

    @cached_property
    def publisher(self) -> Publisher:
        from chalicelib.notify.publisher import Publisher

        return Publisher(
            self.stores.outbox,
            self.stores.petitions,
            self.uow,
            self.port,
            counts=self._counted,
            mark_alone=self._mark_alone,
        )

    def _mark_alone(self, record: Any) -> None:
        tx = self.stores.database.transaction()
        self.stores.outbox.stage_mark(tx, record)
        tx.commit()

    @cached_property
    def petitions(self) -> PetitionService:
        from chalicelib.petitions.service import PetitionService

        return PetitionService(self.stores.petitions, self.uow, self.env)

    @cached_property
    def intake(self) -> Intake:
        from chalicelib.intake.service import Intake

        return Intake(self.stores.idempotency, self.stores.petitions, self.uow, self.env)

    @cached_property
    def inbound(self) -> Inbound:
        from chalicelib.notify.inbound import Inbound

        return Inbound(self.stores.petitions, self.uow, self.env)

    @cached_property
    def stats(self) -> Stats:
        from chalicelib.stats.service import Stats

        return Stats(self.stores.petitions, self.env)

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
            self.publisher.after_commit,
            self.intake,
            self.petitions,
            self.stores.petitions,
            self.env,
            self.citizen_key,
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

        return Exporter(
            sources={
                "petitions": s.petitions.scan,
                "events": s.petitions.scan_events,
                "notifications": s.outbox.scan,
                "violations": s.violations.scan,
            },
            export_dir=self.settings.export_dir,
            bucket=self.settings.export_bucket,
            upload=upload,
        )

    def export(self, progress=None) -> dict:
        return self.exporter().run(self.clock.now(), progress=progress)

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
