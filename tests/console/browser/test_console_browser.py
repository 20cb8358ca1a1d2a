"""The console in headless Chromium against a real ``gateway serve``: log in with password and
TOTP, walk the pages, download the export; as an fg user edit a flow, check it, see the diff,
publish it and find it in the register and the export; as an admin add a partner, register its
key after comparing the fingerprint and revoke it; and scan every page with axe-core.

The tests share one gateway and run in file order: the walk sees the one setup publication,
the editor test adds the second, the axe scan comes last.

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

from gateway.crypto.keys import PartnerKeyPair
from tests.console.browser.harness import (
    ADMIN_USER,
    AXE_JS,
    FG_USER,
    POLICY_DIR,
    Gateway,
    axe_violations,
    browser_page,
    chromium_missing,
    log_in,
    new_page,
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


FLOW = "arrears-signal"


@pytest.fixture
def user_page(console: tuple[Gateway, Any]) -> Iterator[Any]:
    """A second browser context (its own session) in the module's browser; closed after."""
    _, first = console
    page = new_page(first.context.browser)
    try:
        yield page
    finally:
        page.context.close()


def test_fg_edits_checks_publishes_and_finds_it(
    console: tuple[Gateway, Any], user_page: Any, tmp_path: Path
) -> None:
    gateway, _ = console
    base, page = gateway.base, user_page
    log_in(page, gateway, FG_USER)
    page.click('nav.main-nav >> text="Beleid"')
    page.wait_for_url(f"{base}/console/policy")
    page.click(f"#edit-{FLOW}")
    page.wait_for_url(f"{base}/console/policy/flows/{FLOW}")
    assert page.input_value("#r0-months") == "6"

    # An edit that breaks validation: the error next to the field, in plain words; no diff.
    page.uncheck("#r0-allowed-first_names")
    page.click("#check")
    page.wait_for_selector("#problems")
    error = page.locator("#r0-required-error")
    assert "first_names" not in error.inner_text()  # the field's label, not its id
    assert "verplicht" in error.inner_text()
    assert page.locator("#problems a[href='#r0-required']").count() == 1
    assert page.locator("#diff").count() == 0
    assert page.locator("#publish").count() == 0

    # A valid edit: 7 months instead of 6, and e-mail no longer allowed (it is not required).
    page.check("#r0-allowed-first_names")
    page.fill("#r0-months", "7")
    page.uncheck("#r0-allowed-email")
    page.click("#check")
    page.wait_for_selector("#diff")
    assert page.locator("#problems").count() == 0
    changes = page.locator("#diff ul.diff li").all_inner_texts()
    assert any(f"{FLOW}" in c and "retention.months" in c and "6 -> 7" in c for c in changes)
    assert any(f"{FLOW}" in c and "allowed" in c and "email" in c for c in changes)

    effective = (datetime.now(UTC).date() + timedelta(days=7)).isoformat()
    page.fill("#effective_from", effective)
    page.click("#publish")
    page.wait_for_url(f"{base}/console/policy/history?published=*")
    assert page.locator("#published").is_visible()
    versions = page.locator("section.version")
    assert versions.count() == 2
    newest = versions.first.inner_text()
    assert FG_USER in newest
    assert effective in newest
    versions.first.locator("summary").click()
    assert "6 -> 7" in versions.first.locator("ul.diff").inner_text()
    assert page.locator("#restore-1").count() == 1  # the older version can be restored

    # The flow file was rewritten in the instance's policy folder, never in the repository's.
    assert "months: 7" in (gateway.policy_dir / "flows" / f"{FLOW}.yaml").read_text()
    assert "months: 7" not in (POLICY_DIR / "flows" / f"{FLOW}.yaml").read_text()

    page.click("nav.main-nav >> text=Register")
    page.select_option("#type", "policy.published")
    page.click("form.filters button[type=submit]")
    page.wait_for_url("**/console/register?*type=policy.published*")
    rows = page.locator("table.entries tbody tr")
    assert rows.count() == 2
    assert FG_USER in rows.first.inner_text()  # newest first

    page.click("nav.main-nav >> text=Exports")
    today = datetime.now(UTC).date()
    page.fill("#from", (today - timedelta(days=1)).isoformat())
    page.fill("#to", today.isoformat())
    page.check("#format-json")
    with page.expect_download() as download:
        page.click("main form button[type=submit]")
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    with zipfile.ZipFile(saved) as archive:
        assert "sluis-export/MANIFEST.txt" in archive.namelist()
        entries = archive.read("sluis-export/entries.jsonl").decode().splitlines()
    published = [line for line in entries if '"policy.published"' in line]
    assert len(published) == 2


def test_admin_registers_and_revokes_a_partner_key(
    console: tuple[Gateway, Any], user_page: Any, tmp_path: Path
) -> None:
    gateway, _ = console
    base, page = gateway.base, user_page
    log_in(page, gateway, ADMIN_USER)
    assert page.goto(f"{base}/console/policy").status == 403  # the editor is the fg's
    page.goto(f"{base}/console/")
    page.click('nav.main-nav >> text="Partners en sleutels"')
    page.wait_for_url(f"{base}/console/partners")

    page.select_option("#partner_id", "wonen-limburg")
    page.click("#add-partner")
    page.wait_for_url(f"{base}/console/partners?done=added")
    assert page.locator("#h-wonen-limburg").is_visible()

    keys = PartnerKeyPair.generate("wonen-limburg").public
    key_file = tmp_path / "wonen-limburg.pub.json"
    key_file.write_bytes(keys.to_json(datetime.now(UTC)))
    page.set_input_files("#public_key_file", str(key_file))
    page.check("#action-register")
    page.click("#upload")
    page.wait_for_url(f"{base}/console/partners/keys")
    assert page.locator("#fingerprint-shown").inner_text() == keys.fingerprint
    page.check("#fingerprint-matches")
    page.click("#confirm")
    page.wait_for_url(f"{base}/console/partners?done=registered")
    row = page.locator("section.partner tbody tr", has_text=keys.key_id)
    assert row.count() == 1
    assert "actief" in row.inner_text()

    reason = "Oefening: de sleutel stond op een kwijtgeraakte laptop"
    page.fill(f"[id='reason-{keys.key_id}']", reason)
    page.click(f"[id='revoke-{keys.key_id}']")
    page.wait_for_url(f"{base}/console/partners?done=revoked")
    row = page.locator("section.partner tbody tr", has_text=keys.key_id)
    assert "ingetrokken" in row.inner_text()
    assert reason in row.inner_text()
    assert page.locator(f"[id='revoke-{keys.key_id}']").count() == 0


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
    "/console/policy",
    f"/console/policy/flows/{FLOW}",
    "/console/partners",
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


def _editor_errors(page: Any, base: str) -> None:
    page.goto(f"{base}/console/policy/flows/{FLOW}")
    page.uncheck("#r0-allowed-first_names")
    page.fill("#r0-months", "zes")
    page.fill("#c3-value", "1")  # a new condition without a field is no condition: no error
    page.click("#check")
    page.wait_for_selector("#r0-months-error")


def _editor_diff(page: Any, base: str) -> None:
    page.goto(f"{base}/console/policy/flows/{FLOW}")
    page.fill("#r0-purpose_en", "Early signalling of rent arrears (edited, not published).")
    page.click("#check")
    page.wait_for_selector("#diff")


def _history(page: Any, base: str) -> None:
    page.goto(f"{base}/console/policy/history")
    page.evaluate("document.querySelectorAll('details').forEach(d => { d.open = true; })")


def _key_confirm(page: Any, base: str, tmp_path: Path) -> None:
    page.goto(f"{base}/console/partners")
    if page.locator("#partner_id option[value='st-joseph']").count():
        page.select_option("#partner_id", "st-joseph")
        page.click("#add-partner")
        page.wait_for_url("**/console/partners?done=added")
    key_file = tmp_path / "st-joseph.pub.json"
    key_file.write_bytes(PartnerKeyPair.generate("st-joseph").public.to_json(datetime.now(UTC)))
    page.set_input_files("#public_key_file", str(key_file))
    page.click("#upload")
    page.wait_for_selector("#fingerprint-shown")


def _partners_error(page: Any, base: str, tmp_path: Path) -> None:
    page.goto(f"{base}/console/partners")
    bad = tmp_path / "not-a-key.pub.json"
    bad.write_text('{"format": "something else"}')
    page.set_input_files("#public_key_file", str(bad))
    page.click("#upload")
    page.wait_for_selector("#message")


def test_every_page_passes_axe(console: tuple[Gateway, Any], tmp_path: Path) -> None:
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
    _editor_errors(page, gateway.base)
    scan("policy editor, check with errors")
    _editor_diff(page, gateway.base)
    scan("policy editor, diff")
    _history(page, gateway.base)
    scan("policy history, differences open")
    _key_confirm(page, gateway.base, tmp_path)
    scan("key fingerprint confirmation")
    page.click("#cancel")
    _partners_error(page, gateway.base, tmp_path)
    scan("partners page with an error")
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
