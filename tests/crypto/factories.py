"""Factories for keys and envelopes in tests (cheap KDF, fixed clock)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from gateway.crypto.envelope import Envelope, TrustedSenderKeys, seal
from gateway.crypto.keys import PartnerKeyPair

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
POLICY = "c8" * 32

LANDLORD = PartnerKeyPair.generate("wonen-limburg")
INTAKE = PartnerKeyPair.generate("gemeente-weert-intake")
AMW = PartnerKeyPair.generate("amw-midden-limburg")
DIRECTOR = PartnerKeyPair.generate("gemeente-weert-participatie")

INTAKE_FIELDS: dict[str, Any] = {
    "surname": "Jansen",
    "first_names": "Anna",
    "months_in_arrears": 2,
    "arrears_amount": "1424.90",
    "tenant_objected": False,
}
AMW_FIELDS: dict[str, Any] = {"surname": "Jansen", "arrears_amount": "1424.90"}


def signal_envelope(**overrides: Any) -> Envelope:
    options: dict[str, Any] = {
        "flow": "referral-to-amw",
        "policy_version": POLICY,
        "projections": {
            INTAKE.partner: (INTAKE.public, INTAKE_FIELDS),
            AMW.partner: (AMW.public, AMW_FIELDS),
        },
        "created": NOW,
        "case_ref": "case-0123456789",
        "subject_ref": "subj-abcdefghijkl",
        "routing": {"priority": True},
    }
    options.update(overrides)
    return seal(LANDLORD, **options)


def trusted() -> TrustedSenderKeys:
    return TrustedSenderKeys.of(LANDLORD.public, INTAKE.public, AMW.public, DIRECTOR.public)
