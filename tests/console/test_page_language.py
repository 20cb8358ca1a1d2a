"""Every console page names its language, the app-wide 404 page included (axe: html-has-lang)."""

from __future__ import annotations

from flask.testing import FlaskClient

from tests.console.conftest import Clock, log_in


def test_the_404_page_names_its_language(web: FlaskClient, clock: Clock) -> None:
    log_in(web, clock, "fien")
    response = web.get("/console/no-such-page")
    assert response.status_code == 404
    assert '<html lang="nl">' in response.get_data(as_text=True)


def test_the_monitor_names_english_when_asked(web: FlaskClient, clock: Clock) -> None:
    log_in(web, clock, "fien")
    html = web.get("/console/monitor?lang=en").get_data(as_text=True)
    assert '<html lang="en">' in html
