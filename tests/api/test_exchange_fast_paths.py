"""The submission's fast paths give exactly what the plain way gives.

Work moved out of the write transaction (signature checks before the lock) must decide the same
as when it ran inside it; work done per batch instead of per envelope (proofs, receipts, cases)
must produce the same bytes as the reference functions it replaces.
"""

from __future__ import annotations

from typing import Any

import pytest

from gateway.api import auth
from gateway.crypto.encoding import b64u_encode
from gateway.services import exchange as exchange_service
from gateway.services import key_directory
from gateway.store import exchange as exchange_store
from gateway.store import register as register_store
from gateway.store import transaction
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


# -- the batch's nonce, spent inside the batch's transaction ------------------------------------


def _nonce_spent(world: World, nonce: str) -> bool:
    key_id = world[LANDLORD].keys.public.key_id
    with world.instance.database.connection() as conn:
        return exchange_store.nonce_seen(conn, key_id, nonce)


def _stored(world: World) -> tuple[int, int]:
    with world.instance.database.connection() as conn:
        envelopes = conn.execute("SELECT count(*) FROM envelopes").fetchone()[0]
        return register_store.size(conn), int(envelopes)


def test_the_batch_endpoint_is_the_one_named_for_spending_its_nonce_in_its_transaction(
    world: World,
) -> None:
    assert set(auth.NONCE_IN_TRANSACTION) <= set(world.app.view_functions)


def test_a_batch_spends_its_nonce_in_its_own_transaction(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_separate_transaction(*args: Any, **kwargs: Any) -> bool:
        raise AssertionError("the batch's nonce is spent in a transaction of its own")

    monkeypatch.setattr(exchange_store, "spend_nonce", no_separate_transaction)
    landlord = world[LANDLORD]
    envelope = landlord.seal("arrears-signal", subject_ref="subject-0001")
    body = {"envelopes": [envelope.to_json()]}
    assert landlord.post(BATCHES, body, nonce="b" * 22).status_code == 200
    assert _nonce_spent(world, "b" * 22)


def test_a_replayed_batch_is_refused_and_stores_nothing(world: World) -> None:
    landlord = world[LANDLORD]
    body = {"envelopes": [landlord.seal("arrears-signal", subject_ref="subject-0001").to_json()]}
    assert landlord.post(BATCHES, body, nonce="r" * 22).status_code == 200
    stored = _stored(world)
    replayed = landlord.post(BATCHES, body, nonce="r" * 22)
    assert (replayed.status_code, replayed.get_json()["reason"]) == (401, "signature-replayed")
    assert _stored(world) == stored


def test_a_copy_spent_while_the_batch_was_checked_is_refused_and_rolled_back(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A concurrent copy of the request spent the nonce after the authenticator looked: the
    batch's transaction refuses it and stores nothing of the batch."""
    landlord = world[LANDLORD]
    body = {"envelopes": [landlord.seal("arrears-signal", subject_ref="subject-0001").to_json()]}
    original = exchange_service.Exchange._verify_before_lock

    def copy_spends_it(self: exchange_service.Exchange, sender: str, items: Any) -> None:
        original(self, sender, items)
        with world.instance.database.connection() as conn, transaction(conn):
            key_id = landlord.keys.public.key_id
            assert exchange_store.remember_nonce(conn, key_id, "c" * 22, 0)

    monkeypatch.setattr(exchange_service.Exchange, "_verify_before_lock", copy_spends_it)
    stored = _stored(world)
    response = landlord.post(BATCHES, body, nonce="c" * 22)
    assert (response.status_code, response.get_json()["reason"]) == (401, "signature-replayed")
    assert _stored(world) == stored


@pytest.mark.parametrize("failure", ["too-many", "crash"])
def test_a_batch_refused_or_failed_before_commit_still_spends_its_nonce(
    world: World, monkeypatch: pytest.MonkeyPatch, failure: str
) -> None:
    landlord = world[LANDLORD]
    if failure == "too-many":
        body: dict[str, Any] = {"envelopes": [{}] * 501}
        expected = 400
    else:
        envelope = landlord.seal("arrears-signal", subject_ref="subject-0001")
        body = {"envelopes": [envelope.to_json()]}
        expected = 500

        def crash(*args: Any, **kwargs: Any) -> None:
            raise RuntimeError("power cut")

        monkeypatch.setattr(exchange_store, "insert_envelopes", crash)
    assert landlord.post(BATCHES, body, nonce="f" * 22).status_code == expected
    assert _nonce_spent(world, "f" * 22)
    monkeypatch.undo()
    replayed = landlord.post(BATCHES, body, nonce="f" * 22)
    assert (replayed.status_code, replayed.get_json()["reason"]) == (401, "signature-replayed")


def test_a_successful_write_that_never_spent_its_nonce_is_not_sent(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Fail closed: had the view forgotten to spend the deferred nonce, the answer is an error,
    not a 200 without replay protection."""
    original = exchange_service.Exchange.submit

    def forgets(self: exchange_service.Exchange, *args: Any, **kwargs: Any) -> Any:
        kwargs["first_write"] = None
        return original(self, *args, **kwargs)

    monkeypatch.setattr(exchange_service.Exchange, "submit", forgets)
    landlord = world[LANDLORD]
    body = {"envelopes": [landlord.seal("arrears-signal", subject_ref="subject-0001").to_json()]}
    assert landlord.post(BATCHES, body).status_code == 500
