"""What the FG, the auditor and the operator do with the register: verify, export, subject
access, checkpoints and retiring epoch keys. Each action that touches personal data or the
register's guarantees is itself recorded."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from gateway.crypto import CryptoError
from gateway.errors import InvalidRequest
from gateway.policy import Policy
from gateway.register.checkpoint import open_checkpoint
from gateway.register.entry import Actor, Event, decode_entry
from gateway.register.epochs import pseudonym
from gateway.register.log import Register
from gateway.register.verify import (
    CheckpointClaim,
    RegisterTampered,
    VerifyReport,
    stored_node_map,
    verify_entries,
)
from gateway.store import Connection, transaction
from gateway.store import register as store
from gateway.store.register import STORED_NODE_LEVEL, StoredCheckpoint

MAX_SUBJECT_REF = 200


def verify_database(conn: Connection, register: Register, kept: Sequence[str] = ()) -> VerifyReport:
    """Recompute the whole register from the database; raise RegisterTampered at the first
    entry, subtree hash or checkpoint that does not match.

    ``kept`` are checkpoint notes held outside the database (a partner's, an earlier export's):
    each must match the recomputed tree too, so a database rolled back to an older copy, or
    rewritten from a point on, is caught even when its own checkpoints were rolled back with it.
    """
    claims = [CheckpointClaim(c.size, c.root, c.note) for c in store.checkpoints(conn)]
    for note in kept:
        try:
            held = open_checkpoint(note, register.verifier)
        except CryptoError as error:
            raise RegisterTampered(
                f"A kept checkpoint is not signed by this gateway's register: {error.detail}"
            ) from None
        claims.append(CheckpointClaim(held.size, held.root, note))
    return verify_entries(
        store.iter_entries(conn),
        verifier=register.verifier,
        checkpoints=claims,
        seal_key=register.seal_key,
        stored_nodes=stored_node_map(store.iter_nodes(conn)),
        node_level=STORED_NODE_LEVEL,
    )


def sign_checkpoint(
    conn: Connection, register: Register, *, now: datetime, force: bool = False
) -> StoredCheckpoint | None:
    with transaction(conn):
        return register.sign_checkpoint(conn, now=now, force=force)


@dataclass(frozen=True)
class SubjectAccess:
    subject: str
    epochs_searched: tuple[str, ...]
    entries: tuple[dict[str, Any], ...]


def subject_access(
    conn: Connection, register: Register, subject: str, *, now: datetime, actor: Actor
) -> SubjectAccess:
    """Every entry about ``subject`` (the subject reference partners use) in the epochs whose
    keys still exist, oldest first. The query is recorded (art. 15 requests are processing)."""
    subject = subject.strip()
    if not subject or len(subject) > MAX_SUBJECT_REF or not subject.isprintable():
        raise InvalidRequest(f"A subject reference is 1 to {MAX_SUBJECT_REF} printable characters.")
    epochs = tuple(register.keyring.epochs())
    names: list[str] = []
    for epoch in epochs:
        key = register.keyring.key(epoch, create=False)
        if key is not None:
            names.append(pseudonym(key, subject))
    seqs = store.seqs_for_pseudonyms(conn, names)
    entries = []
    wanted = set(names)
    for seq in seqs:
        found = store.entry(conn, seq)
        if found is not None:
            entry = decode_entry(found[1])
            subjects = entry.get("subjects")
            # The index matches 60 bits of a pseudonym: keep entries that name one in full.
            if isinstance(subjects, list) and any(s in wanted for s in subjects if type(s) is str):
                entries.append(entry)
    with transaction(conn):
        register.append(
            conn,
            [
                Event(
                    "subject-access.queried",
                    actor,
                    subjects=(subject,),
                    attributes={"count": len(entries)},
                )
            ],
            now=now,
        )
    return SubjectAccess(subject, epochs, tuple(entries))


def retire_epochs(
    conn: Connection, register: Register, policy: Policy, *, now: datetime, actor: Actor
) -> list[str]:
    """Destroy the epoch keys whose retention (the policy's processing retention) has ended;
    each destruction is recorded in the same transaction, before its commit."""
    months = _retention_months(policy, "processing")
    retired: list[str] = []
    for epoch in register.keyring.expired(now.date(), months):
        with transaction(conn):
            register.append(
                conn, [Event("epoch-key.destroyed", actor, attributes={"epoch": epoch})], now=now
            )
            register.keyring.destroy(epoch)
        retired.append(epoch)
    return retired


def _retention_months(policy: Policy, stream: str) -> int:
    value = policy.covenant.register_retention_months.get(stream)
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise InvalidRequest(
            f"covenant.yaml register_retention_months.{stream} must be a whole number of months."
        )
    return value
