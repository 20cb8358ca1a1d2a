"""The policy editor: edit, check, diff, publish; errors inline; concurrency; history, restore."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from gateway.api.exchange import POLICY_KEY
from gateway.instance import Instance
from gateway.policy import load_policy
from gateway.settings import Settings
from gateway.store import policy_versions
from tests.conftest import POLICY_DIR
from tests.console.conftest import Clock, csrf_token, log_in, register_entries

FLOW = "rent-withholding"
URL = f"/console/policy/flows/{FLOW}"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """A copy of the Weert policy the editor may write to."""
    shutil.copytree(POLICY_DIR, tmp_path / "policy")
    return Settings(
        data_dir=tmp_path / "data", key_dir=tmp_path / "keys", policy_dir=tmp_path / "policy"
    )


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def _form(web: FlaskClient, url: str = URL) -> dict[str, Any]:
    """The editor form's current values, as a browser would send them."""
    html = web.get(url).get_data(as_text=True)
    data: dict[str, Any] = {}
    for m in re.finditer(r"<input ([^>]*)>", html):
        attrs = dict(re.findall(r'(\w+)="([^"]*)"', m.group(1)))
        name, kind = attrs.get("name"), attrs.get("type")
        if not name or (kind == "checkbox" and " checked" not in m.group(1)):
            continue
        if kind == "checkbox":
            data.setdefault(name, []).append(attrs["value"])
        else:
            data[name] = attrs.get("value", "")
    for m in re.finditer(r'<textarea id="[^"]+" name="([^"]+)"[^>]*>([^<]*)</textarea>', html):
        data[m.group(1)] = m.group(2)
    for m in re.finditer(r'<select id="[^"]+" name="([^"]+)"[^>]*>(.*?)</select>', html, re.S):
        chosen = re.search(r'<option value="([^"]*)" selected>', m.group(2))
        data[m.group(1)] = chosen.group(1) if chosen else ""
    data.pop("c0-remove", None)
    return data


def _unescape(data: dict[str, Any]) -> dict[str, Any]:
    import html

    return {k: html.unescape(v) if isinstance(v, str) else v for k, v in data.items()}


def _check(web: FlaskClient, data: dict[str, Any]) -> Any:
    return web.post(URL, data={**data, "action": "check"})


def _publish(web: FlaskClient, data: dict[str, Any], effective: str = "2026-04-01") -> Any:
    checked = _check(web, data).get_data(as_text=True)
    found = re.search(r'name="checked" id="checked" value="([0-9a-f]{64})"', checked)
    assert found, checked
    return web.post(
        URL,
        data={**data, "action": "publish", "checked": found.group(1), "effective_from": effective},
    )


def test_only_fg_opens_the_editor(web: FlaskClient, clock: Clock) -> None:
    log_in(web, clock, "ad")
    for url in ("/console/policy", URL, "/console/policy/history"):
        assert web.get(url).status_code == 403
    token = csrf_token(web, "/console/")
    assert web.post(URL, data={"csrf_token": token}).status_code == 403
    restore = web.post("/console/policy/history/restore", data={"csrf_token": token})
    assert restore.status_code == 403


@pytest.mark.parametrize("name", ["otto"])
def test_auditor_may_not_edit(web: FlaskClient, clock: Clock, name: str) -> None:
    log_in(web, clock, name)
    assert web.get("/console/policy").status_code == 403


def test_pages_render_for_fg(web: FlaskClient, clock: Clock) -> None:
    log_in(web, clock, "fien")
    index = web.get("/console/policy").get_data(as_text=True)
    assert f'id="edit-{FLOW}"' in index
    html = web.get(URL).get_data(as_text=True)
    assert 'id="r0-allowed-withholding_amount"' in html
    assert 'id="r0-purpose_nl"' in html
    assert "<script" not in html
    assert web.get("/console/policy/history").status_code == 200
    assert web.get("/console/policy/flows/nope").status_code == 404


def test_edit_diff_publish_records_and_runs(
    web: FlaskClient, clock: Clock, console_app: Flask, settings: Settings, instance: Instance
) -> None:
    log_in(web, clock, "fien")
    data = _unescape(_form(web))
    data["r0-months"] = "24"
    data["r0-rule_nl"] = "24 maanden na de laatste inhouding."
    before = _snapshot(settings.policy_dir)
    checked = _check(web, data)
    html = checked.get_data(as_text=True)
    assert checked.status_code == 200
    assert "flows.rent-withholding.recipients[0].retention.months: 12 -&gt; 24" in html
    assert 'id="publish"' in html
    assert _snapshot(settings.policy_dir) == before  # checking writes nothing
    done = _publish(web, data)
    assert done.status_code == 303, done.get_data(as_text=True)
    running = console_app.extensions[POLICY_KEY]
    assert running.flows[FLOW].recipients[0].retention.months == 24
    on_disk = load_policy(settings.policy_dir)
    assert on_disk.version_id == running.version_id
    after = _snapshot(settings.policy_dir)
    changed = {k for k in after if after[k] != before.get(k)}
    assert changed == {f"flows/{FLOW}.yaml"}  # other files (and their comments) untouched
    events = [e for e in register_entries(instance) if e["type"] == "policy.published"]
    assert events[-1]["policyVersion"] == running.version_id
    with instance.database.connection() as conn:
        assert policy_versions.latest_published_id(conn) == running.version_id
        assert policy_versions.publications(conn)[0].effective_from == "2026-04-01"
    history = web.get("/console/policy/history").get_data(as_text=True)
    assert running.version_id[:12] in history


def test_invalid_edit_shows_errors_and_writes_nothing(
    web: FlaskClient, clock: Clock, settings: Settings, instance: Instance
) -> None:
    log_in(web, clock, "fien")
    data = _unescape(_form(web))
    data["r0-purpose_nl"] = ""
    data["r0-months"] = "twaalf"
    before = _snapshot(settings.policy_dir)
    response = _check(web, data)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="r0-purpose_nl-error"' in html
    assert "Vul dit veld in" in html
    assert 'id="r0-months-error"' in html
    assert 'id="publish"' not in html
    data["r0-purpose_nl"] = "Doel."
    data["r0-months"] = "12"
    data["r0-allowed"] = ["withholding_amount"]  # required fields no longer allowed
    response = _check(web, data)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="r0-required-error"' in html
    assert "is verplicht maar niet toegestaan" in html
    forced = web.post(URL, data={**data, "action": "publish", "effective_from": "2026-04-01"})
    assert forced.status_code == 422
    assert _snapshot(settings.policy_dir) == before
    assert not [e for e in register_entries(instance) if e["type"] == "policy.published"]


def test_publish_needs_a_check_of_the_same_edit(web: FlaskClient, clock: Clock) -> None:
    log_in(web, clock, "fien")
    data = _unescape(_form(web))
    data["r0-months"] = "24"
    response = web.post(
        URL, data={**data, "action": "publish", "checked": "0" * 64, "effective_from": "2026-04-01"}
    )
    assert response.status_code == 200  # shown the diff again, not published
    assert 'id="diff"' in response.get_data(as_text=True)


def test_concurrent_publish_is_refused_with_the_diff(
    console_app: Flask, clock: Clock, settings: Settings
) -> None:
    first, second = console_app.test_client(), console_app.test_client()
    log_in(first, clock, "fien")
    log_in(second, clock, "multi")
    one = _unescape(_form(first))
    two = _unescape(_form(second))
    one["r0-months"] = "24"
    two["r0-months"] = "36"
    assert _publish(first, one).status_code == 303
    before = _snapshot(settings.policy_dir)
    refused = _publish(second, two)
    html = refused.get_data(as_text=True)
    assert refused.status_code == 409
    assert 'id="refused"' in html
    assert "retention.months: 24 -&gt; 36" in html
    assert _snapshot(settings.policy_dir) == before
    assert console_app.extensions[POLICY_KEY].flows[FLOW].recipients[0].retention.months == 24


def test_restore_publishes_an_old_version_anew(
    web: FlaskClient, clock: Clock, console_app: Flask, settings: Settings, instance: Instance
) -> None:
    original = console_app.extensions[POLICY_KEY].version_id
    log_in(web, clock, "fien")
    first = _unescape(_form(web))
    first["r0-months"] = "24"
    assert _publish(web, first).status_code == 303
    second = _unescape(_form(web))
    second["r0-months"] = "36"
    assert _publish(web, second).status_code == 303
    # Restore the first publication (the shipped files' version was never published here).
    with instance.database.connection() as conn:
        rows = policy_versions.publications(conn)
    assert len(rows) == 2
    old = rows[1].version_id
    response = web.post(
        "/console/policy/history/restore",
        data={
            "csrf_token": csrf_token(web, "/console/policy/history"),
            "version_id": old,
            "based_on": rows[0].version_id,
            "effective_from": "2026-05-01",
        },
    )
    assert response.status_code == 303
    assert console_app.extensions[POLICY_KEY].version_id == old
    assert load_policy(settings.policy_dir).version_id == old
    with instance.database.connection() as conn:
        rows = policy_versions.publications(conn)
    assert [r.version_id for r in rows] == [old, rows[1].version_id, old]
    assert rows[0].effective_from == "2026-05-01"
    events = [e for e in register_entries(instance) if e["type"] == "policy.published"]
    assert len(events) == 3
    assert original != old
    stale = web.post(
        "/console/policy/history/restore",
        data={
            "csrf_token": csrf_token(web, "/console/policy/history"),
            "version_id": rows[1].version_id,
            "based_on": rows[1].version_id,
            "effective_from": "2026-05-01",
        },
    )
    assert stale.headers["Location"].endswith("refused=1")


def test_other_workers_reload_the_published_policy(
    console_app: Flask, settings: Settings, instance: Instance, clock: Clock
) -> None:
    from gateway.app import create_app

    other = create_app(settings, instance=instance, clock=clock)
    with console_app.test_client() as web:
        log_in(web, clock, "fien")
        data = _unescape(_form(web))
        data["r0-months"] = "24"
        assert _publish(web, data).status_code == 303
    with other.test_client() as client:
        client.get("/console/login")
    assert other.extensions[POLICY_KEY].version_id == console_app.extensions[POLICY_KEY].version_id
