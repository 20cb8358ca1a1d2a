"""Partners and keys (admin): add, register with fingerprint confirmation, rotate, revoke."""

from __future__ import annotations

import html as html_lib
import io
import re
from typing import Any

import pytest
from flask.testing import FlaskClient

from gateway.crypto.keys import PartnerKeyPair
from gateway.instance import Instance
from gateway.store import key_directory as directory_store
from tests.console.conftest import START, Clock, csrf_token, log_in, register_entries

PARTNER = "wonen-limburg"


def _types(instance: Instance) -> list[str]:
    return [e["type"] for e in register_entries(instance)]


def _add(web: FlaskClient, partner: str = PARTNER) -> Any:
    token = csrf_token(web, "/console/partners")
    return web.post("/console/partners/add", data={"csrf_token": token, "partner_id": partner})


def _upload(web: FlaskClient, pair: PartnerKeyPair, action: str = "register") -> Any:
    token = csrf_token(web, "/console/partners")
    return web.post(
        "/console/partners/keys",
        data={
            "csrf_token": token,
            "action": action,
            "public_key_file": (io.BytesIO(pair.public.to_json(START)), "partner.pub.json"),
        },
        content_type="multipart/form-data",
    )


def _confirm_form(page: str) -> dict[str, str]:
    fields = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', page))
    return {k: html_lib.unescape(v) for k, v in fields.items()}


@pytest.mark.parametrize("name", ["fien", "otto"])
def test_only_admin_opens_partners(web: FlaskClient, clock: Clock, name: str) -> None:
    log_in(web, clock, name)
    assert web.get("/console/partners").status_code == 403
    token = csrf_token(web, "/console/")
    for url in (
        "/console/partners/add",
        "/console/partners/keys",
        "/console/partners/keys/confirm",
        "/console/partners/keys/revoke",
    ):
        assert web.post(url, data={"csrf_token": token}).status_code == 403


def test_add_partner_only_covenant_parties(
    web: FlaskClient, clock: Clock, instance: Instance
) -> None:
    log_in(web, clock, "ad")
    page = web.get("/console/partners").get_data(as_text=True)
    assert f'<option value="{PARTNER}">' in page
    assert _add(web).status_code == 303
    assert "partner.added" in _types(instance)
    refused = _add(web, "not-a-party")
    assert refused.status_code == 400
    assert "not a party" in refused.get_data(as_text=True)
    again = _add(web)
    assert again.status_code == 409


def test_register_rotate_revoke_with_fingerprint_confirmation(
    web: FlaskClient, clock: Clock, instance: Instance
) -> None:
    log_in(web, clock, "ad")
    _add(web)
    pair = PartnerKeyPair.generate(PARTNER)
    step1 = _upload(web, pair)
    page = step1.get_data(as_text=True)
    assert step1.status_code == 200
    assert pair.public.fingerprint in page
    assert 'id="confirm"' in page
    form = _confirm_form(page)
    # Not confirmed: nothing registered.
    refused = web.post("/console/partners/keys/confirm", data=form)
    assert refused.status_code == 400
    with instance.database.connection() as conn:
        assert directory_store.keys_of(conn, PARTNER) == []
    # A different fingerprint than the key: refused.
    forged = web.post(
        "/console/partners/keys/confirm",
        data={**form, "fingerprint_matches": "yes", "fingerprint": "x"},
    )
    assert forged.status_code == 400
    done = web.post("/console/partners/keys/confirm", data={**form, "fingerprint_matches": "yes"})
    assert done.status_code == 303
    assert "key.registered" in _types(instance)
    listing = web.get("/console/partners").get_data(as_text=True)
    assert pair.public.key_id in listing
    # Rotate to a new key.
    new = PartnerKeyPair.generate(PARTNER)
    form = _confirm_form(_upload(web, new, "rotate").get_data(as_text=True))
    assert form["action"] == "rotate"
    assert (
        web.post(
            "/console/partners/keys/confirm", data={**form, "fingerprint_matches": "yes"}
        ).status_code
        == 303
    )
    assert "key.rotated" in _types(instance)
    with instance.database.connection() as conn:
        statuses = {k.key_id: k.status for k in directory_store.keys_of(conn, PARTNER)}
    assert statuses == {pair.public.key_id: "rotated", new.public.key_id: "active"}
    # Revoke needs a reason.
    token = csrf_token(web, "/console/partners")
    no_reason = web.post(
        "/console/partners/keys/revoke",
        data={"csrf_token": token, "key_id": new.public.key_id, "reason": " "},
    )
    assert no_reason.status_code == 400
    revoked = web.post(
        "/console/partners/keys/revoke",
        data={"csrf_token": token, "key_id": new.public.key_id, "reason": "laptop lost"},
    )
    assert revoked.status_code == 303
    assert "key.revoked" in _types(instance)
    again = web.post(
        "/console/partners/keys/revoke",
        data={"csrf_token": token, "key_id": new.public.key_id, "reason": "again"},
    )
    assert again.status_code == 409


def test_bad_key_file_and_unknown_partner(web: FlaskClient, clock: Clock) -> None:
    log_in(web, clock, "ad")
    token = csrf_token(web, "/console/partners")
    bad = web.post(
        "/console/partners/keys",
        data={"csrf_token": token, "public_key_file": (io.BytesIO(b"{}"), "x.pub.json")},
        content_type="multipart/form-data",
    )
    assert bad.status_code == 400
    assert "Traceback" not in bad.get_data(as_text=True)
    unknown = _upload(web, PartnerKeyPair.generate(PARTNER))  # partner not added yet
    assert unknown.status_code == 400
    missing = web.post("/console/partners/keys", data={"csrf_token": token})
    assert missing.status_code == 400
