"""Envelope v1 test vectors from fixed seeds: ``python -m tests.vectors.generate`` rewrites
``tests/vectors/envelope-v1.json``; ``tests/crypto/test_vectors.py`` checks it in CI.

Everything random in sealing is fixed here: the message id and each recipient's ephemeral
X25519 key (taken in recipient-id order). Ed25519 signatures are deterministic.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import nacl.public

from gateway.crypto.envelope import _header_hash, seal
from gateway.crypto.keys import PartnerKeyPair

OUT = Path(__file__).with_name("envelope-v1.json")


def _seed(label: str) -> bytes:
    return hashlib.sha256(b"sluis-test-vector:" + label.encode()).digest()


INPUTS: dict[str, Any] = {
    "sender": {
        "partner": "wonen-limburg",
        "ed25519_seed": _seed("sender-ed").hex(),
        "x25519_secret": _seed("sender-x").hex(),
    },
    "recipients": {
        "gemeente-weert-intake": {
            "ed25519_seed": _seed("intake-ed").hex(),
            "x25519_secret": _seed("intake-x").hex(),
            "ephemeral_secret": _seed("intake-eph").hex(),
            "fields": {
                "arrears_amount": "1424.90",
                "months_in_arrears": 2,
                "surname": "Jansen",
                "tenant_objected": False,
            },
        },
        "amw-midden-limburg": {
            "ed25519_seed": _seed("amw-ed").hex(),
            "x25519_secret": _seed("amw-x").hex(),
            "ephemeral_secret": _seed("amw-eph").hex(),
            "fields": {"city": "Weert", "surname": "Jansen"},
        },
    },
    "flow": "referral-to-amw",
    "policy_version": "c8" * 32,
    "message_id": "AAECAwQFBgcICQoLDA0ODw",
    "created": "2026-11-24T12:00:00Z",
    "case_ref": "case-0123456789",
    "subject_ref": "subj-abcdefghijkl",
    "routing": {"priority": True},
}


def build(inputs: dict[str, Any]) -> dict[str, Any]:
    s = inputs["sender"]
    sender = PartnerKeyPair.from_seeds(
        s["partner"], bytes.fromhex(s["ed25519_seed"]), bytes.fromhex(s["x25519_secret"])
    )
    pairs = {
        p: PartnerKeyPair.from_seeds(
            p, bytes.fromhex(r["ed25519_seed"]), bytes.fromhex(r["x25519_secret"])
        )
        for p, r in inputs["recipients"].items()
    }
    ephemerals = iter(
        nacl.public.PrivateKey(bytes.fromhex(inputs["recipients"][p]["ephemeral_secret"]))
        for p in sorted(inputs["recipients"])
    )
    envelope = seal(
        sender,
        flow=inputs["flow"],
        policy_version=inputs["policy_version"],
        projections={p: (pairs[p].public, r["fields"]) for p, r in inputs["recipients"].items()},
        created=datetime.strptime(inputs["created"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC),
        case_ref=inputs["case_ref"],
        subject_ref=inputs["subject_ref"],
        routing=inputs["routing"],
        message_id=inputs["message_id"],
        ephemeral=lambda: next(ephemerals),
    )
    return {
        "description": "Sluis envelope v1 from fixed seeds; see docs/ENVELOPE.md",
        "inputs": inputs,
        "expected": {
            "sender_key_id": sender.public.key_id,
            "header_sha256_b64url": _header_hash(envelope.header),
            "envelope": envelope.to_bytes().decode(),
            "envelope_sha256_hex": envelope.digest.hex(),
        },
    }


def main() -> None:
    OUT.write_text(json.dumps(build(INPUTS), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {OUT}")  # noqa: T201


if __name__ == "__main__":
    main()
