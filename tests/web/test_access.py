"""Default deny: every route needs credentials except the named allowlist."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient

from gateway.web.access import PUBLIC_ENDPOINTS

EXPECTED_PUBLIC = {
    "health.Health",
    "api-docs.openapi_json",
    "api-docs.docs",
    "console.login",
    "console.static",
}
#: Routes with a path variable that must name a real file to answer 200.
CONCRETE = {"console.static": "/console/static/console.css"}


def test_allowlist_is_short_and_named() -> None:
    assert set(PUBLIC_ENDPOINTS) == EXPECTED_PUBLIC
    assert all(reason for reason in PUBLIC_ENDPOINTS.values())


def _concrete(rule: str) -> str:
    return re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", "x", rule)


def test_every_other_route_refuses_an_anonymous_caller(app: Flask, client: FlaskClient) -> None:
    checked = 0
    for rule in app.url_map.iter_rules():
        if rule.endpoint in PUBLIC_ENDPOINTS:
            continue
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            response = client.open(_concrete(rule.rule), method=method)
            if rule.endpoint.startswith("console."):
                # A person in a browser: sent to the login page, shown nothing else.
                assert response.status_code == 303, (rule.rule, method, response.status_code)
                assert response.location.endswith("/console/login")
            else:
                assert response.status_code == 401, (rule.rule, method, response.status_code)
                assert response.mimetype == "application/problem+json"
            checked += 1
    assert checked >= 1  # flask's own static route at least; later issues add many


def test_public_routes_answer_without_credentials(app: Flask, client: FlaskClient) -> None:
    for rule in app.url_map.iter_rules():
        if rule.endpoint in PUBLIC_ENDPOINTS:
            url = CONCRETE.get(rule.endpoint, _concrete(rule.rule))
            response = client.get(url)
            response.close()  # a static file response holds its file open until closed
            assert response.status_code == 200, url
