"""The exchange through the Flask client: submit, decide, route cases, deliver, acknowledge."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.crypto.canonical import canonical_json
from gateway.crypto.envelope import TrustedSenderKeys, open_envelope
from gateway.crypto.note import NoteVerifier
from gateway.policy import canonical_bytes
from gateway.register import merkle
from gateway.register.checkpoint import open_checkpoint
from gateway.register.receipt import ReceiptInvalid, verify_receipt
from gateway.services.policy_publishing import verify_bundle
from gateway.services.publication import verify_directory
from gateway.store import exchange as exchange_store
from gateway.store import register as register_store
from gateway.store import transaction
from tests.api.world import (
    AMW,
    BENEFITS,
    DIRECTOR,
    DIRECTOR_2,
    EXPERT,
    INTAKE,
    LANDLORD,
    LANDLORD_2,
    World,
    sample_fields,
)

BATCHES = "/api/v1/envelope-batches"


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _verify(world: World, receipt: dict[str, Any]) -> dict[str, Any]:
    return verify_receipt(canonical_json(receipt), world.instance.signing_key.public_key)


def _register_size(world: World) -> int:
    with world.instance.database.connection() as conn:
        return register_store.size(conn)


def _reasons(receipt: dict[str, Any]) -> list[str]:
    return [r["code"] for r in receipt["reasons"]]


# -- submitting and deciding -------------------------------------------------------------------


def test_signal_opens_a_case_and_the_receipt_proves_its_register_entry(world: World) -> None:
    receipt = world[LANDLORD].send("arrears-signal", subject_ref="subject-0001")
    assert receipt["outcome"] == "accepted"
    assert receipt["caseRef"].startswith("case-")
    document = _verify(world, receipt)
    entry = document["entry"]
    assert '"type":"transfer.accepted"' in entry
    assert "v-surname" not in entry  # field names only, never a value
    assert "subject-0001" not in entry  # the subject only as an epoch pseudonym


def test_tampered_receipt_does_not_verify(world: World) -> None:
    receipt = world[LANDLORD].send("arrears-signal", subject_ref="subject-0001")
    forged = {**receipt, "outcome": "refused"}
    with pytest.raises(ReceiptInvalid):
        _verify(world, forged)


def test_repeated_monthly_signal_attaches_to_the_open_case(world: World) -> None:
    first = world[LANDLORD].send("arrears-signal", subject_ref="subject-0001")
    world.clock.advance(days=30)
    second = world[LANDLORD].send("arrears-signal", subject_ref="subject-0001")
    other = world[LANDLORD].send("arrears-signal", subject_ref="subject-0002")
    assert second["caseRef"] == first["caseRef"]
    assert other["caseRef"] != first["caseRef"]


def test_two_signals_for_one_subject_in_one_batch_share_one_case(world: World) -> None:
    landlord = world[LANDLORD]
    first, again, other = (
        landlord.seal("arrears-signal", subject_ref=s)
        for s in ("subject-0001", "subject-0001", "subject-0002")
    )
    receipts = landlord.submit(first, again, other).get_json()["receipts"]
    assert [r["outcome"] for r in receipts] == ["accepted"] * 3
    assert receipts[0]["caseRef"] == receipts[1]["caseRef"] != receipts[2]["caseRef"]
    state = world[INTAKE].get(f"/api/v1/cases/{receipts[0]['caseRef']}").get_json()
    assert state["state"] == "signalled"
    assert set(state["parties"]) == {LANDLORD, INTAKE}


def test_a_batch_decides_alike_looking_transfers_each_on_their_own(world: World) -> None:
    """The batch decides alike transfers once; True and 1 are equal in Python but are two
    different routing values to the policy engine."""
    cases = [world.open_case(f"subject-000{i}") for i in range(3)]
    intake = world[INTAKE]
    envelopes = [
        intake.seal("route-to-directors", case_ref=cases[0], routing={"priority": True}),
        intake.seal("route-to-directors", case_ref=cases[1], routing={"priority": 1}),
        intake.seal("route-to-directors", case_ref=cases[2], routing={"priority": True}),
    ]
    receipts = intake.submit(*envelopes).get_json()["receipts"]
    assert [r["outcome"] for r in receipts] == ["accepted", "refused", "accepted"]
    assert _reasons(receipts[1]) == ["routing-attribute-invalid"]


def test_resubmitting_a_batch_returns_the_same_receipts_and_stores_nothing_twice(
    world: World,
) -> None:
    landlord = world[LANDLORD]
    envelopes = [landlord.seal("arrears-signal", subject_ref=f"subject-000{i}") for i in range(3)]
    first = landlord.submit(*envelopes).get_json()
    size = _register_size(world)
    again = landlord.submit(*envelopes).get_json()
    assert again["receipts"] == first["receipts"]
    assert (again["accepted"], again["repeated"]) == (0, 3)
    assert _register_size(world) == size


def _receipt_bytes(response_data: bytes) -> list[bytes]:
    """The receipts of a batch answer, byte for byte as the gateway wrote them."""
    return [canonical_json(r) for r in json.loads(response_data)["receipts"]]


def test_a_resubmitted_batch_gets_byte_identical_receipts_rebuilt_from_the_register(
    world: World,
) -> None:
    landlord = world[LANDLORD]
    good = landlord.seal("arrears-signal", subject_ref="subject-0001")
    refused = landlord.seal("route-to-directors", case_ref="case-00000000000000000000")
    first = landlord.submit(good, refused)
    world[LANDLORD_2].send("arrears-signal", subject_ref="subject-0009")  # the tree grows
    again = landlord.submit(good, refused)
    assert _receipt_bytes(again.data) == _receipt_bytes(first.data)
    assert [r["outcome"] for r in again.get_json()["receipts"]] == ["accepted", "refused"]
    with world.instance.database.connection() as conn:
        kept = exchange_store.get_receipts(
            conn, [good.header.message_id, refused.header.message_id]
        )
    # What the gateway keeps is the references, not a second copy of the signed receipt.
    assert all(k.receipt == b"" and k.entry_seq is not None for k in kept.values())
    refusal = json.loads(kept[refused.header.message_id].reasons or "")
    assert [r["code"] for r in refusal] == ["case-unknown"]


def test_a_receipt_stored_whole_before_migration_0011_is_answered_as_stored(
    world: World,
) -> None:
    landlord = world[LANDLORD]
    envelope = landlord.seal("arrears-signal", subject_ref="subject-0001")
    old = b'{"format":"sluis-receipt/1","kept":"as stored"}'
    with world.instance.database.connection() as conn, transaction(conn):
        exchange_store.insert_receipts(
            conn,
            [
                exchange_store.StoredReceipt(
                    envelope.header.message_id, landlord.id, envelope.digest, "accepted", old
                )
            ],
        )
    answer = landlord.submit(envelope)
    assert answer.get_json()["repeated"] == 1
    assert answer.data.endswith(b'"receipts": [' + old + b"]}")


@pytest.mark.parametrize("points_to", ["a missing entry", "another message's entry"])
def test_insider_editing_a_receipt_reference_gets_an_error_not_a_signed_receipt(
    world: World, points_to: str
) -> None:
    landlord = world[LANDLORD]
    other = landlord.send("arrears-signal", subject_ref="subject-0002")
    envelope = landlord.seal("arrears-signal", subject_ref="subject-0001")
    seq = 10_000 if points_to == "a missing entry" else other["index"]
    with world.instance.database.connection() as conn, transaction(conn):
        exchange_store.insert_receipts(
            conn,
            [
                exchange_store.StoredReceipt(
                    envelope.header.message_id,
                    landlord.id,
                    envelope.digest,
                    "accepted",
                    entry_seq=seq,
                    tree_size=max(seq + 1, other["treeSize"]),
                )
            ],
        )
    answer = landlord.submit(envelope)
    assert answer.status_code == 500
    assert answer.get_json()["code"] == "register-error"
    assert b"signature" not in answer.data


def test_message_id_reused_for_other_content_is_refused(world: World) -> None:
    landlord = world[LANDLORD]
    landlord.send("arrears-signal", subject_ref="subject-0001", message_id="msg_00000000000000001x")
    receipt = landlord.send(
        "arrears-signal", subject_ref="subject-0002", message_id="msg_00000000000000001x"
    )
    assert receipt["outcome"] == "refused"
    assert _reasons(receipt) == ["message-id-reused"]


def test_each_envelope_of_a_batch_gets_its_own_decision(world: World) -> None:
    landlord = world[LANDLORD]
    good = landlord.seal("arrears-signal", subject_ref="subject-0001")
    not_allowed = landlord.seal("route-to-directors", case_ref="case-00000000000000000000")
    body = {"envelopes": [good.to_json(), {"header": {"v": 1}}, not_allowed.to_json()]}
    result = landlord.post(BATCHES, body).get_json()
    outcomes = [(r["outcome"], _reasons(r)[:1]) for r in result["receipts"]]
    assert outcomes == [
        ("accepted", []),
        ("refused", ["envelope-malformed"]),
        ("refused", ["case-unknown"]),
    ]
    assert (result["accepted"], result["refused"]) == (1, 2)
    for receipt in result["receipts"]:
        _verify(world, receipt)  # refusals are recorded in the register too


def test_landlord_may_not_route_a_case_to_the_directors(world: World) -> None:
    case = world.open_case()
    receipt = world[LANDLORD].send("route-to-directors", case_ref=case, routing={"priority": True})
    assert receipt["outcome"] == "refused"
    assert "sender-not-allowed" in _reasons(receipt)
    assert receipt["reasons"][0]["messageNl"]  # a Dutch sentence for the landlord's staff


def test_landlord_cannot_receive_the_tenants_date_of_birth(world: World) -> None:
    case = world.open_case()
    fields = sample_fields(world.policy, "feedback-to-landlord", LANDLORD)
    fields["date_of_birth"] = "01-01-1980"
    receipt = world[INTAKE].send("feedback-to-landlord", case_ref=case, fields={LANDLORD: fields})
    assert receipt["outcome"] == "refused"
    assert "field-not-allowed" in _reasons(receipt)


def test_referral_to_expert_is_not_allowed_before_routing(world: World) -> None:
    case = world.open_case()
    receipt = world[AMW].send("referral-to-expert", case_ref=case)
    assert "case-unknown" in _reasons(receipt)  # AMW is not yet a party to the case
    world[INTAKE].send("referral-to-amw", case_ref=case, routing={"priority": False})
    receipt = world[EXPERT].send("case-closure", case_ref=case)
    assert receipt["outcome"] == "refused"


def test_routing_moves_the_case_and_priority_sets_a_shorter_deadline(world: World) -> None:
    case = world.open_case()
    receipt = world[INTAKE].send("route-to-directors", case_ref=case, routing={"priority": True})
    assert receipt["outcome"] == "accepted", receipt["reasons"]
    state = world[DIRECTOR].get(f"/api/v1/cases/{case}").get_json()
    assert state["state"] == "with-directors"
    assert state["priority"] is True
    assert state["deadline"] == "2026-12-01"  # 5 working days after Tuesday 24 November
    assert set(state["parties"]) >= {LANDLORD, INTAKE, DIRECTOR, DIRECTOR_2}


def test_rent_withholding_reaches_the_landlord_only_with_three_fields(world: World) -> None:
    case = world.open_case()
    world[INTAKE].send("route-to-directors", case_ref=case, routing={"priority": False})
    # The benefits administration is a department of the directors' municipality: it may act
    # on the case the directors hold, with the flows the covenant gives its role.
    receipt = world[BENEFITS].send("rent-withholding", case_ref=case)
    assert receipt["outcome"] == "accepted", receipt["reasons"]
    landlord = world[LANDLORD]
    item = next(
        i
        for i in landlord.get("/api/v1/inbox").get_json()["items"]
        if i["flow"] == "rent-withholding"
    )
    sealed = landlord.get(f"/api/v1/envelopes/{item['messageId']}").get_data()
    opened = open_envelope(sealed, landlord.keys, TrustedSenderKeys.of(world[BENEFITS].keys.public))
    assert set(opened.fields) == {
        "withholding_amount",
        "withholding_start_month",
        "contract_reference",
    }


def test_another_organisation_cannot_act_on_a_case(world: World) -> None:
    case = world.open_case()
    receipt = world[LANDLORD_2].send("feedback-to-landlord", case_ref=case)
    assert _reasons(receipt) == ["case-unknown"]
    receipt = world[AMW].send("case-closure", case_ref=case)
    assert _reasons(receipt) == ["case-unknown"]


def test_closing_a_case_refuses_later_flows(world: World) -> None:
    case = world.open_case()
    closed = world[INTAKE].send("case-closure", case_ref=case)
    assert closed["outcome"] == "accepted", closed["reasons"]
    again = world[INTAKE].send("feedback-to-landlord", case_ref=case)
    assert _reasons(again) == ["case-closed"]
    new = world[LANDLORD].send("arrears-signal", subject_ref="subject-0001")
    assert new["caseRef"] != case  # a new signal after closure opens a new case


def test_envelope_sealed_by_another_partner_is_refused(world: World) -> None:
    envelope = world[LANDLORD_2].seal("arrears-signal", subject_ref="subject-0009")
    receipt = world[LANDLORD].submit(envelope).get_json()["receipts"][0]
    assert _reasons(receipt) == ["sender-mismatch"]


def test_envelope_sealed_to_an_unregistered_key_is_refused(world: World) -> None:
    from gateway.crypto.keys import PartnerKeyPair

    stranger = PartnerKeyPair.generate(INTAKE)
    envelope = world[LANDLORD].seal("arrears-signal", subject_ref="subject-0009")
    from gateway.crypto.envelope import seal

    envelope = seal(
        world[LANDLORD].keys,
        flow="arrears-signal",
        policy_version=world.policy.version_id,
        projections={
            INTAKE: (stranger.public, sample_fields(world.policy, "arrears-signal", INTAKE))
        },
        created=world.clock(),
        subject_ref="subject-0009",
    )
    receipt = world[LANDLORD].submit(envelope).get_json()["receipts"][0]
    assert _reasons(receipt) == ["recipient-key-unknown"]


def test_signal_without_subject_reference_is_refused(world: World) -> None:
    receipt = world[LANDLORD].send("arrears-signal")
    assert _reasons(receipt) == ["subject-ref-missing"]


def test_stale_policy_version_is_refused(world: World) -> None:
    from gateway.crypto.envelope import seal

    envelope = seal(
        world[LANDLORD].keys,
        flow="arrears-signal",
        policy_version="ab" * 32,
        projections={
            INTAKE: (
                world[INTAKE].keys.public,
                sample_fields(world.policy, "arrears-signal", INTAKE),
            )
        },
        created=world.clock(),
        subject_ref="subject-0009",
    )
    receipt = world[LANDLORD].submit(envelope).get_json()["receipts"][0]
    assert "stale-policy-version" in _reasons(receipt)


def test_crash_in_the_middle_of_a_batch_stores_nothing_and_the_retry_succeeds(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    landlord = world[LANDLORD]
    envelopes = [landlord.seal("arrears-signal", subject_ref=f"subject-100{i}") for i in range(4)]
    size = _register_size(world)
    original = exchange_store.insert_envelopes

    def crash(*args: Any, **kwargs: Any) -> None:
        original(*args, **kwargs)
        raise RuntimeError("power cut")

    monkeypatch.setattr(exchange_store, "insert_envelopes", crash)
    failed = landlord.submit(*envelopes)
    assert failed.status_code == 500
    assert failed.get_json()["detail"] == "The gateway failed to handle this request."
    assert _register_size(world) == size
    monkeypatch.setattr(exchange_store, "insert_envelopes", original)
    retried = landlord.submit(*envelopes).get_json()
    assert retried["accepted"] == 4


# -- bad requests -------------------------------------------------------------------------------


def test_malformed_json_is_400_never_500(world: World) -> None:
    response = world[LANDLORD].request("POST", BATCHES, raw=b'{"envelopes": [')
    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"


def test_unknown_fields_in_the_batch_are_refused(world: World) -> None:
    response = world[LANDLORD].post(BATCHES, {"envelopes": [{}], "hurry": True})
    assert response.status_code == 400
    assert response.get_json()["invalidParams"][0]["name"] == "hurry"


def test_too_many_envelopes_in_a_batch(world: World) -> None:
    response = world[LANDLORD].post(BATCHES, {"envelopes": [{}] * 501})
    assert response.status_code == 400
    assert "at most 500" in response.get_json()["detail"]


def test_body_over_the_limit_is_413(world: World) -> None:
    response = world[LANDLORD].request("POST", BATCHES, raw=b"x" * (11 * 1024 * 1024))
    assert response.status_code == 413


def test_unpublished_policy_is_503(world: World) -> None:
    with world.instance.database.connection() as conn, transaction(conn):
        conn.execute("DELETE FROM policy_versions")
    response = world[LANDLORD].submit(
        world[LANDLORD].seal("arrears-signal", subject_ref="s-000001")
    )
    assert response.status_code == 503
    assert "gateway policy publish" in response.get_json()["detail"]


# -- inbox, fetch, acknowledge, mismatch -------------------------------------------------------


def test_inbox_lists_priority_first_then_oldest_with_cursor_pages(world: World) -> None:
    cases = [world.open_case(f"subject-200{i}") for i in range(4)]
    intake = world[INTAKE]
    for i, case in enumerate(cases):
        world.clock.advance(minutes=1)
        intake.send("route-to-directors", case_ref=case, routing={"priority": i in (1, 3)})
    director = world[DIRECTOR]
    page = director.get("/api/v1/inbox", query={"limit": 3}).get_json()
    order = [item["caseRef"] for item in page["items"]]
    assert order == [cases[1], cases[3], cases[0]]
    rest = director.get(
        "/api/v1/inbox", query={"limit": 3, "cursor": page["nextCursor"]}
    ).get_json()
    assert [i["caseRef"] for i in rest["items"]] == [cases[2]]
    assert rest["nextCursor"] is None
    assert all(
        set(i)
        == {"messageId", "flow", "sender", "caseRef", "priority", "receivedAt", "state", "size"}
        for i in page["items"]
    )


def test_inbox_filters_by_flow_and_state(world: World) -> None:
    world.open_case()
    intake = world[INTAKE]
    items = intake.get("/api/v1/inbox", query={"flow": "arrears-signal"}).get_json()["items"]
    assert len(items) == 1
    assert intake.get("/api/v1/inbox", query={"flow": "case-closure"}).get_json()["items"] == []
    intake.post(f"/api/v1/envelopes/{items[0]['messageId']}/acknowledgement")
    assert intake.get("/api/v1/inbox").get_json()["items"] == []
    done = intake.get("/api/v1/inbox", query={"state": "acknowledged"}).get_json()["items"]
    assert [i["state"] for i in done] == ["acknowledged"]


def test_inbox_query_is_checked_on_every_request(world: World) -> None:
    """The query schema is one shared instance: each request still gets its own checks."""
    world.open_case()
    intake = world[INTAKE]
    for bad in ({"limit": 0}, {"limit": 10_000}, {"state": "lost"}, {"flow": "Not A Flow"}):
        response = intake.get("/api/v1/inbox", query=bad)
        assert response.status_code == 400, bad
        assert response.mimetype == "application/problem+json"
    assert len(intake.get("/api/v1/inbox", query={"limit": 1}).get_json()["items"]) == 1
    assert intake.get("/api/v1/inbox", query={"flow": "case-closure"}).get_json()["items"] == []
    assert len(intake.get("/api/v1/inbox").get_json()["items"]) == 1


def test_bad_cursor_is_400(world: World) -> None:
    response = world[INTAKE].get("/api/v1/inbox", query={"cursor": "not-a-cursor"})
    assert response.status_code == 400


def test_recipient_fetches_opens_and_acknowledges(world: World) -> None:
    world.open_case()
    intake = world[INTAKE]
    item = intake.get("/api/v1/inbox").get_json()["items"][0]
    fetched = intake.get(f"/api/v1/envelopes/{item['messageId']}")
    assert fetched.status_code == 200
    opened = open_envelope(
        fetched.get_data(), intake.keys, TrustedSenderKeys.of(world[LANDLORD].keys.public)
    )
    assert opened.fields["surname"] == "v-surname"
    listed = intake.get("/api/v1/inbox").get_json()["items"][0]
    assert listed["state"] == "delivered"
    ack = intake.post(f"/api/v1/envelopes/{item['messageId']}/acknowledgement").get_json()
    assert ack["state"] == "acknowledged"
    again = intake.post(f"/api/v1/envelopes/{item['messageId']}/acknowledgement").get_json()
    assert again == ack
    case = intake.get(f"/api/v1/cases/{item['caseRef']}").get_json()
    assert case["state"] == "triage"  # the intake's acknowledgement starts triage


def test_mismatch_report_is_recorded_once_and_flagged(world: World) -> None:
    world.open_case()
    intake = world[INTAKE]
    item = intake.get("/api/v1/inbox").get_json()["items"][0]
    path = f"/api/v1/envelopes/{item['messageId']}/mismatch-reports"
    first = intake.post(path, {"reason": "manifest-mismatch"})
    assert first.status_code == 201
    assert first.get_json()["recorded"] is True
    assert intake.post(path, {"reason": "manifest-mismatch"}).get_json()["recorded"] is False
    assert intake.post(path, {"reason": "the tenant name"}).status_code == 400
    with world.instance.database.connection() as conn:
        assert [r[2] for r in exchange_store.mismatch_reports(conn)] == ["manifest-mismatch"]


# -- publication, cases, register ----------------------------------------------------------------


def test_policy_bundle_is_signed_by_the_gateway(world: World) -> None:
    body = world[LANDLORD].get("/api/v1/policy-bundle").get_json()
    bundle = _unb64(body["bundle"])
    assert bundle == canonical_bytes(world.policy)
    verify_bundle(world.instance.signing_key.public_key, bundle, _unb64(body["signature"]))
    assert body["versionId"] == world.policy.version_id


def test_partner_directory_is_signed_and_holds_public_keys_only(world: World) -> None:
    body = world[LANDLORD].get("/api/v1/partner-directory").get_json()
    document = _unb64(body["document"])
    verify_directory(world.instance.signing_key.public_key, document, _unb64(body["signature"]))
    import json

    parsed = json.loads(document)
    amw = next(p for p in parsed["partners"] if p["id"] == AMW)
    assert amw["roles"] == ["social-work"]
    assert set(amw["keys"][0]) == {
        "keyId",
        "ed25519",
        "x25519",
        "encryptionKeyId",
        "status",
        "notBefore",
        "notAfter",
    }


def test_register_checkpoint_is_consistent_with_a_receipts_tree(world: World) -> None:
    receipt = world[LANDLORD].send("arrears-signal", subject_ref="subject-0001")
    with world.instance.database.connection() as conn, transaction(conn):
        world.instance.register.sign_checkpoint(conn, now=world.clock())
    body = (
        world[LANDLORD]
        .get("/api/v1/register-checkpoint", query={"fromSize": receipt["treeSize"]})
        .get_json()
    )
    verifier = NoteVerifier(world.instance.register.origin, world.instance.signing_key.public_key)
    checkpoint = open_checkpoint(body["checkpoint"], verifier)
    merkle.verify_consistency(
        receipt["treeSize"],
        checkpoint.size,
        bytes.fromhex(receipt["rootHash"]),
        checkpoint.root,
        [bytes.fromhex(h) for h in body["consistencyProof"]],
    )


def test_hand_built_responses_have_exactly_their_documented_fields(world: World) -> None:
    from gateway.api.exchange import BatchResultSchema, InboxSchema

    landlord = world[LANDLORD]
    body = landlord.submit(landlord.seal("arrears-signal", subject_ref="subject-0001")).get_json()
    assert BatchResultSchema().validate(body) == {}
    assert set(body) == set(BatchResultSchema().fields)
    inbox = world[INTAKE].get("/api/v1/inbox").get_json()
    assert InboxSchema().validate(inbox) == {}
    assert set(inbox) == set(InboxSchema().fields)
    from gateway.api.exchange import InboxItemSchema

    assert set(inbox["items"][0]) == set(InboxItemSchema().fields)


_TEXT = st.text(max_size=30)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(_TEXT, _TEXT, _TEXT, _TEXT, st.integers(0, 1), _TEXT, _TEXT, st.integers(0)),
        max_size=4,
    ),
    st.none() | _TEXT,
)
def test_inbox_document_is_what_json_dumps_would_give(
    lines: list[tuple[str, str, str, str, int, str, str, int]], cursor: str | None
) -> None:
    """The hand-built inbox document parses to exactly the dict ``json.dumps`` was given."""
    from gateway.api.exchange import InboxSchema, inbox_json
    from gateway.services.exchange import InboxPage

    items = tuple(
        exchange_store.InboxLine(m, f, s, c, p, i, r, size, state)
        for i, (m, f, s, c, p, r, state, size) in enumerate(lines)
    )
    text = inbox_json(InboxPage(items, cursor))
    expected = {
        "items": [
            {
                "messageId": d.message_id,
                "flow": d.flow,
                "sender": d.sender,
                "caseRef": d.case_ref,
                "priority": d.priority == 1,
                "receivedAt": d.received_at,
                "state": d.state,
                "size": d.size,
            }
            for d in items
        ],
        "nextCursor": cursor,
    }
    assert json.loads(text) == expected
    assert text.isascii()
    assert InboxSchema().validate(json.loads(text)) == {}
