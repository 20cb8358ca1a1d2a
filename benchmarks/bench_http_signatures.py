"""Verify a signed partner request with a 64 KiB body, beside the raw floor.

The floor is the work no verifier can avoid, done in the same run: one raw PyNaCl Ed25519
verification of the same signature base, plus one raw hashlib SHA-256 of the same body (the
Content-Digest recomputation). Everything above that is parsing the Structured Fields, the
policy checks, the key binding and rebuilding the signature base.

The goal is 50 % of the floor, below the 70 % the envelope benchmarks use: a strict verifier
must parse two Structured Fields headers and re-serialise the signature parameters in pure
Python (http-sf), about 30 us per request that the floor does not contain. At 40-50 signals a
month per town, correctness of that parsing matters far more than those microseconds.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

import nacl.signing

from benchmarks.harness import Figure, rate
from gateway.crypto.http_signatures import (
    COVERED_COMPONENTS,
    RequestParts,
    ResolvedKey,
    SignaturePolicy,
    sign_request,
    signature_base,
    verify_request,
)
from gateway.crypto.keys import PartnerKeyPair

NOW = 1_764_000_000
NONCE = "bench-nonce-0123456789"


def _measure(body_size: int, seconds: float, repeats: int) -> Figure:
    pair = PartnerKeyPair.generate("wonen-limburg")
    resolved = ResolvedKey(pair.partner, pair.public.key_id, pair.public.ed25519)
    body = bytes(range(256)) * (body_size // 256)
    request = RequestParts("POST", "gateway.example:8443", "/api/v1/batches", "", {}, body)
    parts = request.with_headers(sign_request(request, pair, pair.public.key_id, NOW, NONCE))
    policy = SignaturePolicy()

    def resolve(key_id: str) -> ResolvedKey:
        return resolved

    def do_verify() -> None:
        verify_request(parts, resolve_key=resolve, policy=policy, now=NOW)

    parameters = {
        "created": NOW,
        "keyid": pair.public.key_id,
        "nonce": NONCE,
        "alg": "ed25519",
        "tag": "sluis",
    }
    base = signature_base(parts, COVERED_COMPONENTS, parameters)
    signature = pair.signing_key.sign(base)
    verify_key = nacl.signing.VerifyKey(pair.public.ed25519)

    def floor() -> None:
        verify_key.verify(base, signature)
        hashlib.sha256(body).digest()

    do_verify()  # the real thing must pass before it is timed
    floor()
    return Figure(
        f"verify request, {body_size // 1024} KiB body",
        rate(do_verify, min_seconds=seconds, repeats=repeats),
        "requests/s",
        rate(floor, min_seconds=seconds, repeats=repeats),
        "raw Ed25519 verify + sha256",
        goal_ratio=0.5,
    )


def collect(quick: bool) -> Iterable[Figure]:
    if quick:
        yield _measure(1024, 0.02, 1)
    else:
        yield _measure(64 * 1024, 0.5, 3)
