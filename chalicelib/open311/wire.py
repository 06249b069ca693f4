"""GeoReport v2 documents on the wire: JSON (UTF-8, Chinese in clear) and XML (the spec's element
names, declaration with encoding="utf-8", no namespace), and the spec's error arrays.

XML follows the spec's mapping of lists: ``services/service``, ``service_requests/request``,
``errors/error``, ``endpoints/endpoint``, ``formats/format``, ``attributes/attribute``. A null
value is left out of the XML (its element is optional in the spec) and written as ``null`` in JSON.
"""

from __future__ import annotations

import re
import urllib.parse
from typing import TYPE_CHECKING, Any

from chalice import Response

from chalicelib.api.http import MAX_BODY_BYTES, dumps
from chalicelib.errors import InvalidInput, TooLarge

if TYPE_CHECKING:
    from xml.etree.ElementTree import Element

JSON_TYPE = "application/json; charset=utf-8"
XML_TYPE = "text/xml; charset=utf-8"
FORMATS = ("json", "xml")

ITEMS = {
    "services": "service",
    "service_requests": "request",
    "errors": "error",
    "endpoints": "endpoint",
    "formats": "format",
    "attributes": "attribute",
    "values": "value",
}
# Characters XML 1.0 cannot carry at all (stored text has none; this keeps the document well-formed).
_NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return _NOT_XML.sub("\ufffd", str(value))


def _fill(element: Element, value: Any) -> None:
    from xml.etree.ElementTree import SubElement

    if isinstance(value, dict):
        for key, item in value.items():
            if item is not None:
                _fill(SubElement(element, key), item)
    elif isinstance(value, list):
        child = ITEMS[element.tag]
        for item in value:
            _fill(SubElement(element, child), item)
    else:
        element.text = _text(value)


def to_xml(root: str, body: Any) -> str:
    from xml.etree import ElementTree  # only the XML answers need it (a cold start pays for what it uses)

    element = ElementTree.Element(root)
    _fill(element, body)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ElementTree.tostring(element, encoding="unicode")


def document(fmt: str, root: str, body: Any, status: int = 200) -> Response:
    """``body`` in the format asked for; ``root`` names the XML root (a list's items follow ITEMS)."""
    if fmt == "xml":
        return Response(body=to_xml(root, body), status_code=status, headers={"Content-Type": XML_TYPE})
    return Response(body=dumps(body), status_code=status, headers={"Content-Type": JSON_TYPE})


def http_status(status: int) -> int:
    """The spec: 403 for a missing or wrong api_key (our 401), 404 for what does not exist, 400 for the
    rest of the caller's mistakes; 409, 413 and 429 keep their meaning, the code matching the status."""
    return 403 if status == 401 else status


def errors(fmt: str, status: int, description: str) -> Response:
    code = http_status(status)
    return document(fmt, "errors", [{"code": code, "description": description}], code)


def split_format(name: str) -> tuple[str, str | None]:
    """``municipal.lighting.json`` → (``municipal.lighting``, ``json``); no known suffix → (name, None)."""
    stem, dot, ext = name.rpartition(".")
    if dot and stem and ext.lower() in FORMATS:
        return stem, ext.lower()
    return name, None


FORM_TYPE = "application/x-www-form-urlencoded"
MAX_FIELDS = 100


def parse_form(content_type: str | None, raw: bytes | str | None, known: tuple[str, ...]) -> dict[str, str]:
    """A POST body as the spec sends it: ``application/x-www-form-urlencoded``, UTF-8. One value per
    argument of ``known`` (a repeated one is refused); arguments we do not use are ignored."""
    if (content_type or "").split(";")[0].strip().lower() != FORM_TYPE:
        raise InvalidInput(f"the body must be {FORM_TYPE} (got {content_type or 'none'})", field="body")
    data = raw.encode("utf-8") if isinstance(raw, str) else (raw or b"")
    if len(data) > MAX_BODY_BYTES:
        raise TooLarge(f"body larger than {MAX_BODY_BYTES} bytes", field="body")
    try:
        pairs = urllib.parse.parse_qsl(
            data.decode("utf-8"), keep_blank_values=True, errors="strict", max_num_fields=MAX_FIELDS
        )
    except ValueError as exc:  # UnicodeDecodeError included
        raise InvalidInput(
            f"the body is not a UTF-8 form of at most {MAX_FIELDS} fields", field="body"
        ) from exc
    form: dict[str, str] = {}
    for key, value in pairs:
        if key in form and key in known:
            raise InvalidInput(f"{key} was sent more than once", field=key)
        form.setdefault(key, value)
    return form
