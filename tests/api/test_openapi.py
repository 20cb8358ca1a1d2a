"""The OpenAPI document follows the Dutch API Design Rules for every operation, also new ones.

``make apilint`` runs the Spectral ruleset itself; these tests pin the shaping through the Flask
test client, on the real app and on an app with a probe blueprint that takes input the way
partner endpoints will (query, body, path parameter, non-public).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from flask.testing import FlaskClient
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields

from gateway import __version__
from gateway.api.openapi import openapi_path, operation_id
from gateway.app import create_app
from gateway.instance import Instance
from gateway.settings import Settings
from gateway.web import API_KEY
from gateway.web.access import Principal, register_authenticator

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
PROBLEM = "application/problem+json"
# The ruleset's nlgov:paths-kebab-case and nlgov:query-keys-camel-case patterns.
KEBAB = re.compile(
    r"^(\/|(\/_[a-z0-9]+|\/(([a-z0-9\-]+|{[^}]+})(\/([a-z0-9\-\.]+|{[^}]+}))*)(\/_[a-z]+)?)\/?)$"
)
CAMEL = re.compile(r"^\$?[a-z][a-z\d]*([A-Z][a-z\d]*)*$")
SEMVER = re.compile(
    r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$"
)


class ItemQuery(Schema):
    pageSize = fields.Integer()  # noqa: N815 - API field names are camelCase


class ItemBody(Schema):
    name = fields.String(required=True)


def probe_blueprint() -> Blueprint:
    blp = Blueprint("probe", __name__, url_prefix="/api/v1")

    @blp.route("/probe-items/<int:item_id>")
    class ProbeItem(MethodView):
        @blp.arguments(ItemQuery, location="query")
        @blp.response(200, ItemBody)
        def get(self, args: dict[str, Any], item_id: int) -> dict[str, Any]:
            return {"name": str(item_id)}

        @blp.arguments(ItemBody)
        @blp.response(201, ItemBody)
        def put(self, data: dict[str, Any], item_id: int) -> dict[str, Any]:
            return data

    return blp


@pytest.fixture
def probe_client(settings: Settings, instance: Instance) -> Iterator[FlaskClient]:
    contact = {
        "api_contact_name": "Team Sluis Weert",
        "api_contact_email": "sluis@weert.example",
        "api_contact_url": "https://weert.example/sluis",
    }
    probe_app = create_app(settings.with_changes(**contact), instance=instance)
    probe_app.extensions[API_KEY].register_blueprint(probe_blueprint())
    with probe_app.test_client() as client:
        yield client


@pytest.fixture(params=["real", "probe"])
def doc(request: pytest.FixtureRequest, client: FlaskClient) -> dict[str, Any]:
    which = client if request.param == "real" else request.getfixturevalue("probe_client")
    response = which.get("/api/v1/openapi.json")
    assert response.status_code == 200
    body: dict[str, Any] = response.get_json()
    return body


def operations(doc: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in doc["paths"].items():
        for method in METHODS:
            if method in item:
                yield path, method, item[method]


def resolve(doc: dict[str, Any], obj: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in obj:
        node: Any = doc
        for part in obj["$ref"].removeprefix("#/").split("/"):
            node = node[part]
        obj = node
    return obj


def test_info_has_contact_semver_and_relative_v1_server(client: FlaskClient) -> None:
    doc = client.get("/api/v1/openapi.json").get_json()
    assert doc["info"]["contact"] == {
        "name": "Sluis gateway beheer",
        "email": "sluis-beheer@example.org",
        "url": "https://example.org/sluis",
    }
    assert doc["info"]["version"] == __version__
    assert SEMVER.match(doc["info"]["version"])
    assert [s["url"] for s in doc["servers"]] == ["/api/v1"]


def test_contact_comes_from_settings(probe_client: FlaskClient) -> None:
    contact = probe_client.get("/api/v1/openapi.json").get_json()["info"]["contact"]
    assert contact["email"] == "sluis@weert.example"


def test_every_operation_has_a_unique_operation_id(doc: dict[str, Any]) -> None:
    ids = [op.get("operationId") for _path, _method, op in operations(doc)]
    assert all(ids)
    assert len(ids) == len(set(ids))


def test_every_response_documents_the_api_version_header(doc: dict[str, Any]) -> None:
    checked = 0
    for path, method, op in operations(doc):
        for code, response in op["responses"].items():
            headers = resolve(doc, response).get("headers", {})
            assert "API-Version" in headers, (path, method, code)
            checked += 1
    assert checked >= 2


def test_errors_are_problem_json_and_every_operation_has_one(doc: dict[str, Any]) -> None:
    problem = doc["components"]["schemas"]["Problem"]
    assert {"status", "title", "detail"} <= set(problem["properties"])
    for path, method, op in operations(doc):
        errors = {c: r for c, r in op["responses"].items() if c == "default" or c[0] in "45"}
        assert errors, (path, method)
        for code, response in errors.items():
            content = resolve(doc, response)["content"]
            assert list(content) == [PROBLEM], (path, method, code)
            assert content[PROBLEM]["schema"] == {"$ref": "#/components/schemas/Problem"}


def test_paths_are_kebab_case_and_query_keys_camel_case(doc: dict[str, Any]) -> None:
    for path, _method, op in operations(doc):
        assert KEBAB.match(path), path
        assert not path.endswith("/") or path == "/", path
        for param in op.get("parameters", []):
            if param.get("in") == "query":
                assert CAMEL.match(param["name"]), (path, param["name"])


def test_input_operations_document_400_not_422_and_private_ones_401(
    probe_client: FlaskClient,
) -> None:
    doc = probe_client.get("/api/v1/openapi.json").get_json()
    item = doc["paths"]["/probe-items/{item_id}"]
    for method in ("get", "put"):
        codes = set(item[method]["responses"])
        assert {"400", "401", "500"} <= codes, method
        assert "422" not in codes
    assert item["get"]["operationId"] == "getProbeItemsByItemId"
    health = doc["paths"]["/health"]["get"]["responses"]
    assert "401" not in health  # public: the access guard lets everyone in
    assert "400" not in health  # takes no input


def test_the_400_promised_is_the_400_sent(probe_client: FlaskClient) -> None:
    register_authenticator(probe_client.application, lambda _request: Principal("partner", "p"))
    response = probe_client.get("/api/v1/probe-items/3?pageSize=many")
    assert response.status_code == 400
    assert response.mimetype == PROBLEM
    assert response.get_json()["invalidParams"][0]["name"] == "pageSize"
    assert response.headers["API-Version"] == __version__


def test_real_responses_carry_api_version(client: FlaskClient) -> None:
    for url, status in (("/api/v1/health", 200), ("/api/v1/no-such-thing", 404)):
        response = client.get(url)
        assert response.status_code == status
        assert response.headers["API-Version"] == __version__


def test_refused_request_carries_api_version(probe_client: FlaskClient) -> None:
    response = probe_client.put("/api/v1/probe-items/3", json={})
    assert response.status_code == 401
    assert response.headers["API-Version"] == __version__


def test_docs_page_lists_operations_without_scripts(client: FlaskClient) -> None:
    response = client.get("/api/v1/docs")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert "GET /api/v1/health" in page
    assert "getHealth" in page
    assert "Sluis gateway API" in page
    assert __version__ in page
    assert 'href="/api/v1/openapi.json"' in page
    assert "<script" not in page
    assert "<style" not in page
    assert response.headers["Content-Security-Policy"].startswith("default-src 'none'")


def test_docs_page_shows_parameters_and_escapes(probe_client: FlaskClient) -> None:
    page = probe_client.get("/api/v1/docs").get_data(as_text=True)
    assert "PUT /api/v1/probe-items/{item_id}" in page
    assert "<code>pageSize</code> (query)" in page
    assert "urn:sluis:problem:&lt;code&gt;" in page  # the Problem schema, escaped


@pytest.mark.parametrize(
    ("rule", "path"),
    [
        ("/api/v1/health", "/health"),
        ("/api/v1/partners/<int:partner_id>/keys", "/partners/{partner_id}/keys"),
        ("/api/v1", "/"),
        ("/console/login", "/console/login"),
    ],
)
def test_openapi_path(rule: str, path: str) -> None:
    assert openapi_path(rule) == path


@pytest.mark.parametrize(
    ("method", "path", "expected"),
    [
        ("get", "/health", "getHealth"),
        ("post", "/rent-signals", "postRentSignals"),
        ("delete", "/partners/{partner_id}/keys", "deletePartnersByPartnerIdKeys"),
        ("get", "/", "getRoot"),
    ],
)
def test_operation_id(method: str, path: str, expected: str) -> None:
    assert operation_id(method, path) == expected
