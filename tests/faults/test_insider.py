"""The store under attack by an insider who holds the database key, beyond the register edits of
tests/register/test_verify.py: sealed envelopes swapped between messages, and the whole database
rolled back to an older copy. Each attack is caught by the party it would fool."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from gateway.cli import cli
from gateway.client import reading
from gateway.client.errors import GatewayRefused, UntrustedData
from gateway.client.profile import Profile
from gateway.client.receipts import verify_receipt_file
from gateway.client.session import RetryPolicy, Session
from gateway.client.trust import Directory, pull_directory
from gateway.crypto.canonical import canonical_json
from gateway.crypto.encoding import b64u_decode
from gateway.crypto.envelope import open_envelope, parse_envelope
from gateway.crypto.errors import SignatureInvalid
from gateway.register.verify import RegisterTampered
from gateway.services.register_admin import sign_checkpoint, verify_database
from gateway.settings import Settings
from gateway.web import POOL_KEY
from tests.api.world import INTAKE, LANDLORD, World
from tests.client.harness import flask_transport


def _client(world: World, partner: str, folder: Path) -> tuple[Session, Profile, Directory]:
    """The partner's client library over the in-process app (its clock is the world's)."""
    profile = Profile(
        folder / "sluis-profile.json",
        "http://localhost",
        partner,
        folder / "unused.key",
        world.instance.signing_key.public_key,
    )
    session = Session(
        "http://localhost",
        world[partner].keys,
        transport=flask_transport(world.app),
        retry=RetryPolicy(attempts=1),
        clock=world.clock,
    )
    return session, profile, pull_directory(session, profile, world.clock())


def _two_signals(world: World) -> tuple[str, str]:
    first = world[LANDLORD].send("arrears-signal", subject_ref="subject-0001")
    second = world[LANDLORD].send("arrears-signal", subject_ref="subject-0002")
    assert first["outcome"] == second["outcome"] == "accepted"
    return first["messageId"], second["messageId"]


def _sealed(world: World, message_id: str) -> bytes:
    with world.instance.database.connection() as conn:
        row = conn.execute(
            "SELECT envelope FROM envelopes WHERE message_id = ?", (message_id,)
        ).fetchone()
    return bytes(row[0])


def _store(world: World, message_id: str, blob: bytes) -> None:
    with world.instance.database.connection() as conn:
        conn.execute("UPDATE envelopes SET envelope = ? WHERE message_id = ?", (blob, message_id))


def _mismatches(world: World) -> list[tuple[str, str]]:
    with world.instance.database.connection() as conn:
        return list(conn.execute("SELECT message_id, reason FROM mismatch_reports ORDER BY 1"))


def test_insider_swapping_two_sealed_envelopes_cannot_pass_one_off_as_the_other(
    world: World, tmp_path: Path
) -> None:
    first, second = _two_signals(world)
    blobs = {first: _sealed(world, first), second: _sealed(world, second)}
    _store(world, first, blobs[second])
    _store(world, second, blobs[first])
    session, _, directory = _client(world, INTAKE, tmp_path / "intake")
    # The swapped envelope still opens on its own: it is a genuine envelope, of the other message.
    fetched = session.call("GET", f"/api/v1/envelopes/{first}").body
    assert open_envelope(fetched, world[INTAKE].keys, directory).header.message_id == second
    # The recipient's client binds what it opens to the message it asked for, and reports it.
    with pytest.raises(reading.MismatchReported, match=f"answered with envelope {second}"):
        reading.open_message(session, world[INTAKE].keys, directory, first)
    assert _mismatches(world) == [(first, "binding-mismatch")]


def test_insider_swapping_sealed_payloads_under_the_headers_cannot_get_them_opened(
    world: World, tmp_path: Path
) -> None:
    first, second = _two_signals(world)
    docs = {m: json.loads(_sealed(world, m)) for m in (first, second)}
    payloads = {m: docs[m]["payloads"][INTAKE] for m in docs}
    assert b64u_decode(payloads[first]) != b64u_decode(payloads[second])
    docs[first]["payloads"][INTAKE], docs[second]["payloads"][INTAKE] = (
        payloads[second],
        payloads[first],
    )
    for message_id, doc in docs.items():
        _store(world, message_id, canonical_json(doc))  # as the sender wrote it
    session, _, directory = _client(world, INTAKE, tmp_path / "intake")
    for message_id in (first, second):
        tampered = session.call("GET", f"/api/v1/envelopes/{message_id}").body
        assert parse_envelope(tampered).header.message_id == message_id  # the header is intact
        # The sender signed the header with the hash of every ciphertext: a moved ciphertext
        # breaks that signature before anything is decrypted.
        with pytest.raises(SignatureInvalid):
            open_envelope(tampered, world[INTAKE].keys, directory)
        with pytest.raises(reading.MismatchReported):
            reading.open_message(session, world[INTAKE].keys, directory, message_id)
    assert _mismatches(world) == sorted(
        [(first, "signature-invalid"), (second, "signature-invalid")]
    )


def _stop(world: World) -> None:
    """Stop the gateway as far as the database is concerned: close its pooled connection (the
    test client serves every request on this thread; the next request opens the file anew)."""
    world.app.extensions[POOL_KEY].drop()


def _database_files(settings: Settings) -> list[Path]:
    db = settings.database_path
    return [db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")]


def test_insider_rolling_the_database_back_is_caught_by_the_partners_kept_checkpoint(
    world: World, settings: Settings, gateway_env: dict[str, str], tmp_path: Path
) -> None:
    instance, landlord = world.instance, world[LANDLORD]
    session, profile, _ = _client(world, LANDLORD, tmp_path / "landlord")
    assert landlord.send("arrears-signal", subject_ref="subject-0001")["outcome"] == "accepted"
    with instance.database.connection() as conn:
        sign_checkpoint(conn, instance.register, now=world.clock(), force=True)
    # The insider copies the database while the gateway is stopped (no connection is open).
    _stop(world)
    old = tmp_path / "old-copy"
    old.mkdir()
    saved = [shutil.copy2(f, old / f.name) for f in _database_files(settings) if f.exists()]
    assert saved

    # More traffic; the landlord keeps its receipt and the latest checkpoint note it was shown.
    world.clock.advance(minutes=5)
    later = landlord.send("arrears-signal", subject_ref="subject-0002")
    receipt_file = tmp_path / "landlord" / "receipt.json"
    receipt_file.write_text(json.dumps(later))
    with instance.database.connection() as conn:
        sign_checkpoint(conn, instance.register, now=world.clock())
    assert verify_receipt_file(session, profile, receipt_file).checkpoint_size >= later["treeSize"]
    kept = tmp_path / "landlord" / "checkpoint.note"
    kept.write_text(session.call("GET", "/api/v1/register-checkpoint").json()["checkpoint"])

    # The insider stops the gateway and restores the old copy: subject-0002 was never signalled.
    _stop(world)
    for path in _database_files(settings):
        path.unlink(missing_ok=True)
    for copy in saved:
        shutil.copy2(copy, settings.database_path.parent / Path(copy).name)
    with instance.database.connection() as conn:
        report = verify_database(conn, instance.register)  # consistent in itself ...
        assert report.entries < later["treeSize"]
        with pytest.raises(RegisterTampered, match="were deleted"):  # ... not with the partner
            verify_database(conn, instance.register, [kept.read_text()])
    # The landlord's client sees the gateway's head behind its receipt.
    with pytest.raises(GatewayRefused, match="beyond the latest checkpoint"):
        verify_receipt_file(session, profile, receipt_file)

    # The gateway goes on; once its forked tree is longer than the receipt's, it is not an
    # extension of it, and both the client and `gateway register verify --db` say so.
    world.clock.advance(minutes=5)
    for n in range(3, 8):
        landlord.send("arrears-signal", subject_ref=f"subject-{n:04d}")
    with instance.database.connection() as conn:
        sign_checkpoint(conn, instance.register, now=world.clock())
        assert instance.register.size(conn) > later["treeSize"]
        assert verify_database(conn, instance.register).entries > later["treeSize"]
    with pytest.raises(UntrustedData, match="may have been rewritten"):
        verify_receipt_file(session, profile, receipt_file)
    runner = CliRunner(env=gateway_env)
    alone = runner.invoke(cli, ["register", "verify", "--db"])
    assert alone.exit_code == 0, alone.output
    caught = runner.invoke(cli, ["register", "verify", "--db", "--checkpoint", str(kept)])
    assert caught.exit_code == 1, caught.output
    assert "NOT VERIFIED" in caught.output
    assert "checkpoint of size" in caught.output


def test_a_kept_checkpoint_edited_to_match_the_rollback_is_refused(world: World) -> None:
    world[LANDLORD].send("arrears-signal", subject_ref="subject-0001")
    instance = world.instance
    with instance.database.connection() as conn:
        stored = sign_checkpoint(conn, instance.register, now=world.clock(), force=True)
        assert stored is not None
        origin, size, rest = stored.note.split("\n", 2)
        edited = f"{origin}\n{int(size) - 1}\n{rest}"
        with pytest.raises(RegisterTampered, match="not signed by this gateway"):
            verify_database(conn, instance.register, [edited])
        assert verify_database(conn, instance.register, [stored.note]).entries == int(size) + 1
