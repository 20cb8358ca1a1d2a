from __future__ import annotations

from flask.testing import FlaskClient

from gateway.store import LATEST_VERSION


def test_health_reports_store_and_schema_version(client: FlaskClient) -> None:
    response = client.get("/api/v1/health")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "schemaVersion": LATEST_VERSION}


def test_responses_carry_security_headers(client: FlaskClient) -> None:
    response = client.get("/api/v1/health")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "no-store"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]


def test_openapi_document_is_served(client: FlaskClient) -> None:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert "/health" in response.get_json()["paths"]  # relative to servers[0].url, /api/v1
