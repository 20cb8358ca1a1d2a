"""Load: 50 concurrent partner clients for 60 s against real gunicorn on 127.0.0.1.

``gateway serve`` with 2 workers (4 threads each) on a prepared instance (the shipped policy
published, the eight covenant partners with registered keys: :mod:`benchmarks.instance`). Each
client thread holds its own keep-alive connection and, until the clock runs out, repeats a
seeded random mix:

- *submit* (40 %): POST a batch of 20 arrears signals as one of the two landlords (sealed and
  serialised before the clock starts; the request is signed at send time, a fresh nonce each)
  and keep every receipt it gets back;
- *inbox* (30 %): the intake lists its inbox (``limit=20``);
- *fetch+ack* (30 %): the intake fetches one envelope this client submitted and holds a
  receipt for, then acknowledges it (two requests, timed apart).

Latencies are measured by the client around one request and its response: with 50 clients
and 8 server threads on 2 cores they are mostly queueing, and the clients (threads of one
Python process, signing each request) share the same 2 cores. The figures show where Sluis stands
under that load; they carry no floor, because no raw library does the same mixed work.

Every request is bounded in time (a 60 s socket timeout) and every client in count (a fixed
number of prepared batches and of requests), and the run stops by itself at its deadline. Any
answer but the expected status, any refused envelope and any socket error counts as an error;
the figures' names carry the error count and a figure of its own has the goal 0.

Reconciliation after the server stopped, on the database itself: the accepted receipts the
clients hold are exactly the accepted receipts in the store (none missing, none extra), each
with its stored envelope and exactly one delivery to the intake, each its own case; every
envelope a client acknowledged is ``acknowledged``; and ``gateway register verify --db`` passes.
Anything else raises, so neither ``make bench`` nor the test suite can print a load figure that
did not reconcile ("reconciled" is in the figure names).

Quick mode (the test suite): 5 clients for 3 seconds.
"""

from __future__ import annotations

import http.client
import json
import random
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.harness import Figure
from benchmarks.instance import (
    INTAKE,
    LANDLORDS,
    Instance,
    prepare_instance,
    seal_batches,
    server,
    signed_headers,
)
from gateway.instance import load_instance
from gateway.services.register_admin import verify_database

WORKERS = 2
BATCH = 20
INBOX_PAGE = 20
REQUEST_TIMEOUT = 60.0
MAX_REQUESTS_PER_CLIENT = 100_000
SUBMIT_SHARE = 0.4
INBOX_SHARE = 0.3  # the rest is fetch+ack
OPERATIONS = ("submit", "inbox", "fetch", "ack")


@dataclass
class _Client:
    """One client's prepared batches, the receipts it holds, and what it measured."""

    index: int
    sender: str
    batches: list[tuple[bytes, int]]  # (body, envelopes) sealed before the clock starts
    accepted: dict[str, str] = field(default_factory=dict)  # message id -> case ref
    unread: list[str] = field(default_factory=list)
    acknowledged: set[str] = field(default_factory=set)
    latencies: dict[str, list[float]] = field(default_factory=lambda: {op: [] for op in OPERATIONS})
    errors: Counter[str] = field(default_factory=Counter)
    requests: int = 0


def _prepare(inst: Instance, clients: int, batches_each: int) -> list[_Client]:
    out = []
    for i in range(clients):
        sender = LANDLORDS[i % len(LANDLORDS)]
        sealed = seal_batches(inst, batches_each, BATCH, f"c{i:03d}", (sender,))
        bodies = [
            (json.dumps({"envelopes": [e.to_json() for e in batch]}).encode(), len(batch))
            for batch in sealed
        ]
        out.append(_Client(i, sender, bodies))
    return out


def _run(inst: Instance, client: _Client, port: int, deadline: float) -> None:
    rng = random.Random(client.index)  # noqa: S311 - reproducible mix, not a secret
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT)

    def call(op: str, method: str, path: str, query: str, body: bytes, as_: str) -> bytes | None:
        nonlocal conn
        headers = signed_headers(inst.pairs[as_], port, method, path, query, body)
        target = f"{path}?{query}" if query else path
        client.requests += 1
        start = time.perf_counter()
        try:
            conn.request(method, target, body or None, headers)
            response = conn.getresponse()
            data = response.read()
        except (OSError, http.client.HTTPException) as error:
            client.errors[f"{op} {type(error).__name__}"] += 1
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT)
            return None
        elapsed = (time.perf_counter() - start) * 1000
        if response.status != 200:
            client.errors[f"{op} HTTP {response.status}"] += 1
            return None
        client.latencies[op].append(elapsed)
        return data

    try:
        while time.monotonic() < deadline and client.requests < MAX_REQUESTS_PER_CLIENT:
            choice = rng.random()
            if choice < SUBMIT_SHARE and client.batches:
                body, count = client.batches.pop()
                data = call("submit", "POST", "/api/v1/envelope-batches", "", body, client.sender)
                if data is None:
                    continue
                result = json.loads(data)
                for receipt in result["receipts"]:
                    if receipt["outcome"] == "accepted":
                        client.accepted[receipt["messageId"]] = receipt["caseRef"]
                        client.unread.append(receipt["messageId"])
                if result["accepted"] != count:
                    client.errors[f"submit {count - result['accepted']} not accepted"] += 1
            elif choice < SUBMIT_SHARE + INBOX_SHARE or not client.unread:
                query = f"limit={INBOX_PAGE}"
                call("inbox", "GET", "/api/v1/inbox", query, b"", INTAKE)
            else:
                message_id = client.unread.pop(rng.randrange(len(client.unread)))
                path = f"/api/v1/envelopes/{message_id}"
                if call("fetch", "GET", path, "", b"", INTAKE) is None:
                    continue
                if call("ack", "POST", f"{path}/acknowledgement", "", b"", INTAKE) is not None:
                    client.acknowledged.add(message_id)
    finally:
        conn.close()


def _reconcile(inst: Instance, clients: list[_Client]) -> str:
    """Check the store against the receipts the clients hold; raise on any difference."""
    held: dict[str, str] = {}
    for client in clients:
        held.update(client.accepted)
    acknowledged = set().union(*(c.acknowledged for c in clients))
    instance = load_instance(inst.settings)
    problems: list[str] = []
    with instance.database.connection() as conn:
        stored = {
            row[0]
            for row in conn.execute("SELECT message_id FROM receipts WHERE outcome = 'accepted'")
        }
        envelopes = dict(
            conn.execute("SELECT message_id, envelope IS NOT NULL FROM envelopes").fetchall()
        )
        deliveries = Counter(
            row[0]
            for row in conn.execute(
                "SELECT message_id FROM deliveries WHERE recipient = ?", (INTAKE,)
            )
        )
        other = conn.execute("SELECT count(*) FROM deliveries WHERE recipient != ?", (INTAKE,))
        states = dict(
            conn.execute("SELECT message_id, state FROM deliveries WHERE recipient = ?", (INTAKE,))
        )
        cases = dict(conn.execute("SELECT message_id, case_ref FROM envelopes").fetchall())
        if missing := set(held) - stored:
            problems.append(f"{len(missing)} held receipts have no accepted receipt stored")
        if extra := stored - set(held):
            problems.append(f"{len(extra)} accepted envelopes stored that no client holds")
        if set(envelopes) != stored or not all(envelopes.values()):
            problems.append("stored envelopes differ from accepted receipts")
        if set(deliveries) != stored or any(n != 1 for n in deliveries.values()):
            problems.append("deliveries differ from accepted envelopes (one each expected)")
        if other.fetchone()[0]:
            problems.append("deliveries to parties other than the intake")
        if any(cases.get(m) != case for m, case in held.items()):
            problems.append("a receipt's case differs from its stored envelope's")
        if len(set(held.values())) != len(held):
            problems.append("signals with distinct subjects share a case")
        if wrong := [m for m in acknowledged if states.get(m) != "acknowledged"]:
            problems.append(f"{len(wrong)} acknowledged envelopes not stored as acknowledged")
        verify_database(conn, instance.register)  # raises RegisterTampered on any mismatch
    if problems:
        raise RuntimeError("load run did not reconcile: " + "; ".join(problems))
    return f"reconciled {len(held):,} receipts, {len(acknowledged):,} acks"


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else 0.0


def _load(folder: Path, clients: int, seconds: float, batches_each: int) -> list[Figure]:
    inst = prepare_instance(folder)
    prepared = _prepare(inst, clients, batches_each)
    with server(inst, folder, WORKERS) as port:
        deadline = time.monotonic() + seconds
        threads = [
            threading.Thread(target=_run, args=(inst, c, port, deadline), name=f"load-{c.index}")
            for c in prepared
        ]
        start = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=seconds + 2 * REQUEST_TIMEOUT)
        elapsed = time.perf_counter() - start
        if any(t.is_alive() for t in threads):
            raise RuntimeError("a load client did not stop in time")
    reconciled = _reconcile(inst, prepared)
    errors: Counter[str] = sum((c.errors for c in prepared), Counter())
    requests = sum(c.requests for c in prepared)
    envelopes = sum(len(c.accepted) for c in prepared)
    exhausted = sum(1 for c in prepared if not c.batches)
    label = (
        f"{clients} clients {seconds:g} s, gunicorn {WORKERS} workers, {requests:,} requests, "
        f"{sum(errors.values())} errors"
    )
    if errors:
        label += f" ({', '.join(f'{k}: {v}' for k, v in sorted(errors.items()))})"
    label += f", {reconciled}"
    if exhausted:
        label += f", {exhausted} clients used all {batches_each} prepared batches"
    figures = [
        Figure(f"load: requests/s, {label}", requests / elapsed, "requests/s"),
        Figure(
            f"load: envelopes accepted/s (batches of {BATCH}), {label}",
            envelopes / elapsed,
            "envelopes/s",
        ),
        Figure(
            f"load: errors, {label}",
            float(sum(errors.values())),
            "errors",
            goal_value=0,
            higher_is_better=False,
        ),
    ]
    for op in OPERATIONS:
        done = [ms for c in prepared for ms in c.latencies[op]]
        what = f"{op} (batch of {BATCH})" if op == "submit" else op
        for name, fraction in (("p50", 0.50), ("p99", 0.99)):
            figures.append(
                Figure(
                    f"load: {what} {name}, {len(done):,} calls, {clients} clients",
                    _percentile(done, fraction),
                    "ms",
                    higher_is_better=False,
                )
            )
    return figures


def collect(quick: bool) -> Iterable[Figure]:
    with tempfile.TemporaryDirectory(prefix="sluis-bench-") as tmp:
        if quick:
            yield from _load(Path(tmp), 5, 3.0, 20)
        else:
            yield from _load(Path(tmp), 50, 60.0, 80)
