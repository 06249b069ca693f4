"""GeoReport v2 in our terms, pure: services from the directory's categories, service requests from
petitions as the petitions service presents them, and the form and query arguments of the spec
turned into ours (a PetitionIn, a window and filters).

What never leaves: names, phones, e-mail, the channel's own reference, the grid worker, operators.
A request carries the category, the text the citizen wrote, the place, the department in charge,
the status and the due time of the running stage.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pydantic import ValidationError

from chalicelib.clock import SHANGHAI, parse_instant
from chalicelib.directory.model import Category, Directory
from chalicelib.errors import InvalidInput, NotFound
from chalicelib.intake.models import PetitionIn

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
CHANGESET = "2026-12-01"  # when this adapter's documents last changed shape (services follow the directory)

WINDOW = timedelta(days=90)  # the spec's default span, and the longest one may ask for
MAX_REQUESTS = 1000  # the spec's default volume
MAX_IDS = 100  # service_request_id values in one GET requests
MAX_SCANNED = 5000  # petitions read for one GET requests: filters narrower than that may answer fewer

CLOSED = ("closed", "merged")  # a merged petition is answered with its main one: closed here
UNCATEGORISED = "未分类"
STAGE_ACTIONS = {"dispatch": "分拨至承办部门", "accept": "签收", "resolve": "办结", "reopen": "重新办结"}
MEDIA = "\n附件："  # a POSTed media_url is kept on its own last line of the content

# Our field paths (PetitionIn, intake) → the spec's argument names, for error descriptions.
ARGUMENTS = {
    "district": "jurisdiction_id",
    "category": "service_code",
    "content": "description",
    "citizen.phone": "phone",
    "citizen.name": "first_name",
    "location.lat": "lat",
    "location.lon": "long",
    "location.address": "address_string",
    "reported_by": "account_id",
    "body": "body",
}


# --- services ------------------------------------------------------------------------------------------


def _keywords(description: str | None) -> str:
    parts = re.split(r"[、，,；;]", description or "")
    return ",".join(p.strip() for p in parts if p.strip())


def service(category: Category, directory: Directory) -> dict:
    parent = directory.category(category.parent) if category.parent else None
    return {
        "service_code": category.code,
        "service_name": category.name,
        "description": category.description or "",
        "metadata": False,
        "type": "realtime",
        "keywords": _keywords(category.description),
        "group": (parent or category).name,
    }


def services(directory: Directory) -> list[dict]:
    return [service(c, directory) for c in directory.categories]


def service_definition(code: str, directory: Directory) -> dict:
    if directory.category(code) is None:
        raise NotFound(f"service_code {code!r} is not a service of this endpoint", field="service_code")
    return {"service_code": code, "attributes": []}


def check_jurisdiction(directory: Directory, jurisdiction_id: str | None) -> str | None:
    """A jurisdiction_id, when given, is one of the directory's district codes (404 otherwise)."""
    if jurisdiction_id is None:
        return None
    if directory.district(jurisdiction_id) is None:
        raise NotFound(
            f"jurisdiction_id {jurisdiction_id!r} is not a jurisdiction of this endpoint",
            field="jurisdiction_id",
        )
    return jurisdiction_id


def discovery(url: str, *, production: bool, city: str) -> dict:
    return {
        "changeset": CHANGESET,
        "contact": f"{city}“阜政通”平台：12345政务服务便民热线",
        "key_service": "api_key 即渠道密钥（X-Api-Key），由平台管理员按渠道发放",
        "endpoints": [
            {
                "specification": SPECIFICATION,
                "url": url,
                "changeset": CHANGESET,
                "type": "production" if production else "test",
                "formats": ["text/xml", "application/json"],
            }
        ],
    }


# --- a petition as a service request -----------------------------------------------------------------


def open_or_closed(status: str) -> str:
    return "closed" if status in CLOSED else "open"


def _local(instant: str) -> str:
    return parse_instant(instant).astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")


def status_notes(p: Mapping[str, Any], agency: str | None) -> str:
    """What the status means now, in Chinese (the petition's own status label first)."""
    label = p["status_label"]
    unit = agency or "承办部门"
    details = {
        "received": "已受理，正在确定承办部门",
        "dispatched": f"已派至{unit}，待签收",
        "accepted": f"{unit}正在办理",
        "suspended": f"{unit}办理暂停，时限暂停计算",
        "resolved": f"{unit}已办结，待审核结案",
        "closed": f"答复：{p['reply']}" if p.get("reply") else "已办结并审核通过",
        "merged": f"并入{p['merged_into']}一并办理" if p.get("merged_into") else "与其他诉求合并办理",
    }
    return f"{label}：{details.get(p['status'], label)}"


def service_notice(p: Mapping[str, Any], agency: str | None) -> str:
    """What happens next and by when (the running stage's due time, Asia/Shanghai)."""
    status = p["status"]
    if status in CLOSED:
        return "已结案，感谢您的反映" if status == "closed" else "已并单，办理结果以主诉求为准"
    if status == "suspended":
        return "办理暂停，恢复后按剩余时限继续办理"
    if status == "resolved":
        return "已办结，审核通过后结案，并请您评价"
    stage = p.get("stage") or {}
    action = STAGE_ACTIONS.get(stage.get("name", ""), "办理")
    if stage.get("name") == "accept" and agency:
        action = f"由{agency}签收"
    due = stage.get("due_at") or p.get("due_at")
    return f"将于{_local(due)}前{action}" if due else f"正在{action}"


def split_media(content: str) -> tuple[str, str | None]:
    head, sep, tail = content.rpartition(MEDIA)
    if sep and re.fullmatch(r"https?://\S+", tail):
        return head, tail
    return content, None


def service_request(p: Mapping[str, Any], directory: Directory) -> dict:
    """A presented petition (``present.petition``) as a GeoReport v2 request, in the spec's order."""
    closed = p["status"] in CLOSED
    category = directory.category(p["category"]) if p.get("category") else None
    department = directory.department(p["department"]) if p.get("department") else None
    agency = department.name if department else None
    description, media_url = split_media(p["content"])
    location = p.get("location") or {}
    return {
        "service_request_id": p["id"],
        "status": open_or_closed(p["status"]),
        "status_notes": status_notes(p, agency),
        "service_name": category.name if category else UNCATEGORISED,
        "service_code": p.get("category") or "",
        "description": description,
        "agency_responsible": agency,
        "service_notice": service_notice(p, agency),
        "requested_datetime": p["created_at"],
        "updated_datetime": p.get("updated_at") or p["created_at"],
        "expected_datetime": None if closed else p.get("due_at"),
        "address": location.get("address"),
        "address_id": None,
        "zipcode": None,
        "lat": location.get("lat"),
        "long": location.get("lon"),
        "media_url": media_url,
    }


def created(p: Mapping[str, Any], directory: Directory) -> dict:
    """The answer to POST requests: the id at once (we create synchronously; no token needed)."""
    department = directory.department(p["department"]) if p.get("department") else None
    notice = service_notice(p, department.name if department else None)
    return {
        "service_request_id": p["id"],
        "service_notice": f"已受理，编号{p['id']}，{notice}",
        "account_id": None,
    }


def token(p: Mapping[str, Any], value: str) -> dict:
    return {"service_request_id": p["id"], "token": value}


# --- POST requests: the form as a PetitionIn ---------------------------------------------------------

FORM_FIELDS = (
    "api_key",
    "jurisdiction_id",
    "service_code",
    "lat",
    "long",
    "address_string",
    "address_id",
    "email",
    "device_id",
    "account_id",
    "first_name",
    "last_name",
    "phone",
    "description",
    "media_url",
)


def arg(values: Mapping[str, str], name: str) -> str | None:
    """An optional argument: passed empty is the same as not passed (the spec's "Optional")."""
    value = values.get(name)
    return value if value else None


def _number(form: Mapping[str, str], name: str) -> float:
    text = form[name]
    try:
        value = float(text)
    except ValueError as exc:
        raise InvalidInput(f"{name} must be a number in WGS84 degrees, got {text!r}", field=name) from exc
    if not math.isfinite(value):
        raise InvalidInput(f"{name} must be a finite number", field=name)
    return value


def _name(first: str | None, last: str | None) -> str | None:
    parts = [p for p in (last, first) if p]
    if not parts:
        return None
    # 张 + 三 → 张三 (family name first, no space); Latin names keep "first last".
    if any("\u3400" <= ch <= "\u9fff" for ch in "".join(parts)):
        return "".join(parts)
    return " ".join(p for p in (first, last) if p)


def describe(err: InvalidInput) -> str:
    """An error of intake or of PetitionIn, named by the spec's argument where there is one."""
    name = ARGUMENTS.get(err.field or "", err.field)
    message = err.message
    if err.field and message.startswith(f"{err.field}: "):
        message = message[len(err.field) + 2 :]
    return f"{name}: {message}" if name and not message.startswith(name) else message


def petition_in(form: Mapping[str, str], directory: Directory, channel: str) -> PetitionIn:
    """The spec's POST arguments as our submission. Raises InvalidInput/NotFound naming the argument."""
    district = arg(form, "jurisdiction_id")
    if district is None:
        raise InvalidInput(
            "jurisdiction_id was not provided (a district code, see services.json)", field="jurisdiction_id"
        )
    check_jurisdiction(directory, district)
    code = arg(form, "service_code")
    if code is None:
        raise InvalidInput("service_code was not provided", field="service_code")
    if directory.category(code) is None:
        raise InvalidInput(f"service_code {code!r} is not a service of this endpoint", field="service_code")

    location: dict[str, Any] = {}
    lat, lon = arg(form, "lat"), arg(form, "long")
    if (lat is None) != (lon is None):
        raise InvalidInput("lat and long must be sent together", field="lat" if lat is None else "long")
    if lat is not None and lon is not None:
        location.update(lat=_number(form, "lat"), lon=_number(form, "long"))
    address = arg(form, "address_string")
    if address is not None:
        location["address"] = address
    if not location:
        raise InvalidInput(
            "a location is required: lat and long, or address_string (address_id is not supported here)",
            field="address_string",
        )

    description = arg(form, "description")
    if description is None:
        raise InvalidInput("description was not provided (5–4000 characters)", field="description")
    media_url = arg(form, "media_url")
    if media_url is not None and (len(media_url) > 500 or not re.fullmatch(r"https?://\S+", media_url)):
        raise InvalidInput("media_url must be an http(s) URL of at most 500 characters", field="media_url")

    phone = arg(form, "phone")
    name = _name(arg(form, "first_name"), arg(form, "last_name"))
    body: dict[str, Any] = {
        "district": district,
        "content": description,
        "category": code,
        "location": location,
        # No phone, no one to text: the petition is anonymous (the spec makes phone optional).
        "anonymous": phone is None,
    }
    citizen = {k: v for k, v in (("name", name), ("phone", phone)) if v is not None}
    if citizen and phone is not None:
        body["citizen"] = citizen
    account = arg(form, "account_id")
    if channel == "grid" and account is not None:
        body["reported_by"] = account  # the grid channel's account is the grid worker filing
    petition = _validated(body)  # the description on its own first: a URL does not make it long enough
    if media_url is None:
        return petition
    return _validated({**body, "content": f"{petition.content}{MEDIA}{media_url}"})


def _validated(body: dict[str, Any]) -> PetitionIn:
    try:
        return PetitionIn.model_validate(body)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        path = ".".join(str(p) for p in first["loc"] if not str(p).startswith(("function-", "json-")))
        argument = ARGUMENTS.get(path, path or "body")
        raise InvalidInput(f"{argument}: {first['msg']}", field=argument) from exc


# --- GET requests: the filters -------------------------------------------------------------------


@dataclass(frozen=True)
class RequestQuery:
    ids: tuple[str, ...] = ()  # when given, they override every other argument
    codes: frozenset[str] | None = None
    statuses: frozenset[str] | None = None
    start: datetime | None = None
    end: datetime | None = None
    jurisdiction: str | None = None


def _listed(values: Iterable[str]) -> list[str]:
    """Arguments "declared multiple times, comma delimited": both ways, blanks dropped, order kept."""
    out: list[str] = []
    for value in values:
        for part in value.split(","):
            part = part.strip()
            if part and part not in out:
                out.append(part)
    return out


def _instant(name: str, text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        value = None
    if value is None or value.tzinfo is None or "T" not in text.upper():
        raise InvalidInput(
            f"{name} must be a w3 datetime with a time zone, e.g. 2010-01-01T00:00:00Z", field=name
        )
    return value


def request_query(params: Callable[[str], list[str]], directory: Directory, now: datetime) -> RequestQuery:
    """The filters of GET requests; ``params(name)`` gives every value passed for an argument."""
    ids = _listed(params("service_request_id"))
    if ids:
        if len(ids) > MAX_IDS:
            raise InvalidInput(f"at most {MAX_IDS} service_request_id values", field="service_request_id")
        return RequestQuery(ids=tuple(ids))
    codes = _listed(params("service_code"))
    for code in codes:
        if directory.category(code) is None:
            raise InvalidInput(
                f"service_code {code!r} is not a service of this endpoint", field="service_code"
            )
    statuses = _listed(params("status"))
    for status in statuses:
        if status not in ("open", "closed"):
            raise InvalidInput(f"status {status!r}: the options are open and closed", field="status")
    jurisdictions = _listed(params("jurisdiction_id"))
    if len(jurisdictions) > 1:
        raise InvalidInput("one jurisdiction_id at a time", field="jurisdiction_id")
    jurisdiction = check_jurisdiction(directory, jurisdictions[0] if jurisdictions else None)

    start_text, end_text = _listed(params("start_date")), _listed(params("end_date"))
    start = _instant("start_date", start_text[0]) if start_text else None
    end = _instant("end_date", end_text[0]) if end_text else None
    if start is None and end is None:
        end = now
    if start is None:
        assert end is not None
        start = end - WINDOW
    if end is None:
        end = start + WINDOW
    if end < start:
        raise InvalidInput("end_date is before start_date", field="end_date")
    if end - start > WINDOW:
        raise InvalidInput("start_date to end_date may not span more than 90 days", field="end_date")
    return RequestQuery(
        codes=frozenset(codes) or None,
        statuses=frozenset(statuses) or None,
        start=start,
        end=end,
        jurisdiction=jurisdiction,
    )


def select(
    fetch: Callable[[str | None], Mapping[str, Any]],
    query: RequestQuery,
    covers: Callable[[str, str], bool],
) -> list[dict]:
    """Petitions matching the filters, newest first, from pages ``fetch(cursor)`` of the caller's own
    (newest first: the walk stops at the window's start, at MAX_REQUESTS or after MAX_SCANNED)."""
    assert query.start is not None and query.end is not None
    found: list[dict] = []
    cursor: str | None = None
    scanned = 0
    while True:
        page = fetch(cursor)
        for p in page["items"]:
            scanned += 1
            at = parse_instant(p["created_at"])
            if at < query.start:
                return found
            if at > query.end:
                continue
            if query.statuses and open_or_closed(p["status"]) not in query.statuses:
                continue
            if query.codes and p.get("category") not in query.codes:
                continue
            if query.jurisdiction and not covers(query.jurisdiction, p["district"]):
                continue
            found.append(p)
            if len(found) >= MAX_REQUESTS:
                return found
        cursor = page.get("next_cursor")
        if not cursor or scanned >= MAX_SCANNED:
            return found
