"""The one problem+json shape, pinned."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from gateway.errors import Forbidden
from gateway.web import API_KEY
from gateway.web.access import public_endpoints

PROBLEM_KEYS = {"type", "title", "status", "detail", "instance", "code"}


def test_unknown_route_is_a_problem(client: FlaskClient) -> None:
    response = client.get("/api/v1/no-such-thing")
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert set(body) == PROBLEM_KEYS
    assert body["status"] == 404
    assert body["instance"] == "/api/v1/no-such-thing"
    assert body["type"] == "urn:sluis:problem:not-found"


def test_wrong_method_is_a_problem(client: FlaskClient) -> None:
    response = client.delete("/api/v1/health")
    assert response.status_code == 405
    assert response.mimetype == "application/problem+json"


def test_oversized_body_is_413(app: Flask, client: FlaskClient) -> None:
    app.config["MAX_CONTENT_LENGTH"] = 1024

    @app.post("/probe-size")
    def probe_size() -> str:
        from flask import request

        return str(len(request.get_data()))

    public_endpoints(app)["probe_size"] = "test probe"
    response = client.post("/probe-size", data=b"x" * 5000)
    assert response.status_code == 413
    assert response.get_json()["code"] == "payload-too-large"


def test_sluis_error_keeps_its_code_and_status(app: Flask, client: FlaskClient) -> None:
    @app.get("/probe-forbidden")
    def probe_forbidden() -> str:
        raise Forbidden("Landlords may not read AMW referrals.")

    public_endpoints(app)["probe_forbidden"] = "test probe"
    body = client.get("/probe-forbidden").get_json()
    assert body["status"] == 403
    assert body["code"] == "forbidden"
    assert body["detail"] == "Landlords may not read AMW referrals."


def test_unexpected_error_leaks_no_text(app: Flask, client: FlaskClient) -> None:
    @app.get("/probe-crash")
    def probe_crash() -> str:
        raise ValueError("Jansen, Dorpstraat 1")

    public_endpoints(app)["probe_crash"] = "test probe"
    response = client.get("/probe-crash")
    assert response.status_code == 500
    assert "Jansen" not in response.get_data(as_text=True)
    assert response.get_json()["code"] == "internal-error"


def test_schema_errors_become_400_with_invalid_params(app: Flask, client: FlaskClient) -> None:
    from flask_smorest import Blueprint
    from marshmallow import Schema, fields

    class ProbeSchema(Schema):
        count = fields.Integer(required=True)
        items = fields.List(fields.Nested(lambda: ItemSchema()))

    class ItemSchema(Schema):
        name = fields.String(required=True)

    blp = Blueprint("probe", __name__)

    @blp.post("/probe-schema")
    @blp.arguments(ProbeSchema)
    def probe_schema(body: dict[str, object]) -> str:
        return "ok"

    app.extensions[API_KEY].register_blueprint(blp)
    public_endpoints(app)["probe.probe_schema"] = "test probe"
    response = client.post("/probe-schema", json={"count": "many", "items": [{}], "extra": 1})
    assert response.status_code == 400
    body = response.get_json()
    assert body["code"] == "invalid-request"
    names = {p["name"] for p in body["invalidParams"]}
    assert {"count", "items[0].name", "extra"} <= names
    assert body["detail"].startswith("The request is not valid: ")
