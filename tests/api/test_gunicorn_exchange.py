"""Two partners exchange a sealed message through real gunicorn on 127.0.0.1 (bounded: one
server, 60 s at most)."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from gateway.crypto.envelope import TrustedSenderKeys, open_envelope, seal
from gateway.crypto.http_signatures import RequestParts, sign_request
from gateway.crypto.keys import PartnerKeyPair
from gateway.instance import load_instance
from gateway.policy import Policy
from gateway.register.receipt import verify_receipt
from gateway.settings import Settings
from tests.api.world import INTAKE, LANDLORD, sample_fields
from tests.faults.live import free_port, prepare


class Client:
    def __init__(self, base: str, authority: str, keys: PartnerKeyPair) -> None:
        self.base, self.authority, self.keys = base, authority, keys

    def call(self, method: str, path: str, body: Any = None) -> tuple[int, bytes]:
        data = b"" if body is None else json.dumps(body).encode()
        headers = sign_request(
            RequestParts(method, self.authority, path, "", {}, data),
            self.keys,
            self.keys.public.key_id,
            int(time.time()),
            secrets.token_urlsafe(18),
        )
        if data:
            headers["Content-Type"] = "application/json"
        request = urllib.request.Request(  # noqa: S310 - loopback URL built by the test
            self.base + path, data=data or None, method=method, headers=headers
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()


def test_two_partners_exchange_through_gunicorn(
    settings: Settings, gateway_env: dict[str, str], weert: Policy
) -> None:
    pairs = prepare(settings, weert, (LANDLORD, INTAKE))
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLUIS_")}
    env.update(gateway_env, SLUIS_BIND=f"127.0.0.1:{port}")
    log = settings.data_dir.parent / "serve.log"
    base, authority = f"http://127.0.0.1:{port}", f"127.0.0.1:{port}"
    landlord = Client(base, authority, pairs[LANDLORD])
    intake = Client(base, authority, pairs[INTAKE])
    with Path(log).open("wb") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "gateway", "serve"], env=env, stdout=out, stderr=out
        )
        try:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                try:
                    if landlord.call("GET", "/api/v1/policy-bundle")[0] == 200:
                        break
                except OSError:
                    time.sleep(0.2)
            envelope = seal(
                pairs[LANDLORD],
                flow="arrears-signal",
                policy_version=weert.version_id,
                projections={
                    INTAKE: (pairs[INTAKE].public, sample_fields(weert, "arrears-signal", INTAKE))
                },
                created=datetime.now(UTC),
                subject_ref="subject-0001",
            )
            status, body = landlord.call(
                "POST", "/api/v1/envelope-batches", {"envelopes": [envelope.to_json()]}
            )
            assert status == 200, body
            receipt = json.loads(body)["receipts"][0]
            assert receipt["outcome"] == "accepted", receipt
            status, body = intake.call("GET", "/api/v1/inbox")
            items = json.loads(body)["items"]
            assert [i["messageId"] for i in items] == [envelope.header.message_id]
            status, sealed = intake.call("GET", f"/api/v1/envelopes/{items[0]['messageId']}")
            assert status == 200
            opened = open_envelope(
                sealed, pairs[INTAKE], TrustedSenderKeys.of(pairs[LANDLORD].public)
            )
            assert opened.fields["surname"] == "v-surname"
            status, _ = intake.call(
                "POST", f"/api/v1/envelopes/{items[0]['messageId']}/acknowledgement"
            )
            assert status == 200
            status, _ = landlord.call("GET", f"/api/v1/envelopes/{items[0]['messageId']}")
            assert status == 404  # the sender is not a recipient
        finally:
            server.terminate()
            server.wait(timeout=15)
    instance = load_instance(settings)
    from gateway.crypto.canonical import canonical_json

    verify_receipt(canonical_json(receipt), instance.signing_key.public_key)
    output = log.read_text()
    assert "v-surname" not in output  # no field value in the server's log
