"""OpenAPI 3.1, generated from the route registry and the Pydantic models that validate requests."""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, TypeAdapter

from chalicelib.api.http import REGISTRY, Operation
from chalicelib.api.schemas import ErrorBody

REF = "#/components/schemas/{model}"
STATUS_TEXT = {
    400: "Invalid input; `field` names the first bad one",
    401: "No or bad credentials",
    403: "Not allowed for this caller or outside their scope",
    404: "Unknown",
    409: "Does not fit the current state, or lost a race",
    413: "Body too large",
    429: "Slow down",
}


def component_name(tp: type[BaseModel]) -> str:
    """Pydantic names generic models ``Items[GridOut]``; OpenAPI wants ``Items_GridOut_``."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", tp.__name__)


def _schema(tp: Any, components: dict, mode: Literal["validation", "serialization"]) -> dict:
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        schema = tp.model_json_schema(ref_template=REF, mode=mode)
        components.update(schema.pop("$defs", {}))
        name = component_name(tp)
        components[name] = schema
        return {"$ref": REF.format(model=name)}
    schema = TypeAdapter(tp).json_schema(ref_template=REF, mode=mode)
    components.update(schema.pop("$defs", {}))
    return schema


def _query_parameters(model: type[BaseModel], components: dict) -> list[dict]:
    schema = model.model_json_schema(ref_template=REF, mode="validation")
    components.update(schema.pop("$defs", {}))
    required = set(schema.get("required", []))
    params = []
    for name, prop in schema.get("properties", {}).items():
        params.append(
            {
                "name": name,
                "in": "query",
                "required": name in required,
                "schema": prop,
                **({"description": prop["description"]} if "description" in prop else {}),
            }
        )
    return params


def _operation(op: Operation, components: dict) -> dict:
    out: dict[str, Any] = {"operationId": op.name, "summary": op.summary, "tags": list(op.tags)}
    params: list[dict] = [
        {"name": n, "in": "path", "required": True, "schema": {"type": "string", "minLength": 1}}
        for n in re.findall(r"{(\w+)}", op.path)
    ]
    for name, description in op.headers:
        params.append(
            {
                "name": name,
                "in": "header",
                "required": False,
                "description": description,
                "schema": {"type": "string", "minLength": 1, "maxLength": 128},
            }
        )
    if op.query:
        params += _query_parameters(op.query, components)
    if params:
        out["parameters"] = params
    if op.body:
        out["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": _schema(op.body, components, "validation")}},
        }
    security: list[dict[str, list[str]]] = []
    if op.audience.channels:
        security.append({"ApiKey": []})
    if op.audience.roles or op.audience.citizens:
        security.append({"Bearer": []})
    if not op.audience.public:
        out["security"] = security
    else:
        out["security"] = []
    responses: dict[str, Any] = {}
    ok: dict[str, Any] = {"description": "OK"}
    if op.response is not None:
        ok["content"] = {"application/json": {"schema": _schema(op.response, components, "serialization")}}
    responses[str(op.status)] = ok
    errors = set(op.errors)
    if op.body or op.query:
        errors.add(400)
    if op.body:
        errors.add(413)
    if not op.audience.public:
        errors.update({401, 403})
    if op.local_only:
        errors.add(404)
    error_ref = {"$ref": REF.format(model="ErrorBody")}
    for status in sorted(errors):
        responses[str(status)] = {
            "description": STATUS_TEXT[status],
            "content": {"application/json": {"schema": error_ref}},
        }
    out["responses"] = responses
    if op.local_only:
        out["description"] = "Local stage only; 404 on every other stage."
    return out


def build_openapi(*, include_local: bool, server_url: str | None = None) -> dict:
    components: dict[str, Any] = {}
    _schema(ErrorBody, components, "serialization")
    paths: dict[str, dict] = {}
    for op in REGISTRY:
        if op.local_only and not include_local:
            continue
        paths.setdefault(op.path, {})[op.method.lower()] = _operation(op, components)
    doc: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {
            "title": "Fuzhengtong (阜政通) petition platform API",
            "version": "1.0.0",
            "description": "Citizen petitions from every channel, routed, timed (1+1+7) and supervised.",
        },
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {
                "ApiKey": {"type": "apiKey", "in": "header", "name": "X-Api-Key"},
                "Bearer": {"type": "http", "scheme": "bearer"},
            },
        },
    }
    if server_url:
        doc["servers"] = [{"url": server_url}]
    return doc
