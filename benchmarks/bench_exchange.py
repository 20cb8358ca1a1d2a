"""The exchange through real gunicorn on 127.0.0.1: batch submission and inbox listing.

- Envelopes accepted per second: ``gateway serve`` with 2 workers on a temporary instance (a
  published policy, the eight covenant partners with registered keys); batches of 500
  arrears signals (each its own ``subject_ref``, so each opens a case) from two landlords,
  sealed and their requests signed (RFC 9421, a fresh nonce each) before the clock starts, then
  POSTed by concurrent client threads with ``http.client``. The floor is the in-process work no
  gateway can avoid for the same envelopes, in one process: a raw PyNaCl Ed25519 verification
  over the same signed-byte size, ``json.loads`` of the envelope, a raw SQLCipher insert of the
  envelope bytes (batches of 500 per transaction, WAL, synchronous=FULL) and one register entry
  per envelope with the project's own ``Register.append`` in the same transaction. The gateway
  does more per envelope (a case, a second register entry, a signed receipt with an inclusion
  proof, deliveries); that is what the ratio shows.
- Inbox listing latency: a database filled directly through the store layer (not through
  HTTP, in big transactions) with 1,000,000 envelopes, one delivery each, spread evenly over
  the eight covenant partners (about 125,000 per inbox, 10 % priority), 10,000 cases.
  Envelope and receipt blobs are small placeholders: the listing reads only delivery rows.
  Then 20 closed-loop clients, each a partner on its own keep-alive connection, send
  ``GET /api/v1/inbox?limit=100`` for a fixed time, each the moment the previous answer was
  read (no think time): half the time with the cursor of their previous page, otherwise the
  first page or a cursor at a random depth of the inbox (as a client resuming there would
  hold). Each request is signed before the clock starts (RFC 9421, a fresh nonce each; its
  ``created`` is under a minute old when it is sent, well inside the gateway's 300-second
  window), at most 150 per client and second; a client that runs out counts as an error. The
  next-page cursors are read beforehand from the same store through the same service the
  gateway uses (nothing writes during the run), and every answer's ``nextCursor`` is checked
  against them. The clients are threads in 4 processes (5 each), so the load generator does
  not queue its own clients behind one GIL. A latency is from sending the request to having
  read the whole answer; the load generator runs on the same 2 cores as the gateway.
  gunicorn runs 2 workers (one per core on the 2-core benchmark machine), sync workers
  (``SLUIS_THREADS`` 1, the default; docs/DEPLOY.md, Workers).

Quick mode (the test suite): 2 batches of 20, and 2,000 stored envelopes for 2 seconds.
Every server binds 127.0.0.1 only, runs bounded in count and time and is always terminated.
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import json
import multiprocessing
import multiprocessing.queues
import queue
import random
import secrets
import tempfile
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import nacl.signing
import sqlcipher3

from benchmarks.harness import Figure
from benchmarks.instance import (
    FLOW,
    INTAKE,
    LANDLORDS,
    PARTIES,
    Instance,
    prepare_instance,
    seal_batches,
    server,
    signed_headers,
)
from gateway.crypto import SigningKey
from gateway.crypto import envelope as env
from gateway.instance import load_instance
from gateway.register.entry import Actor, Event, RecipientFields
from gateway.register.epochs import EpochKeyring
from gateway.register.log import Register
from gateway.services.exchange import Deliveries, encode_cursor
from gateway.store import exchange as store
from gateway.store import migrate, transaction

BATCH = 500
SUBMIT_CLIENTS = 3
INBOX_CLIENTS = 20
INBOX_PAGE = 100
INBOX_CLIENT_PROCESSES = 4  # the 20 clients' threads, spread over 4 processes
PLANNED_PER_CLIENT_SECOND = 150  # signed requests per client and second of the run
WORKERS = 2
REQUEST_TIMEOUT = 60.0


# -- figure 1: envelopes accepted per second ------------------------------------------------


def _floor(folder: Path, envelopes: list[env.Envelope]) -> float:
    """Envelopes/s of the unavoidable in-process work (see the module docstring)."""
    sample = envelopes[0]
    signed = b"y" * len(env._signed_bytes(sample.header, sample.payloads))
    raw_signer = nacl.signing.SigningKey.generate()
    signature = raw_signer.sign(signed).signature
    verify_key = raw_signer.verify_key
    wires = [e.to_bytes() for e in envelopes]
    ids = [e.header.message_id for e in envelopes]
    events = [
        Event(
            "transfer.accepted",
            Actor("partner", e.header.sender),
            flow=FLOW,
            sender=e.header.sender,
            recipients=(
                RecipientFields(INTAKE, "municipality-intake", e.header.recipients[0].fields),
            ),
            subjects=(e.header.subject_ref or "",),
            case=f"case-{i:020x}",
            policy_version=e.header.policy_version,
            envelope_hash=hashlib.sha256(wires[i]).hexdigest(),
            message_id=e.header.message_id,
        )
        for i, e in enumerate(envelopes)
    ]
    key = secrets.token_bytes(32)
    conn = sqlcipher3.connect(str(folder / "floor.db"), isolation_level=None, timeout=10)
    try:
        conn.execute(f"PRAGMA key = \"x'{key.hex()}'\"")
        conn.execute("PRAGMA temp_store = MEMORY")
        conn.execute("PRAGMA journal_mode = WAL").fetchone()
        conn.execute("PRAGMA synchronous = FULL")
        conn.execute("PRAGMA foreign_keys = ON")
        migrate(conn)
        conn.execute("CREATE TABLE raw_envelopes (message_id TEXT PRIMARY KEY, envelope BLOB)")
        register = Register(
            SigningKey.from_seed(secrets.token_bytes(32)), "bench/floor", EpochKeyring(folder)
        )
        now = datetime.now(UTC)
        start = time.perf_counter()
        for offset in range(0, len(wires), BATCH):
            part = range(offset, min(offset + BATCH, len(wires)))
            for i in part:
                verify_key.verify(signed, signature)
                json.loads(wires[i])
            with transaction(conn):
                conn.executemany(
                    "INSERT INTO raw_envelopes (message_id, envelope) VALUES (?, ?)",
                    [(ids[i], wires[i]) for i in part],
                )
                register.append(conn, events[offset : offset + len(part)], now=now)
        return len(wires) / (time.perf_counter() - start)
    finally:
        conn.close()


def _post_batches(
    port: int, work: list[tuple[bytes, dict[str, str], int]], clients: int
) -> tuple[float, int, list[str]]:
    """POST every prepared batch from ``clients`` threads; (seconds, accepted, errors)."""
    jobs: queue.Queue[tuple[bytes, dict[str, str], int]] = queue.Queue()
    for job in work:
        jobs.put(job)
    accepted = [0] * clients
    errors: list[str] = []
    lock = threading.Lock()

    def client(index: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT)
        try:
            while True:
                try:
                    body, headers, count = jobs.get_nowait()
                except queue.Empty:
                    return
                conn.request("POST", "/api/v1/envelope-batches", body, headers)
                response = conn.getresponse()
                data = response.read()
                if response.status != 200:
                    with lock:
                        errors.append(f"HTTP {response.status}")
                    continue
                got = json.loads(data)["accepted"]
                accepted[index] += got
                if got != count:
                    with lock:
                        errors.append(f"{count - got} refused")
        except (OSError, http.client.HTTPException) as error:
            with lock:
                errors.append(type(error).__name__)
        finally:
            conn.close()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - start, sum(accepted), errors


def _submission(folder: Path, batches: int, size: int) -> Figure:
    inst = prepare_instance(folder)
    warm = seal_batches(inst, 2, 10, "warm")
    sealed = seal_batches(inst, batches, size, "timed")
    floor = _floor(folder, [e for batch in sealed for e in batch])
    with server(inst, folder, WORKERS) as port:

        def prepare(batch: list[env.Envelope]) -> tuple[bytes, dict[str, str], int]:
            body = json.dumps({"envelopes": [e.to_json() for e in batch]}).encode()
            sender = inst.pairs[batch[0].header.sender]
            headers = signed_headers(sender, port, "POST", "/api/v1/envelope-batches", "", body)
            return body, headers, len(batch)

        _post_batches(port, [prepare(b) for b in warm], len(warm))  # each worker's first request
        work = [prepare(b) for b in sealed]  # signed before the clock starts, fresh nonces
        seconds, accepted, errors = _post_batches(port, work, SUBMIT_CLIENTS)
    name = (
        f"envelopes accepted/s through HTTP, gunicorn {WORKERS} workers, "
        f"{SUBMIT_CLIENTS} clients, {batches} batches of {size}"
    )
    if errors:
        name += f" ({len(errors)} ERRORS: {', '.join(sorted(set(errors)))})"
    return Figure(
        name,
        accepted / seconds,
        "envelopes/s",
        floor,
        "in-process verify+parse+SQLCipher+register",
        goal_ratio=0.5,
        goal_value=2000,
    )


# -- figure 2: inbox listing latency ------------------------------------------------------------


def _message_id(i: int) -> str:
    return base64.urlsafe_b64encode(i.to_bytes(16, "big")).rstrip(b"=").decode("ascii")


def _fill(inst: Instance, rows: int) -> None:
    """``rows`` envelopes, one delivery each, round-robin over the eight parties."""
    instance = load_instance(inst.settings)
    stamp = "2026-11-24T12:00:00.000Z"
    cases = max(1, rows // 100)
    chunk = 50_000
    with instance.database.connection() as conn:
        conn.execute("PRAGMA synchronous = OFF")  # a bulk fill, not the figure
        with transaction(conn):
            for c in range(cases):
                store.insert_case(
                    conn,
                    store.CaseRecord(
                        case_ref=f"case-{c:020x}",
                        subject_ref=f"subject-{c:08d}",
                        state="signalled",
                        priority=c % 10 == 0,
                        opened_by=LANDLORDS[c % 2],
                        opened_at=stamp,
                        state_since=stamp,
                        deadline=None,
                        closed_at=None,
                        parties=(LANDLORDS[c % 2], INTAKE),
                    ),
                )
        blob = b"\x00" * 64
        digest = b"\x00" * 32
        for offset in range(0, rows, chunk):
            part = range(offset, min(offset + chunk, rows))
            ids = [_message_id(i) for i in part]
            with transaction(conn):
                store.insert_receipts(
                    conn,
                    [
                        store.StoredReceipt(m, LANDLORDS[i % 2], digest, "accepted", b"{}")
                        for m, i in zip(ids, part, strict=True)
                    ],
                )
                store.insert_envelopes(
                    conn,
                    [
                        store.NewEnvelope(
                            message_id=m,
                            sender=LANDLORDS[i % 2],
                            flow=FLOW,
                            case_ref=f"case-{i % cases:020x}",
                            received_at=stamp,
                            envelope=blob,
                            recipients=(PARTIES[i % len(PARTIES)],),
                            priority=i % 10 < 1,
                            received_seq=i,
                        )
                        for m, i in zip(ids, part, strict=True)
                    ],
                )
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def _listing(folder: Path, rows: int, seconds: float) -> list[Figure]:
    inst = prepare_instance(folder)
    _fill(inst, rows)
    return _measure_listing(inst, folder, rows, seconds)


@dataclass(frozen=True)
class _Planned:
    """One inbox request of one client, signed before the clock starts."""

    target: str
    headers: dict[str, str]
    next_cursor: str | None  # what the gateway must answer: read from the store beforehand


def _plan(inst: Instance, port: int, rows: int, per_client: int) -> list[list[_Planned]]:
    """Each client's requests in order, signed (fresh nonce each) before the clock starts.

    The access pattern of a client: half the time the next page (the cursor of its previous
    page), otherwise the first page or a cursor at a random depth of its inbox. A next page's
    cursor is the one the gateway will answer, read beforehand through the same service
    (``Deliveries.inbox``) from the same store, which nothing writes during the run; each
    response is checked against it.
    """
    instance = load_instance(inst.settings)
    plans: list[list[_Planned]] = []
    with instance.database.connection() as conn:
        deliveries = Deliveries(conn, instance, inst.policy)
        for index in range(INBOX_CLIENTS):
            partner = PARTIES[index % len(PARTIES)]
            pair = inst.pairs[partner]
            rng = random.Random(index)  # noqa: S311 - reproducible access pattern, not a secret
            cursor: str | None = None
            plan: list[_Planned] = []
            for _ in range(per_client):
                choice = rng.random()
                if cursor is None or choice >= 0.5:
                    cursor = None
                    if choice >= 0.75:  # resume at a random depth of this inbox
                        seq = rng.randrange(index % len(PARTIES), rows, len(PARTIES))
                        cursor = encode_cursor(int(seq % 10 < 1), seq)
                query = f"limit={INBOX_PAGE}" + (f"&cursor={cursor}" if cursor else "")
                page = deliveries.inbox(
                    partner, flow=None, states=None, cursor=cursor, limit=INBOX_PAGE
                )
                headers = signed_headers(pair, port, "GET", "/api/v1/inbox", query, b"")
                plan.append(_Planned(f"/api/v1/inbox?{query}", headers, page.next_cursor))
                cursor = page.next_cursor
            plans.append(plan)
    return plans


def _next_cursor(data: bytes) -> object:
    """The ``nextCursor`` member of a listing (the document's last member), parsed alone."""
    at = data.rindex(b'"nextCursor"') + len(b'"nextCursor"')
    return json.loads(data[at:].lstrip(b" :").rstrip(b"} \n"))


def _run_clients(
    plans: list[list[_Planned]], port: int, deadline: float
) -> tuple[list[float], list[str]]:
    """One thread per plan, closed loop (the next request as soon as the answer is read)."""
    latencies: list[list[float]] = [[] for _ in plans]
    errors: list[str] = []
    lock = threading.Lock()

    def client(index: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT)
        done = latencies[index]
        try:
            for planned in plans[index]:
                if time.monotonic() >= deadline:
                    return
                start = time.perf_counter()
                conn.request("GET", planned.target, headers=planned.headers)
                response = conn.getresponse()
                data = response.read()
                elapsed = time.perf_counter() - start
                if response.status != 200:
                    with lock:
                        errors.append(f"HTTP {response.status}")
                elif _next_cursor(data) != planned.next_cursor:
                    with lock:
                        errors.append("unexpected nextCursor")
                else:
                    done.append(elapsed * 1000)
            with lock:
                errors.append("client ran out of signed requests")
        except (OSError, http.client.HTTPException) as error:
            with lock:
                errors.append(type(error).__name__)
        finally:
            conn.close()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(len(plans))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return [ms for per_client in latencies for ms in per_client], errors


def _client_process(
    plans: list[list[_Planned]],
    port: int,
    deadline: float,
    results: multiprocessing.queues.Queue[tuple[list[float], list[str]]],
) -> None:
    results.put(_run_clients(plans, port, deadline))


def _measure_listing(inst: Instance, folder: Path, rows: int, seconds: float) -> list[Figure]:
    """The listing figures against an instance already filled by :func:`_fill`."""
    per_client = max(100, int(seconds * PLANNED_PER_CLIENT_SECOND))
    with server(inst, folder, WORKERS) as port:
        plans = _plan(inst, port, rows, per_client)
        forked = multiprocessing.get_context("fork")
        results: multiprocessing.queues.Queue[tuple[list[float], list[str]]] = forked.Queue()
        groups = [plans[i::INBOX_CLIENT_PROCESSES] for i in range(INBOX_CLIENT_PROCESSES)]
        start = time.perf_counter()
        deadline = time.monotonic() + seconds  # one system-wide clock for every process
        processes = [
            forked.Process(target=_client_process, args=(group, port, deadline, results))
            for group in groups
        ]
        for process in processes:
            process.start()
        done: list[float] = []
        errors: list[str] = []
        for _ in processes:
            got, failed = results.get(timeout=seconds + REQUEST_TIMEOUT * 2)
            done += got
            errors += failed
        elapsed = time.perf_counter() - start
        for process in processes:
            process.join(timeout=REQUEST_TIMEOUT)
    requests = len(done) + len(errors)
    if not done:
        done = [0.0]
    label = (
        f"{rows:,} stored envelopes, {INBOX_CLIENTS} clients in {INBOX_CLIENT_PROCESSES} "
        f"processes, {requests:,} requests, {len(errors)} errors"
    )
    if errors:
        label += f" ({', '.join(sorted(set(errors)))})"
    return [
        Figure(
            f"inbox listing p50, {label}", _percentile(done, 0.50), "ms", higher_is_better=False
        ),
        Figure(
            f"inbox listing p99, {label}",
            _percentile(done, 0.99),
            "ms",
            goal_value=50,
            higher_is_better=False,
        ),
        Figure(f"inbox listings/s, {label}", len(done) / elapsed, "requests/s"),
    ]


def collect(quick: bool) -> Iterable[Figure]:
    with tempfile.TemporaryDirectory(prefix="sluis-bench-") as tmp:
        base = Path(tmp)
        for name in ("submit", "inbox"):
            (base / name).mkdir()
        if quick:
            yield _submission(base / "submit", 2, 20)
            yield from _listing(base / "inbox", 2_000, 2.0)
        else:
            yield _submission(base / "submit", 48, BATCH)
            yield from _listing(base / "inbox", 1_000_000, 20.0)
