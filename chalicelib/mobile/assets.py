"""The citizen entrance's built files: the console's rules (``chalicelib/console/assets.py``:
hashed names immutable, the page ``no-cache`` with an ETag, only files listed in ``static/``) over
this package's folder, with the page's own Content-Security-Policy: it loads only its own script
and stylesheet and talks only to its own origin. No identity provider here: citizens sign in by
an SMS code through the API.
"""

from __future__ import annotations

from pathlib import Path

from chalicelib.console.assets import Asset, StaticBundle, not_modified

__all__ = ["CSP", "Asset", "asset", "clear_cache", "first_load_bytes", "index", "not_modified"]

STATIC = Path(__file__).resolve().parent / "static"

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
# "使用我的位置" asks for the phone's position: this page may, frames of other origins may not.
PERMISSIONS = "geolocation=(self), camera=(), microphone=(), payment=()"

MOBILE = StaticBundle(
    STATIC, "m/", lambda: {"Content-Security-Policy": CSP, "Permissions-Policy": PERMISSIONS}
)
listing, asset, index, clear_cache = MOBILE.listing, MOBILE.asset, MOBILE.index, MOBILE.clear_cache
first_load_bytes = MOBILE.first_load_bytes
