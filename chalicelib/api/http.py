"""The HTTP edge: one decorator that every route goes through.

It reads and bounds the body, validates it against the route's Pydantic model,
identifies the caller, checks the route's audience (401/403), calls the view,
and maps domain errors to the contract's error shape — in exactly one place.
It also records each operation for the OpenAPI document, so the document is
generated from the very models that validate requests.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from typing import Any

from chalice import Chalice, Response
from pydantic import BaseModel, ValidationError

from chalicelib.errors import Forbidden, FztError, InvalidInput, TooLarge, Unauthenticated

log = logging.getLogger("fzt.api")

MAX_BODY_BYTES = 64 * 1024


class ThreadLocalChalice(Chalice):
    """Chalice, with the request being handled kept per thread.

    Chalice keeps ``current_request`` (and ``lambda_context``) as plain attributes of the app:
    right in Lambda, where one process serves one event at a time, wrong in ``make run`` and
    the tests, where the local server answers requests on one thread each. Two racing requests
    then read each other's body and credentials, and the 200 of one reports the other's change
    (seen as a flaky race test: the winner's response, a loser's data on the timeline).
    """

    @property
    def _per_thread(self) -> threading.local:
        return self.__dict__.setdefault("_fzt_per_thread", threading.local())

    @property
    def current_request(self):
        return getattr(self._per_thread, "request", None)

    @current_request.setter
    def current_request(self, value) -> None:
        self._per_thread.request = value

    @property
    def lambda_context(self):
        return getattr(self._per_thread, "context", None)

    @lambda_context.setter
    def lambda_context(self, value) -> None:
        self._per_thread.context = value


PUBLIC = "public"
CHANNELS = "channels"
OPERATORS = "operators"


@dataclass(frozen=True)
class Audience:
    """Who may call a route: channels, operators of some roles, or anyone."""

    channels: bool = False
    roles: tuple[str, ...] = ()
    public: bool = False
    citizens: bool = False  # citizens signed in on /m/ (their own routes only)

    def allows(self, identity) -> bool:
        if self.public:
            return True
        if identity is None:
            return False
        if identity.is_channel:
            return self.channels
        if identity.kind == "citizen":
            return self.citizens
        return identity.role in self.roles


@dataclass
class Operation:
    path: str
    method: str
    name: str
    summary: str
    audience: Audience
    body: type[BaseModel] | None
    query: type[BaseModel] | None
    response: Any
    status: int
    errors: tuple[int, ...]
    tags: tuple[str, ...]
    local_only: bool
    headers: tuple[tuple[str, str], ...] = ()


@dataclass
class Ctx:
    identity: Any
    body: Any
    query: Any
    params: dict[str, str]
    headers: Any
    raw: Any = field(repr=False, default=None)


REGISTRY: list[Operation] = []


def field_path(loc: tuple) -> str:
    parts = [str(p) for p in loc if not (isinstance(p, str) and p.startswith(("function-", "json-")))]
    return ".".join(parts) if parts else "body"


def first_error(exc: ValidationError, prefix: str = "") -> InvalidInput:
    err = exc.errors(include_url=False)[0]
    path = field_path(err["loc"])
    if prefix:
        path = prefix if path == "body" else path
    return InvalidInput(f"{path}: {err['msg']}", field=path)


# Chalice answers content types a route does not list in its own shape; the routes list the common
# ones so that every body reaches parse_body. The API reads the body as JSON whatever the declared
# type (`curl -d` declares a form): what is not a JSON object is refused there, in the contract's shape.
ACCEPTED_CONTENT_TYPES = [
    "application/json",
    "text/plain",
    "application/x-www-form-urlencoded",
    "multipart/form-data",
    "application/octet-stream",
    "application/xml",
    "text/xml",
]


def parse_body(raw: bytes | None, model: type[BaseModel]) -> BaseModel:
    if raw is not None and len(raw) > MAX_BODY_BYTES:
        raise TooLarge(f"body larger than {MAX_BODY_BYTES} bytes", field="body")
    if not raw:
        data: Any = {}
    else:
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InvalidInput("body is not valid UTF-8", field="body") from exc
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise InvalidInput("body is not valid JSON", field="body") from exc
        except RecursionError as exc:  # nesting deeper than the parser's stack: junk, not a petition
            raise InvalidInput("body nests too deeply", field="body") from exc
    if not isinstance(data, dict):
        raise InvalidInput("body must be a JSON object", field="body")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise first_error(exc) from exc


def parse_query(params: dict | None, model: type[BaseModel]) -> BaseModel:
    try:
        return model.model_validate(dict(params or {}))
    except ValidationError as exc:
        raise first_error(exc) from exc


JSON = "application/json; charset=utf-8"


def dumps(body: Any) -> str:
    # Chinese stays readable on the wire (ensure_ascii=False); the charset says UTF-8.
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"))


def error_response(err: FztError) -> Response:
    headers: dict[str, str | list[str]] = {"Content-Type": JSON}
    retry_after = getattr(err, "retry_after", None)
    if retry_after:
        headers["Retry-After"] = str(int(retry_after))
    return Response(body=dumps(err.body()), status_code=err.status, headers=headers)


def json_response(body: Any, status: int = 200, headers: dict | None = None) -> Response:
    h: dict[str, str | list[str]] = {"Content-Type": JSON}
    h.update(headers or {})
    return Response(body=dumps(body), status_code=status, headers=h)


class Router:
    """Binds views to a Chalice app (or blueprint) through one wrapper."""

    def __init__(
        self,
        app,
        resolve_identity: Callable,
        is_local: Callable[[], bool],
        observe: Callable[..., AbstractContextManager] | None = None,
    ) -> None:
        self.app = app
        self._identify = resolve_identity
        self._is_local = is_local
        # One invocation's logging context (function, request id, route, petition id).
        self._observe = observe or (lambda *a, **kw: nullcontext())

    def route(
        self,
        path: str,
        method: str = "GET",
        *,
        summary: str,
        audience: Audience,
        body: type[BaseModel] | None = None,
        query: type[BaseModel] | None = None,
        response: Any = None,
        status: int = 200,
        errors: tuple[int, ...] = (),
        tags: tuple[str, ...] = (),
        local_only: bool = False,
        headers: tuple[tuple[str, str], ...] = (),
        content_types: list[str] | None = None,
    ):
        def decorate(view: Callable[[Ctx], Any]):
            op = Operation(
                path,
                method,
                view.__name__,
                summary,
                audience,
                body,
                query,
                response,
                status,
                errors,
                tags,
                local_only,
                headers,
            )
            REGISTRY.append(op)

            def handler(**params: str):
                request = self.app.current_request
                request_id = (request.context or {}).get("requestId")
                with self._observe(
                    view.__name__, request_id=request_id, route=f"{method} {path}", petition=params.get("id")
                ):
                    return answer(request, params)

            def answer(request, params: dict[str, str]):
                try:
                    if local_only and not self._is_local():
                        from chalicelib.errors import NotFound

                        raise NotFound("no such route on this stage")
                    identity = self._identify(request)
                    if not audience.allows(identity):
                        if identity is None:
                            raise Unauthenticated("credentials required", field="Authorization")
                        raise Forbidden(f"{identity.role} may not call {method} {path}")
                    parsed_query = parse_query(request.query_params, query) if query else None
                    parsed_body = parse_body(request.raw_body, body) if body else None
                    result = view(Ctx(identity, parsed_body, parsed_query, params, request.headers, request))
                except FztError as err:
                    if err.status >= 500:
                        log.error("request failed", extra={"code": err.code})
                    else:  # the caller's mistake: one line to find it by (route and ids come with it)
                        log.info(
                            "request refused",
                            extra={"status": err.status, "code": err.code, "field": err.field},
                        )
                    return error_response(err)
                except Exception:  # noqa: BLE001 - the edge must answer in the contract's shape
                    log.exception("unhandled error on %s %s", method, path)
                    return error_response(FztError("internal error"))
                if isinstance(result, Response):
                    return result
                return json_response(result, status)

            handler.__name__ = view.__name__
            kwargs: dict[str, Any] = {
                "methods": [method],
                "cors": False,
                "content_types": content_types or ACCEPTED_CONTENT_TYPES,
            }
            self.app.route(path, **kwargs)(handler)
            return view

        return decorate


def idempotency_key(ctx: Ctx) -> str | None:
    key = ctx.headers.get("idempotency-key")
    if key is None:
        return None
    if not (1 <= len(key) <= 128) or not key.isprintable():
        raise InvalidInput("Idempotency-Key must be 1–128 printable characters", field="Idempotency-Key")
    return key


def source_ip(ctx: Ctx) -> str:
    identity = (ctx.raw.context or {}).get("identity") or {}
    return str(identity.get("sourceIp") or "unknown")
