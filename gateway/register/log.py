"""The register as a service: append events, sign checkpoints, prove inclusion and consistency.

Appends run inside the caller's transaction, so an event and its register entry commit together
or not at all (fail closed: if the append fails, the transfer fails).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from itertools import repeat
from typing import NamedTuple

from gateway.crypto import SigningKey
from gateway.crypto.note import NoteVerifier, sign_note
from gateway.errors import SluisError
from gateway.register import merkle
from gateway.register.checkpoint import Checkpoint
from gateway.register.entry import GATEWAY, STREAM_OF, Event, encode_entries, iso_time
from gateway.register.epochs import EpochKeyring, epoch_of
from gateway.register.merkle import Frontier, Range
from gateway.store import Connection
from gateway.store import register as store
from gateway.store.register import STORED_NODE_LEVEL, StoredCheckpoint

SEAL_CONTEXT = b"sluis-register-entry-seal-v1"
MAX_BATCH = 10_000


class RegisterError(SluisError):
    """The register cannot do what was asked (its data is damaged or the call is wrong)."""

    code = "register-error"
    title = "Register error"
    status = 500


class Appended(NamedTuple):
    """One appended entry (a named tuple: a batch makes one per entry, so it must be cheap)."""

    seq: int
    leaf_hash: bytes
    time: str
    entry: bytes = b""  # the entry bytes, as hashed

    def __repr__(self) -> str:
        return f"Appended(seq={self.seq}, leaf_hash={self.leaf_hash.hex()}, time={self.time!r})"


@dataclass(frozen=True)
class AppendedBatch:
    """The entries one append added, the tree head after it and their inclusion proofs."""

    appended: list[Appended]
    tree: merkle.TreeTail = field(repr=False)

    @property
    def size(self) -> int:
        return self.tree.size

    def root(self) -> bytes:
        return self.tree.root()

    def inclusion_proof(self, seq: int) -> list[bytes]:
        return self.tree.inclusion_proof(seq)


def entry_seal(seal_key: bytes, leaf: bytes) -> bytes:
    """The gateway's keyed BLAKE2b MAC over a leaf hash."""
    return hashlib.blake2b(leaf, key=seal_key, digest_size=32).digest()


class Register:
    """One gateway's register. ``origin`` names the log in its checkpoints."""

    def __init__(self, signing_key: SigningKey, origin: str, keyring: EpochKeyring) -> None:
        self._key = signing_key
        self._seal_key = signing_key.derive_secret(SEAL_CONTEXT)
        self._sealer = hashlib.blake2b(key=self._seal_key, digest_size=32)
        self.origin = origin
        self.keyring = keyring
        self.verifier = NoteVerifier(origin, signing_key.public_key)

    def sign_note(self, text: str) -> str:
        """Sign ``text`` as a C2SP note under the log's origin (manifests, checkpoints)."""
        return sign_note(text, self._key, self.origin)

    @property
    def seal_key(self) -> bytes:
        return self._seal_key

    def __repr__(self) -> str:
        return f"Register(origin={self.origin!r})"

    # -- appending -----------------------------------------------------------------------

    def append(self, conn: Connection, events: Sequence[Event], *, now: datetime) -> list[Appended]:
        """Append ``events`` in order inside the caller's open transaction."""
        return self.append_batch(conn, events, now=now).appended

    def append_batch(
        self, conn: Connection, events: Sequence[Event], *, now: datetime
    ) -> AppendedBatch:
        """:meth:`append`, also giving the tree head after it and the appended entries'
        inclusion proofs, computed from the hashes the append holds in memory."""
        if not conn.in_transaction:
            raise RegisterError("Register appends run inside the transaction of their event.")
        if len(events) > MAX_BATCH:
            raise RegisterError(f"At most {MAX_BATCH} register entries per append.")
        size = store.size(conn)
        frontier = self._frontier(conn, size)
        before = Frontier(frontier.size, list(frontier.hashes))
        time = iso_time(now)
        epoch = epoch_of(now)
        count = len(events)
        seqs = range(size, size + count)
        names = self.keyring.pseudonyms_of_batch(epoch, [event.subjects for event in events])
        data = encode_entries(events, first_seq=size, time=time, epoch=epoch, pseudonyms=names)
        # One pass per kind of work over the batch: fewer Python objects and calls per entry.
        sha256 = hashlib.sha256
        leaves = [sha256(b"\x00" + item).digest() for item in data]
        copy = self._sealer.copy  # the keyed state, copied: cheaper than keying each seal
        seals = []
        for leaf in leaves:
            seal = copy()
            seal.update(leaf)
            seals.append(seal.digest())
        types = [event.type for event in events]
        nodes = frontier.extend(leaves, STORED_NODE_LEVEL)
        store.insert_entry_columns(
            conn, size, [STREAM_OF[t] for t in types], types, leaves, seals, data
        )
        if nodes:
            store.insert_nodes(conn, nodes)
        subjects = [(p, seq) for seq, found in zip(seqs, names, strict=True) for p in found]
        if subjects:
            store.insert_subjects(conn, subjects)
        appended = list(map(Appended._make, zip(seqs, leaves, repeat(time), data, strict=False)))
        return AppendedBatch(appended, merkle.TreeTail(before, leaves))

    def _frontier(self, conn: Connection, size: int) -> Frontier:
        ranges = Frontier(size).ranges()
        perfect = self.perfect_hashes(conn, ranges)
        return Frontier.of(size, (perfect[r] for r in ranges))

    # -- reading the tree ----------------------------------------------------------------

    def perfect_hashes(self, conn: Connection, ranges: Sequence[Range]) -> dict[Range, bytes]:
        """Hashes of perfect subtrees: stored ones from the node table, small ones recomputed."""
        out: dict[Range, bytes] = {}
        stored: dict[tuple[int, int], Range] = {}
        small = [(s, e) for s, e in ranges if (e - s).bit_length() - 1 < STORED_NODE_LEVEL]
        if len(small) > 1:  # read the leaves of nearby small subtrees in one query
            low, high = min(s for s, _ in small), max(e for _, e in small)
            if high - low <= len(small) << STORED_NODE_LEVEL:
                leaves = store.leaf_hashes(conn, low, high)
                if len(leaves) == high - low:
                    for s, e in small:
                        out[(s, e)] = merkle.root_of(leaves[s - low : e - low])
        for start, end in ranges:
            level = (end - start).bit_length() - 1
            if level >= STORED_NODE_LEVEL:
                stored[(level, start >> level)] = (start, end)
            elif (start, end) in out:
                continue
            else:
                leaves = store.leaf_hashes(conn, start, end)
                if len(leaves) != end - start:
                    raise RegisterError(f"Register entries {start}..{end - 1} are missing.")
                out[(start, end)] = merkle.root_of(leaves)
        found = store.node_hashes(conn, list(stored))
        for key, span in stored.items():
            if key not in found:
                raise RegisterError(
                    f"The subtree hash of register entries {span[0]}..{span[1] - 1} is missing."
                )
            out[span] = found[key]
        return out

    def size(self, conn: Connection) -> int:
        return store.size(conn)

    def root(self, conn: Connection, size: int) -> bytes:
        if size == 0:
            return merkle.EMPTY_ROOT
        cover = merkle.perfect_cover(0, size)
        return merkle.subtree_hash(0, size, self.perfect_hashes(conn, cover))

    def hashes(self, conn: Connection, ranges: Sequence[Range]) -> list[bytes]:
        """Tree hashes of arbitrary ranges (for proofs and export boundaries)."""
        return merkle.proof_hashes(ranges, lambda pieces: self.perfect_hashes(conn, pieces))

    def inclusion_proof(self, conn: Connection, seq: int, size: int) -> list[bytes]:
        return self.hashes(conn, merkle.inclusion_ranges(seq, size))

    def inclusion_proofs(
        self, conn: Connection, seqs: Sequence[int], size: int
    ) -> list[list[bytes]]:
        """Proofs of several entries in one tree, reading every subtree hash once (a batch's
        receipts share most of their proof)."""
        ranges = [merkle.inclusion_ranges(seq, size) for seq in seqs]
        pieces = sorted({p for rs in ranges for r in rs for p in merkle.perfect_cover(*r)})
        perfect = self.perfect_hashes(conn, pieces)
        return [[merkle.subtree_hash(start, end, perfect) for start, end in rs] for rs in ranges]

    def consistency_proof(self, conn: Connection, old_size: int, new_size: int) -> list[bytes]:
        return self.hashes(conn, merkle.consistency_ranges(old_size, new_size))

    # -- checkpoints ---------------------------------------------------------------------

    def sign_checkpoint(
        self, conn: Connection, *, now: datetime, force: bool = False
    ) -> StoredCheckpoint | None:
        """Sign the current tree head inside the caller's transaction and record that it did.

        Returns None (and does nothing) when the log has not grown since the last checkpoint,
        unless ``force``. The ``checkpoint.signed`` entry follows the checkpoint, so deleting a
        checkpoint row is itself detectable.
        """
        size = store.size(conn)
        latest = store.latest_checkpoint(conn)
        if latest is not None and size <= latest.size + 1 and not force:
            return None
        if latest is not None and latest.size == size:
            return latest
        root = self.root(conn, size)
        note = Checkpoint(self.origin, size, root).sign(self._key)
        stored = StoredCheckpoint(size, root, note, iso_time(now))
        store.insert_checkpoint(conn, stored)
        self.append(
            conn,
            [
                Event(
                    "checkpoint.signed",
                    GATEWAY,
                    attributes={"checkpointSize": size, "checkpointRoot": root.hex()},
                )
            ],
            now=now,
        )
        return stored

    def latest_checkpoint(self, conn: Connection) -> StoredCheckpoint | None:
        return store.latest_checkpoint(conn)
