"""Debian's Chromium driven by Playwright (sync API), for the console's browser journeys and its bench.

``playwright install`` cannot download here; Playwright's driver ships in the wheel and drives
``/usr/bin/chromium`` (``.ci/run`` installs it with fonts-wqy-microhei, without which Chinese
renders as boxes). Each browser gets a fresh profile in a temporary folder.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

CHROMIUM = os.environ.get("FZT_CHROMIUM", "/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
]
DESKTOP = {"width": 1366, "height": 768}
PHONE = {"width": 375, "height": 812}


def chromium_missing() -> str | None:
    """Why the browser tests cannot run here, or None."""
    try:
        import playwright  # noqa: F401
    except ImportError:
        return "playwright is not installed (requirements-dev.txt)"
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        return f"{CHROMIUM} is missing (apt-get install chromium fonts-wqy-microhei)"
    return None


@contextmanager
def chromium() -> Iterator:
    """A headless Chromium with a fresh, throw-away profile (a persistent context)."""
    from playwright.sync_api import sync_playwright

    profile = tempfile.mkdtemp(prefix="fzt-chromium-")
    try:
        with sync_playwright() as pw:
            context = pw.chromium.launch_persistent_context(
                profile,
                executable_path=CHROMIUM,
                headless=True,
                args=ARGS,
                viewport=DESKTOP,
                locale="zh-CN",
                timezone_id="Asia/Shanghai",
            )
            try:
                yield context
            finally:
                context.close()
    finally:
        shutil.rmtree(profile, ignore_errors=True)


@dataclass
class Watched:
    """Everything a page said that a user would count as broken: console errors, page errors, 5xx."""

    errors: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)

    def attach(self, page) -> None:
        page.on(
            "console",
            lambda m: self.errors.append(f"console.{m.type}: {m.text}") if m.type == "error" else None,
        )
        page.on("pageerror", lambda e: self.errors.append(f"pageerror: {e}"))
        # A fetch the page itself dropped (navigation) is not a failure; anything else the network refused is.
        page.on(
            "requestfailed",
            lambda r: (
                None
                if "ERR_ABORTED" in (r.failure or "")
                else self.failed.append(f"{r.method} {r.url}: {r.failure}")
            ),
        )
        page.on(
            "response",
            lambda r: (
                self.errors.append(
                    f"{r.request.method} {r.url}: the server responded with a status of {r.status}"
                )
                if r.status >= 500
                else None
            ),
        )


def login(page, base_url: str, user: str) -> None:
    """Sign in on the console's login list as a seeded operator (POST /_local/token underneath)."""
    page.goto(f"{base_url}/console/#/")
    district = user.split("@", 1)[1][:6]  # 210902, 210902.urban, 210904-001-001 (a grid): its district
    page.locator("#operators").wait_for()
    page.select_option("#login-district", district)
    page.locator(f'#operators[data-district="{district}"]').wait_for()
    page.click(f'button[data-user="{user}"]')
    page.locator(f'.who[data-user="{user}"]').wait_for()


def act(page, pid: str, button) -> None:
    """Click an action's button, then wait for its success message and for the view to redraw."""
    handle = button.element_handle()
    label = handle.inner_text().strip()
    handle.click()
    page.locator(".toast.ok").filter(has_text=f"{label}：操作成功（{pid}）").wait_for()
    handle.wait_for_element_state("hidden")


def logout(page) -> None:
    page.click("button[data-logout]")
    page.locator("#operators").wait_for()


def screenshot(page, name: str) -> Path:
    out = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{name}.png"
    page.screenshot(path=str(path), full_page=False)
    return path
