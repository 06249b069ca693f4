"""The README says what the code does: every local control the OpenAPI document lists is in the
README's table (and nothing else is), and what it says of who may suspend is what the API does.
Responses carry Chinese as UTF-8, not ``\\uXXXX`` escapes."""

from __future__ import annotations

import re
from pathlib import Path

from tests.integration.petition_factory import DISTRICT, HANDLER, SUPERVISOR, act, petition_in

README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")


def readme_local_controls() -> set[tuple[str, str]]:
    section = README.split("### Local-only controls", 1)[1].split("\n### ", 1)[0]
    return {(m, p) for m, p in re.findall(r"^\| `(GET|POST) (/_local/[a-z/]+)", section, flags=re.M)}


def test_every_local_control_is_in_the_readme_and_only_those(api):
    spec = api.get("/openapi.json").json()
    documented = {
        (method.upper(), path)
        for path, ops in spec["paths"].items()
        if path.startswith("/_local/")
        for method in ops
    }
    assert documented == readme_local_controls()


def test_the_readme_and_the_api_agree_on_who_suspends(api):
    assert "a supervisor's own `suspend` is a 403" in README
    pid = petition_in(api, "accepted")
    r = api.post(
        f"/v1/petitions/{pid}/suspend", {"reason": "等待批复", "consented_by": SUPERVISOR}, as_=SUPERVISOR
    )
    assert r.status_code == 403, r.text
    act(api, pid, "suspend", HANDLER)  # the handler, naming the supervisor who consented


def test_chinese_leaves_as_utf8_not_escapes(api):
    for path, who in [
        ("/v1/directory/districts", None),
        (f"/v1/directory/departments?district={DISTRICT}", None),
    ]:
        r = api.get(path, as_=who)
        assert r.status_code == 200
        assert "charset=utf-8" in r.headers["Content-Type"].lower()
        assert b"\\u" not in r.content
        assert "海州区".encode() in r.content or "局".encode() in r.content
    doc = api.get("/openapi.json")
    assert b"\\u" not in doc.content.replace(b"\\u00", b"")  # Chinese summaries in clear
    error = api.get("/v1/petitions/--", as_=HANDLER)
    assert error.status_code == 404 and b"\\u" not in error.content
