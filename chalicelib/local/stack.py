"""The local stack: moto server + resources from infra/template.yaml + demo directory
+ the Chalice app served in-process + a scheduler thread, all on one movable clock.

Used by ``make run`` (``python -m chalicelib.local.run``) and by the integration
tests, so the tests exercise exactly what a newcomer starts. Given a ``state_dir``
(``make run`` gives ``var/state``; tests give none) it keeps its AWS state, clock and
outbox there across restarts (chalicelib/local/state.py).
"""

from __future__ import annotations

import functools
import hashlib
import importlib
import io
import json
import logging
import os
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

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
    "CitizenTableName": "FZT_TABLE_CITIZEN",
    "GridTableName": "FZT_TABLE_GRID",
    "CenterTableName": "FZT_TABLE_CENTER",
    "SupervisionTableName": "FZT_TABLE_SUPERVISION",
    "ForesightTableName": "FZT_TABLE_FORESIGHT",
    "OrdersTopicArn": "FZT_TOPIC_ORDERS_ARN",
    "SupervisionTopicArn": "FZT_TOPIC_SUPERVISION_ARN",
    "ExportBucketName": "FZT_EXPORT_BUCKET",
}

log = logging.getLogger("fzt.local")


def quiet_library_logs() -> None:
    for name in ("werkzeug", "moto", "botocore", "urllib3"):
        logging.getLogger(name).setLevel(logging.ERROR)


# DynamoDB operations that change nothing a snapshot keeps (the sweep's queries, every read).
_DYNAMODB_READS = frozenset(
    {
        "GetItem",
        "BatchGetItem",
        "Query",
        "Scan",
        "TransactGetItems",
        "DescribeTable",
        "ListTables",
        "DescribeTimeToLive",
        "DescribeContinuousBackups",
        "ListTagsOfResource",
        "DescribeEndpoints",
        "DescribeStream",
        "ListStreams",
        "GetShardIterator",
        "GetRecords",
    }
)


def _changes_state(environ) -> bool:
    if environ.get("REQUEST_METHOD", "GET") in ("GET", "HEAD", "OPTIONS"):
        return False
    target = environ.get("HTTP_X_AMZ_TARGET", "")
    return not (target and target.rpartition(".")[2] in _DYNAMODB_READS)


class _Serialized:
    """Runs moto's WSGI app one request at a time.

    moto's DynamoDB TransactWriteItems deep-copies table state for its rollback while
    other threads write, and fails with 'dictionary changed size during iteration'
    under concurrent requests. Real DynamoDB is atomic; serialising requests to the
    emulator gives the same semantics locally (concurrency stays real on our side).

    The same lock makes a snapshot of moto's state consistent: taken while holding it,
    it is the state between two requests. ``changes`` counts the requests that may have
    changed that state (so an idle stack writes no snapshots); once ``closed`` (the final
    snapshot is taken) every request is refused, so nothing is acknowledged after it.
    """

    def __init__(self, app) -> None:
        self.app = app
        self.lock = threading.Lock()
        self.changes = 0
        self.closed = False

    def __call__(self, environ, start_response):
        with self.lock:
            if self.closed:
                body = b"the local stack is stopping"
                start_response(
                    "503 Service Unavailable",
                    [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))],
                )
                return [body]
            if _changes_state(environ):
                self.changes += 1
            return list(self.app(environ, start_response))


class _KeepAlive:
    """Keeps the connections to moto open between requests (a mixin of moto's request handler).

    werkzeug's development server answers every request with ``Connection: close`` and, after the
    answer, reads whatever else the client sent for 10 ms (a body the application left unread):
    each botocore request then opens a new TCP connection (urllib3 logs "Resetting dropped
    connection") and the server starts a new thread for it, per request, on both sides. Here the
    request is served by a smaller loop than werkzeug's ``run_wsgi``: the environ is moto's
    (``make_environ``), the body is read whole before moto sees it (so the next request starts where
    this one ended), the answer is sent with its length, and the connection stays as the request
    asked (HTTP/1.1: open). A chunked request body still closes it after the answer.
    """

    def run_wsgi(self) -> None:
        environ = self.make_environ()  # type: ignore[attr-defined]
        if environ.get("wsgi.input_terminated"):  # chunked: read to the last chunk, then close
            body = environ["wsgi.input"].read()
            self.close_connection = True
        else:
            length = environ.get("CONTENT_LENGTH", "")
            body = self.rfile.read(int(length)) if length.isdigit() else b""  # type: ignore[attr-defined]
        environ["wsgi.input"] = io.BytesIO(body)
        answer: list = []

        def start_response(status, headers, exc_info=None):
            answer[:] = [status, headers]
            return None  # moto's Flask app returns its body; it never calls write()

        try:
            chunks = self.server.app(environ, start_response)  # type: ignore[attr-defined]
            try:
                data = b"".join(chunks)
            finally:
                if hasattr(chunks, "close"):
                    chunks.close()
        except Exception:  # noqa: BLE001 - moto failed: answer 500, as werkzeug would
            log.exception("moto failed on %s %s", environ.get("REQUEST_METHOD"), environ.get("PATH_INFO"))
            answer[:] = ["500 INTERNAL SERVER ERROR", [("Content-Type", "text/plain")]]
            data = b"moto failed"
        status, headers = answer
        code = int(status[:3])
        no_body = environ["REQUEST_METHOD"] == "HEAD" or code in (204, 304) or code < 200
        self.send_response(code, status[4:])  # type: ignore[attr-defined]
        for key, value in headers:
            lower = key.lower()
            if lower in ("connection", "transfer-encoding") or (lower == "content-length" and not no_body):
                continue
            self.send_header(key, value)  # type: ignore[attr-defined]
        if not no_body:
            self.send_header("Content-Length", str(len(data)))  # type: ignore[attr-defined]
        if self.close_connection:
            self.send_header("Connection", "close")  # type: ignore[attr-defined]
        self.end_headers()  # type: ignore[attr-defined]
        if not no_body:
            self.wfile.write(data)  # type: ignore[attr-defined]

    def log_request(self, *args, **kwargs) -> None:
        """Not logged (werkzeug's request lines are silenced anyway: quiet_library_logs)."""


class MotoServer:
    """moto's server on a free port. ``keep_alive``: connections stay open between requests
    (``_KeepAlive``; moto's own process uses it, chalicelib/local/moto_process.py)."""

    def __init__(self, keep_alive: bool = False) -> None:
        from moto.moto_server.werkzeug_app import (
            DomainDispatcherApplication,
            MotoRequestHandler,
            create_backend_app,
        )
        from werkzeug.serving import make_server

        from chalicelib.local.moto_patches import (
            cache_backend_list,
            keep_unupdatable_resources,
            lighten_transactions,
        )
        from chalicelib.local.moto_speedups import index_queries, plain_json_responses

        lighten_transactions()
        cache_backend_list()
        keep_unupdatable_resources()
        index_queries()
        plain_json_responses()
        self.app = _Serialized(DomainDispatcherApplication(create_backend_app))

        class Handler(MotoRequestHandler):
            disable_nagle_algorithm = True  # as the app's server (http_classes): no delayed-ACK stalls

        class KeepAliveHandler(_KeepAlive, Handler):
            pass

        handler = KeepAliveHandler if keep_alive else Handler
        self._server = make_server("127.0.0.1", 0, self.app, threaded=True, request_handler=handler)
        self._thread = threading.Thread(target=self._server.serve_forever, name="moto", daemon=True)
        self._thread.start()
        self.url = f"http://127.0.0.1:{self._server.server_port}"

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


def start_moto(process: bool = False):
    """A moto server on a free port, its state reset: moto keeps its backends per process, so a
    stack started after another (tests give each module its own) must not see the last one's.
    ``process``: the same server in a child process of its own (chalicelib/local/moto_process.py),
    fresh by construction."""
    import urllib.request

    if process:
        from chalicelib.local.moto_process import MotoProcess

        child = MotoProcess()
        return child, child.url
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


def stack_outputs(stack_name: str = "fzt-local") -> dict[str, str] | None:
    """The outputs of a stack moto already has (restored from a snapshot), or None."""
    import boto3
    from botocore.exceptions import ClientError

    try:
        stack = boto3.client("cloudformation").describe_stacks(StackName=stack_name)["Stacks"][0]
    except ClientError:
        return None
    if not stack["StackStatus"].endswith("_COMPLETE") or stack["StackStatus"].startswith("DELETE"):
        return None
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def update_stack(stack_name: str = "fzt-local", stage: str = "local") -> dict[str, str]:
    """Applies a changed template to a restored stack. moto creates and deletes resources, but leaves an
    existing table as it is; its secondary indexes are then brought to the template's (UpdateTable,
    chalicelib/local/indexes.py). A changed key schema still needs `make reset`."""
    import warnings

    import boto3
    from botocore.exceptions import ClientError

    cfn = boto3.client("cloudformation")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            cfn.update_stack(
                StackName=stack_name,
                TemplateBody=TEMPLATE.read_text(encoding="utf-8"),
                Parameters=[{"ParameterKey": "Stage", "ParameterValue": stage}],
            )
        except ClientError as exc:
            if "No updates" not in str(exc):
                raise
    outputs = stack_outputs(stack_name)
    if outputs is None:
        raise RuntimeError(f"stack {stack_name} did not update; `make reset` starts clean")
    from chalicelib.local.indexes import sync_indexes

    sync_indexes(outputs)
    return outputs


def _digest(*paths: Path) -> str:
    h = hashlib.sha256()
    for path in paths:
        for f in sorted(path.rglob("*")) if path.is_dir() else [path]:
            if f.is_file():
                h.update(f.name.encode() + b"\0" + f.read_bytes())
    return h.hexdigest()


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


def start_drain():
    """The outbox drain thread, and the process's runtime handing each commit's records to it (in AWS
    the outbox table's stream does this; chalice local runs no stream consumers)."""
    from chalicelib.local.drain import LocalDrain
    from chalicelib.runtime import Runtime, get_runtime, set_runtime

    # Delivered at the drain's own instant (not the committing request's): the timeline's times never
    # go back.
    drain = LocalDrain(
        lambda ids, env: get_runtime().publisher.after_commit(ids, get_runtime().env())
    ).start()
    set_runtime(Runtime.build(handoff=drain))
    return drain


def warm_clients() -> None:
    """Builds the transactions' DynamoDB client before the first request: PynamoDB builds a
    connection's client on first use, without a lock, so a burst of first requests (8 concurrent
    creates) built one each — about a second of CPU at the start of a bench's measurement."""
    from chalicelib.db import connection

    connection().client  # noqa: B018 - the property builds and caches it


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


# --- the local HTTP server ---

# socketserver listens with a backlog of 5: a burst of new connections beyond it was reset (4 of 180
# concurrent creates got ECONNRESET). 128 is werkzeug's (and moto's server's) backlog.
LISTEN_BACKLOG = 128
ALLOWED_METHODS = "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS"
# What http.server answers by itself, before the app sees the request, in the contract's error codes.
_SERVER_ERROR_CODES = {400: "invalid_input", 413: "too_large", 414: "too_large", 431: "too_large"}
JSON_TYPE = "application/json; charset=utf-8"


@functools.cache
def http_classes() -> tuple[type, type]:
    """The local server's classes: Chalice's threaded server and request handler (chalice.local is
    imported on first use), listening with a real backlog and answering in the contract's error shape."""
    from http import HTTPStatus

    from chalice.local import ChaliceRequestHandler, ThreadedHTTPServer

    class Server(ThreadedHTTPServer):
        request_queue_size = LISTEN_BACKLOG

    class Handler(ChaliceRequestHandler):
        # http.server writes the status line and headers, then the body, as separate segments: with
        # Nagle's algorithm the body waits for the client's delayed ACK of the headers (~40 ms on
        # Linux) on every keep-alive response. API Gateway answers in one go; so does this.
        disable_nagle_algorithm = True

        def log_message(self, format, *args):  # noqa: A002 - http.server's signature
            log.debug("%s %s", self.address_string(), format % args)

        def send_error(self, code, message=None, explain=None):  # noqa: ARG002 - http.server's signature
            """http.server's own answers (an unknown method such as TRACE, a malformed request line,
            headers too long) as JSON in the contract's shape; an unknown method is a 405."""
            if code == HTTPStatus.NOT_IMPLEMENTED:  # http.server's answer to a method with no do_<METHOD>
                status = 405
                error = {
                    "code": "method_not_allowed",
                    "message": f"{self.command} is not a method this API answers ({ALLOWED_METHODS})",
                }
            else:
                status = int(code)
                try:
                    phrase = HTTPStatus(status).phrase
                except ValueError:
                    phrase = "bad request"
                error = {
                    "code": _SERVER_ERROR_CODES.get(status, "invalid_input"),
                    "message": message or phrase,
                }
            body = _error_body(error["code"], error["message"])
            self.log_error("code %d, message %s", status, error["message"])
            self.send_response(status)
            self.send_header("Content-Type", JSON_TYPE)
            self.send_header("Content-Length", str(len(body)))
            if status == 405:
                self.send_header("Allow", ALLOWED_METHODS)
            self.send_header("Connection", "close")
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)
            self.close_connection = True

        # What Chalice's local gateway answers by itself, in the contract's shape too. In AWS, API
        # Gateway's own answers are mapped the same way (infra/package.py, GATEWAY_RESPONSES).

        def _send_error_response(self, error):
            """A path no route has: Chalice says 403 "Missing Authentication Token" (or, with an
            Authorization header, asks for a SigV4 signature), as API Gateway does; it is a 404."""
            raw = error.body if isinstance(error.body, bytes) else str(error.body or "").encode()
            path = urlsplit(self.path).path
            if error.CODE == 403 and (
                b"Missing Authentication Token" in raw or b"Authorization header" in raw
            ):
                status, code, message = 404, "not_found", f"no route answers {self.command} {path}"
            else:
                status = error.CODE
                code = {401: "unauthenticated", 403: "forbidden"}.get(status, "internal_error")
                try:
                    message = HTTPStatus(status).phrase
                except ValueError:
                    message = "error"
            self._send_http_response(status, {"Content-Type": JSON_TYPE}, _error_body(code, message))

        def _send_http_response(self, code, headers, body):
            """A method the route lacks: Chalice answers 405 {"Code": "MethodNotAllowedError", …} with
            the route's methods in Allow; the same 405 in the contract's shape."""
            if code == 405 and body is not None:
                try:
                    chalice_error = json.loads(body).get("Code")
                except (ValueError, AttributeError):
                    chalice_error = None
                if chalice_error == "MethodNotAllowedError":
                    path = urlsplit(self.path).path
                    headers = {**headers, "Content-Type": JSON_TYPE}
                    message = (
                        f"{self.command} is not a method of {path} (it answers {headers.get('Allow', '')})"
                    )
                    body = _error_body("method_not_allowed", message)
            super()._send_http_response(code, headers, body)

    return Server, Handler


def _error_body(code: str, message: str) -> bytes:
    return json.dumps({"error": {"code": code, "message": message}}, ensure_ascii=False).encode("utf-8")


# --- the stack ---


@dataclass
class LocalStack:
    port: int = 8000
    host: str = "127.0.0.1"
    clock_start: datetime | None = None
    sweep_interval: float = 60.0
    export_dir: Path = field(default_factory=lambda: ROOT / "var" / "exports")
    # Keep moto's state, the clock and the outbox here across restarts (`make run`: var/state).
    # None (the default, and every test's stack): keep nothing, start fresh each time.
    state_dir: Path | None = None
    # Seconds between snapshots while running (only when something changed); one more on stop().
    snapshot_interval: float = 2.0
    # moto in a child process of its own (local/moto_process.py): moto's work leaves this process's GIL
    # (issue 17's intake bench). Its state is then not readable here: no state_dir in this mode.
    moto_process: bool = False
    url: str = ""
    moto_url: str = ""
    restored_from: datetime | None = None  # when the snapshot this stack resumed was taken
    notes: list[str] = field(default_factory=list)  # what start() decided, for run.py to print
    last_snapshot: dict = field(default_factory=dict)  # bytes, seconds, locked_seconds, at
    _moto: Any = None
    _server: Any = None
    _threads: list = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _state: Any = None
    _ready: bool = False
    _meta: dict = field(default_factory=dict)
    _saved: tuple | None = None  # (moto changes, journal entries, clock offset) of the last snapshot
    _snapshot_lock: threading.Lock = field(default_factory=threading.Lock)
    _stack_blob: bytes = b""  # the CloudFormation part of every snapshot (state.STACK_SERVICES)
    _drain: Any = None  # the outbox drain thread: the outbox stream's consumer in AWS (local/drain.py)

    def start(self) -> LocalStack:
        quiet_library_logs()
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self) -> None:
        from chalicelib.local import journal
        from chalicelib.local.state import (
            SnapshotUnreadable,
            StateDir,
            dump_backends,
            moto_version,
            restore_backends,
        )

        snapshot = None
        if self.moto_process and self.state_dir is not None:
            from chalicelib.local.moto_process import PersistenceUnavailable

            raise PersistenceUnavailable(
                "moto in its own process keeps its state there: snapshots are not available in that "
                "layout (give no state_dir, e.g. --no-state, or run moto in-process)"
            )
        if self.state_dir is not None:  # first: a stack refused the folder touches nothing
            self._state = StateDir(self.state_dir)
            self._state.acquire()
            snapshot = self._state.load()
        self._moto, self.moto_url = start_moto(process=self.moto_process)
        point_at(self.moto_url)
        template_sha, directory_sha = _digest(TEMPLATE), _digest(DEMO_DIRECTORY)
        outputs: dict[str, str] | None = None
        clock_start = self.clock_start
        changed = snapshot is None
        if snapshot is not None:
            with self._moto.app.lock:
                restore_backends(snapshot.backends)
            self._stack_blob = snapshot.stack
            # The stack is there: its outputs are kept beside the snapshot. Its CloudFormation backend is
            # loaded only to update it (state.STACK_SERVICES); the next snapshots carry its bytes on.
            outputs = snapshot.meta.get("outputs")
            template_changed = snapshot.meta.get("template_sha256") != template_sha
            if outputs is None or template_changed:
                with self._moto.app.lock:
                    restore_backends(snapshot.stack)
                outputs = stack_outputs()
                if outputs is None:
                    raise SnapshotUnreadable("the snapshot holds no CloudFormation stack fzt-local")
            if template_changed:
                outputs = update_stack()
                changed = True
                self.notes.append("infra/template.yaml changed since the snapshot: stack updated")
                with self._moto.app.lock:
                    self._stack_blob = dump_backends(stack=True)
            self.restored_from = snapshot.saved_at
            resumed = snapshot.clock_start()
            if resumed is not None:
                if self.clock_start is not None:
                    self.notes.append("FZT_CLOCK_START ignored: the clock resumes from the snapshot")
                clock_start = resumed
        fresh = snapshot is None
        if outputs is None:
            outputs = provision()
            if self._state is not None:
                with self._moto.app.lock:
                    self._stack_blob = dump_backends(stack=True)
        self.export_dir.mkdir(parents=True, exist_ok=True)
        configure_env(outputs, self.export_dir)
        reset_process_state(clock_start)
        self._drain = start_drain()
        if snapshot is not None:
            journal.restore(snapshot.journal)
        if snapshot is None or snapshot.meta.get("directory_sha256") != directory_sha:
            load_directory()
            if not fresh:
                self.notes.append("the demo directory changed since the snapshot: reloaded")
            changed = True
        else:  # the restored directory is readable (what /health checks), and read once before serving
            from chalicelib.runtime import get_runtime

            get_runtime().directory()
        self._meta = {
            "template_sha256": template_sha,
            "directory_sha256": directory_sha,
            "stack_name": "fzt-local",
            "outputs": outputs,
            "moto_version": moto_version(),
        }
        if self._state is not None:
            if changed:  # saved before it serves: a stack that answers has a snapshot to come back to
                self.snapshot()
            else:  # exactly the snapshot just restored: nothing to write until something changes
                self._saved = self._current()
        warm_clients()
        self._serve()
        if self.sweep_interval > 0:
            t = threading.Thread(target=self._scheduler, name="fzt-scheduler", daemon=True)
            t.start()
            self._threads.append(t)
        self._ready = True
        if self._state is not None:
            t = threading.Thread(target=self._snapshotter, name="fzt-snapshots", daemon=True)
            t.start()
            self._threads.append(t)

    def _serve(self) -> None:
        from chalice.cli.factory import CLIFactory
        from chalice.local import LocalDevServer

        server_cls, handler_cls = http_classes()
        app = load_app()
        config = CLIFactory(str(ROOT)).create_config_obj(chalice_stage_name="local")
        server = LocalDevServer(
            app, config, self.host, self.port, handler_cls=handler_cls, server_cls=server_cls
        )
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

    # --- snapshots (only with a state_dir) ---------------------------------------------------------------

    @staticmethod
    def _clock_offset() -> float:
        from chalicelib.clock import get_clock, wall_now

        return (get_clock().now() - wall_now()).total_seconds()

    def _current(self) -> tuple:
        from chalicelib.local import journal

        return (self._moto.app.changes, journal.count(), self._clock_offset())

    def _dirty(self) -> bool:
        if self._saved is None:
            return True
        changes, entries, offset = self._current()
        saved_changes, saved_entries, saved_offset = self._saved
        # The offset is read from two clocks: a difference under 0.5 s is the reading, not a move.
        return changes != saved_changes or entries != saved_entries or abs(offset - saved_offset) > 0.5

    def snapshot(self, final: bool = False) -> dict | None:
        """Writes the state to state_dir; ``final``: the last one, after which moto refuses requests
        (stop() takes it once the HTTP server is shut). Returns its figures, or None if not taken."""
        if self._state is None or self._moto is None:
            return None
        from chalicelib.clock import get_clock, wall_now
        from chalicelib.local import journal
        from chalicelib.local.state import Snapshot, dump_backends

        with self._snapshot_lock:
            serialized = self._moto.app
            with serialized.lock:
                started = time.monotonic()  # from here on, requests to moto wait for the snapshot
                if serialized.closed:
                    return None
                if final:
                    serialized.closed = True
                backends = dump_backends()
                changes = serialized.changes
                wall = wall_now()
                now = get_clock().now()
                entries = journal.entries()
                locked = time.monotonic() - started
            offset = (now - wall).total_seconds()
            snap = Snapshot(
                saved_at=wall,
                clock_now=now,
                clock_offset=offset,
                journal=entries,
                meta=self._meta,
                backends=backends,
                stack=self._stack_blob,
            )
            size = self._state.write(snap)
            self._saved = (changes, len(entries), offset)
            self.last_snapshot = {
                "bytes": size,
                "seconds": time.monotonic() - started,
                "locked_seconds": locked,
                "at": wall,
            }
            log.debug("snapshot: %d bytes in %.3f s", size, self.last_snapshot["seconds"])
            return self.last_snapshot

    def _snapshotter(self) -> None:
        wait = self.snapshot_interval
        while not self._stop.wait(wait):
            wait = self.snapshot_interval
            if not self._dirty():
                continue
            try:
                taken = self.snapshot()
            except Exception:  # noqa: BLE001 - the previous snapshot stands; try again next time
                log.exception("snapshot failed")
                continue
            if taken:
                # A big state holds moto's lock for a while: keep that under a tenth of the time.
                wait = max(self.snapshot_interval, 10 * taken["locked_seconds"])

    def stop(self) -> None:
        self._stop.set()
        if self._server is not None:
            self._server.server.shutdown()
            self._server.server.server_close()
            self._server = None
        if self._drain is not None:  # what the last requests committed is sent before the last snapshot
            self._drain.flush()
            self._drain.stop()
            self._drain = None
        if self._state is not None and self._ready and self._moto is not None:
            try:
                self.snapshot(final=True)
            except Exception:  # noqa: BLE001 - the last periodic snapshot stands
                log.exception("final snapshot failed")
        self._ready = False
        if self._moto is not None:
            self._moto.stop()
            self._moto = None
        if self._state is not None:
            self._state.release()
            self._state = None
