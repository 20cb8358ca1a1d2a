"""The console in headless Chromium against a real ``gateway serve``: log in with password and
TOTP, walk the pages, download the export, and scan every page with axe-core.

Skipped (with the reason) only when Chromium cannot be installed here; ``make unit`` installs
Debian's chromium and axe-core first, so in CI these tests run.
"""

from __future__ import annotations

import csv
import io
import os
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.console.browser.harness import (
    AXE_JS,
    Gateway,
    axe_violations,
    browser_page,
    chromium_missing,
    log_in,
    running_gateway,
)

_MISSING = chromium_missing()
if _MISSING is not None and os.environ.get("REQUIRE_BROWSER_TESTS"):
    raise RuntimeError(f"REQUIRE_BROWSER_TESTS is set but {_MISSING}")
pytestmark = pytest.mark.skipif(_MISSING is not None, reason=_MISSING or "")


@pytest.fixture(scope="module")
def console(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Gateway, Any]]:
    """One gateway and one logged-in browser page for the module (each TOTP code works once)."""
    with running_gateway(tmp_path_factory.mktemp("gateway")) as gateway, browser_page() as page:
        log_in(page, gateway)
        yield gateway, page


def test_a_user_walks_the_console(console: tuple[Gateway, Any], tmp_path: Path) -> None:
    gateway, page = console
    base = gateway.base
    page.goto(f"{base}/console/")
    assert page.locator("h1").inner_text() == "Overzicht"
    assert "fien" in page.locator(".logout").inner_text()

    page.click("nav.main-nav >> text=Matrix gegevensuitwisseling")
    page.wait_for_url(f"{base}/console/matrix")
    assert page.locator(".matrix table").count() > 0

    page.click("nav.main-nav >> text=Register")
    page.select_option("#type", "policy.published")
    page.click("form.filters button[type=submit]")
    page.wait_for_url("**/console/register?*type=policy.published*")
    rows = page.locator("table.entries tbody tr")
    assert rows.count() == 1
    assert "policy.published" in rows.first.inner_text()
    assert "fien" in rows.first.inner_text()

    page.click("nav.main-nav >> text=Monitor")
    page.wait_for_url(f"{base}/console/monitor")
    assert page.locator("svg[role=img]").count() == 7
    assert page.locator("svg[role=img] rect.bar").count() > 0
    with page.expect_download() as csv_download:
        page.click("text=Deze cijfers downloaden als CSV")
    raw = Path(csv_download.value.path()).read_bytes()
    assert raw.startswith("\ufeff".encode())
    header = next(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
    assert header == ["cijfer", "maand", "groep", "waarde"]

    page.click("nav.main-nav >> text=Exports")
    today = datetime.now(UTC).date()
    page.fill("#from", (today - timedelta(days=1)).isoformat())
    page.fill("#to", today.isoformat())
    page.check("#format-json")
    with page.expect_download() as download:
        page.click("main form button[type=submit]")
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    assert saved.name.endswith(".zip")
    with zipfile.ZipFile(saved) as archive:
        names = archive.namelist()
    assert "sluis-export/MANIFEST.txt" in names


#: Every console page, as a path (GET) or a step that reaches it.
PAGES = [
    "/console/",
    "/console/?lang=en",
    "/console/register?lang=nl",
    "/console/register?type=policy.published",
    "/console/exports",
    "/console/matrix",
    "/console/monitor",
    "/console/monitor?lang=en",
    "/console/no-such-page?lang=nl",
]


def _subject_access(page: Any, base: str) -> None:
    page.goto(f"{base}/console/register")
    page.fill("#subject", "demo-subject-0001")
    page.click("section form button[type=submit]")
    page.wait_for_url(f"{base}/console/register/subject")


def _export_errors(page: Any, base: str) -> None:
    page.goto(f"{base}/console/exports")
    page.fill("#from", "2026-02-01")
    page.fill("#to", "2026-01-01")
    page.click("main form button[type=submit]")
    page.wait_for_selector(".notice-error")


def test_every_page_passes_axe(console: tuple[Gateway, Any]) -> None:
    assert AXE_JS.is_file(), f"{AXE_JS} is missing: make unit installs axe-core with npm"
    gateway, page = console
    found: dict[str, list[str]] = {}

    def scan(name: str) -> None:
        problems = axe_violations(page)
        if problems:
            found[name] = [
                f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']][:5]}"
                for v in problems
            ]

    for path in PAGES:
        page.goto(gateway.base + path)
        scan(path)
    _subject_access(page, gateway.base)
    scan("subject access result")
    _export_errors(page, gateway.base)
    scan("export form with errors")
    # The login page, before and after a failed login, in a context without the session.
    context = page.context.browser.new_context(bypass_csp=True)
    try:
        anonymous = context.new_page()
        anonymous.goto(f"{gateway.base}/console/login")
        found_login = axe_violations(anonymous)
        anonymous.fill("#username", "nobody")
        anonymous.fill("#password", "wrong password!")
        anonymous.fill("#code", "000000")
        anonymous.click("main button[type=submit]")
        found_login += axe_violations(anonymous)
        if found_login:
            found["login"] = [f"{v['id']} ({v['impact']})" for v in found_login]
    finally:
        context.close()
    assert found == {}
