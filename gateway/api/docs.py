"""``/api/v1/openapi.json`` and ``/api/v1/docs``: the shaped document and a readable listing.

The docs page is rendered on the server from the same document, as plain HTML: no JavaScript, no
styles, nothing fetched from elsewhere, so it works under the gateway's strict CSP
(``default-src 'none'``).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, json, render_template_string

from gateway.api.openapi import API_PREFIX, HTTP_METHODS, document

#: Endpoint names ``api-docs.openapi_json`` and ``api-docs.docs`` (both in PUBLIC_ENDPOINTS).
blp = Blueprint("api-docs", __name__, url_prefix=API_PREFIX)

_PAGE = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>{{ info.title }} {{ info.version }}</title></head>
<body>
<h1>{{ info.title }}</h1>
<p>Version {{ info.version }}. Base URL <code>{{ base }}</code>.
Machine-readable: <a href="{{ base }}/openapi.json">openapi.json</a> (OpenAPI {{ openapi }}).</p>
{% if info.description %}<p>{{ info.description }}</p>{% endif %}
{% if contact %}<p>Contact: {{ contact.name }}, <a href="mailto:{{ contact.email }}">{{
  contact.email }}</a>, <a href="{{ contact.url }}">{{ contact.url }}</a></p>{% endif %}
<h2>Operations</h2>
{% for op in operations %}
<section id="{{ op.id }}">
<h3><code>{{ op.method }} {{ op.url }}</code></h3>
{% if op.summary %}<p>{{ op.summary }}</p>{% endif %}
{% if op.description %}<p>{{ op.description }}</p>{% endif %}
<p>operationId <code>{{ op.id }}</code></p>
{% if op.parameters %}<h4>Parameters</h4><ul>
{% for p in op.parameters %}<li><code>{{ p.name }}</code> ({{ p.in }}{% if p.required %},
required{% endif %}){% if p.description %}: {{ p.description }}{% endif %}</li>{% endfor %}
</ul>{% endif %}
{% if op.body %}<h4>Request body</h4><p>{{ op.body }}</p>{% endif %}
<h4>Responses</h4><ul>
{% for r in op.responses %}<li><code>{{ r.code }}</code> {{ r.description }}{% if r.content %}
({{ r.content }}){% endif %}</li>{% endfor %}
</ul>
</section>
{% endfor %}
<h2>Schemas</h2>
{% for name, schema in schemas %}
<section id="schema-{{ name }}"><h3>{{ name }}</h3><ul>
{% for prop, info in (schema.properties or {}).items() %}<li><code>{{ prop }}</code>
{{ info.type or info["$ref"] or "" }}{% if prop in (schema.required or []) %}, required{% endif
%}{% if info.description %}: {{ info.description }}{% endif %}</li>{% endfor %}
</ul></section>
{% endfor %}
</body>
</html>
"""


@blp.get("/openapi.json")
def openapi_json() -> Response:
    body = json.dumps(document(current_app), indent=2, sort_keys=False)
    return Response(body, mimetype="application/json")


@blp.get("/docs")
def docs() -> str:
    doc = document(current_app)
    return render_template_string(
        _PAGE,
        info=doc["info"],
        openapi=doc["openapi"],
        contact=doc["info"].get("contact"),
        base=API_PREFIX,
        operations=list_operations(doc),
        schemas=sorted(doc.get("components", {}).get("schemas", {}).items()),
    )


def list_operations(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """Each operation as plain values for the page: method, full URL, summary, params, responses."""
    base = doc["servers"][0]["url"] if doc.get("servers") else ""
    shared = doc.get("components", {})
    out: list[dict[str, Any]] = []
    for path, item in doc.get("paths", {}).items():
        for method in HTTP_METHODS:
            op = item.get(method)
            if op is None:
                continue
            raw_params = [*item.get("parameters", []), *op.get("parameters", [])]
            params = [_resolve(p, shared) for p in raw_params]
            out.append(
                {
                    "id": op.get("operationId", ""),
                    "method": method.upper(),
                    "url": base.rstrip("/") + path if path != "/" else base or "/",
                    "summary": op.get("summary", ""),
                    "description": op.get("description", ""),
                    "parameters": params,
                    "body": _content(op.get("requestBody", {})),
                    "responses": [
                        {
                            "code": code,
                            "description": _resolve(r, shared).get("description", ""),
                            "content": _content(_resolve(r, shared)),
                        }
                        for code, r in op.get("responses", {}).items()
                    ],
                }
            )
    return out


def _resolve(obj: dict[str, Any], components: dict[str, Any]) -> dict[str, Any]:
    """Follow one local ``$ref`` (``#/components/<kind>/<name>``); anything else as is."""
    ref = obj.get("$ref")
    if not isinstance(ref, str) or not ref.startswith("#/components/"):
        return obj
    _, _, kind, name = ref.split("/", 3)
    target: dict[str, Any] = components.get(kind, {}).get(name, {})
    return target


def _content(obj: dict[str, Any]) -> str:
    """``application/json: Health`` for each media type of a request body or response."""
    parts = []
    for media_type, media in obj.get("content", {}).items():
        ref = media.get("schema", {}).get("$ref", "")
        parts.append(f"{media_type}: {ref.rsplit('/', 1)[-1]}" if ref else media_type)
    return ", ".join(parts)
