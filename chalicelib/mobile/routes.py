"""``GET /m/`` and ``GET /m/{asset}``: the citizen entrance, served by the API itself.

Like the console: one origin for the page and the API (the citizen's token is only ever sent
where the page came from; no CORS), the same on every stage. Not API operations (not in the
OpenAPI document); an unknown asset answers the contract's 404 shape.
"""

from __future__ import annotations

from chalice import Blueprint

from chalicelib.api.http import error_response
from chalicelib.console.routes import static_response
from chalicelib.errors import NotFound
from chalicelib.mobile import assets

mobile_bp = Blueprint(__name__)


@mobile_bp.route("/m", methods=["GET"], cors=False)
def mobile_page():
    path = (mobile_bp.current_request.context or {}).get("path") or "/m/"
    return static_response(assets.index(slash=path.endswith("/")), mobile_bp.current_request)


@mobile_bp.route("/m/{asset}", methods=["GET"], cors=False)
def mobile_asset(asset: str):
    found = assets.asset(asset)
    if found is None:
        return error_response(NotFound(f"no citizen entrance asset {asset!r}", field="asset"))
    return static_response(found, mobile_bp.current_request)
