"""A prepared Sluis instance and a real gunicorn server on 127.0.0.1, shared by the benchmarks
that go through HTTP (``bench_exchange``, ``bench_load``).

``prepare_instance`` publishes the shipped policy and registers a fresh key for each of the eight
covenant parties; ``server`` runs ``gateway serve`` on a free loopback port and always stops it;
``signed_headers`` signs a request (RFC 9421, fresh nonce); ``seal_batches`` seals arrears
signals from the two landlords to the intake, each with its own ``subject_ref``.
"""

from __future__ import annotations

import http.client
import os
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from gateway.crypto import envelope as env
from gateway.crypto.http_signatures import RequestParts, sign_request
from gateway.crypto.keys import PartnerKeyPair
from gateway.instance import init_instance, load_instance
from gateway.policy import Policy, load_policy
from gateway.services import key_directory
from gateway.services.policy_publishing import publish
from gateway.settings import Settings

POLICY_DIR = Path(__file__).resolve().parent.parent / "policies"
LANDLORDS = ("wonen-limburg", "st-joseph")
INTAKE = "gemeente-weert-intake"
PARTIES = (
    *LANDLORDS,
    INTAKE,
    "amw-midden-limburg",
    "gemeente-weert-participatie",
    "gemeente-weert-schulddienstverlening",
    "gemeente-weert-uitkeringsadministratie",
    "budgetcoach-weert",
)
FLOW = "arrears-signal"
START_TIMEOUT = 30.0


@dataclass
class Instance:
    settings: Settings
    policy: Policy
    pairs: dict[str, PartnerKeyPair]


def prepare_instance(folder: Path) -> Instance:
    """A fresh instance: the shipped policy published, every party with a registered key."""
    settings = Settings(data_dir=folder / "data", key_dir=folder / "keys", policy_dir=POLICY_DIR)
    init_instance(settings)
    instance = load_instance(settings)
    policy = load_policy(POLICY_DIR)
    now = datetime.now(UTC)
    pairs = {p: PartnerKeyPair.generate(p) for p in PARTIES}
    with instance.database.connection() as conn:
        publish(
            conn,
            policy,
            instance.signing_key,
            now=now,
            effective_from=now.date(),
            published_by="fg",
            register=instance.register,
        )
        for pair in pairs.values():
            key_directory.onboard_partner(
                conn,
                policy,
                pair.public,
                now=now,
                by="admin",
                register=instance.register,
                not_before=now - timedelta(minutes=5),
            )
    return Instance(settings, policy, pairs)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def healthy(port: int) -> bool:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
    try:
        conn.request("GET", "/api/v1/health")
        return conn.getresponse().status == 200
    except OSError:
        return False
    finally:
        conn.close()


@contextmanager
def server(inst: Instance, folder: Path, workers: int) -> Iterator[int]:
    """``gateway serve`` on 127.0.0.1:<free port>; yields the port once it answers."""
    port = free_port()
    environ = {k: v for k, v in os.environ.items() if not k.startswith("SLUIS_")}
    environ.update(
        SLUIS_DATA_DIR=str(inst.settings.data_dir),
        SLUIS_KEY_DIR=str(inst.settings.key_dir),
        SLUIS_POLICY_DIR=str(inst.settings.policy_dir),
        SLUIS_BIND=f"127.0.0.1:{port}",
        SLUIS_WORKERS=str(workers),
        SLUIS_LOG_LEVEL="WARNING",
    )
    log_path = folder / f"serve-{port}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(  # noqa: S603 - this interpreter, fixed arguments, loopback
            [sys.executable, "-m", "gateway", "serve"], env=environ, stdout=log, stderr=log
        )
        try:
            deadline = time.monotonic() + START_TIMEOUT
            while not healthy(port):
                if process.poll() is not None or time.monotonic() > deadline:
                    tail = log_path.read_text(errors="replace")[-2000:]
                    raise RuntimeError(f"gateway serve did not start:\n{tail}")
                time.sleep(0.1)
            yield port
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=15)


def signed_headers(
    pair: PartnerKeyPair, port: int, method: str, path: str, query: str, body: bytes
) -> dict[str, str]:
    headers = sign_request(
        RequestParts(method, f"127.0.0.1:{port}", path, query, {}, body),
        pair,
        pair.public.key_id,
        int(time.time()),
        secrets.token_urlsafe(18),
    )
    if body:
        headers["Content-Type"] = "application/json"
    return headers


def intake_fields(policy: Policy) -> dict[str, Any]:
    """The intake's required fields of an arrears signal, with placeholder values."""
    party = policy.parties[INTAKE]
    rule = next(r for r in policy.flows[FLOW].recipients if r.role in party.roles)
    values: dict[str, Any] = {}
    for name in sorted(rule.required_fields):
        kind = policy.fields[name].type
        values[name] = True if kind == "boolean" else 2 if kind == "integer" else f"v-{name}"
    return values


def seal_batches(
    inst: Instance, batches: int, size: int, tag: str, senders: tuple[str, ...] = LANDLORDS
) -> list[list[env.Envelope]]:
    """``batches`` batches of ``size`` arrears signals to the intake, the senders in turn."""
    fields = intake_fields(inst.policy)
    intake = inst.pairs[INTAKE].public
    now = datetime.now(UTC)
    out = []
    for b in range(batches):
        sender = inst.pairs[senders[b % len(senders)]]
        out.append(
            [
                env.seal(
                    sender,
                    flow=FLOW,
                    policy_version=inst.policy.version_id,
                    projections={INTAKE: (intake, fields)},
                    created=now,
                    subject_ref=f"subject-{tag}-{b:04d}-{i:04d}",
                )
                for i in range(size)
            ]
        )
    return out
