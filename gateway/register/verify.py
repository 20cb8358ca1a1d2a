"""Verifying the register: recompute everything, trust only signatures, name the first mismatch.

``verify_entries`` is the engine behind ``gateway register verify --db`` (an export folder is
checked by :mod:`gateway.register.export`). It streams entries in sequence order and checks,
per entry: the sequence number is the next one (nothing deleted, inserted or reordered), the
entry names its own sequence number, its leaf hash is SHA-256(0x00 || entry), and (with the
gateway's keys) its seal. It rebuilds the RFC 9162 tree in chunks of 65,536 leaves, level by
level, compares every stored subtree hash and every signed checkpoint with what it computed,
and checks each checkpoint's signature.

Each chunk of rows is first checked as a whole, one check at a time over every entry (hashes in
list comprehensions, seals from one keyed BLAKE2b state, one compare per chunk); only a chunk
where something fails is gone through entry by entry, which names the first problem exactly as
before (a test pins both to the entry-by-entry reference in ``tests/register``).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable
from dataclasses import dataclass, field

from gateway.crypto import CryptoError
from gateway.crypto.note import NoteVerifier
from gateway.errors import SluisError
from gateway.register import merkle
from gateway.register.checkpoint import open_checkpoint
from gateway.register.merkle import Frontier

CHUNK_LEVEL = 16
CHUNK = 1 << CHUNK_LEVEL
_SHA256 = hashlib.sha256
_BLAKE2B = hashlib.blake2b
_CHECKPOINT_MARK = b'"type":"checkpoint.signed"'


class RegisterTampered(SluisError):
    """The register (or an export of it) does not match what was signed: names where."""

    code = "register-tampered"
    title = "Register verification failed"
    status = 409

    def __init__(self, detail: str, *, seq: int | None = None) -> None:
        super().__init__(detail)
        self.seq = seq


@dataclass(frozen=True)
class CheckpointClaim:
    """A signed checkpoint to check against the recomputed tree (from the store or an export)."""

    size: int
    root: bytes
    note: str


@dataclass
class VerifyReport:
    entries: int = 0
    checkpoints: int = 0
    nodes: int = 0
    root: bytes = merkle.EMPTY_ROOT
    checkpoint_entries: list[tuple[int, int, bytes]] = field(default_factory=list)


class _Tree:
    """Leaf hashes in, level arrays per chunk, chunk roots into a frontier."""

    def __init__(self, stored_nodes: dict[tuple[int, int], bytes] | None, node_level: int) -> None:
        self.top = Frontier()
        self.chunk: list[bytes] = []
        self.chunk_start = 0
        self.stored = stored_nodes
        self.node_level = node_level
        self.nodes_checked = 0
        self._levels: list[list[bytes]] = []

    def levels(self) -> list[list[bytes]]:
        """Level arrays of the current chunk, extended incrementally (each pair hashed once)."""
        levels = self._levels
        if not levels or levels[0] is not self.chunk:
            levels = self._levels = [self.chunk]
        sha = _SHA256
        level = 0
        while len(levels[level]) > 1:
            below = levels[level]
            if len(levels) == level + 1:
                levels.append([])
            above = levels[level + 1]
            done = len(above)
            above.extend(
                [
                    sha(b"\x01" + below[i] + below[i + 1]).digest()
                    for i in range(2 * done, len(below) - 1, 2)
                ]
            )
            level += 1
        return levels

    def _check_nodes(self, levels: list[list[bytes]]) -> None:
        if self.stored is None:
            return
        for level in range(self.node_level, len(levels)):
            base = self.chunk_start >> level
            for i, digest in enumerate(levels[level]):
                key = (level, base + i)
                found = self.stored.pop(key, None)
                if found != digest:
                    start = (base + i) << level
                    raise RegisterTampered(
                        f"The stored subtree hash of entries {start}..{start + (1 << level) - 1} "
                        f"{'is missing' if found is None else 'does not match those entries'}.",
                        seq=start,
                    )
                self.nodes_checked += 1

    def flush(self) -> None:
        """A full chunk: check its nodes, feed its root to the top frontier."""
        levels = self.levels()
        self._check_nodes(levels)
        for level_up, index, digest in self.top.append(levels[-1][0]):
            level = level_up + CHUNK_LEVEL
            if self.stored is not None:
                found = self.stored.pop((level, index), None)
                if found != digest:
                    start = index << level
                    raise RegisterTampered(
                        f"The stored subtree hash of entries {start}..{start + (1 << level) - 1} "
                        "does not match those entries.",
                        seq=start,
                    )
                self.nodes_checked += 1
        self.chunk_start += CHUNK
        self.chunk = []

    def root_at(self, size: int, levels: list[list[bytes]] | None = None) -> bytes:
        """Root of the first ``size`` leaves; size lies in the current chunk."""
        offset = size - self.chunk_start
        hashes = list(self.top.hashes)
        if offset:
            levels = levels or self.levels()
            position = 0
            for bit in reversed(range(offset.bit_length())):
                if offset >> bit & 1:
                    hashes.append(levels[bit][position >> bit])
                    position += 1 << bit
        return Frontier(size, hashes).root()


def verify_entries(
    chunks: Iterable[list[tuple[int, bytes, bytes | None, bytes]]],
    *,
    verifier: NoteVerifier,
    checkpoints: Iterable[CheckpointClaim],
    seal_key: bytes | None = None,
    stored_nodes: dict[tuple[int, int], bytes] | None = None,
    node_level: int = 4,
) -> VerifyReport:
    """Check a whole register from entry 0; raise :class:`RegisterTampered` at the first
    problem, naming the entry (or the checkpoint) where it lies.

    ``chunks`` yields lists of (seq, stored leaf hash, stored seal or None, entry bytes).
    """
    claims = sorted(checkpoints, key=lambda c: c.size)
    for stored in claims:
        try:
            checkpoint = open_checkpoint(stored.note, verifier)
        except CryptoError as error:  # name the checkpoint: the operator must find it
            raise RegisterTampered(
                f"The checkpoint of size {stored.size} has no valid gateway signature: "
                f"{error.detail}"
            ) from None
        if checkpoint.size != stored.size or checkpoint.root != stored.root:
            raise RegisterTampered(
                f"The stored checkpoint of size {stored.size} differs from its signed note."
            )
    report = VerifyReport()
    tree = _Tree(stored_nodes, node_level)
    pending = iter(claims)
    claim: CheckpointClaim | None = next(pending, None)
    last_good = 0
    expected = 0
    while claim is not None and claim.size == 0:  # signed while the register was still empty
        if claim.root != merkle.EMPTY_ROOT:
            raise RegisterTampered(
                "The signed checkpoint of size 0 does not carry the empty tree's head.", seq=0
            )
        report.checkpoints += 1
        claim = next(pending, None)
    for rows in chunks:
        leaves = _clean_leaves(rows, expected, seal_key, report)
        if leaves is None:
            # Something in this chunk is wrong: go entry by entry to name the first problem
            # (a checkpoint before it is still checked first, as it comes first).
            for seq, stored_leaf, seal, data in rows:
                if seq != expected:
                    raise RegisterTampered(
                        f"Entry {expected} is missing: the next entry found is {seq}.",
                        seq=expected,
                    )
                if f'"seq":{seq},'.encode() not in data:
                    raise RegisterTampered(
                        f"Entry {seq} does not name sequence number {seq}: it was moved or "
                        "replaced.",
                        seq=seq,
                    )
                leaf = _SHA256(b"\x00" + data).digest()
                if leaf != stored_leaf:
                    raise RegisterTampered(
                        f"Entry {seq} was changed: its content does not match its hash.", seq=seq
                    )
                if seal_key is not None and not hmac.compare_digest(
                    _BLAKE2B(leaf, key=seal_key, digest_size=32).digest(), seal or b""
                ):
                    raise RegisterTampered(
                        f"Entry {seq} was rewritten: its gateway seal does not match.", seq=seq
                    )
                if _CHECKPOINT_MARK in data:
                    report.checkpoint_entries.append((seq, *_checkpoint_attrs(data, seq)))
                tree.chunk.append(leaf)
                expected += 1
                while claim is not None and claim.size == expected:
                    _check_claim(tree, claim, last_good)
                    last_good = claim.size
                    report.checkpoints += 1
                    claim = next(pending, None)
                if len(tree.chunk) == CHUNK:
                    tree.flush()
            continue
        # Every entry of the chunk is in place, hashed and sealed: feed the tree in pieces that
        # end where a checkpoint or a tree chunk ends, exactly as entry by entry would.
        base = expected
        done = 0
        count = len(leaves)
        while done < count:
            stop = min(count, done + CHUNK - len(tree.chunk))
            if claim is not None and base + done < claim.size <= base + stop:
                stop = claim.size - base
            tree.chunk.extend(leaves[done:stop])
            done = stop
            expected = base + done
            while claim is not None and claim.size == expected:
                _check_claim(tree, claim, last_good)
                last_good = claim.size
                report.checkpoints += 1
                claim = next(pending, None)
            if len(tree.chunk) == CHUNK:
                tree.flush()
    if claim is not None:
        raise RegisterTampered(
            f"A checkpoint signs {claim.size} entries but the register holds only {expected}: "
            f"entries from {expected} on were deleted.",
            seq=expected,
        )
    levels = tree.levels()
    tree._check_nodes(levels)
    report.root = tree.root_at(expected, levels)
    if tree.stored:
        (level, index), _ = min(tree.stored.items())
        start = index << level
        raise RegisterTampered(
            f"A stored subtree hash for entries {start}..{start + (1 << level) - 1} covers "
            "entries that do not exist.",
            seq=start,
        )
    report.entries = expected
    report.nodes = tree.nodes_checked
    _check_checkpoint_entries(report, claims)
    return report


def _clean_leaves(
    rows: list[tuple[int, bytes, bytes | None, bytes]],
    first: int,
    seal_key: bytes | None,
    report: VerifyReport,
) -> list[bytes] | None:
    """The leaf hashes of a chunk whose every entry passes the per-entry checks (sequence,
    named sequence number, leaf hash, seal, recorded checkpoint), one check at a time over the
    whole chunk; None when any entry fails one, so the caller can name it entry by entry.

    The checkpoint entries found are added to ``report`` only when the chunk is clean.
    """
    try:
        seqs = [r[0] for r in rows]
        if seqs != list(range(first, first + len(rows))) or set(map(type, seqs)) - {int}:
            return None
        datas = [r[3] for r in rows]
        # Each entry names its own sequence number. The markers come from one format call;
        # rfind (same answer as ``in``) starts from the end, near which the number stands.
        marks = (b'"seq":%d,\n' * len(seqs) % tuple(seqs)).split(b"\n")
        if not all([data.rfind(mark) >= 0 for data, mark in zip(datas, marks, strict=False)]):
            return None
        sha = _SHA256
        leaves = [sha(b"\x00" + data).digest() for data in datas]
        if leaves != [r[1] for r in rows]:
            return None
        if seal_key is not None:
            blake = _BLAKE2B
            stored = [r[2] for r in rows]
            # Each stored seal must be 32 bytes, so that the joined comparison below cannot be
            # fooled by one seal holding the next.
            if not all([type(s) is bytes and len(s) == 32 for s in stored]):
                return None
            computed = b"".join(_seals(blake(key=seal_key, digest_size=32), leaves))
            if not hmac.compare_digest(computed, b"".join(stored)):  # type: ignore[arg-type]
                return None
        found: list[tuple[int, int, bytes]] = []
        if _CHECKPOINT_MARK in b"".join(datas):  # rare: then look entry by entry
            for seq, data in zip(seqs, datas, strict=True):
                if _CHECKPOINT_MARK in data:
                    found.append((seq, *_checkpoint_attrs(data, seq)))
    except (TypeError, ValueError, SluisError):  # a value of the wrong kind, an unreadable
        return None  # recorded checkpoint: the entry-by-entry pass meets it in its turn
    report.checkpoint_entries.extend(found)
    return leaves


def _seals(keyed: hashlib.blake2b, leaves: list[bytes]) -> list[bytes]:
    """The seals of ``leaves``: copies of one keyed BLAKE2b state (cheaper than keying each)."""
    out: list[bytes] = []
    append = out.append
    for leaf in leaves:
        state = keyed.copy()
        state.update(leaf)
        append(state.digest())
    return out


def _check_claim(tree: _Tree, claim: CheckpointClaim, last_good: int) -> None:
    if tree.root_at(claim.size) != claim.root:
        raise RegisterTampered(
            f"The signed checkpoint of size {claim.size} does not match the entries: an entry "
            f"from {last_good} to {claim.size - 1} was changed and its hashes recomputed.",
            seq=last_good,
        )


def _checkpoint_attrs(data: bytes, seq: int) -> tuple[int, bytes]:
    from gateway.register.entry import decode_entry  # local: only for checkpoint entries

    attributes = decode_entry(data).get("attributes", {})
    try:
        return int(attributes["checkpointSize"]), bytes.fromhex(attributes["checkpointRoot"])
    except (KeyError, TypeError, ValueError):
        raise RegisterTampered(
            f"Entry {seq} records a checkpoint without its size and root.", seq=seq
        ) from None


def _check_checkpoint_entries(report: VerifyReport, claims: list[CheckpointClaim]) -> None:
    signed = {c.size: c.root for c in claims}
    for seq, size, root in report.checkpoint_entries:
        if signed.get(size) != root:
            raise RegisterTampered(
                f"Entry {seq} records a checkpoint of size {size} that is missing or differs: "
                "a checkpoint was deleted or replaced.",
                seq=seq,
            )


def stored_node_map(rows: Iterable[list[tuple[int, int, bytes]]]) -> dict[tuple[int, int], bytes]:
    return {(int(level), int(idx)): bytes(h) for chunk in rows for level, idx, h in chunk}
