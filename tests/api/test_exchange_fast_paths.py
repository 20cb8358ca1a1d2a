"""The submission's fast paths give exactly what the plain way gives.

Work moved out of the write transaction (signature checks before the lock) must decide the same
as when it ran inside it; work done per batch instead of per envelope (proofs, receipts, cases)
must produce the same bytes as the reference functions it replaces.
"""

from __future__ import annotations

from typing import Any

import pytest

from gateway.crypto.encoding import b64u_encode
from gateway.services import exchange as exchange_service
from gateway.services import key_directory
from tests.api.world import LANDLORD, World

BATCHES = "/api/v1/envelope-batches"


def _reasons(receipt: dict[str, Any]) -> list[str]:
    return [r["code"] for r in receipt["reasons"]]


def test_a_bad_signature_is_refused_beside_good_ones(world: World) -> None:
    landlord = world[LANDLORD]
    good = landlord.seal("arrears-signal", subject_ref="subject-0001")
    bad = landlord.seal("arrears-signal", subject_ref="subject-0002").to_json()
    bad["signature"] = b64u_encode(bytes(64))
    result = landlord.post(BATCHES, {"envelopes": [good.to_json(), bad]}).get_json()
    outcomes = [(r["outcome"], _reasons(r)) for r in result["receipts"]]
    assert outcomes == [("accepted", []), ("refused", ["signature-invalid"])]


def test_a_key_revoked_after_the_check_before_the_lock_is_refused(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The signature verified before the lock, then the key was revoked: the decision inside
    the transaction reads the key again and refuses, as it would have without the early check."""
    landlord = world[LANDLORD]
    envelope = landlord.seal("arrears-signal", subject_ref="subject-0001")
    original = exchange_service.Exchange._verify_before_lock

    def then_revoke(self: exchange_service.Exchange, sender: str, items: Any) -> None:
        original(self, sender, items)
        assert all(i.verified_key is not None for i in items)  # it did verify early
        with world.instance.database.connection() as conn:
            key_directory.revoke_key(
                conn,
                landlord.keys.public.key_id,
                now=world.clock(),
                reason="test",
                by="admin",
                register=world.instance.register,
            )

    monkeypatch.setattr(exchange_service.Exchange, "_verify_before_lock", then_revoke)
    receipt = landlord.submit(envelope).get_json()["receipts"][0]
    assert (receipt["outcome"], _reasons(receipt)) == ("refused", ["sender-key-revoked"])
