"""Logging in to the console: password + TOTP, lockout, CSRF, expiry, logout, the register."""

from __future__ import annotations

from flask.testing import FlaskClient

from gateway.instance import Instance
from tests.console.conftest import Clock, csrf_token, log_in, register_entries


def test_login_page_is_public_dutch_and_strict(web: FlaskClient) -> None:
    page = web.get("/console/login")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert '<html lang="nl">' in html
    assert "Gebruikersnaam" in html
    assert "<script" not in html
    assert "style=" not in html
    csp = page.headers["Content-Security-Policy"]
    assert csp == (
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    )
    cookie = page.headers["Set-Cookie"]
    assert "Secure" in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=Strict" in cookie
    assert "Path=/console" in cookie


def test_english_on_request(web: FlaskClient) -> None:
    html = web.get("/console/login?lang=en").get_data(as_text=True)
    assert '<html lang="en">' in html
    assert "Username" in html
    assert 'href="?lang=nl"' in html
    assert "Username" in web.get("/console/login").get_data(as_text=True)  # remembered


def test_login_logout_and_the_register(web: FlaskClient, clock: Clock, instance: Instance) -> None:
    response = log_in(web, clock, "fien")
    assert response.status_code == 303
    assert response.location.endswith("/console/")
    overview = web.get("/console/")
    assert overview.status_code == 200
    assert "fien" in overview.get_data(as_text=True)
    login = register_entries(instance)[-1]
    assert (login["type"], login["actor"]) == ("user.login", {"kind": "user", "id": "fien"})
    assert login["stream"] == "administration"
    token = csrf_token(web, "/console/")
    out = web.post("/console/logout", data={"csrf_token": token})
    assert out.status_code == 303
    assert out.location.endswith("/console/login")
    assert register_entries(instance)[-1]["type"] == "user.logout"
    assert web.get("/console/").status_code == 303


def test_wrong_totp_and_password_are_refused_and_recorded(
    web: FlaskClient, clock: Clock, instance: Instance
) -> None:
    wrong_code = log_in(web, clock, "fien", code="000000")
    assert wrong_code.status_code == 401
    assert "klopt niet" in wrong_code.get_data(as_text=True)
    wrong_password = log_in(web, clock, "fien", password="not the passphrase")
    assert wrong_password.status_code == 401
    failed = [e for e in register_entries(instance) if e["type"] == "user.login-failed"]
    assert [e["reason"] for e in failed] == ["bad-totp", "bad-password"]
    assert web.get("/console/").status_code == 303


def test_lockout_after_five_failures(web: FlaskClient, clock: Clock, instance: Instance) -> None:
    for _ in range(5):
        assert log_in(web, clock, "otto", password="not the passphrase").status_code == 401
    assert log_in(web, clock, "otto").status_code == 401  # right credentials, still locked
    assert register_entries(instance)[-1]["reason"] == "locked"
    clock.tick(minutes=16)
    assert log_in(web, clock, "otto").status_code == 303


def test_missing_or_forged_csrf_token_gives_a_400_page(web: FlaskClient, clock: Clock) -> None:
    web.get("/console/login")
    missing = web.post("/console/login", data={"username": "fien", "password": "x", "code": "1"})
    assert missing.status_code == 400
    assert missing.mimetype == "text/html"
    assert "beveiligingstoken" in missing.get_data(as_text=True)
    forged = web.post(
        "/console/login",
        data={"username": "fien", "password": "x", "code": "1", "csrf_token": "forged"},
    )
    assert forged.status_code == 400
    log_in(web, clock, "fien")
    logout = web.post("/console/logout", data={"csrf_token": "forged"})
    assert logout.status_code == 400
    assert web.get("/console/").status_code == 200  # still logged in


def test_idle_session_expires(web: FlaskClient, clock: Clock) -> None:
    log_in(web, clock, "fien")
    clock.tick(minutes=29)
    assert web.get("/console/").status_code == 200
    clock.tick(minutes=31)
    expired = web.get("/console/")
    assert expired.status_code == 303
    assert "expired=1" in expired.location
    page = web.get(expired.location).get_data(as_text=True)
    assert "sessie is beëindigd" in page


def test_login_sets_a_new_session(web: FlaskClient, clock: Clock) -> None:
    web.get("/console/login")
    before = web.get_cookie("sluis_console", path="/console")
    log_in(web, clock, "fien")
    after = web.get_cookie("sluis_console", path="/console")
    assert before is not None
    assert after is not None
    assert before.value != after.value
