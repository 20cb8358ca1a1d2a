"""Every page for every role: allowed ones render, the others give a 403 page."""

from __future__ import annotations

import io
import zipfile

import pytest
from flask.testing import FlaskClient

from gateway.console.views import PAGES
from gateway.instance import Instance
from tests.console.conftest import ROLES, Clock, csrf_token, log_in, register_entries

GET_PAGES = {
    "console.overview": "/console/",
    "console.register": "/console/register",
    "console.exports": "/console/exports",
    "console.matrix": "/console/matrix",
    "console.policy": "/console/policy",
    "console.policy_flow": "/console/policy/flows/arrears-signal",
    "console.policy_history": "/console/policy/history",
    "console.partners": "/console/partners",
}


@pytest.mark.parametrize("name", sorted(ROLES))
@pytest.mark.parametrize("endpoint", sorted(GET_PAGES))
def test_pages_per_role(web: FlaskClient, clock: Clock, name: str, endpoint: str) -> None:
    log_in(web, clock, name)
    response = web.get(GET_PAGES[endpoint])
    html = response.get_data(as_text=True)
    if set(ROLES[name].split()) & PAGES[endpoint]:
        assert response.status_code == 200, html
        assert "<script" not in html
        assert " style=" not in html
    else:
        assert response.status_code == 403
        assert "Geen toegang" in html
        assert "Traceback" not in html


def test_navigation_shows_only_allowed_pages(web: FlaskClient, clock: Clock) -> None:
    log_in(web, clock, "ad")
    html = web.get("/console/").get_data(as_text=True)
    assert 'href="/console/matrix"' in html
    assert 'href="/console/register"' not in html
    assert 'href="/console/exports"' not in html
    assert "Het hele register nu controleren" not in html  # admin may not verify


def test_verify_now_records_the_outcome(web: FlaskClient, clock: Clock) -> None:
    log_in(web, clock, "otto")
    response = web.post("/console/verify", data={"csrf_token": csrf_token(web, "/console/")})
    assert response.status_code == 303
    html = web.get("/console/").get_data(as_text=True)
    assert "ongeschonden" in html


def test_admin_may_not_verify(web: FlaskClient, clock: Clock) -> None:
    log_in(web, clock, "ad")
    token = csrf_token(web, "/console/")
    assert web.post("/console/verify", data={"csrf_token": token}).status_code == 403


def test_overview_counts_this_month(web: FlaskClient, clock: Clock) -> None:
    log_in(web, clock, "fien")
    html = web.get("/console/").get_data(as_text=True)
    assert "<code>user.login</code>" in html
    assert "<code>user.role-changed</code>" in html


def test_register_browser_filters_and_pages(web: FlaskClient, clock: Clock) -> None:
    log_in(web, clock, "otto")
    html = web.get("/console/register?type=user.role-changed").get_data(as_text=True)
    assert html.count("<code>user.role-changed</code>") == 4
    assert "<code>user.login</code>" not in html
    empty = web.get("/console/register?from=2030-01-01").get_data(as_text=True)
    assert "Geen regels gevonden" in empty
    bad = web.get("/console/register?from=gisteren")
    assert bad.status_code == 400
    assert "JJJJ-MM-DD" in bad.get_data(as_text=True)


def test_register_pagination(web: FlaskClient, clock: Clock) -> None:
    for _ in range(50):  # 4 account entries + 50 logins: more than one page of 50
        log_in(web, clock, "otto")
    first = web.get("/console/register").get_data(as_text=True)
    assert "Oudere regels" in first
    second = web.get("/console/register?before=10").get_data(as_text=True)
    assert "Oudere regels" not in second


def test_subject_access_is_fg_only_and_recorded(
    web: FlaskClient, clock: Clock, instance: Instance
) -> None:
    log_in(web, clock, "otto")
    html = web.get("/console/register").get_data(as_text=True)
    assert "Inzageverzoek" not in html
    token = csrf_token(web, "/console/register")
    assert (
        web.post(
            "/console/register/subject", data={"subject": "x", "csrf_token": token}
        ).status_code
        == 403
    )
    log_in(web, clock, "fien")
    token = csrf_token(web, "/console/register")
    found = web.post("/console/register/subject", data={"subject": "REF-1", "csrf_token": token})
    assert found.status_code == 200
    last = register_entries(instance)[-1]
    assert last["type"] == "subject-access.queried"
    assert last["actor"] == {"kind": "operator", "id": "console-fg"}  # a role, not a person
    empty = web.post("/console/register/subject", data={"subject": " ", "csrf_token": token})
    assert empty.status_code == 400
    assert "Traceback" not in empty.get_data(as_text=True)


def test_export_downloads_a_zip_and_is_recorded(
    web: FlaskClient, clock: Clock, instance: Instance
) -> None:
    log_in(web, clock, "otto")
    token = csrf_token(web, "/console/exports")
    response = web.post(
        "/console/exports",
        data={"from": "2026-01-01", "to": "2026-12-31", "format": "csv", "csrf_token": token},
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "application/zip"
    names = zipfile.ZipFile(io.BytesIO(response.get_data())).namelist()
    assert "sluis-export/MANIFEST.txt" in names
    assert "sluis-export/processing-log.csv" in names
    made = register_entries(instance)[-1]
    assert made["type"] == "export.made"
    assert made["actor"] == {"kind": "user", "id": "otto"}


def test_export_form_errors_are_shown_inline(web: FlaskClient, clock: Clock) -> None:
    log_in(web, clock, "fien")
    token = csrf_token(web, "/console/exports")
    response = web.post(
        "/console/exports",
        data={"from": "2026-12-31", "to": "2026-01-01", "format": "docx", "csrf_token": token},
    )
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "De einddatum ligt voor de begindatum." in html
    assert 'aria-invalid="true"' in html
    assert "Kies een van de formaten." in html


def test_matrix_shows_the_policy_matrix(web: FlaskClient, clock: Clock) -> None:
    log_in(web, clock, "ad")
    html = web.get("/console/matrix").get_data(as_text=True)
    assert "R = verplicht" in html
    assert "<table>" in html


def test_unknown_console_page_is_an_html_404(web: FlaskClient, clock: Clock) -> None:
    log_in(web, clock, "fien")
    response = web.get("/console/nothing-here")
    assert response.status_code in (303, 404)


def test_api_routes_do_not_accept_a_console_session(web: FlaskClient, clock: Clock) -> None:
    log_in(web, clock, "multi")
    response = web.get("/api/v1/notices")
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"


def test_unknown_console_path_is_an_html_404_and_api_stays_problem_json(web: FlaskClient) -> None:
    page = web.get("/console/nothing-here")
    assert page.status_code == 404
    assert page.mimetype == "text/html"
    assert "Pagina niet gevonden" in page.get_data(as_text=True)
    api = web.get("/api/v1/nothing-here")
    assert api.status_code == 404
    assert api.mimetype == "application/problem+json"


def test_an_unexpected_error_is_a_plain_500_page(
    web: FlaskClient, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    from gateway.services import register_browse

    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("secret detail REF-123")

    monkeypatch.setattr(register_browse, "browse", broken)
    log_in(web, clock, "fien")
    response = web.get("/console/register")
    assert response.status_code == 500
    html = response.get_data(as_text=True)
    assert "Er ging iets mis" in html
    assert "REF-123" not in html
    assert "Traceback" not in html


def test_security_headers_and_hsts_behind_tls(web: FlaskClient, clock: Clock) -> None:
    page = web.get("/console/login", base_url="https://localhost")
    assert page.headers["Strict-Transport-Security"].startswith("max-age=")
    assert page.headers["X-Frame-Options"] == "DENY"
    assert page.headers["Cache-Control"] == "no-store"
    assert page.headers["Referrer-Policy"] == "no-referrer"
    assert "Strict-Transport-Security" not in web.get("/console/login").headers


def test_the_console_is_not_in_the_openapi_document(web: FlaskClient) -> None:
    document = web.get("/api/v1/openapi.json").get_data(as_text=True)
    assert "/console" not in document
