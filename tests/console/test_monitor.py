"""The monitor page and its CSV: fg only, aggregated figures, no case or subject reference."""

from __future__ import annotations

import csv
import io

import pytest
from flask.testing import FlaskClient

from gateway.instance import Instance
from tests.console.conftest import ROLES, Clock, log_in
from tests.console.monitor_data import seed


@pytest.fixture
def seeded(instance: Instance, clock: Clock) -> int:
    with instance.database.connection() as conn:
        return seed(conn, clock.now)


@pytest.mark.parametrize("name", sorted(ROLES))
@pytest.mark.parametrize("path", ["/console/monitor", "/console/monitor.csv"])
def test_monitor_is_for_the_fg_only(web: FlaskClient, clock: Clock, name: str, path: str) -> None:
    log_in(web, clock, name)
    response = web.get(path)
    assert response.status_code == (200 if "fg" in ROLES[name].split() else 403)


def test_monitor_page_shows_charts_and_tables(web: FlaskClient, clock: Clock, seeded: int) -> None:
    log_in(web, clock, "fien")
    html = web.get("/console/monitor").get_data(as_text=True)
    assert html.count('role="img"') == 7
    assert html.count("<table>") == 7
    assert 'aria-labelledby="chart-signals-title"' in html
    assert "Signalen per maand per verhuurder" in html
    assert "<script" not in html
    assert " style=" not in html
    assert "case-demo" not in html
    assert "demo-subject" not in html
    assert 'href="/console/monitor"' in web.get("/console/").get_data(as_text=True)
    english = web.get("/console/monitor?lang=en").get_data(as_text=True)
    assert "Signals per month per landlord" in english


def test_monitor_csv_matches_the_figures(web: FlaskClient, clock: Clock, seeded: int) -> None:
    log_in(web, clock, "fien")
    response = web.get("/console/monitor.csv")
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    raw = response.get_data()
    assert raw.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
    assert rows[0] == ["cijfer", "maand", "groep", "waarde"]
    assert sum(int(r[3]) for r in rows[1:] if r[0] == "signals") == seeded
    assert {r[2] for r in rows if r[0] == "signals"} == {"wonen-limburg", "st-joseph"}
    assert "case-demo" not in raw.decode("utf-8-sig")
    shares = [r[3] for r in rows if r[0] == "priority-share" and r[3]]
    assert shares
    assert all("," in s or s in ("0", "1") for s in shares)  # Dutch decimal comma
