"""The processing register: appends, full verification, and proofs at ten million entries.

- Appends: batches of 500 transfer events per transaction (as the exchange appends them),
  against raw SQLCipher inserts of the same entry bytes in the same batches and transactions,
  on the same database with the same pragmas (WAL, synchronous=FULL).
- Verification of the whole register (``gateway register verify --db`` and the export verifier)
  against raw SHA-256 over the same entry bytes held in memory. The floor leaves out reading
  the database and the tree's inner nodes; both figures are printed. A reference line (not a
  Sluis figure) gives, against the same floor, the least work any full verification has to do:
  raw hashlib doing only the hashes it cannot skip (n leaves, n - 1 inner nodes, n seals) over
  the same bytes in memory. When that line is below the goal, the goal cannot be met by any
  verifier that checks the tree and the seals.
- Inclusion and consistency proofs in a register of 10,000,000 entries. The subtree hashes are
  all stored as the register stores them; entry rows (of which a proof reads at most 30 leaf
  hashes) are stored only for the 16-entry blocks the sampled proofs touch, to build the store
  in seconds rather than hours.
"""

from __future__ import annotations

import hashlib
import random
import tempfile
import time
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

from benchmarks.harness import Figure, latency_ms
from gateway.crypto import SigningKey
from gateway.register import merkle
from gateway.register.entry import Actor, Event, RecipientFields, encode_entry
from gateway.register.epochs import EpochKeyring
from gateway.register.export import verify_export, write_export
from gateway.register.log import Register
from gateway.register.verify import CheckpointClaim, stored_node_map, verify_entries
from gateway.services.register_admin import verify_database
from gateway.store import Connection, Database, DatabaseKey, migrate, transaction
from gateway.store import register as store

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
BATCH = 500


def _events(count: int, offset: int = 0) -> list[Event]:
    return [
        Event(
            "transfer.accepted",
            Actor("partner", "wonen-limburg"),
            flow="signal",
            sender="wonen-limburg",
            recipients=(
                RecipientFields(
                    "gemeente-weert",
                    "municipality-intake",
                    ("arrears-amount", "arrears-months", "tenant-name", "address"),
                    "art. 3 Wgs",
                ),
            ),
            subjects=(f"subject-{offset + i}",),
            case=f"case-{offset + i:08d}",
            policy_version="c8" * 32,
            envelope_hash=hashlib.sha256(str(offset + i).encode()).hexdigest(),
            message_id=f"msg-{offset + i}",
        )
        for i in range(count)
    ]


def _open(folder: Path) -> tuple[Connection, Register]:
    conn = Database(folder / "bench.db", DatabaseKey(b"\x05" * 32)).connect()
    migrate(conn)
    register = Register(SigningKey.from_seed(b"\x06" * 32), "bench/register", EpochKeyring(folder))
    return conn, register


def _appends(folder: Path, batches: int, repeats: int) -> Figure:
    conn, register = _open(folder)
    conn.execute("CREATE TABLE raw_floor (seq INTEGER PRIMARY KEY, entry BLOB NOT NULL)")
    events = _events(BATCH)
    sample = [
        encode_entry(
            e, seq=i, time="2026-11-24T12:00:00.000Z", epoch="2026-11", pseudonyms=("a" * 32,)
        )
        for i, e in enumerate(events)
    ]
    best_ours = best_floor = 0.0
    next_raw = 0
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(batches):
            with transaction(conn):
                register.append(conn, events, now=NOW)
        best_ours = max(best_ours, batches * BATCH / (time.perf_counter() - start))
        start = time.perf_counter()
        for _ in range(batches):
            rows = [(next_raw + i, data) for i, data in enumerate(sample)]
            next_raw += BATCH
            with transaction(conn):
                conn.executemany("INSERT INTO raw_floor (seq, entry) VALUES (?, ?)", rows)
        best_floor = max(best_floor, batches * BATCH / (time.perf_counter() - start))
    conn.close()
    return Figure(
        f"register append, batches of {BATCH}",
        best_ours,
        "entries/s",
        best_floor,
        "raw SQLCipher insert",
        goal_ratio=0.5,
    )


def _verification(folder: Path, entries: int) -> list[Figure]:
    conn, register = _open(folder)
    per_batch = 10_000
    done = 0
    while done < entries:
        count = min(per_batch, entries - done)
        with transaction(conn):
            register.append(conn, _events(count, done), now=NOW)
            register.sign_checkpoint(conn, now=NOW)
        done = store.size(conn)
    data = [bytes(r[3]) for rows in store.iter_entries(conn) for r in rows]
    size = len(data)

    start = time.perf_counter()
    sha = hashlib.sha256
    for item in data:
        sha(b"\x00" + item).digest()
    floor = size / (time.perf_counter() - start)
    least = size / _least_work_seconds(data, register.seal_key)

    start = time.perf_counter()
    verify_database(conn, register)
    ours_db = size / (time.perf_counter() - start)

    start = time.perf_counter()
    claims = [CheckpointClaim(c.size, c.root, c.note) for c in store.checkpoints(conn)]
    chunks = list(store.iter_entries(conn))
    nodes = stored_node_map(store.iter_nodes(conn))
    read_seconds = time.perf_counter() - start
    start = time.perf_counter()
    verify_entries(
        chunks,
        verifier=register.verifier,
        checkpoints=claims,
        seal_key=register.seal_key,
        stored_nodes=nodes,
    )
    ours_memory = size / (time.perf_counter() - start)

    out = folder / "export"
    from gateway.policy import load_policy

    policy = load_policy(Path(__file__).resolve().parent.parent / "policies")
    write_export(
        conn,
        register,
        policy,
        period=(NOW.date(), NOW.date()),
        fmt="json",
        out=out,
        now=NOW,
        actor=Actor("operator", "bench"),
    )
    start = time.perf_counter()
    verify_export(out)
    ours_export = size / (time.perf_counter() - start)
    conn.close()
    label = f"{size:,} entries"
    return [
        Figure(
            f"reference, not Sluis: least work of any full verify, {label}",
            least,
            "entries/s",
            floor,
            "raw SHA-256",
        ),
        Figure(f"verify --db, {label}", ours_db, "entries/s", floor, "raw SHA-256", goal_ratio=0.5),
        Figure(
            f"verify after reading ({read_seconds:.1f} s), {label}",
            ours_memory,
            "entries/s",
            floor,
            "raw SHA-256",
            goal_ratio=0.5,
        ),
        Figure(
            f"verify export folder, {label}",
            ours_export,
            "entries/s",
            floor,
            "raw SHA-256",
            goal_ratio=0.5,
        ),
    ]


def _least_work_seconds(data: list[bytes], seal_key: bytes) -> float:
    """Seconds raw hashlib needs for the hashes no full verification can skip, over the same
    entry bytes in memory and nothing else: n leaf SHA-256, n - 1 inner-node SHA-256 (RFC 9162:
    an odd node moves up unhashed) and n keyed BLAKE2b seals (copies of one keyed state, the
    fastest form). A verifier that also reads, compares and checks cannot be faster than this.
    """
    sha = hashlib.sha256
    keyed = hashlib.blake2b(key=seal_key, digest_size=32)
    start = time.perf_counter()
    level = [sha(b"\x00" + item).digest() for item in data]
    for leaf in level:
        state = keyed.copy()
        state.update(leaf)
        state.digest()
    while len(level) > 1:
        odd = [level[-1]] if len(level) & 1 else []
        level = [
            sha(b"\x01" + a + b).digest() for a, b in zip(level[::2], level[1::2], strict=False)
        ] + odd
    return time.perf_counter() - start


def _proofs(folder: Path, size: int, samples: int) -> list[Figure]:
    conn, register = _open(folder)
    rng = random.Random(7)  # noqa: S311 - reproducible sample positions, not a secret
    leaf = [hashlib.sha256(i.to_bytes(8, "big")).digest() for i in range(size)]
    nodes: list[tuple[int, int, bytes]] = []
    level = leaf
    height = 0
    while len(level) > 1:
        level = [
            hashlib.sha256(b"\x01" + level[i] + level[i + 1]).digest()
            for i in range(0, len(level) - 1, 2)
        ]
        height += 1
        if height >= store.STORED_NODE_LEVEL:
            nodes.extend((height, i, h) for i, h in enumerate(level))
    indices = [rng.randrange(size) for _ in range(samples)]
    olds = [rng.randrange(1, size) for _ in range(samples)]
    blocks = {i >> 4 for i in indices} | {o >> 4 for o in olds} | {(size - 1) >> 4}
    rows = [
        (seq, "processing", "transfer.accepted", leaf[seq], bytes(32), b"{}")
        for block in sorted(blocks)
        for seq in range(block * 16, min(size, block * 16 + 16))
    ]
    with transaction(conn):
        for offset in range(0, len(nodes), 100_000):
            store.insert_nodes(conn, nodes[offset : offset + 100_000])
        store.insert_entries(conn, rows)
    del nodes, level
    root = merkle.root_of(leaf)
    it = iter(range(10**9))

    def inclusion() -> None:
        i = indices[next(it) % samples]
        proof = register.inclusion_proof(conn, i, size)
        merkle.verify_inclusion(leaf[i], i, size, proof, root)

    def consistency() -> None:
        old = olds[next(it) % samples]
        register.consistency_proof(conn, old, size)

    figures = [
        Figure(
            f"inclusion proof at {size:,} entries",
            latency_ms(inclusion, calls=samples),
            "ms",
            goal_value=1.0,
            higher_is_better=False,
        ),
        Figure(
            f"consistency proof at {size:,} entries",
            latency_ms(consistency, calls=samples),
            "ms",
            goal_value=1.0,
            higher_is_better=False,
        ),
    ]
    conn.close()
    return figures


def collect(quick: bool) -> Iterable[Figure]:
    with tempfile.TemporaryDirectory(prefix="sluis-bench-") as tmp:
        base = Path(tmp)
        for name in ("append", "verify", "proofs"):
            (base / name).mkdir()
        yield _appends(base / "append", 2 if quick else 20, 1 if quick else 3)
        yield from _verification(base / "verify", 2_000 if quick else 1_000_000)
        yield from _proofs(base / "proofs", 5_000 if quick else 10_000_000, 20 if quick else 200)
