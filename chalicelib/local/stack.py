"""The local stack: moto server + resources from infra/template.yaml + demo directory
+ the Chalice app served in-process + a scheduler thread, all on one movable clock.

Used by ``make run`` (``python -m chalicelib.local.run``) and by the integration
tests, so the tests exercise exactly what a newcomer starts.
"""

from __future__ import annotations

import importlib
import logging
import os
import sys
import threading
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "infra" / "template.yaml"
DEMO_DIRECTORY = ROOT / "chalicelib" / "directory" / "data" / "demo"

OUTPUT_ENV = {
    "PetitionsTableName": "FZT_TABLE_PETITIONS",
    "EventsTableName": "FZT_TABLE_EVENTS",
    "TimersTableName": "FZT_TABLE_TIMERS",
    "OutboxTableName": "FZT_TABLE_OUTBOX",
    "DirectoryTableName": "FZT_TABLE_DIRECTORY",
    "IdempotencyTableName": "FZT_TABLE_IDEMPOTENCY",
    "ViolationsTableName": "FZT_TABLE_VIOLATIONS",
    "OrdersTopicArn": "FZT_TOPIC_ORDERS_ARN",
    "SupervisionTopicArn": "FZT_TOPIC_SUPERVISION_ARN",
    "ExportBucketName": "FZT_EXPORT_BUCKET",
}

log = logging.getLogger("fzt.local")


def quiet_library_logs() -> None:
    for name in ("werkzeug", "moto", "botocore", "urllib3"):
        logging.getLogger(name).setLevel(logging.ERROR)


class _Serialized:
    """Runs moto's WSGI app one request at a time.

    moto's DynamoDB TransactWriteItems deep-copies table state for its rollback while
    other threads write, and fails with 'dictionary changed size during iteration'
    under concurrent requests. Real DynamoDB is atomic; serialising requests to the
    emulator gives the same semantics locally (concurrency stays real on our side).
    """

    def __init__(self, app) -> None:
        self.app = app
        self.lock = threading.Lock()

    def __call__(self, environ, start_response):
        with self.lock:
            return list(self.app(environ, start_response))


class MotoServer:
    def __init__(self) -> None:
        from moto.moto_server.werkzeug_app import (
            DomainDispatcherApplication,
            MotoRequestHandler,
            create_backend_app,
        )
        from werkzeug.serving import make_server

        from chalicelib.local.moto_patches import lighten_transactions

        lighten_transactions()
        app = _Serialized(DomainDispatcherApplication(create_backend_app))
        self._server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=MotoRequestHandler)
        self._thread = threading.Thread(target=self._server.serve_forever, name="moto", daemon=True)
        self._thread.start()
        self.url = f"http://127.0.0.1:{self._server.server_port}"

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


def start_moto():
    """A moto server on a free port, its state reset: moto keeps its backends per process, so a
    stack started after another (tests give each module its own) must not see the last one's."""
    import urllib.request

    server = MotoServer()
    urllib.request.urlopen(urllib.request.Request(f"{server.url}/moto-api/reset", method="POST"), timeout=10)
    return server, server.url


def point_at(endpoint: str, region: str = "cn-north-1") -> None:
    """Every botocore client built after this talks to the moto server."""
    os.environ["AWS_ENDPOINT_URL"] = endpoint
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "local")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "local")
    os.environ["AWS_DEFAULT_REGION"] = region
    os.environ["AWS_REGION"] = region
    os.environ.pop("AWS_PROFILE", None)


def provision(stack_name: str = "fzt-local", stage: str = "local") -> dict[str, str]:
    """Create the resources from the CloudFormation template through moto's CloudFormation."""
    import warnings

    import boto3

    cfn = boto3.client("cloudformation")
    with warnings.catch_warnings():
        # moto skips resource types it lacks (Cognito) with a warning; the stack still completes.
        warnings.simplefilter("ignore")
        cfn.create_stack(
            StackName=stack_name,
            TemplateBody=TEMPLATE.read_text(encoding="utf-8"),
            Parameters=[{"ParameterKey": "Stage", "ParameterValue": stage}],
        )
    stack = cfn.describe_stacks(StackName=stack_name)["Stacks"][0]
    if stack["StackStatus"] != "CREATE_COMPLETE":
        raise RuntimeError(f"stack {stack_name} ended {stack['StackStatus']}")
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def configure_env(outputs: dict[str, str], export_dir: Path, extra: dict[str, str] | None = None) -> None:
    for key, env in OUTPUT_ENV.items():
        if key in outputs:
            os.environ[env] = outputs[key]
    os.environ["FZT_STAGE"] = "local"
    os.environ["FZT_EXPORT_DIR"] = str(export_dir)
    for k, v in (extra or {}).items():
        os.environ[k] = v


def reset_process_state(clock_start: datetime | None) -> None:
    """A fresh runtime on the new settings and a movable clock (tests start several stacks in turn)."""
    from chalicelib import aws
    from chalicelib.clock import MovableClock, set_clock
    from chalicelib.local import journal
    from chalicelib.observability import install_masking
    from chalicelib.runtime import set_runtime
    from chalicelib.settings import reset_settings

    install_masking()
    reset_settings()
    aws.reset_clients()
    journal.clear()
    journal.install()
    set_clock(MovableClock(clock_start))
    set_runtime(None)


def load_directory(path: Path = DEMO_DIRECTORY) -> int:
    from chalicelib.directory.loader import load_directory as parse
    from chalicelib.runtime import get_runtime

    directory = parse(path)
    return get_runtime().stores.directory.save(directory, version="demo-1")


def load_app():
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    module = importlib.import_module("app")
    return module.app


@dataclass
class LocalStack:
    port: int = 8000
    host: str = "127.0.0.1"
    clock_start: datetime | None = None
    sweep_interval: float = 60.0
    export_dir: Path = field(default_factory=lambda: ROOT / "var" / "exports")
    url: str = ""
    moto_url: str = ""
    _moto: Any = None
    _server: Any = None
    _threads: list = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)

    def start(self) -> LocalStack:
        quiet_library_logs()
        self._moto, self.moto_url = start_moto()
        point_at(self.moto_url)
        outputs = provision()
        self.export_dir.mkdir(parents=True, exist_ok=True)
        configure_env(outputs, self.export_dir)
        reset_process_state(self.clock_start)
        load_directory()
        self._serve()
        if self.sweep_interval > 0:
            t = threading.Thread(target=self._scheduler, name="fzt-scheduler", daemon=True)
            t.start()
            self._threads.append(t)
        return self

    def _serve(self) -> None:
        from chalice.cli.factory import CLIFactory
        from chalice.local import ChaliceRequestHandler, LocalDevServer

        class Handler(ChaliceRequestHandler):
            def log_message(self, fmt, *args):  # noqa: ARG002 - one quiet line per request instead of stderr noise
                log.debug("%s %s", self.address_string(), fmt % args)

        app = load_app()
        config = CLIFactory(str(ROOT)).create_config_obj(chalice_stage_name="local")
        server = LocalDevServer(app, config, self.host, self.port, handler_cls=Handler)
        self.port = server.server.server_address[1]
        self.url = f"http://{self.host}:{self.port}"
        self._server = server
        t = threading.Thread(target=server.server.serve_forever, name="fzt-http", daemon=True)
        t.start()
        self._threads.append(t)

    def _scheduler(self) -> None:
        """chalice local runs no schedules; this thread runs the same sweep on the stack's clock."""
        from chalicelib.runtime import get_runtime

        while not self._stop.wait(self.sweep_interval):
            try:
                with get_runtime().observed("sla_sweep"):
                    get_runtime().run_sweep()
            except Exception:  # noqa: BLE001 - a failed sweep is retried next minute; never kill the thread
                log.exception("scheduled sweep failed")

    def stop(self) -> None:
        self._stop.set()
        if self._server is not None:
            self._server.server.shutdown()
            self._server.server.server_close()
        if self._moto is not None:
            self._moto.stop()
