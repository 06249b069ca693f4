"""The ``/open311/v2/`` routes: a Blueprint over the intake and petitions services.

Who calls: a channel, by its key — the form's ``api_key`` on POST (as the spec says), and on the
reads of requests and tokens the ``api_key`` query argument or the ``X-Api-Key`` header. The key
is resolved by the runtime's ``identify`` exactly as ``X-Api-Key`` is on ``/v1``; a channel sees
the petitions it submitted, whatever the route. Discovery and services are public.

Built by :func:`blueprint` from the runtime getter (app.py passes ``get_runtime``): nothing here
imports the runtime, a store or a client.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from chalice import Blueprint, Response

from chalicelib.api.http import ACCEPTED_CONTENT_TYPES
from chalicelib.auth.identity import Identity
from chalicelib.errors import Forbidden, FztError, InvalidInput, NotFound, Unauthenticated
from chalicelib.open311 import georeport, wire
from chalicelib.petitions.schemas import ListQuery

log = logging.getLogger("fzt.open311")

BASE = "/open311/v2"
PAGE = 100  # petitions per page read from the petitions service


def blueprint(runtime: Callable[[], Any]) -> Blueprint:
    """The Open311 routes, calling ``runtime()`` (the composition root's getter) per request."""
    bp = Blueprint(__name__)

    def request():
        return bp.current_request

    def params(name: str) -> list[str]:
        query = request().query_params
        return list(query.getlist(name)) if query is not None and name in query else []

    def answer(
        view: str, route: str, fmt: str | None, work: Callable[[str], Response], petition: str | None = None
    ) -> Response:
        """Runs a view in its logging context; every refusal in the spec's error shape and format."""
        req = request()
        request_id = (req.context or {}).get("requestId")
        with runtime().observed(view, request_id=request_id, route=route, petition=petition):
            try:
                if fmt is None:
                    raise NotFound("unknown format: ask for .json or .xml", field="format")
                return work(fmt)
            except FztError as err:
                description = georeport.describe(err) if isinstance(err, InvalidInput) else err.message
                if err.status >= 500:
                    log.error("request failed", extra={"code": err.code})
                else:
                    log.info(
                        "request refused", extra={"status": err.status, "code": err.code, "field": err.field}
                    )
                return wire.errors(fmt or "json", err.status, description)
            except Exception:  # noqa: BLE001 - the edge answers in the spec's shape
                log.exception("unhandled error on %s", route)
                return wire.errors(fmt or "json", 500, "internal error")

    def channel(key: str | None) -> Identity:
        """The channel whose key this is: 403 (the spec's code for a missing or wrong api_key) otherwise."""
        if not key:
            raise Unauthenticated("api_key was not provided (a channel key)", field="api_key")
        try:
            identity = runtime().identify({"x-api-key": key})
        except Unauthenticated as exc:
            raise Unauthenticated("invalid api_key received", field="api_key") from exc
        if identity is None or not identity.is_channel:
            raise Forbidden("api_key is not a channel key", field="api_key")
        return identity

    def reader() -> Identity:
        keys = params("api_key")
        return channel(keys[0] if keys else request().headers.get("x-api-key"))

    def endpoint_url() -> str:
        req = request()
        host = req.headers.get("host") or "localhost"
        scheme = (req.headers.get("x-forwarded-proto") or "http").split(",")[0].strip()
        path = (req.context or {}).get("path") or f"{BASE}/discovery.json"
        return f"{scheme}://{host}{path.rsplit('/', 1)[0]}"

    # --- discovery and services (public) -------------------------------------------------------------

    def discovery(fmt: str) -> Response:
        rt = runtime()
        directory = rt.directory()
        city = directory.district(directory.city)
        doc = georeport.discovery(
            endpoint_url(), production=rt.settings.stage == "prod", city=city.name if city else ""
        )
        return wire.document(fmt, "discovery", doc)

    def services(fmt: str) -> Response:
        directory = runtime().directory()
        jurisdictions = params("jurisdiction_id")
        georeport.check_jurisdiction(directory, jurisdictions[0] if jurisdictions else None)
        return wire.document(fmt, "services", georeport.services(directory))

    def definition(code: str) -> Callable[[str], Response]:
        def work(fmt: str) -> Response:
            directory = runtime().directory()
            jurisdictions = params("jurisdiction_id")
            georeport.check_jurisdiction(directory, jurisdictions[0] if jurisdictions else None)
            return wire.document(fmt, "service_definition", georeport.service_definition(code, directory))

        return work

    # --- service requests (a channel's own) ----------------------------------------------------------

    def list_requests(fmt: str) -> Response:
        identity = reader()
        rt = runtime()
        directory = rt.directory()
        query = georeport.request_query(params, directory, rt.clock.now())
        if query.ids:
            found = []
            for pid in query.ids:
                try:
                    found.append(rt.petitions.get(identity, pid))
                except NotFound:
                    continue  # unknown, or another channel's: left out alike
        else:

            def fetch(cursor: str | None) -> dict:
                return rt.petitions.list_petitions(identity, ListQuery(limit=PAGE, cursor=cursor))

            found = georeport.select(fetch, query, directory.covers)
        body = [georeport.service_request(p, directory) for p in found]
        return wire.document(fmt, "service_requests", body)

    def create_request(fmt: str) -> Response:
        req = request()
        form = wire.parse_form(req.headers.get("content-type"), req.raw_body, georeport.FORM_FIELDS)
        identity = channel(form.get("api_key") or req.headers.get("x-api-key"))
        rt = runtime()
        directory = rt.directory()
        body = georeport.petition_in(form, directory, identity.name)
        key = req.headers.get("idempotency-key")
        if key is not None and not (1 <= len(key) <= 128 and key.isprintable()):
            raise InvalidInput("Idempotency-Key must be 1–128 printable characters", field="Idempotency-Key")
        status, petition = rt.intake.create(identity, body, key)
        return wire.document(fmt, "service_requests", [georeport.created(petition, directory)], status)

    def one_request(pid: str) -> Callable[[str], Response]:
        def work(fmt: str) -> Response:
            identity = reader()
            rt = runtime()
            petition = rt.petitions.get(identity, pid)
            return wire.document(
                fmt, "service_requests", [georeport.service_request(petition, rt.directory())]
            )

        return work

    def one_token(value: str) -> Callable[[str], Response]:
        def work(fmt: str) -> Response:
            identity = reader()
            try:
                petition = runtime().petitions.get(identity, value)
            except NotFound as exc:
                raise NotFound(f"no token {value}", field="token") from exc
            return wire.document(fmt, "service_requests", [georeport.token(petition, value)])

        return work

    # --- the routes ----------------------------------------------------------------------------------

    def route(path: str, methods: tuple[str, ...] = ("GET",)):
        return bp.route(
            f"{BASE}/{path}", methods=list(methods), cors=False, content_types=ACCEPTED_CONTENT_TYPES
        )

    for ext in wire.FORMATS:
        for name, path, work, methods in (
            ("discovery", "discovery", discovery, ("GET",)),
            ("services", "services", services, ("GET",)),
            ("requests", "requests", list_requests, ("GET",)),
            ("create_request", "requests", create_request, ("POST",)),
        ):
            view = f"open311_{name}_{ext}"
            label = f"{methods[0]} {BASE}/{path}.{ext}"

            def handler(_view=view, _label=label, _work=work, _fmt=ext) -> Response:
                return answer(_view, _label, _fmt, _work)

            handler.__name__ = view
            route(f"{path}.{ext}", methods)(handler)

    @route("services/{name}")
    def open311_service_definition(name: str) -> Response:
        code, fmt = wire.split_format(name)
        return answer("open311_service_definition", f"GET {BASE}/services/{{code}}", fmt, definition(code))

    @route("requests/{name}")
    def open311_request(name: str) -> Response:
        pid, fmt = wire.split_format(name)
        return answer("open311_request", f"GET {BASE}/requests/{{id}}", fmt, one_request(pid), pid)

    @route("tokens/{name}")
    def open311_token(name: str) -> Response:
        value, fmt = wire.split_format(name)
        return answer("open311_token", f"GET {BASE}/tokens/{{token}}", fmt, one_token(value), value)

    return bp
