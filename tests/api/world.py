"""A covenant world for API tests: a published policy, every party with registered keys, a
signing client per partner, an injectable clock, and envelope factories per flow."""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from gateway.crypto.envelope import Envelope, seal
from gateway.crypto.http_signatures import RequestParts, sign_request
from gateway.crypto.keys import PartnerKeyPair
from gateway.instance import Instance
from gateway.policy import Policy
from gateway.services import key_directory
from gateway.services.policy_publishing import publish

T0 = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)

LANDLORD = "wonen-limburg"
LANDLORD_2 = "st-joseph"
INTAKE = "gemeente-weert-intake"
AMW = "amw-midden-limburg"
DIRECTOR = "gemeente-weert-participatie"
DIRECTOR_2 = "gemeente-weert-schulddienstverlening"
BENEFITS = "gemeente-weert-uitkeringsadministratie"
EXPERT = "budgetcoach-weert"
PARTIES = (LANDLORD, LANDLORD_2, INTAKE, AMW, DIRECTOR, DIRECTOR_2, BENEFITS, EXPERT)

#: Who receives each flow in the tests (one party per mandatory role).
RECIPIENTS = {
    "arrears-signal": (INTAKE,),
    "route-to-directors": (DIRECTOR, DIRECTOR_2),
    "referral-to-amw": (AMW,),
    "rent-withholding": (LANDLORD,),
    "feedback-to-landlord": (LANDLORD,),
    "referral-to-expert": (EXPERT,),
    "case-closure": (DIRECTOR,),
}


@dataclass
class Clock:
    now: datetime = T0

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def sample_fields(policy: Policy, flow: str, partner: str) -> dict[str, Any]:
    """The required fields of ``partner``'s rule in ``flow``, with placeholder values."""
    party = policy.parties[partner]
    rule = next(r for r in policy.flows[flow].recipients if r.role in party.roles)
    values: dict[str, Any] = {}
    for name in sorted(rule.required_fields):
        definition = policy.fields[name]
        values[name] = _placeholder(name, definition.type, definition.values)
    return values


def _placeholder(name: str, kind: str, choices: tuple[str, ...]) -> Any:
    """A value that passes the field's rules: made up, never a real person's data."""
    fixed: dict[str, Any] = {
        "boolean": name != "tenant_objected",
        "integer": 3,
        "decimal": "1424.90",
        "date": "2026-11-20",
        "month": "2026-12",
        "email": "voorbeeld@example.org",
        "phone": "0612345678",
        "postal-code": "6001 AB",
        "enum": choices[0] if choices else "",
    }
    return fixed.get(kind, f"v-{name}")


@dataclass
class Partner:
    """A partner's side: its keys and a client that signs every request."""

    keys: PartnerKeyPair
    client: FlaskClient
    world: World

    @property
    def id(self) -> str:
        return self.keys.partner

    def request(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        query: Mapping[str, Any] | None = None,
        raw: bytes | None = None,
        sign: bool = True,
        nonce: str | None = None,
        created: datetime | None = None,
        signer: PartnerKeyPair | None = None,
    ) -> TestResponse:
        data = raw if raw is not None else b"" if body is None else json.dumps(body).encode()
        query_string = urlencode(query or {}, doseq=True)
        headers = {"Content-Type": "application/json"} if data else {}
        if sign:
            key = signer or self.keys
            parts = RequestParts(method, "localhost", path, query_string, {}, data)
            headers.update(
                sign_request(
                    parts,
                    key,
                    key.public.key_id,
                    int((created or self.world.clock()).timestamp()),
                    nonce or secrets.token_urlsafe(18),
                )
            )
        url = f"{path}?{query_string}" if query_string else path
        return self.client.open(url, method=method, data=data, headers=headers)

    def get(self, path: str, **options: Any) -> TestResponse:
        return self.request("GET", path, **options)

    def post(self, path: str, body: Any = None, **options: Any) -> TestResponse:
        return self.request("POST", path, body=body, **options)

    def seal(
        self,
        flow: str,
        *,
        case_ref: str | None = None,
        subject_ref: str | None = None,
        routing: Mapping[str, Any] | None = None,
        to: tuple[str, ...] | None = None,
        fields: Mapping[str, Mapping[str, Any]] | None = None,
        message_id: str | None = None,
    ) -> Envelope:
        world = self.world
        recipients = to or RECIPIENTS[flow]
        projections = {
            r: (
                world.partners[r].keys.public,
                dict(fields[r]) if fields and r in fields else sample_fields(world.policy, flow, r),
            )
            for r in recipients
        }
        return seal(
            self.keys,
            flow=flow,
            policy_version=world.policy.version_id,
            projections=projections,
            created=world.clock(),
            case_ref=case_ref,
            subject_ref=subject_ref,
            routing=dict(routing or {}),
            message_id=message_id,
        )

    def submit(self, *envelopes: Envelope) -> TestResponse:
        return self.post(
            "/api/v1/envelope-batches", {"envelopes": [e.to_json() for e in envelopes]}
        )

    def send(self, flow: str, **options: Any) -> dict[str, Any]:
        """Seal, submit and return the one receipt (asserting the request itself succeeded)."""
        response = self.submit(self.seal(flow, **options))
        assert response.status_code == 200, response.get_json()
        receipt: dict[str, Any] = response.get_json()["receipts"][0]
        return receipt


@dataclass
class World:
    app: Flask
    instance: Instance
    policy: Policy
    clock: Clock
    partners: dict[str, Partner] = field(default_factory=dict)

    def __getitem__(self, partner: str) -> Partner:
        return self.partners[partner]

    def open_case(self, subject: str = "subject-0001") -> str:
        receipt = self[LANDLORD].send("arrears-signal", subject_ref=subject)
        assert receipt["outcome"] == "accepted", receipt["reasons"]
        case_ref: str = receipt["caseRef"]
        return case_ref


def build_world(app: Flask, instance: Instance, policy: Policy, clock: Clock) -> World:
    world = World(app, instance, policy, clock)
    with instance.database.connection() as conn:
        publish(
            conn,
            policy,
            instance.signing_key,
            now=T0,
            effective_from=T0.date(),
            published_by="fg",
            register=instance.register,
        )
        for party in PARTIES:
            pair = PartnerKeyPair.generate(party)
            key_directory.onboard_partner(
                conn,
                policy,
                pair.public,
                now=T0,
                by="admin",
                register=instance.register,
                not_before=T0 - timedelta(days=1),
            )
            world.partners[party] = Partner(pair, app.test_client(), world)
    return world
