"""The citizen entrance's built files: which exist, their content types, cache headers and ETags.

The same rules as the console's (``chalicelib/console/assets.py``: hashed names immutable, the
page ``no-cache`` with an ETag, only files listed in ``static/``), over this package's folder and
with the page's own Content-Security-Policy: it loads only its own script and stylesheet and talks
only to its own origin. No identity provider here: citizens sign in by an SMS code through the API.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from chalicelib.console.assets import COMMON_HEADERS, CONTENT_TYPES, HASHED, IMMUTABLE, REVALIDATE

__all__ = ["CSP", "Asset", "asset", "clear_cache", "first_load_bytes", "index", "not_modified"]

STATIC = Path(__file__).resolve().parent / "static"
INDEX = "index.html"
ASSET_BASE = "%ASSET_BASE%"
PREFIX = "m/"  # where the assets are, seen from "/m" without its slash

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
# "使用我的位置" asks for the phone's position: this page may, frames of other origins may not.
PERMISSIONS = "geolocation=(self), camera=(), microphone=(), payment=()"


@dataclass(frozen=True)
class Asset:
    name: str
    body: str
    content_type: str
    cache_control: str
    etag: str

    def headers(self) -> dict[str, str]:
        h = {
            "Content-Type": self.content_type,
            "Cache-Control": self.cache_control,
            "ETag": self.etag,
            **COMMON_HEADERS,
        }
        if self.name == INDEX:
            h["Content-Security-Policy"] = CSP
            h["Permissions-Policy"] = PERMISSIONS
            h["X-Frame-Options"] = "DENY"
        return h


def _etag(body: str) -> str:
    return '"' + hashlib.sha256(body.encode("utf-8")).hexdigest()[:32] + '"'


@cache
def listing() -> frozenset[str]:
    return frozenset(p.name for p in STATIC.iterdir() if p.is_file()) if STATIC.is_dir() else frozenset()


@cache
def asset(name: str) -> Asset | None:
    """A built file by its name, or None (unknown names, the index template, dot files)."""
    if name == INDEX or name not in listing():
        return None
    content_type = CONTENT_TYPES.get(Path(name).suffix)
    if content_type is None:
        return None
    body = (STATIC / name).read_text(encoding="utf-8")
    cache_control = IMMUTABLE if HASHED.match(name) else REVALIDATE
    return Asset(name, body, content_type, cache_control, _etag(body))


@cache
def index(slash: bool) -> Asset:
    """The page, its asset URLs relative to where it was asked for: ``app-….js`` from ``…/m/``,
    ``m/app-….js`` from ``…/m`` (API Gateway drops the trailing slash from the route)."""
    template = (STATIC / INDEX).read_text(encoding="utf-8")
    body = template.replace(ASSET_BASE, "" if slash else PREFIX)
    return Asset(INDEX, body, CONTENT_TYPES[".html"], REVALIDATE, _etag(body))


def not_modified(a: Asset, if_none_match: str | None) -> bool:
    if not if_none_match:
        return False
    tags = {t.strip().removeprefix("W/") for t in if_none_match.split(",")}
    return a.etag in tags or "*" in tags


def first_load_bytes() -> int:
    """What a phone downloads on its first visit to ``/m/``: the page, its script and stylesheet."""
    page = index(slash=True)
    total = len(page.body.encode("utf-8"))
    for name in sorted(listing()):
        if HASHED.match(name) and name in page.body:
            found = asset(name)
            total += len(found.body.encode("utf-8")) if found else 0
    return total


def clear_cache() -> None:
    listing.cache_clear()
    asset.cache_clear()
    index.cache_clear()
