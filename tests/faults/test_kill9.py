"""kill -9 against a live gateway: gunicorn (2 workers) on 127.0.0.1, two landlords sending
batches and the intake reading and acknowledging with the real client library, while workers and
the master are killed at random points. Bounded: 50 rounds, about a minute and a half."""

from __future__ import annotations

import random
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from gateway.client import reading
from gateway.client.errors import ClientError, GatewayUnreachable
from gateway.client.journal import Journal
from gateway.client.sending import Outgoing, send
from gateway.crypto.canonical import canonical_json
from gateway.instance import load_instance
from gateway.policy import Policy
from gateway.register import merkle
from gateway.register.receipt import verify_receipt
from gateway.services.register_admin import verify_database
from gateway.settings import Settings
from tests.api.world import INTAKE, LANDLORD, LANDLORD_2, sample_fields
from tests.faults.live import LivePartner, Server, prepare

ROUNDS = 50
MASTER_EVERY = 5  # every 5th kill takes the master down (10 of 50), the rest a worker
ITEMS_PER_ROUND = 4
BATCH = 2
SEED = 20261130

pytestmark = pytest.mark.slow


@dataclass
class Sender:
    """A landlord running `send` over its journal until the run completes, as staff would
    rerun the command after "the gateway did not answer"."""

    partner: LivePartner
    policy: Policy
    journal: Journal
    runs: int = 0
    failures: list[str] = field(default_factory=list)

    def items(self, round_no: int) -> list[Outgoing]:
        fields = sample_fields(self.policy, "arrears-signal", INTAKE)
        me = self.partner.keys.partner
        return [
            Outgoing(
                f"{me}-r{round_no:02d}-{n}",
                f"round {round_no} row {n}",
                "arrears-signal",
                fields,
                (INTAKE,),
                subject_ref=f"s-{me}-{round_no:02d}-{n}",
            )
            for n in range(ITEMS_PER_ROUND)
        ]

    def run_round(self, round_no: int) -> None:
        _, directory = self.partner.trust_cached()
        for _ in range(20):
            self.runs += 1
            try:
                report = send(
                    self.partner.session,
                    self.journal,
                    self.items(round_no),
                    keys=self.partner.keys,
                    policy=self.policy,
                    directory=directory,
                    now=_now,
                    batch_size=BATCH,
                )
            except GatewayUnreachable:
                continue
            except ClientError as error:  # a refusal the client cannot retry: a finding
                self.failures.append(f"round {round_no}: {error.detail}")
                return
            if report.refused:
                self.failures.append(f"round {round_no}: refused {report.refused[0].receipt}")
            return
        self.failures.append(f"round {round_no}: never completed")


@dataclass
class Reader:
    """The intake: fetches its inbox, opens and acknowledges whatever is there."""

    partner: LivePartner
    acknowledged: set[str] = field(default_factory=set)
    failures: list[str] = field(default_factory=list)

    def sweep(self) -> None:
        _, directory = self.partner.trust_cached()
        try:
            listed = reading.inbox(self.partner.session, limit=100)
            for item in listed["items"]:
                message_id = item["messageId"]
                opened = reading.open_message(
                    self.partner.session, self.partner.keys, directory, message_id
                )
                assert opened.message_id == message_id
                reading.acknowledge(self.partner.session, message_id)
                self.acknowledged.add(message_id)
        except GatewayUnreachable:
            return
        except ClientError as error:
            self.failures.append(error.detail)


def _now():  # type: ignore[no-untyped-def]
    from datetime import UTC, datetime

    return datetime.now(UTC)


def test_kill9_of_workers_and_master_loses_and_doubles_nothing(
    settings: Settings, gateway_env: dict[str, str], weert: Policy, tmp_path: Path
) -> None:
    started = time.monotonic()
    pairs = prepare(settings, weert, (LANDLORD, LANDLORD_2, INTAKE))
    gateway_key = load_instance(settings).signing_key.public_key
    server = Server.for_settings(settings, gateway_env, tmp_path / "serve.log")
    server.start()
    chooser = random.Random(SEED)  # noqa: S311 - picks kill moments, not secrets
    senders = [
        Sender(
            p := LivePartner.make(pairs[party], tmp_path / party, server.url, gateway_key),
            p.trust()[0],
            Journal(p.profile.state_dir / "journal"),
        )
        for party in (LANDLORD, LANDLORD_2)
    ]
    reader = Reader(LivePartner.make(pairs[INTAKE], tmp_path / INTAKE, server.url, gateway_key))
    reader.partner.trust()
    kills = Counter[str]()
    try:
        for round_no in range(ROUNDS):
            threads = [
                threading.Thread(target=s.run_round, args=(round_no,), daemon=True) for s in senders
            ]
            threads.append(threading.Thread(target=reader.sweep, daemon=True))
            for thread in threads:
                thread.start()
            time.sleep(chooser.uniform(0.0, 0.25))
            if (round_no + 1) % MASTER_EVERY == 0:
                server.kill_master()
                kills["master"] += 1
                server.start()
            else:
                server.kill_worker(chooser.randrange(2))
                kills["worker"] += 1
            for thread in threads:
                thread.join(timeout=60)
                assert not thread.is_alive(), f"a client hung in round {round_no}"
        reader.sweep()  # the last round's messages, with the gateway settled
        reader.sweep()
    finally:
        server.stop()
    assert sum(kills.values()) == ROUNDS
    assert kills["master"] >= 10
    for sender in senders:
        assert not sender.failures, sender.failures
    assert not reader.failures, reader.failures
    retried = [why for p in (*(s.partner for s in senders), reader.partner) for why in p.retries]
    print(f"kills {dict(kills)}; send runs {[s.runs for s in senders]}; retries {Counter(retried)}")
    assert retried  # the kills did hit requests in flight

    instance = load_instance(settings)
    with instance.database.connection() as conn:
        receipts = {
            row[0]: (row[1], row[2])
            for row in conn.execute("SELECT message_id, sender, outcome FROM receipts")
        }
        envelopes = {
            row[0]: row[1]
            for row in conn.execute("SELECT message_id, envelope IS NOT NULL FROM envelopes")
        }
        deliveries = Counter(row[0] for row in conn.execute("SELECT message_id FROM deliveries"))
        states = dict(
            conn.execute("SELECT message_id, state FROM deliveries WHERE recipient = ?", (INTAKE,))
        )
        subjects = Counter(row[0] for row in conn.execute("SELECT subject_ref FROM cases"))
        report = verify_database(conn, instance.register)
        final_size = instance.register.size(conn)
        final_root = instance.register.root(conn, final_size)

        # No batch half-stored: a receipt, its envelope and its delivery, or none of them.
        accepted = {m for m, (_, outcome) in receipts.items() if outcome == "accepted"}
        assert set(envelopes) == accepted
        assert all(envelopes.values())
        assert set(deliveries) == accepted
        assert set(deliveries.values()) == {1}
        assert set(subjects.values()) == {1}  # one case per tenant: nothing sent twice

        for sender in senders:
            entries = list(sender.journal.entries())
            held = [e.message_id for e in entries]
            assert len(entries) == ROUNDS * ITEMS_PER_ROUND
            assert len(set(held)) == len(held)
            assert all(e.accepted for e in entries)
            # Exactly once: the journal's ids are the gateway's accepted ids for this sender.
            mine = {m for m in accepted if receipts[m][0] == sender.partner.keys.partner}
            assert mine == set(held)
            for entry in entries:
                assert entry.receipt is not None
                document = verify_receipt(canonical_json(entry.receipt), gateway_key)
                index, size = int(document["index"]), int(document["treeSize"])
                leaf = merkle.leaf_hash(document["entry"].encode("utf-8"))
                merkle.verify_inclusion(
                    leaf,
                    index,
                    final_size,
                    instance.register.inclusion_proof(conn, index, final_size),
                    final_root,
                )
                merkle.verify_consistency(
                    size,
                    final_size,
                    bytes.fromhex(document["rootHash"]),
                    final_root,
                    instance.register.consistency_proof(conn, size, final_size),
                )
    # No acknowledged envelope lost: every acknowledgement the intake got is stored as such.
    assert reader.acknowledged
    assert {m for m in reader.acknowledged if states.get(m) != "acknowledged"} == set()
    assert all(envelopes[m] for m in reader.acknowledged)
    assert report.entries == final_size

    verified = subprocess.run(  # noqa: S603 - this interpreter, fixed arguments
        [sys.executable, "-m", "gateway", "register", "verify", "--db"],
        env=server.env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert verified.returncode == 0, verified.stderr
    assert "Register verified" in verified.stdout
    assert time.monotonic() - started < 180
