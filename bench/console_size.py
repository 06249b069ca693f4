"""The console's first load: bytes transferred against the 500 KB target, and time to a usable view.

Starts the local stack the way ``make run`` does (a subprocess), seeds a few petitions, then
opens ``/console/`` in Debian's headless Chromium with a fresh profile per run (cold cache):

- bytes: every response of the first load up to the login list, from Playwright's response
  events — the console's own files (page, script, stylesheet) against the target, and the API
  calls the login list needs beside them; plus what gzip would make of the console's files
  (API Gateway compresses above the minimum_compression_size in .chalice/config.json; chalice local does not);
- time: navigation → the login list rendered; click on 分拨员 → the dispatch queue rendered;
  → every card's suggested department filled in (one petition read per card, four at a time).

Medians of RUNS runs. Seconds depend on the machine; the bytes do not.
"""

from __future__ import annotations

import gzip
import statistics
import time
from urllib.parse import urlparse

RUNS = 5
TARGET = 500 * 1024
SEEDED = 12


def _seed(api) -> None:
    for i in range(SEEDED):
        body = {
            "district": "210902",
            "content": f"小区门口路灯坏了一个月，晚上出行很不方便（基准{i}）",
            "title": "路灯不亮",
            "category": "municipal.lighting",
            "citizen": {"name": "张三", "phone": "13800138000"},
        }
        r = api.post("/v1/petitions", body, as_="local-wechat")
        r.raise_for_status()


def _one_run(url: str) -> dict:
    from tests.e2e.console_browser import chromium

    with chromium() as context:
        page = context.new_page()
        responses = []

        def record(response):
            body_size = response.request.sizes()["responseBodySize"]
            responses.append((urlparse(response.url).path, response.status, body_size, response))

        page.on("response", record)
        started = time.perf_counter()
        page.goto(f"{url}/console/")
        page.locator("#operators button[data-user]").first.wait_for()
        to_login = time.perf_counter() - started
        page.wait_for_load_state("networkidle")  # let every response event of the first load arrive
        first_load = list(responses)

        clicked = time.perf_counter()
        page.click('button[data-user="dispatcher@210902"]')
        page.locator(".feed[data-loaded] article.card").first.wait_for()
        to_queue = time.perf_counter() - clicked
        cards = page.locator("article.card").count()
        page.wait_for_function(
            "n => document.querySelectorAll('.hint[data-suggested]').length >= n", arg=cards, timeout=30_000
        )
        to_suggestions = time.perf_counter() - clicked

        console_files = [(p, s, n, r) for p, s, n, r in first_load if p.startswith("/console")]
        api_calls = [(p, s, n, r) for p, s, n, r in first_load if not p.startswith("/console")]
        gz = sum(len(gzip.compress(r.body(), 9)) for *_, r in console_files)
        return {
            "console": [(p, n) for p, _, n, _ in console_files],
            "api": [(p, n) for p, _, n, _ in api_calls],
            "console_gzip": gz,
            "to_login": to_login,
            "to_queue": to_queue,
            "to_suggestions": to_suggestions,
            "cards": cards,
        }


def main() -> None:
    from tests.e2e.conftest import RunningStack
    from tests.e2e.console_browser import chromium_missing

    missing = chromium_missing()
    if missing:
        print(f"skipped: {missing}")
        return
    stack = RunningStack(env={"FZT_CLOCK_START": "2026-11-18T09:00:00+08:00"})
    try:
        _seed(stack.api)
        runs = [_one_run(stack.url) for _ in range(RUNS)]
    finally:
        stack.stop()

    first = runs[0]
    console_bytes = sum(n for _, n in first["console"])
    api_bytes = sum(n for _, n in first["api"])
    print(f"first load of /console/ (fresh profile, {stack.url}):")
    for path, n in first["console"]:
        print(f"  {path:<40} {n:>9,} B")
    share = console_bytes / TARGET
    print(f"  {'console files':<40} {console_bytes:>9,} B  = {share:.0%} of the 500 KB target")
    gz = first["console_gzip"]
    print(f"  {'  gzip -9 of the same':<40} {gz:>9,} B  (about what API Gateway sends; local: none)")
    for path, n in first["api"]:
        print(f"  {path:<40} {n:>9,} B  (API)")
    total = console_bytes + api_bytes
    print(f"  {'all responses to the login list':<40} {total:>9,} B  = {total / TARGET:.0%} of the target")

    def med(key: str) -> str:
        return f"{statistics.median(r[key] for r in runs) * 1000:7.0f} ms"

    print(f"time to a usable view, median of {RUNS} cold runs:")
    print(f"  navigation → login list rendered          {med('to_login')}")
    print(f"  click 分拨员 → dispatch queue rendered     {med('to_queue')}  ({first['cards']} cards)")
    print(f"  click 分拨员 → every suggestion filled in  {med('to_suggestions')}")


if __name__ == "__main__":
    main()
