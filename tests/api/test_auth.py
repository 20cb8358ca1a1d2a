"""Partner authentication: every refusal is a 401 problem naming the failed check."""

from __future__ import annotations

from datetime import timedelta

import pytest

from gateway.crypto.keys import PartnerKeyPair
from gateway.services import key_directory
from tests.api.world import AMW, INTAKE, LANDLORD, World

INBOX = "/api/v1/inbox"


def _refused(response: object, reason: str | None = None) -> dict[str, object]:
    assert response.status_code == 401, response.get_json()  # type: ignore[attr-defined]
    body: dict[str, object] = response.get_json()  # type: ignore[attr-defined]
    assert response.mimetype == "application/problem+json"  # type: ignore[attr-defined]
    if reason is not None:
        assert body["reason"] == reason
    return body


def test_signed_request_is_accepted(world: World) -> None:
    assert world[LANDLORD].get(INBOX).status_code == 200


def test_unsigned_request_is_refused(world: World) -> None:
    body = _refused(world[LANDLORD].get(INBOX, sign=False))
    assert "signed request" in str(body["detail"])


def test_replayed_nonce_is_refused(world: World) -> None:
    landlord = world[LANDLORD]
    assert landlord.get(INBOX, nonce="n" * 22).status_code == 200
    _refused(landlord.get(INBOX, nonce="n" * 22), "signature-replayed")


def test_expired_and_future_requests_are_refused(world: World) -> None:
    landlord = world[LANDLORD]
    _refused(landlord.get(INBOX, created=world.clock() - timedelta(minutes=6)), "signature-expired")
    _refused(
        landlord.get(INBOX, created=world.clock() + timedelta(minutes=2)), "signature-from-future"
    )


def test_unknown_key_is_refused(world: World) -> None:
    stranger = PartnerKeyPair.generate(LANDLORD)
    _refused(world[LANDLORD].get(INBOX, signer=stranger), "signature-unknown-key")


def test_revoked_key_is_refused_at_once(world: World) -> None:
    landlord = world[LANDLORD]
    with world.instance.database.connection() as conn:
        key_directory.revoke_key(
            conn,
            landlord.keys.public.key_id,
            now=world.clock() - timedelta(seconds=1),
            reason="laptop stolen",
            by="admin",
            register=world.instance.register,
        )
    _refused(landlord.get(INBOX), "signature-unknown-key")


def test_body_swapped_after_signing_is_refused(world: World) -> None:
    landlord = world[LANDLORD]
    envelope = landlord.seal("arrears-signal", subject_ref="subject-0001")
    from gateway.crypto.http_signatures import RequestParts, sign_request

    body = b'{"envelopes": [' + envelope.to_bytes() + b"]}"
    parts = RequestParts("POST", "localhost", "/api/v1/envelope-batches", "", {}, body)
    headers = sign_request(
        parts, landlord.keys, landlord.keys.public.key_id, int(world.clock().timestamp()), "x" * 22
    )
    headers["Content-Type"] = "application/json"
    swapped = body.replace(b"arrears-signal", b"arrears-signaX")
    response = landlord.client.post("/api/v1/envelope-batches", data=swapped, headers=headers)
    _refused(response, "content-digest-mismatch")


def test_signature_for_another_path_is_refused(world: World) -> None:
    landlord = world[LANDLORD]
    from gateway.crypto.http_signatures import RequestParts, sign_request

    parts = RequestParts("GET", "localhost", "/api/v1/policy-bundle", "", {}, b"")
    headers = sign_request(
        parts, landlord.keys, landlord.keys.public.key_id, int(world.clock().timestamp()), "y" * 22
    )
    _refused(landlord.client.get(INBOX, headers=headers), "request-signature-invalid")


@pytest.mark.parametrize("header", ["Signature", "Signature-Input"])
def test_half_a_signature_is_refused(world: World, header: str) -> None:
    response = world[AMW].client.get(INBOX, headers={header: "sig1=:AAAA:"})
    _refused(response)


def test_partner_acts_only_as_itself(world: World) -> None:
    # The intake signs with its own key: it sees its own inbox, never the landlord's.
    world.open_case()
    assert len(world[INTAKE].get(INBOX).get_json()["items"]) == 1
    assert world[LANDLORD].get(INBOX).get_json()["items"] == []


def test_replayed_write_is_refused_by_every_worker(world: World, settings: object) -> None:
    from gateway.app import create_app

    world.open_case()
    intake = world[INTAKE]
    message_id = intake.get(INBOX).get_json()["items"][0]["messageId"]
    path = f"/api/v1/envelopes/{message_id}/acknowledgement"
    assert intake.post(path, nonce="w" * 22).status_code == 200
    other_worker = create_app(settings, instance=world.instance, clock=world.clock)  # type: ignore[arg-type]
    replayed = intake.client
    intake.client = other_worker.test_client()
    try:
        _refused(intake.post(path, nonce="w" * 22), "signature-replayed")
    finally:
        intake.client = replayed


def test_recent_read_nonces_stay_bounded() -> None:
    from gateway.api.auth import RecentNonces

    recent = RecentNonces(keep_seconds=10, limit=100)
    assert all(recent.spend("k", f"n{i}", 1000) for i in range(100))
    assert recent.spend("k", "late", 1020)  # old ones swept at the limit
    assert not recent.spend("k", "late", 1020)
    assert len(recent._seen) <= 100
