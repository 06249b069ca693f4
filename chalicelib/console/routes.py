"""``GET /console/`` and ``GET /console/{asset}``: the console, served by the API itself.

Served by the API rather than from a bucket: one origin for the page and the API, so the
bearer token never crosses origins and no CORS is needed; and it works the same on every
stage, the local stack included. These are not API operations (not in the OpenAPI document):
they answer HTML, JavaScript and CSS, and an unknown asset answers the contract's 404 shape.
"""

from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib.api.http import error_response
from chalicelib.console import assets
from chalicelib.errors import NotFound

console_bp = Blueprint(__name__)


def static_response(a: assets.Asset, request) -> Response:
    """A built file as an answer: 304 when the browser already has this version."""
    if assets.not_modified(a, request.headers.get("if-none-match")):
        kept: dict[str, str | list[str]] = {k: v for k, v in a.headers().items() if k != "Content-Type"}
        return Response(body="", status_code=304, headers=kept)
    return Response(body=a.body, status_code=200, headers=dict(a.headers()))


@console_bp.route("/console", methods=["GET"], cors=False)
def console_page():
    path = (console_bp.current_request.context or {}).get("path") or "/console/"
    return static_response(assets.index(slash=path.endswith("/")), console_bp.current_request)


@console_bp.route("/console/{asset}", methods=["GET"], cors=False)
def console_asset(asset: str):
    found = assets.asset(asset)
    if found is None:
        return error_response(NotFound(f"no console asset {asset!r}", field="asset"))
    return static_response(found, console_bp.current_request)
