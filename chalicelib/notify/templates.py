"""zh-CN notification templates, kept as data in ``data/templates_zh.json``.

Each template is ``name -> {"text", "audience", "max_segments"}``:

* ``text`` uses ``str.format`` placeholders, plain names only (``{id}``), no
  attribute access, indexing, conversions or format specs;
* ``audience`` is ``citizen`` (an SMS to the petitioner), ``department`` or
  ``supervision`` (topic messages to the orders / supervision topics);
* ``max_segments`` is how many SMS segments the rendered text may take with
  realistic values (citizen texts are held to it; see ``render_fitting``).

Citizen texts start with the sender signature 【阜政通】, which counts toward
the SMS length.

Placeholders by template:

* ``receipt``: ``id``
* ``closure``: ``id``, ``summary`` (use ``render_closure``, which truncates)
* ``reopen``: ``id``
* ``merged``: ``id``, ``into`` (the petition it was merged into)
* ``new_order``: ``id``, ``department``, ``due``
* ``transferred``: ``id``, ``from_department``, ``department``, ``due``
* ``returned``: ``id``, ``department`` (who returned it), ``reason``, ``due`` (re-dispatch due)
* ``reminder`` / ``supervision_notice``: ``id``, ``department``, ``stage``, ``due``
* ``escalation``: ``id``, ``department``, ``stage``, ``level``, ``reason``, ``due``
* ``otp``: ``code`` (a citizen's sign-in code; sealed in the outbox, opened by compose)
* ``first_inquiry``: ``id``, ``department`` (the first-inquiry unit), ``status`` (a label)
* ``instruction``: ``id``, ``department`` (the holder), ``note`` (the chief handler's 批示)
* ``urge_reminder`` / ``urge_supervision``: ``id``, ``department`` (the holder), ``stage``, ``note``
  (a supervisor's hand-sent 催办单/督办单)
* ``accountability``: ``id``, ``department`` (the unit), ``action`` (提醒/约谈/移送纪委), ``violation``
  (its kind, a label), ``stage``, ``note``
* ``pool_posted`` / ``pool_reminder``: ``id``, ``due`` (the claim deadline); ``pool_claimed`` /
  ``pool_fallback``: ``id``, ``department`` (who claimed it, or the center that took it)

``department`` is the department's display name including its district
(海州区住房和城乡建设局); ``due`` is a local time the caller formats (see
``format_due``); ``stage`` and ``level`` are labels (``STAGE_LABELS``,
``LEVEL_LABELS``).

Pure: reads only the packaged data file.
"""

from __future__ import annotations

import json
import re
import string
from dataclasses import dataclass
from datetime import datetime, tzinfo
from functools import cache
from importlib import resources
from typing import Any, Literal

from chalicelib.notify.quiet import zone
from chalicelib.notify.segments import count_segments

Audience = Literal["citizen", "department", "supervision"]
AUDIENCES: tuple[str, ...] = ("citizen", "department", "supervision")

ELLIPSIS = "…"
EMPTY_SUMMARY = "详见阜政通小程序"

STAGE_LABELS: dict[str, str] = {
    "dispatch": "分拨",
    "accept": "签收",
    "resolve": "办结",
    "reopen": "重办",
    "claim": "认领",  # the claim pool's stage (部门报到, §10)
}
LEVEL_LABELS: dict[str, str] = {"district": "区县", "city": "市级"}


class TemplateError(Exception):
    """Unknown template, missing placeholder value, or malformed template data."""


@dataclass(frozen=True, slots=True)
class Template:
    name: str
    text: str
    audience: Audience
    max_segments: int
    placeholders: frozenset[str]


class _StrictValues(dict[str, Any]):
    def __init__(self, template: str, values: dict[str, Any]) -> None:
        super().__init__(values)
        self._template = template

    def __missing__(self, key: str) -> Any:
        raise TemplateError(f"template {self._template!r} needs a value for {{{key}}}")


_PLACEHOLDER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _placeholders(name: str, text: str) -> frozenset[str]:
    names: set[str] = set()
    try:
        parsed = list(string.Formatter().parse(text))
    except ValueError as exc:
        raise TemplateError(f"template {name!r}: {exc}") from exc
    for _literal, field, spec, conversion in parsed:
        if field is None:
            continue
        if not _PLACEHOLDER.fullmatch(field) or spec or conversion:
            raise TemplateError(f"template {name!r}: placeholder {{{field}}} must be a plain name")
        names.add(field)
    return frozenset(names)


def parse_templates(raw: dict[str, Any]) -> dict[str, Template]:
    """Validate template data (as loaded from JSON) into ``Template`` objects."""
    out: dict[str, Template] = {}
    for name, spec in raw.items():
        if not isinstance(spec, dict) or not isinstance(spec.get("text"), str):
            raise TemplateError(f"template {name!r}: needs a text")
        audience = spec.get("audience")
        if audience not in AUDIENCES:
            raise TemplateError(f"template {name!r}: audience must be one of {AUDIENCES}")
        max_segments = spec.get("max_segments")
        if max_segments not in (1, 2):
            raise TemplateError(f"template {name!r}: max_segments must be 1 or 2")
        text = spec["text"]
        out[name] = Template(name, text, audience, max_segments, _placeholders(name, text))
    return out


@cache
def templates() -> dict[str, Template]:
    """All templates from the packaged data file (loaded once)."""
    data = resources.files("chalicelib.notify").joinpath("data", "templates_zh.json").read_text("utf-8")
    return parse_templates(json.loads(data))


def get(name: str) -> Template:
    try:
        return templates()[name]
    except KeyError:
        raise TemplateError(f"unknown template {name!r}") from None


def render(name: str, **values: Any) -> str:
    """Render template ``name``; every placeholder needs a value (extra values are ignored)."""
    template = get(name)
    return template.text.format_map(_StrictValues(name, values))


def _clean(text: str) -> str:
    return " ".join(str(text).split())


def render_fitting(name: str, field: str, **values: Any) -> str:
    """Render ``name``, shortening ``values[field]`` (ending it with …) to fit ``max_segments``.

    Whitespace in the field is collapsed to single spaces. Raises ``TemplateError``
    when even an empty field would not fit.
    """
    template = get(name)
    if field not in template.placeholders:
        raise TemplateError(f"template {name!r} has no placeholder {{{field}}}")
    value = _clean(values.get(field, ""))

    def attempt(v: str) -> str:
        return render(name, **{**values, field: v})

    def ok(text: str) -> bool:
        return count_segments(text).segments <= template.max_segments

    full = attempt(value)
    if ok(full):
        return full
    if not ok(attempt(ELLIPSIS)):
        raise TemplateError(f"template {name!r} does not fit {template.max_segments} segment(s)")
    # Longest prefix (in characters) that still fits with the ellipsis: fitting is monotone.
    lo, hi = 0, len(value)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if ok(attempt(value[:mid].rstrip() + ELLIPSIS)):
            lo = mid
        else:
            hi = mid - 1
    return attempt(value[:lo].rstrip() + ELLIPSIS)


def render_closure(id: str, reply_summary: str) -> str:
    """The closure SMS: reply summary (truncated with … to fit) and the satisfaction question."""
    summary = _clean(reply_summary).rstrip("。.．!！;；,，、 ")
    return render_fitting("closure", "summary", id=id, summary=summary or EMPTY_SUMMARY)


def format_due(due: datetime, tz: str | tzinfo = "Asia/Shanghai") -> str:
    """A due time as shown in messages, in local time: ``11月29日10:00``.

    An aware ``due`` is converted to ``tz``; a naive one is taken as already local.
    """
    if due.tzinfo is not None:
        due = due.astimezone(zone(tz))
    return f"{due.month}月{due.day}日{due:%H:%M}"
