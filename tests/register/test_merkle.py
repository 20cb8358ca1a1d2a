"""RFC 9162 Merkle trees: published known answers, proofs, and tampered proofs."""

from __future__ import annotations

import hashlib
import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.register import merkle
from gateway.register.merkle import (
    EMPTY_ROOT,
    Frontier,
    MerkleProofError,
    leaf_hash,
    root_of,
    verify_consistency,
    verify_inclusion,
)

# The RFC 6962 reference test data (certificate-transparency-go merkle tests): eight leaves
# and the tree head after each one.
LEAVES = [
    b"",
    b"\x00",
    b"\x10",
    b"\x20\x21",
    b"\x30\x31",
    b"\x40\x41\x42\x43",
    bytes(range(0x50, 0x58)),
    bytes(range(0x60, 0x70)),
]
ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
HASHES = [leaf_hash(x) for x in LEAVES]


def test_empty_tree_head_is_hash_of_nothing() -> None:
    assert root_of([]) == EMPTY_ROOT == hashlib.sha256(b"").digest()


@pytest.mark.parametrize("size", range(1, 9))
def test_tree_heads_match_the_reference_vectors(size: int) -> None:
    assert root_of(HASHES[:size]).hex() == ROOTS[size - 1]
    frontier = Frontier()
    for h in HASHES[:size]:
        frontier.append(h)
    assert frontier.root().hex() == ROOTS[size - 1]


def _perfect(leaves: list[bytes]) -> merkle.PerfectFetch:
    return lambda ranges: {(a, b): root_of(leaves[a:b]) for a, b in ranges}


@settings(max_examples=150)
@given(st.integers(1, 300), st.data())
def test_every_inclusion_proof_verifies_and_a_changed_one_does_not(
    size: int, data: st.DataObject
) -> None:
    leaves = [hashlib.sha256(i.to_bytes(4, "big")).digest() for i in range(size)]
    root = root_of(leaves)
    index = data.draw(st.integers(0, size - 1))
    proof = merkle.proof_hashes(merkle.inclusion_ranges(index, size), _perfect(leaves))
    verify_inclusion(leaves[index], index, size, proof, root)
    other = leaves[(index + 1) % size] if size > 1 else os.urandom(32)
    with pytest.raises(MerkleProofError):
        verify_inclusion(other, index, size, proof, root)
    if proof:
        bad = list(proof)
        bad[data.draw(st.integers(0, len(bad) - 1))] = bytes(32)
        with pytest.raises(MerkleProofError):
            verify_inclusion(leaves[index], index, size, bad, root)
        with pytest.raises(MerkleProofError):
            verify_inclusion(leaves[index], index, size, proof[:-1], root)


@settings(max_examples=150)
@given(st.integers(1, 300), st.data())
def test_every_consistency_proof_verifies_and_a_rewritten_history_does_not(
    new: int, data: st.DataObject
) -> None:
    leaves = [hashlib.sha256(i.to_bytes(4, "big")).digest() for i in range(new)]
    old = data.draw(st.integers(1, new))
    proof = merkle.proof_hashes(merkle.consistency_ranges(old, new), _perfect(leaves))
    verify_consistency(old, new, root_of(leaves[:old]), root_of(leaves), proof)
    if old < new:
        rewritten = list(leaves)
        rewritten[data.draw(st.integers(0, old - 1))] = bytes(32)
        with pytest.raises(MerkleProofError):
            verify_consistency(old, new, root_of(rewritten[:old]), root_of(leaves), proof)


def test_a_tree_cannot_shrink() -> None:
    with pytest.raises(MerkleProofError):
        verify_consistency(5, 4, EMPTY_ROOT, EMPTY_ROOT, [])


def test_index_outside_the_tree_is_refused() -> None:
    with pytest.raises(MerkleProofError):
        verify_inclusion(HASHES[0], 8, 8, [], EMPTY_ROOT)


@settings(max_examples=150)
@given(st.integers(0, 200), st.data())
def test_a_range_and_its_boundary_hashes_give_the_tree_head(size: int, data: st.DataObject) -> None:
    leaves = [hashlib.sha256(i.to_bytes(4, "big")).digest() for i in range(size)]
    first = data.draw(st.integers(0, size))
    end = data.draw(st.integers(first, size))
    boundary = {(a, b): root_of(leaves[a:b]) for a, b in merkle.boundary_ranges(first, end, size)}
    assert len(boundary) <= 2 * max(size, 1).bit_length()
    assert merkle.root_from_range(first, leaves[first:end], size, boundary) == root_of(leaves)
    if end > first:
        changed = list(leaves[first:end])
        changed[0] = bytes(32)
        assert merkle.root_from_range(first, changed, size, boundary) != root_of(leaves)


def test_frontier_reports_completed_subtrees() -> None:
    frontier = Frontier()
    done = [node for h in HASHES for node in frontier.append(h)]
    assert [(level, index) for level, index, _ in done] == [
        (1, 0),
        (1, 1),
        (2, 0),
        (1, 2),
        (1, 3),
        (2, 1),
        (3, 0),
    ]
    assert done[-1][2] == frontier.root()
    assert Frontier(8).ranges() == [(0, 8)]
    assert Frontier(13).ranges() == [(0, 8), (8, 12), (12, 13)]


@given(start=st.integers(0, 300), count=st.integers(0, 300), min_level=st.integers(1, 6))
def test_frontier_extend_is_append_leaf_by_leaf(start: int, count: int, min_level: int) -> None:
    leaves = [hashlib.sha256(i.to_bytes(4, "big")).digest() for i in range(start + count)]
    one = Frontier()
    for leaf in leaves[:start]:
        one.append(leaf)
    many = Frontier.of(start, list(one.hashes))
    expected = [n for leaf in leaves[start:] for n in one.append(leaf) if n[0] >= min_level]
    done = many.extend(leaves[start:], min_level)
    assert sorted(done) == sorted(expected)  # the same nodes, in level order
    assert done == sorted(done, key=lambda node: node[0])
    assert (many.size, many.hashes) == (one.size, one.hashes)
