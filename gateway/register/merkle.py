"""Merkle trees as RFC 9162 (Certificate Transparency 2.0) defines them. Pure: hashlib only.

Leaves hash as SHA-256(0x00 || entry), nodes as SHA-256(0x01 || left || right); a tree of n
leaves splits at the largest power of two below n, so no leaf is ever duplicated. Proofs are
built from the hashes of *perfect* subtrees (aligned, power-of-two sized ranges), which the store
keeps, so a proof reads O(log n) hashes and never the whole log.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import repeat

from gateway.errors import SluisError

HASH_BYTES = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()
_LEAF = b"\x00"
_NODE = b"\x01"

Range = tuple[int, int]
"""A half-open range of leaf indices ``[start, end)``."""

PerfectFetch = Callable[[Sequence[Range]], Mapping[Range, bytes]]
"""Give the hashes of the perfect subtrees asked for (the store implements this)."""


class MerkleProofError(SluisError):
    """A proof does not lead to the claimed root, or its sizes are impossible."""

    code = "merkle-proof-invalid"
    title = "Merkle proof does not verify"
    status = 400


def leaf_hash(entry: bytes) -> bytes:
    return hashlib.sha256(_LEAF + entry).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(_NODE + left + right).digest()


def split_point(size: int) -> int:
    """The largest power of two strictly below ``size`` (size >= 2)."""
    return 1 << ((size - 1).bit_length() - 1)


def is_perfect(start: int, end: int) -> bool:
    size = end - start
    return size > 0 and size & (size - 1) == 0 and start % size == 0


def root_of(leaves: Sequence[bytes]) -> bytes:
    """The tree head over leaf hashes (already hashed with :func:`leaf_hash`).

    Computed level by level, an odd last node moving up unchanged: for RFC 9162's split at the
    largest power of two this gives the same head (the known-answer tests pin it).
    """
    if not leaves:
        return EMPTY_ROOT
    level = list(leaves)
    sha = hashlib.sha256
    while len(level) > 1:
        paired = [
            sha(_NODE + level[i] + level[i + 1]).digest() for i in range(0, len(level) - 1, 2)
        ]
        if len(level) & 1:
            paired.append(level[-1])
        level = paired
    return level[0]


def boundary_ranges(first: int, end: int, size: int) -> list[Range]:
    """The largest subtrees of a tree of ``size`` that lie wholly outside ``[first, end)``.

    Their hashes, with the leaves of ``[first, end)``, are exactly what is needed to recompute the
    tree head: an export ships them so an auditor can verify a period without the whole log.
    """
    out: list[Range] = []

    def walk(lo: int, hi: int) -> None:
        if hi <= first or lo >= end:
            out.append((lo, hi))
        elif not (first <= lo and hi <= end):
            k = split_point(hi - lo)
            walk(lo, lo + k)
            walk(lo + k, hi)

    if size:
        walk(0, size)
    return out


def root_from_range(
    first: int, leaves: Sequence[bytes], size: int, boundary: Mapping[Range, bytes]
) -> bytes:
    """The tree head of ``size`` leaves from the leaves of ``[first, first + len(leaves))`` and
    the :func:`boundary_ranges` hashes; raise MerkleProofError when one is missing."""
    end = first + len(leaves)

    def mth(lo: int, hi: int) -> bytes:
        if hi <= first or lo >= end:
            try:
                return boundary[(lo, hi)]
            except KeyError:
                raise MerkleProofError(f"The hash of entries {lo}..{hi - 1} is missing.") from None
        if first <= lo and hi <= end:
            return root_of(leaves[lo - first : hi - first])
        k = split_point(hi - lo)
        return node_hash(mth(lo, lo + k), mth(lo + k, hi))

    if size == 0:
        return EMPTY_ROOT
    if end > size:
        raise MerkleProofError(f"Entries up to {end - 1} lie beyond a tree of {size} entries.")
    return mth(0, size)


def perfect_cover(start: int, end: int) -> list[Range]:
    """The perfect subtrees whose hashes make up the tree hash of ``[start, end)``."""
    out: list[Range] = []
    while not is_perfect(start, end):
        k = split_point(end - start)
        out.append((start, start + k))
        start += k
    out.append((start, end))
    return out


def subtree_hash(start: int, end: int, perfect: Mapping[Range, bytes]) -> bytes:
    """The tree hash of ``[start, end)`` from the hashes of its :func:`perfect_cover`."""
    cover = perfect_cover(start, end)
    acc = perfect[cover[-1]]
    for piece in reversed(cover[:-1]):
        acc = node_hash(perfect[piece], acc)
    return acc


def inclusion_ranges(index: int, size: int) -> list[Range]:
    """The subtrees whose hashes form the audit path of leaf ``index`` (bottom first)."""
    if not 0 <= index < size:
        raise MerkleProofError(f"Entry {index} is not in a tree of {size} entries.")
    out: list[Range] = []
    start, end = 0, size
    while end - start > 1:
        k = split_point(end - start)
        if index < start + k:
            out.append((start + k, end))
            end = start + k
        else:
            out.append((start, start + k))
            start += k
    out.reverse()
    return out


def consistency_ranges(old_size: int, new_size: int) -> list[Range]:
    """The subtrees whose hashes form the consistency proof between two tree sizes."""
    if not 0 <= old_size <= new_size:
        raise MerkleProofError(f"No consistency proof from size {old_size} to {new_size}.")
    if old_size in (0, new_size):
        return []
    out: list[Range] = []
    start, end, complete = 0, new_size, True
    while True:
        if old_size == end:
            if not complete:
                out.append((start, end))
            break
        k = split_point(end - start)
        if old_size <= start + k:
            out.append((start + k, end))
            end = start + k
        else:
            out.append((start, start + k))
            start += k
            complete = False
    out.reverse()
    return out


def proof_hashes(ranges: Sequence[Range], fetch: PerfectFetch) -> list[bytes]:
    """Resolve proof ranges to hashes with one call of ``fetch`` for all perfect pieces."""
    pieces = sorted({p for r in ranges for p in perfect_cover(*r)})
    perfect = fetch(pieces)
    return [subtree_hash(start, end, perfect) for start, end in ranges]


def verify_inclusion(
    leaf: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> None:
    """Raise MerkleProofError unless ``proof`` puts ``leaf`` at ``index`` (RFC 9162 2.1.3.2)."""
    if not 0 <= index < size:
        raise MerkleProofError(f"Entry {index} is not in a tree of {size} entries.")
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            raise MerkleProofError("The inclusion proof is longer than the tree is deep.")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0 or r != root:
        raise MerkleProofError(
            f"The inclusion proof for entry {index} does not lead to the tree head of size {size}."
        )


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> None:
    """Raise :class:`MerkleProofError` unless the trees are consistent (RFC 9162 2.1.4.2)."""
    if not 0 <= old_size <= new_size:
        raise MerkleProofError(f"A tree cannot shrink from {old_size} to {new_size} entries.")
    if old_size == new_size:
        if proof or old_root != new_root:
            raise MerkleProofError(f"Two tree heads of size {new_size} differ.")
        return
    if old_size == 0:
        if proof:
            raise MerkleProofError("A consistency proof from the empty tree is empty.")
        return
    path = list(proof)
    if old_size & (old_size - 1) == 0:
        path.insert(0, old_root)
    if not path:
        raise MerkleProofError("The consistency proof is empty.")
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise MerkleProofError("The consistency proof is longer than the tree is deep.")
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0 or fr != old_root or sr != new_root:
        raise MerkleProofError(
            f"The tree of {new_size} entries does not extend the tree of {old_size} entries."
        )


@dataclass
class Frontier:
    """The perfect subtrees of ``[0, size)`` (one per set bit of size): appends in O(1) amortised.

    ``append`` returns the perfect nodes it completed as ``(level, index, hash)``, level >= 1,
    so the store can keep them for proofs.
    """

    size: int = 0
    hashes: list[bytes] = field(default_factory=list)  # left to right, largest subtree first

    @classmethod
    def of(cls, size: int, hashes: Iterable[bytes]) -> Frontier:
        frontier = cls(size, list(hashes))
        if len(frontier.hashes) != size.bit_count():
            raise MerkleProofError(f"A tree of {size} entries has {size.bit_count()} subtrees.")
        return frontier

    def append(self, leaf: bytes) -> list[tuple[int, int, bytes]]:
        done: list[tuple[int, int, bytes]] = []
        hashes = self.hashes
        hashes.append(leaf)
        position = self.size
        level = 0
        while position & 1:
            right = hashes.pop()
            left = hashes.pop()
            merged = node_hash(left, right)
            hashes.append(merged)
            position >>= 1
            level += 1
            done.append((level, position, merged))
        self.size += 1
        return done

    def extend(self, leaves: Iterable[bytes], min_level: int = 1) -> list[tuple[int, int, bytes]]:
        """Append ``leaves`` in order; return the perfect nodes they completed whose level is
        at least ``min_level``: the nodes :meth:`append` returns leaf by leaf, filtered, here
        in level order. Built level by level, each level's pairs hashed in one pass."""
        done: list[tuple[int, int, bytes]] = []
        stack = self.hashes  # the pending subtree of level L is on top once lower ones are gone
        sha = hashlib.sha256
        nodes = list(leaves)
        added = len(nodes)
        first = self.size  # position of nodes[0] within its level
        level = 0
        kept: list[bytes] = []  # the new frontier subtrees, smallest first
        while nodes:
            if first & 1:  # a pending left sibling from the frontier
                nodes.insert(0, stack.pop())
                first -= 1
            if len(nodes) & 1:  # the last one waits for its right sibling
                kept.append(nodes.pop())
            if not nodes:
                break
            nodes = [
                sha(_NODE + left + right).digest()
                for left, right in zip(nodes[::2], nodes[1::2], strict=True)
            ]
            first >>= 1
            level += 1
            if level >= min_level:
                done.extend(zip(repeat(level), range(first, first + len(nodes)), nodes))
        stack.extend(reversed(kept))
        self.size += added
        return done

    def root(self) -> bytes:
        if not self.hashes:
            return EMPTY_ROOT
        acc = self.hashes[-1]
        for h in reversed(self.hashes[:-1]):
            acc = node_hash(h, acc)
        return acc

    def ranges(self) -> list[Range]:
        """The perfect subtrees this frontier holds, left to right."""
        out: list[Range] = []
        start = 0
        for bit in reversed(range(self.size.bit_length())):
            if self.size >> bit & 1:
                out.append((start, start + (1 << bit)))
                start += 1 << bit
        return out


class TreeTail:
    """A tree of ``first + len(leaves)`` entries known by the :class:`Frontier` of its first
    ``first`` entries and the hashes of the leaves after them: what an append has in memory.

    It gives the tree head and the inclusion proof of every appended leaf without reading the
    store: the hashes of a proof are either subtrees among the new leaves, frontier subtrees, or
    subtrees built from both (each computed once). Tests pin it to the store-read proofs.
    """

    def __init__(self, old: Frontier, leaves: Sequence[bytes]) -> None:
        self.first = old.size
        self.size = old.size + len(leaves)
        self._leaves = leaves
        self._known: dict[Range, bytes] = dict(zip(old.ranges(), old.hashes, strict=True))

    def hash(self, start: int, end: int) -> bytes:
        """The tree hash of ``[start, end)``: a node of this tree not inside the old frontier."""
        found = self._known.get((start, end))
        if found is not None:
            return found
        if end - start == 1 and start >= self.first:
            return self._leaves[start - self.first]
        if end <= self.first or end - start < 1:
            raise MerkleProofError(f"Entries {start}..{end - 1} lie inside the old frontier.")
        k = split_point(end - start)
        found = node_hash(self.hash(start, start + k), self.hash(start + k, end))
        self._known[(start, end)] = found
        return found

    def root(self) -> bytes:
        return EMPTY_ROOT if self.size == 0 else self.hash(0, self.size)

    def inclusion_proof(self, index: int) -> list[bytes]:
        """The audit path of an appended leaf (``first <= index < size``) to :meth:`root`."""
        if not self.first <= index < self.size:
            raise MerkleProofError(f"Entry {index} is not among the appended entries.")
        return [self.hash(start, end) for start, end in inclusion_ranges(index, self.size)]
