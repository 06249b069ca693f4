"""From an outbox record to the text that leaves: the zh-CN templates filled from the record's values."""

from __future__ import annotations

from chalicelib.clock import parse_instant
from chalicelib.notify import templates
from chalicelib.notify.templates import LEVEL_LABELS, STAGE_LABELS, format_due
from chalicelib.petitions.machine import STATUS_LABELS
from chalicelib.privacy import unseal


def _due(value) -> str:
    if not value:
        return "规定时限"
    try:
        return format_due(parse_instant(value))
    except ValueError:
        return str(value)


def unit_name(code: str | None, directory) -> str:
    """A unit as people read it: a department's name, or a district's dispatch desk (分拨中心)
    for ``<district>.dispatch`` — never a code."""
    if not code:
        return "分拨中心"
    dep = directory.department(code)
    if dep is not None:
        return dep.name
    district, _, rest = code.partition(".")
    place = directory.district(district)
    if rest == "dispatch" and place is not None:
        return f"{place.name}分拨中心"
    return code


def text(body: dict, directory) -> str:
    name = body["template"]
    v = dict(body.get("values") or {})
    if name == "closure":
        return templates.render_closure(v["id"], v.get("reply", ""))
    if name == "otp":  # the code travels sealed in the outbox and is opened only here
        return templates.render("otp", code=unseal(v["code_sealed"]))
    v["department"] = unit_name(v.get("department"), directory)
    origin = directory.department(v.get("from_department") or "")
    v["from_department"] = origin.name if origin else (v.get("from_department") or "原承办单位")
    v["due"] = _due(v.get("due"))
    v["stage"] = STAGE_LABELS.get(v.get("stage", ""), v.get("stage", ""))
    v["level"] = LEVEL_LABELS.get(v.get("level", ""), v.get("level", ""))
    v.setdefault("reason", "超期未办结")
    v.setdefault("into", "")
    v["status"] = STATUS_LABELS.get(v.get("status", ""), v.get("status", ""))
    if name in ("returned", "escalation"):
        return templates.render_fitting(name, "reason", **v)
    if name in ("instruction", "urge_reminder", "urge_supervision", "accountability"):
        return templates.render_fitting(name, "note", **v)  # a long note is shortened to fit, never refused
    return templates.render(name, **v)
