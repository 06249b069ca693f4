"""The console's built files: which exist, their content types, cache headers and ETags.

Pure file reading (no chalice): the routes in ``routes.py`` only translate these to responses.
Only names listed in ``static/`` are served, so a request cannot reach outside it.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

STATIC = Path(__file__).resolve().parent / "static"
INDEX = "index.html"
ASSET_BASE = "%ASSET_BASE%"

CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml; charset=utf-8",
    ".json": "application/json; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
}
# esbuild names bundles app-<content hash>.js|css: a name never changes meaning, so browsers keep it.
HASHED = re.compile(r"^app-[A-Z0-9]{6,}\.(?:js|css)$")
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"

# The page loads only its own script and stylesheet and talks only to its own origin (the API).
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src {img}; "
    "connect-src {connect}; font-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


def csp() -> str:
    """The page talks to its own origin; to the identity provider's token endpoint (the console
    trades the sign-in code for an ID token itself) when one is configured; and to the evidence
    bucket's origin, where a grid worker's photo goes by a presigned PUT and whence an operator's
    detail view shows it by a presigned GET (§10)."""
    from urllib.parse import urlsplit

    from chalicelib.settings import get_settings

    settings = get_settings()
    connect, img = ["'self'"], ["'self'", "data:"]
    token_url = urlsplit(settings.oidc_token_url)
    if token_url.scheme in ("https", "http") and token_url.netloc:
        connect.append(f"{token_url.scheme}://{token_url.netloc}")
    if settings.export_bucket:
        from chalicelib import aws

        bucket = aws.s3_origin(settings.export_bucket)
        connect.append(bucket)
        img.append(bucket)
    return CSP.format(connect=" ".join(connect), img=" ".join(img))


COMMON_HEADERS = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"}


@dataclass(frozen=True)
class Asset:
    name: str
    body: str
    content_type: str
    cache_control: str
    etag: str
    page_headers: tuple[tuple[str, str], ...] = ()  # the page's own (CSP …): the index only

    def headers(self) -> dict[str, str]:
        h = {
            "Content-Type": self.content_type,
            "Cache-Control": self.cache_control,
            "ETag": self.etag,
            **COMMON_HEADERS,
        }
        h.update(self.page_headers)
        return h


def _etag(body: str) -> str:
    return '"' + hashlib.sha256(body.encode("utf-8")).hexdigest()[:32] + '"'


def not_modified(a: Asset, if_none_match: str | None) -> bool:
    if not if_none_match:
        return False
    tags = {t.strip().removeprefix("W/") for t in if_none_match.split(",")}
    return a.etag in tags or "*" in tags


class StaticBundle:
    """A built single-page app served by the API (the console, the citizen entrance): only the
    files of its ``static/`` folder, hashed names immutable, the page ``no-cache`` with an ETag
    and its own security headers, its asset URLs relative to where it was asked for."""

    def __init__(self, static: Path, prefix: str, page_headers: Callable[[], dict[str, str]]) -> None:
        self.static = static
        self.prefix = prefix  # where the assets are, seen from the page's path without its slash
        self.page_headers = page_headers
        self.listing = cache(self._listing)
        self.asset = cache(self._asset)
        self.index = cache(self._index)

    def _listing(self) -> frozenset[str]:
        if not self.static.is_dir():
            return frozenset()
        return frozenset(p.name for p in self.static.iterdir() if p.is_file())

    def _asset(self, name: str) -> Asset | None:
        """A built file by its name, or None (unknown names, the index template, dot files)."""
        if name == INDEX or name not in self.listing():
            return None
        content_type = CONTENT_TYPES.get(Path(name).suffix)
        if content_type is None:
            return None
        body = (self.static / name).read_text(encoding="utf-8")
        cache_control = IMMUTABLE if HASHED.match(name) else REVALIDATE
        return Asset(name, body, content_type, cache_control, _etag(body))

    def _index(self, slash: bool) -> Asset:
        """The page. Asset URLs are relative to where it was asked for, so it works under an API
        Gateway stage prefix (/api/console/) as on the local stack: from ``…/console/`` they are
        ``app-….js``; from ``…/console`` (API Gateway drops the slash from the route) ``console/app-….js``.
        """
        template = (self.static / INDEX).read_text(encoding="utf-8")
        body = template.replace(ASSET_BASE, "" if slash else self.prefix)
        headers = tuple({**self.page_headers(), "X-Frame-Options": "DENY"}.items())
        return Asset(INDEX, body, CONTENT_TYPES[".html"], REVALIDATE, _etag(body), headers)

    def first_load_bytes(self) -> int:
        """What a browser downloads on its first visit: the page, its script and stylesheet."""
        page = self.index(slash=True)
        total = len(page.body.encode("utf-8"))
        for name in sorted(self.listing()):
            if HASHED.match(name) and name in page.body:
                found = self.asset(name)
                total += len(found.body.encode("utf-8")) if found else 0
        return total

    def clear_cache(self) -> None:
        self.listing.cache_clear()
        self.asset.cache_clear()
        self.index.cache_clear()


CONSOLE = StaticBundle(STATIC, "console/", lambda: {"Content-Security-Policy": csp()})
listing, asset, index, clear_cache = CONSOLE.listing, CONSOLE.asset, CONSOLE.index, CONSOLE.clear_cache
