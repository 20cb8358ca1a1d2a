"""gateway-client against the gateway: onboarding, trust, replies, inbox, open, ack, receipts."""

from __future__ import annotations

import json
import stat
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest

from gateway.client.errors import UntrustedData
from gateway.client.session import Response
from gateway.client.trust import cached_policy, pull_policy
from tests.api.world import AMW, INTAKE, LANDLORD, Clock, sample_fields
from tests.client.harness import ClientSide

Side = Callable[[str], ClientSide]


def _signal(side: ClientSide, subject: str = "subject-0001", *, pull: bool = True) -> str:
    """The landlord sends one signal with the client library; returns the case reference."""
    from gateway.client.journal import Journal
    from gateway.client.sending import Outgoing, send

    context = side.context()
    profile = side.profile()
    keys = side.keys()
    session = context.session(profile, keys)
    from gateway.client.trust import cached_directory, pull_directory

    if pull:
        trusted = pull_policy(session, profile, side.clock())
        directory = pull_directory(session, profile, side.clock())
    else:
        trusted = cached_policy(profile, side.clock())
        directory = cached_directory(profile, side.clock())
    item = Outgoing(
        f"k-{subject}",
        "row 2",
        "arrears-signal",
        sample_fields(trusted.policy, "arrears-signal", INTAKE),
        (INTAKE,),
        subject_ref=subject,
    )
    report = send(
        session,
        Journal(profile.state_dir / "journal"),
        [item],
        keys=keys,
        policy=trusted.policy,
        directory=directory,
        now=side.clock,
    )
    assert len(report.accepted) == 1, report.refused[0].receipt if report.refused else report
    return str(report.accepted[0].receipt["caseRef"])  # type: ignore[index]


def test_init_writes_owner_only_files_and_pins_the_gateway_key(partner_side: Side) -> None:
    side = partner_side(LANDLORD)
    for path in (side.profile_path, side.profile().key_file, side.profile().subject_secret_file):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    again = side.run(
        "init",
        "--gateway",
        "http://localhost",
        "--partner",
        LANDLORD,
        "--gateway-key",
        "00" * 32,
        "--cheap-kdf",
    )
    assert again.exit_code == 2
    assert "exists already" in again.output


def test_wrong_passphrase_is_one_clear_sentence(partner_side: Side) -> None:
    side = partner_side(LANDLORD)
    side.passphrase_file.write_text("wrong wrong wrong\n")
    result = side.run("policy", "pull")
    assert result.exit_code == 2
    assert "passphrase does not open" in result.output


def test_key_file_readable_by_others_is_refused(partner_side: Side) -> None:
    side = partner_side(LANDLORD)
    side.profile().key_file.chmod(0o644)
    result = side.run("policy", "pull")
    assert result.exit_code == 2
    assert "chmod 600" in result.output


def test_policy_and_directory_pull_verify_the_gateway_signature(partner_side: Side) -> None:
    side = partner_side(LANDLORD)
    assert side.run("policy", "pull").exit_code == 0
    assert side.run("directory", "pull").exit_code == 0
    assert cached_policy(side.profile(), side.clock()).policy.version_id


def test_forged_policy_is_refused(partner_side: Side, gateway: object) -> None:
    side = partner_side(LANDLORD)
    real = side.context().session(side.profile(), side.keys()).transport

    def forging(method: str, url: str, body: bytes, headers: dict[str, str]) -> Response:
        answer = real(method, url, body, headers)
        if url.endswith("/policy-bundle"):
            doc = json.loads(answer.body)
            signature = doc["signature"]  # another valid signature text: one character changed
            doc["signature"] = (
                signature[:10] + ("B" if signature[10] == "A" else "A") + signature[11:]
            )
            return Response(200, json.dumps(doc).encode(), "application/json")
        return answer

    side.transport = forging  # type: ignore[assignment]
    result = side.run("policy", "pull")
    assert result.exit_code == 2
    assert "not signed by the gateway key in your profile" in result.output


def test_stale_policy_is_not_used_for_sealing(partner_side: Side, clock: Clock) -> None:
    side = partner_side(LANDLORD)
    side.run("policy", "pull")
    clock.advance(hours=25)
    with pytest.raises(UntrustedData, match="older than 24 hours"):
        cached_policy(side.profile(), clock())


def test_reply_open_ack_through_the_cli(partner_side: Side, tmp_path: Path) -> None:
    landlord, intake, amw = partner_side(LANDLORD), partner_side(INTAKE), partner_side(AMW)
    case = _signal(landlord)
    listed = intake.run("inbox")
    assert listed.exit_code == 0, listed.output
    message_id = listed.output.split()[0]
    out = tmp_path / "opened.json"
    opened = intake.run("open", message_id, "--out", str(out))
    assert opened.exit_code == 0, opened.output
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert json.loads(out.read_text())["fields"]["surname"] == "v-surname"
    assert intake.run("ack", message_id).exit_code == 0
    fields = tmp_path / "referral.json"
    from gateway.policy import load_policy

    weert = load_policy(Path(__file__).resolve().parents[2] / "policies")
    fields.write_text(json.dumps(sample_fields(weert, "referral-to-amw", AMW)))
    sent = intake.run(
        "reply",
        "referral-to-amw",
        "--case",
        case,
        "--to",
        AMW,
        "--fields",
        str(fields),
        "--priority",
    )
    assert sent.exit_code == 0, sent.output
    assert "accepted" in sent.output
    inbox = amw.run("inbox")
    assert "VOORRANG" in inbox.output


def test_reply_with_a_field_the_recipient_may_not_get_sends_nothing(
    partner_side: Side, tmp_path: Path
) -> None:
    landlord, intake = partner_side(LANDLORD), partner_side(INTAKE)
    case = _signal(landlord)
    fields = tmp_path / "feedback.json"
    fields.write_text(
        json.dumps(
            {
                "contract_reference": "HC-1",
                "feedback_date": "2026-11-24",
                "feedback_status": "contact",
                "date_of_birth": "1980-01-01",
            }
        )
    )
    result = intake.run(
        "reply", "feedback-to-landlord", "--case", case, "--to", LANDLORD, "--fields", str(fields)
    )
    # The projection drops fields the landlord may not receive; the rest is validated.
    assert "date_of_birth" not in result.output
    assert result.exit_code in (0, 2)


def test_tampered_envelope_is_reported_and_not_shown(partner_side: Side, tmp_path: Path) -> None:
    landlord, intake = partner_side(LANDLORD), partner_side(INTAKE)
    _signal(landlord)
    message_id = intake.run("inbox").output.split()[0]
    real = intake.context().session(intake.profile(), intake.keys()).transport
    reported: list[str] = []

    def tampering(method: str, url: str, body: bytes, headers: dict[str, str]) -> Response:
        answer = real(method, url, body, headers)
        if method == "GET" and "/envelopes/" in url:
            doc = json.loads(answer.body)
            doc["header"]["routing"] = {"priority": True}
            return Response(
                200,
                json.dumps(doc, separators=(",", ":"), sort_keys=True).encode(),
                "application/json",
            )
        if "mismatch-reports" in url:
            reported.append(url)
        return answer

    intake.transport = tampering  # type: ignore[assignment]
    result = intake.run("open", message_id, "--out", str(tmp_path / "x.json"))
    assert result.exit_code == 1, result.output
    assert "NOT VALID" in result.output
    assert reported
    assert not (tmp_path / "x.json").exists()


def test_unreachable_gateway_retries_then_the_rerun_sends_exactly_once(
    partner_side: Side, gateway: object
) -> None:
    from gateway.client.errors import GatewayUnreachable
    from gateway.client.journal import Journal

    landlord = partner_side(LANDLORD)
    partner_side(INTAKE)
    landlord.run("policy", "pull")
    landlord.run("directory", "pull")
    real = landlord.context().session(landlord.profile(), landlord.keys()).transport

    def down(method: str, url: str, body: bytes, headers: dict[str, str]) -> Response:
        raise ConnectionRefusedError

    landlord.transport = down  # type: ignore[assignment]
    with pytest.raises(GatewayUnreachable, match="Nothing was lost"):
        _signal(landlord, pull=False)
    assert landlord.sleeps == [1, 2]  # backoff between the three attempts
    journal = Journal(landlord.profile().state_dir / "journal")
    pending = list(journal.entries())
    assert len(pending) == 1
    assert pending[0].receipt is None
    landlord.transport = real
    _signal(
        landlord, pull=False
    )  # the same row again: the journaled envelope is sent, not a new one
    entries = list(journal.entries())
    assert [e.message_id for e in entries] == [pending[0].message_id]
    assert entries[0].accepted


def test_verify_receipt_against_the_latest_checkpoint(partner_side: Side, gateway: object) -> None:
    from gateway.instance import Instance

    landlord = partner_side(LANDLORD)
    partner_side(INTAKE)
    _signal(landlord)
    instance: Instance = gateway.extensions["sluis.instance"]  # type: ignore[attr-defined]
    from gateway.store import transaction

    with instance.database.connection() as conn, transaction(conn):
        instance.register.sign_checkpoint(conn, now=landlord.clock() + timedelta(minutes=1))
    receipt = next((landlord.profile().state_dir / "receipts").glob("*.json"))
    result = landlord.run("verify-receipt", str(receipt))
    assert result.exit_code == 0, result.output
    assert "receipt valid" in result.output
    forged = json.loads(receipt.read_text())
    forged["caseRef"] = "case-00000000000000000000"
    receipt.write_text(json.dumps(forged))
    bad = landlord.run("verify-receipt", str(receipt))
    assert bad.exit_code == 2
