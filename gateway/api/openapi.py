"""Shape the OpenAPI document to the Dutch API Design Rules, for every operation at once.

flask-smorest builds the document from the blueprints; :func:`document` post-processes it, so an
endpoint added later complies without extra work:

- ``info.contact`` from the settings; ``servers`` is ``/api/v1`` and paths are relative to it;
- an ``operationId`` derived from method and path, unless the blueprint set one;
- the ``API-Version`` header (sent by :mod:`gateway.web.headers`) on every response;
- every error response (4xx, 5xx, ``default``) is ``application/problem+json`` with the
  ``Problem`` schema; webargs' 422 is documented as the 400 that :mod:`.problems` sends;
- a 400 on operations that take input, a 401 on every non-public one and a 500 on all.

``make apilint`` checks the result with the Spectral ruleset in ``standards/``.
"""

from __future__ import annotations

import copy
import json
import re
from typing import Any

from flask import Flask
from flask_smorest import Api

from gateway import __version__
from gateway.api.problems import PROBLEM_MEDIA_TYPE, ProblemSchema
from gateway.settings import Settings
from gateway.web import API_KEY
from gateway.web.access import public_endpoints
from gateway.web.headers import API_VERSION_HEADER

API_PREFIX = "/api/v1"
CONTACT_KEY = "sluis.openapi.contact"
HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
VERSION_HEADER_REF = {"$ref": f"#/components/headers/{API_VERSION_HEADER}"}
PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
INPUT_METHODS = ("post", "put", "patch")
#: Components flask-smorest always adds; dropped when no operation uses them.
_SMOREST_SCHEMAS = ("Error", "PaginationMetadata")


def install(app: Flask, api: Api, settings: Settings) -> None:
    """Register the shared components and remember the contact for :func:`document`."""
    api.spec.components.schema("Problem", schema=ProblemSchema)
    api.spec.components.header(
        API_VERSION_HEADER,
        {
            "description": "The full version of this API (semver); the major is in the path.",
            "schema": {"type": "string", "example": __version__},
        },
    )
    app.extensions[CONTACT_KEY] = {
        "name": settings.api_contact_name,
        "email": settings.api_contact_email,
        "url": settings.api_contact_url,
    }


def document(app: Flask) -> dict[str, Any]:
    """The app's OpenAPI document, shaped (a fresh dict on every call)."""
    api: Api = app.extensions[API_KEY]
    raw: dict[str, Any] = api.spec.to_dict()
    return shape(raw, contact=app.extensions[CONTACT_KEY], public=public_operations(app))


def openapi_path(rule: str) -> str:
    """A werkzeug rule as an OpenAPI path relative to the server: ``<int:id>`` -> ``{id}``."""
    path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule)
    if path == API_PREFIX:
        return "/"
    return path.removeprefix(API_PREFIX) if path.startswith(API_PREFIX + "/") else path


def public_operations(app: Flask) -> set[tuple[str, str]]:
    """(path, method) pairs anyone may call, from the access allowlist."""
    allowed = public_endpoints(app)
    return {
        (openapi_path(rule.rule), method.lower())
        for rule in app.url_map.iter_rules()
        if rule.endpoint in allowed
        for method in rule.methods or ()
    }


def operation_id(method: str, path: str) -> str:
    """``get`` + ``/partners/{partner_id}/keys`` -> ``getPartnersByPartnerIdKeys``."""
    words: list[str] = []
    for segment in filter(None, path.split("/")):
        name = segment.strip("{}")
        camel = "".join(w[:1].upper() + w[1:] for w in re.split(r"[-_.]", name) if w)
        words.append(f"By{camel}" if segment.startswith("{") else camel)
    return method.lower() + ("".join(words) or "Root")


def shape(
    raw: dict[str, Any], *, contact: dict[str, str], public: set[tuple[str, str]]
) -> dict[str, Any]:
    doc = copy.deepcopy(raw)
    doc["info"]["contact"] = dict(contact)
    doc["info"].setdefault(
        "description",
        "API v1 of a Sluis gateway, for covenant partners. Errors are problem+json (RFC 9457).",
    )
    doc["servers"] = [{"url": API_PREFIX, "description": "This gateway, API major version 1."}]
    components = doc.setdefault("components", {})
    shared = components.setdefault("responses", {})
    doc["paths"] = {openapi_path(path): item for path, item in doc.get("paths", {}).items()}
    for path, item in doc["paths"].items():
        for method in HTTP_METHODS:
            if method in item:
                _shape_operation(method, path, item[method], shared, (path, method) in public)
    for response in shared.values():
        if "$ref" not in response:
            response.setdefault("headers", {})[API_VERSION_HEADER] = VERSION_HEADER_REF
    _prune_unused(doc)
    return doc


def _shape_operation(
    method: str, path: str, op: dict[str, Any], shared: dict[str, Any], public: bool
) -> None:
    op.setdefault("operationId", operation_id(method, path))
    responses: dict[str, Any] = op.setdefault("responses", {})
    if "422" in responses:  # webargs' validation error: problems.py answers it with 400
        responses.pop("422")
        responses["400"] = {"description": "The request is not valid; see `invalidParams`."}
    if method in INPUT_METHODS or op.get("parameters") or op.get("requestBody"):
        responses.setdefault("400", {"description": "The request is not valid."})
    if not public:
        responses.setdefault("401", {"description": "No valid request signature or login."})
    responses.setdefault("500", {"description": "The gateway failed to handle the request."})
    for code, response in responses.items():
        if code == "default" or code[:1] in ("4", "5"):
            responses[code] = _problem(_description(response, shared))
        elif "$ref" not in response:
            response.setdefault("headers", {})[API_VERSION_HEADER] = VERSION_HEADER_REF
    op["responses"] = dict(sorted(responses.items(), key=lambda kv: (kv[0] == "default", kv[0])))


def _description(response: dict[str, Any], shared: dict[str, Any]) -> str:
    if "$ref" in response:
        response = shared.get(response["$ref"].rsplit("/", 1)[-1], {})
    description: str = response.get("description") or "Error."
    return description


def _problem(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "headers": {API_VERSION_HEADER: VERSION_HEADER_REF},
        "content": {PROBLEM_MEDIA_TYPE: {"schema": PROBLEM_REF}},
    }


def _prune_unused(doc: dict[str, Any]) -> None:
    """Drop response components and flask-smorest's stock schemas that nothing references."""
    components = doc["components"]
    candidates = [("responses", name) for name in components.get("responses", {})]
    candidates += [("schemas", n) for n in _SMOREST_SCHEMAS if n in components.get("schemas", {})]
    for kind, name in candidates:
        body = components[kind].pop(name)
        if f'"#/components/{kind}/{name}"' in json.dumps(doc):
            components[kind][name] = body
    for kind in ("responses", "schemas"):
        if kind in components and not components[kind]:
            del components[kind]
