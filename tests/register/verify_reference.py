"""``verify_entries`` as it was before whole-chunk checks: the entry-by-entry reference that
``tests/register/test_verify.py`` pins the faster one to (same report, same first error).
Kept verbatim apart from reading the chunk sizes from the module; do not optimise it."""

from __future__ import annotations

import hmac
from collections.abc import Iterable

from gateway.crypto import CryptoError
from gateway.crypto.note import NoteVerifier
from gateway.register import verify
from gateway.register.checkpoint import open_checkpoint
from gateway.register.verify import (
    _BLAKE2B,
    _SHA256,
    CheckpointClaim,
    RegisterTampered,
    VerifyReport,
    _check_checkpoint_entries,
    _check_claim,
    _checkpoint_attrs,
    _Tree,
)


def reference_verify(
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
    for rows in chunks:
        for seq, stored_leaf, seal, data in rows:
            if seq != expected:
                raise RegisterTampered(
                    f"Entry {expected} is missing: the next entry found is {seq}.", seq=expected
                )
            if f'"seq":{seq},'.encode() not in data:
                raise RegisterTampered(
                    f"Entry {seq} does not name sequence number {seq}: it was moved or replaced.",
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
            if b'"type":"checkpoint.signed"' in data:
                report.checkpoint_entries.append((seq, *_checkpoint_attrs(data, seq)))
            tree.chunk.append(leaf)
            expected += 1
            while claim is not None and claim.size == expected:
                _check_claim(tree, claim, last_good)
                last_good = claim.size
                report.checkpoints += 1
                claim = next(pending, None)
            if len(tree.chunk) == verify.CHUNK:
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
