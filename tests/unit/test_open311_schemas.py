"""The GeoReport v2 schemas of tests/schemas/open311/ (JSON Schema and XSD, written from the spec),
the helpers that hold every Open311 response of the tests to them, and checks of the schemas
themselves: documents shaped as the spec shows pass, documents the spec does not allow fail.
"""

from __future__ import annotations

import io
import json
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import xmlschema
from referencing import Registry, Resource

SCHEMAS = Path(__file__).resolve().parents[1] / "schemas" / "open311"
KINDS = ("discovery", "services", "service_definition", "service_requests", "created", "tokens", "errors")


@cache
def _registry() -> Registry:
    resources = []
    for path in sorted(SCHEMAS.glob("*.schema.json")):
        doc = json.loads(path.read_text(encoding="utf-8"))
        resources.append((doc["$id"], Resource.from_contents(doc)))
    return Registry().with_resources(resources)


@cache
def json_validator(kind: str) -> jsonschema.protocols.Validator:
    doc = json.loads((SCHEMAS / f"{kind}.schema.json").read_text(encoding="utf-8"))
    cls = jsonschema.validators.validator_for(doc)
    cls.check_schema(doc)
    return cls(doc, registry=_registry())


@cache
def xml_schema(kind: str) -> xmlschema.XMLSchema:
    return xmlschema.XMLSchema(str(SCHEMAS / f"{kind}.xsd"))


def validate(kind: str, fmt: str, content: bytes) -> Any:
    """The document, parsed, once it validates against the kind's schema (raises otherwise)."""
    assert kind in KINDS, kind
    if fmt == "json":
        doc = json.loads(content.decode("utf-8"))
        json_validator(kind).validate(doc)
        return doc
    assert content.startswith(b'<?xml version="1.0" encoding="utf-8"?>'), content[:60]
    xml_schema(kind).validate(io.BytesIO(content))
    return xml_schema(kind).to_dict(io.BytesIO(content))


def check(response, kind: str) -> Any:
    """An HTTP answer of /open311/v2: its format from Content-Type (UTF-8 said), validated against
    ``kind`` when it succeeded and against the errors schema otherwise (the code matching the status)."""
    content_type = response.headers["Content-Type"].lower()
    assert "charset=utf-8" in content_type, content_type
    fmt = "xml" if content_type.startswith("text/xml") else "json"
    assert fmt == "xml" or content_type.startswith("application/json"), content_type
    status = getattr(response, "status_code", None) or response.status
    body = response.content if hasattr(response, "content") else response.body
    body = body.encode("utf-8") if isinstance(body, str) else body
    if status >= 400:
        doc = validate("errors", fmt, body)
        codes = [e["code"] for e in doc] if fmt == "json" else [e["code"] for e in doc["error"]]
        assert codes == [status], (codes, status)
        return doc
    return validate(kind, fmt, body)


# --- the schemas themselves -------------------------------------------------------------------------

REQUEST = {
    "service_request_id": "R-1001",
    "status": "closed",
    "status_notes": "Duplicate of an earlier report.",
    "service_name": "Pothole",
    "service_code": "017",
    "description": None,
    "agency_responsible": None,
    "service_notice": None,
    "requested_datetime": "2011-03-01T09:30:00-05:00",
    "updated_datetime": "2011-03-02T10:00:00Z",
    "expected_datetime": "2011-03-03T09:30:00-05:00",
    "address": "1 Main St",
    "address_id": 1001,
    "zipcode": "12345",
    "lat": 40.1,
    "long": -73.9,
    "media_url": "http://example.org/1001.jpg",
}
GOOD_JSON = {
    "discovery": {
        "changeset": "2011-03-01 10:00",
        "contact": "api@example.org",
        "key_service": "ask api@example.org for a key",
        "endpoints": [
            {
                "specification": "http://wiki.open311.org/GeoReport_v2",
                "url": "https://open311.example.org/v2",
                "changeset": "2011-03-01 10:00",
                "type": "production",
                "formats": ["text/xml", "application/json"],
            }
        ],
    },
    "services": [
        {
            "service_code": 17,
            "service_name": "Pothole",
            "description": "A hole in the road",
            "metadata": True,
            "type": "realtime",
            "keywords": "road, hole",
            "group": "street",
        },
        {"service_code": "018", "service_name": "Graffiti", "metadata": False, "type": "batch"},
    ],
    "service_definition": {
        "service_code": "017",
        "attributes": [
            {
                "variable": True,
                "code": "SIZE",
                "datatype": "singlevaluelist",
                "required": True,
                "datatype_description": None,
                "order": 1,
                "description": "How large is it?",
                "values": [{"key": 1, "name": "small"}, {"key": "2", "name": "large"}],
            }
        ],
    },
    "service_requests": [
        REQUEST,
        {
            k: REQUEST[k]
            for k in (
                "service_request_id",
                "status",
                "service_name",
                "service_code",
                "requested_datetime",
                "updated_datetime",
            )
        },
    ],
    "created": [
        {"service_request_id": 1001, "service_notice": "We will look at it", "account_id": None},
        {"token": "t-1"},
    ],
    "tokens": [{"service_request_id": 1001, "token": 12345}],
    "errors": [{"code": 403, "description": "Invalid api_key received"}, {"code": 400, "description": "x"}],
}
BAD_JSON = [
    ("services", [{"service_code": "1", "service_name": "x", "metadata": "yes", "type": "realtime"}]),
    ("services", [{"service_code": "1", "service_name": "x", "metadata": False, "type": "sometimes"}]),
    ("service_requests", [{**REQUEST, "status": "pending"}]),
    ("service_requests", [{**REQUEST, "phone": "13800138000"}]),  # no personal data in a request
    ("service_requests", [{**REQUEST, "email": "a@example.org"}]),
    ("service_requests", [{**REQUEST, "requested_datetime": "2011-03-01T09:30:00"}]),  # no time zone
    ("service_requests", [{**REQUEST, "lat": 91}]),
    ("created", [{"service_request_id": 1, "token": 2}]),
    ("created", [{"service_notice": "neither id nor token"}]),
    ("tokens", [{"token": 1}]),
    ("errors", []),
    ("errors", [{"code": 200, "description": "not an error"}]),
    ("errors", {"error": {"code": "x", "message": "our /v1 shape is not the spec's"}}),
    ("discovery", {"changeset": "1", "contact": "c", "endpoints": []}),
]


@pytest.mark.parametrize("kind", KINDS)
def test_documents_shaped_as_the_spec_shows_pass(kind):
    validate(kind, "json", json.dumps(GOOD_JSON[kind]).encode())


@pytest.mark.parametrize(("kind", "doc"), BAD_JSON, ids=[f"{k}-{i}" for i, (k, _) in enumerate(BAD_JSON)])
def test_documents_the_spec_does_not_allow_fail(kind, doc):
    with pytest.raises(jsonschema.ValidationError):
        validate(kind, "json", json.dumps(doc).encode())


DECLARATION = '<?xml version="1.0" encoding="utf-8"?>\n'
GOOD_XML = {
    "services": "<services><service><service_code>017</service_code><metadata>true</metadata>"
    "<type>realtime</type><service_name>Pothole</service_name><group>street</group></service></services>",
    "service_requests": "<service_requests><request><service_request_id>1001</service_request_id>"
    "<status>open</status><status_notes></status_notes><service_name>Pothole</service_name>"
    "<service_code>017</service_code><description></description>"
    "<requested_datetime>2011-03-01T09:30:00-05:00</requested_datetime>"
    "<updated_datetime>2011-03-01T09:30:00Z</updated_datetime><lat>40.1</lat><long>-73.9</long>"
    "</request></service_requests>",
    "created": "<service_requests><request><service_request_id>1001</service_request_id>"
    "<service_notice>We will look</service_notice><account_id/></request></service_requests>",
    "tokens": "<service_requests><request><service_request_id>1001</service_request_id><token>9</token>"
    "</request></service_requests>",
    "errors": "<errors><error><code>403</code><description>Invalid api_key</description></error></errors>",
    "service_definition": "<service_definition><service_code>017</service_code><attributes><attribute>"
    "<variable>true</variable><code>SIZE</code><datatype>string</datatype><required>false</required>"
    "<order>1</order><description>How large?</description></attribute></attributes></service_definition>",
    "discovery": "<discovery><changeset>1</changeset><contact>c</contact><key_service>k</key_service>"
    "<endpoints><endpoint><specification>http://wiki.open311.org/GeoReport_v2</specification>"
    "<url>https://open311.example.org/v2</url><changeset>1</changeset><type>test</type>"
    "<formats><format>text/xml</format></formats></endpoint></endpoints></discovery>",
}
BAD_XML = [
    ("service_requests", GOOD_XML["service_requests"].replace("<lat>", "<email>a@b.c</email><lat>")),
    ("service_requests", GOOD_XML["service_requests"].replace("09:30:00Z", "09:30:00")),
    ("service_requests", GOOD_XML["service_requests"].replace("<status>open", "<status>pending")),
    ("services", GOOD_XML["services"].replace(">true<", ">yes<")),
    ("created", GOOD_XML["created"].replace("<service_notice>", "<token>1</token><service_notice>")),
    ("errors", "<errors></errors>"),
]


@pytest.mark.parametrize("kind", KINDS)
def test_xml_shaped_as_the_spec_shows_passes(kind):
    validate(kind, "xml", (DECLARATION + GOOD_XML[kind]).encode())


@pytest.mark.parametrize(("kind", "doc"), BAD_XML, ids=[f"{k}-{i}" for i, (k, _) in enumerate(BAD_XML)])
def test_xml_the_spec_does_not_allow_fails(kind, doc):
    with pytest.raises(xmlschema.XMLSchemaValidationError):
        validate(kind, "xml", (DECLARATION + doc).encode())
