"""The partner client: a monthly list to sealed batches, and memory for a very large list.

1. *Rows per second from a 10,000-row CSV to sealed batches, no network.* A realistic monthly
   list (``;``, decimal comma, dd-mm-jjjj, the Dutch headers the default mapping knows, a few
   rows below the threshold and a few invalid) is read and checked with
   :func:`~gateway.client.spreadsheet.read_signal_list`; every valid row is sealed to the intake
   as ``send_list`` does (:func:`~gateway.client.sending.seal_outgoing` with an in-memory
   :class:`~gateway.client.trust.Directory`) and the envelopes are grouped into batches of 500
   JSON bodies (``json.dumps({"envelopes": [...]})``), which are then dropped. The rate counts
   every row of the file. The floor is the crypto no implementation can avoid, in raw PyNaCl in
   the same run: per sealed row one sealed box over a plaintext of that row's exact size and one
   Ed25519 signature over that row's exact signed-byte size, over the same number of file rows.
   Issue 7 names no ratio goal; 50 % of the floor is the goal used here (the row check, the
   canonical JSON and the batch JSON are real work the floor does not do).
2. *Peak memory for a 1,000,000-row file: it must stream.* The file is written to disk line by
   line; a fresh subprocess (only the read loop, so nothing else inflates its high-water mark)
   reads and checks it and reports its peak RSS (``VmHWM`` on Linux: ``ru_maxrss`` there would
   include the parent's high-water mark, see :func:`_peak_rss_mb`), beside the peak after
   set-up and a 50-row warm-up. Measured for 100,000 and 1,000,000 rows; the difference must
   stay small (bounded, not proportional to the file). A 1,000,000-row list is about 160 MB,
   over the client's default 50 MB file limit, so the benchmark raises that limit. A second
   pair of runs also seals every valid row (without keeping the envelopes), at 100,000 and
   300,000 rows: sealing a million rows would take about four minutes more.

Quick mode (the test suite): 200 rows for the rate; 2,000 and 20,000 rows for memory.
"""

from __future__ import annotations

import hashlib
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import nacl.public
import nacl.signing

from benchmarks.harness import Figure, rate
from gateway.client.letters import informed_record
from gateway.client.sending import Outgoing, seal_outgoing
from gateway.client.sheet_readers import Limits
from gateway.client.spreadsheet import SIGNAL_FLOW, VALID, read_signal_list
from gateway.client.trust import Directory, DirectoryKey
from gateway.crypto import envelope as env
from gateway.crypto.canonical import canonical_json
from gateway.crypto.encoding import b64u_decode
from gateway.crypto.keys import PartnerKeyPair
from gateway.policy import Policy, load_policy

POLICY_DIR = Path(__file__).resolve().parent.parent / "policies"
NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
LANDLORD = "wonen-limburg"
INTAKE = "gemeente-weert-intake"
SECRET = b"s" * 32
BATCH = 500
MB = 1024 * 1024

HEADERS = (
    "Contractnummer",
    "Voornamen",
    "Tussenvoegsel",
    "Achternaam",
    "Geboortedatum",
    "Straat",
    "Huisnummer",
    "Toevoeging",
    "Postcode",
    "Woonplaats",
    "Telefoonnummer",
    "E-mailadres",
    "Huur",
    "Huurachterstand",
    "Maanden achterstand",
    "Datum persoonlijk contact",
    "Gewezen op schuldhulp",
    "Laatste herinnering",
    "Doorgifte aangeboden",
    "Bezwaar",
)
_FIRST = (
    "Fatima", "Jan", "Maria", "Pieter", "Anouk", "Mohamed", "Sanne", "Kevin", "Lotte", "Ahmet",
    "Johanna Maria", "Thijs", "Zoë", "Bram", "Noëlle", "Sevda", "Henk", "Iris", "Youssef", "Femke",
)  # fmt: skip
_PREFIX = ("", "", "", "", "van", "van der", "de", "van den", "ter")
_LAST = (
    "El Amrani", "Janssen", "Smeets", "Hendrikx", "Peeters", "Vos", "Bakker", "Yilmaz",
    "Coenen", "Willems", "Verhoeven", "Hermans", "Maas", "Kuijpers", "Geraedts", "Wouters",
)  # fmt: skip
_STREET = (
    "Maasstraat", "Hoogstraat", "Beekstraat", "Wilhelminasingel", "Emmasingel", "Nieuwe Markt",
    "Driesveldlaan", "Stationsplein", "Kapelaan Sarstraat", "Boshoverweg", "Ittervoorterweg",
)  # fmt: skip
_CITY = ("Weert", "Weert", "Weert", "Stramproy", "Altweerterheide", "Swartbroek")


def _dutch_date(day: date) -> str:
    return f"{day.day:02d}-{day.month:02d}-{day.year}"


def _dutch_amount(cents: int) -> str:
    euros, rest = divmod(cents, 100)
    whole = f"{euros:,}".replace(",", ".")
    return f"{whole},{rest:02d}"


def _row(number: int, rng: random.Random) -> list[str]:
    """One row as Dutch Excel exports it; about 3 % below threshold and 1 % invalid."""
    rent = rng.randint(45_000, 95_000)
    months = 1 if rng.random() < 0.03 else rng.randint(2, 6)
    birth = date(1940, 1, 1) + timedelta(days=rng.randint(0, 365 * 62))
    contact = date(2026, 10, 1) + timedelta(days=rng.randint(0, 25))
    postcode = f"{rng.randint(6001, 6006)} {rng.choice('ABCDEGHJKLMN')}{rng.choice('ABCDEJKLMN')}"
    if rng.random() < 0.01:
        postcode = "60O1 AB"  # a letter O for a zero: the typo a real list has
    first, last = rng.choice(_FIRST), rng.choice(_LAST)
    return [
        f"WL-2024/{number:07d}",
        first,
        rng.choice(_PREFIX),
        last,
        _dutch_date(birth),
        rng.choice(_STREET),
        str(rng.randint(1, 240)),
        rng.choice(("", "", "", "", "A", "B", "bis")),
        postcode,
        rng.choice(_CITY),
        f"06-{rng.randint(10_000_000, 99_999_999)}" if rng.random() < 0.7 else "",
        f"{first.split()[0].lower()}.{number}@example.nl" if rng.random() < 0.5 else "",
        _dutch_amount(rent),
        _dutch_amount(rent * months),
        str(months),
        _dutch_date(contact),
        _dutch_date(contact + timedelta(days=1)),
        _dutch_date(contact + timedelta(days=8)),
        "ja",
        "nee",
    ]


def write_list(path: Path, rows: int, seed: int = 7) -> Path:
    """A monthly list of ``rows`` rows, written line by line (never held in memory)."""
    rng = random.Random(seed)  # noqa: S311 - test data, not secrets
    with path.open("w", encoding="utf-8-sig", newline="") as out:
        out.write(";".join(HEADERS) + "\r\n")
        for number in range(1, rows + 1):
            out.write(";".join(_row(number, rng)) + "\r\n")
    return path


# -- the sealing pipeline ---------------------------------------------------------------------


def _directory(pair: PartnerKeyPair) -> Directory:
    key = DirectoryKey(
        keys=pair.public,
        key_id=pair.public.key_id,
        encryption_key_id=pair.public.encryption_key_id,
        status="active",
        not_before="2026-01-01T00:00:00+00:00",
        not_after=None,
    )
    return Directory({pair.partner: (key,)}, NOW)


class Pipeline:
    """The file, the keys and the policy: ``run()`` is one pass, list to batches."""

    def __init__(self, policy: Policy, path: Path) -> None:
        self.policy = policy
        self.path = path
        self.sender = PartnerKeyPair.generate(LANDLORD)
        self.intake = PartnerKeyPair.generate(INTAKE)
        self.directory = _directory(self.intake)
        self.supplied = informed_record(NOW.date())
        self.limits = Limits(max_file_bytes=1 << 40)

    def envelopes(self, seal: bool = True) -> Iterator[dict[str, Any]]:
        rows = read_signal_list(
            self.path,
            self.policy,
            now=NOW,
            landlord_id=LANDLORD,
            secret=SECRET,
            supplied=self.supplied,
            limits=self.limits,
        )
        with rows:
            for row in rows:
                if row.status != VALID or not seal:
                    continue
                item = Outgoing(
                    key=str(row.row),
                    label=f"{self.path.name} rij {row.row}",
                    flow=SIGNAL_FLOW,
                    values=row.values,
                    recipients=(INTAKE,),
                    subject_ref=row.subject,
                )
                yield seal_outgoing(item, self.sender, self.policy, self.directory, NOW)

    def run(self) -> int:
        """One pass; returns the number of batch bytes (so nothing is optimised away)."""
        total = 0
        batch: list[dict[str, Any]] = []
        for envelope in self.envelopes():
            batch.append(envelope)
            if len(batch) >= BATCH:
                total += len(json.dumps({"envelopes": batch}))
                batch = []
        if batch:
            total += len(json.dumps({"envelopes": batch}))
        return total

    def floor_inputs(self) -> tuple[list[bytes], list[bytes]]:
        """Per sealed row: a plaintext and signed bytes of exactly that row's sizes."""
        opener = nacl.public.SealedBox(self.intake.box_private_key())
        plaintexts: list[bytes] = []
        signed: list[bytes] = []
        for envelope in self.envelopes():
            box = b64u_decode(envelope["payloads"][INTAKE])
            digests = {
                partner: env.b64u_encode(hashlib.sha256(b64u_decode(payload)).digest())
                for partner, payload in envelope["payloads"].items()
            }
            message = env.SIGNATURE_CONTEXT + canonical_json(
                {"header": envelope["header"], "payloads": digests}
            )
            plaintexts.append(b"x" * len(opener.decrypt(box)))
            signed.append(b"y" * len(message))
        return plaintexts, signed


def _floor(
    intake: PartnerKeyPair, plaintexts: list[bytes], signed: list[bytes]
) -> Callable[[], None]:
    public = intake.box_private_key().public_key
    signer = nacl.signing.SigningKey.generate()

    def work() -> None:
        for plaintext, message in zip(plaintexts, signed, strict=True):
            nacl.public.SealedBox(public).encrypt(plaintext)
            signer.sign(message)

    return work


def _rate_figure(policy: Policy, folder: Path, rows: int, repeats: int) -> Figure:
    path = write_list(folder / "huurachterstand.csv", rows)
    pipeline = Pipeline(policy, path)
    plaintexts, signed = pipeline.floor_inputs()
    sluis = rate(pipeline.run, items_per_call=rows, min_seconds=0.0, repeats=repeats)
    floor = rate(
        _floor(pipeline.intake, plaintexts, signed),
        items_per_call=rows,
        min_seconds=0.0,
        repeats=repeats,
    )
    return Figure(
        f"{rows:,}-row CSV to sealed batches of {BATCH} ({len(signed):,} sealed)",
        sluis,
        "rows/s",
        floor,
        "raw PyNaCl",
        goal_ratio=0.5,
    )


# -- memory: a child process per measurement --------------------------------------------------


def _peak_rss_mb() -> float:
    """This process's peak resident set size in MB.

    On Linux ``ru_maxrss`` keeps the parent's high-water mark across ``exec`` (so a child
    spawned by a big parent reports the parent's peak): ``VmHWM`` of ``/proc/self/status``
    belongs to this process's own memory map only, so it is used where it exists."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024  # kB
    except OSError:
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / MB if sys.platform == "darwin" else peak / 1024  # bytes on macOS, KiB elsewhere


def child(path: str, seal: bool) -> None:
    """Run in a fresh interpreter: set up, note peak RSS, run the loop, print both and rows."""
    pipeline = Pipeline(load_policy(POLICY_DIR), Path(path))
    # warm up on a tiny list: imports, caches and the first seal belong to set-up, not growth
    with tempfile.TemporaryDirectory(prefix="sluis-bench-") as folder:
        warm = Pipeline(pipeline.policy, write_list(Path(folder) / "warm.csv", 50))
        for _ in warm.envelopes(seal):
            pass
    before = _peak_rss_mb()
    start = time.perf_counter()
    count = 0
    for _ in pipeline.envelopes(seal):
        count += 1
    elapsed = time.perf_counter() - start
    print(json.dumps({"before": before, "peak": _peak_rss_mb(), "seconds": elapsed, "n": count}))


_CHILD = (
    "import sys; from benchmarks.bench_client import child; child(sys.argv[1], sys.argv[2] == '1')"
)


def _measure_child(path: Path, seal: bool) -> dict[str, float]:
    root = Path(__file__).resolve().parent.parent
    done = subprocess.run(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-c", _CHILD, str(path), "1" if seal else "0"],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _memory_figures(
    folder: Path, small: int, large: int, *, seal: bool, goal_mb: float
) -> list[Figure]:
    """Peak RSS of a child reading ``small`` and ``large`` rows, and the difference."""
    what = "read+check+seal" if seal else "read+check"
    peaks: dict[int, float] = {}
    figures = []
    for rows in (small, large):
        path = write_list(folder / f"lijst-{rows}.csv", rows)
        try:
            measured = _measure_child(path, seal)
        finally:
            path.unlink()
        peaks[rows] = measured["peak"]
        figures.append(
            Figure(
                f"peak RSS, {what}, {rows:,}-row CSV (set-up alone {measured['before']:.0f} MB,"
                f" loop {measured['seconds']:.0f} s)",
                measured["peak"],
                "MB",
                higher_is_better=False,
            )
        )
    figures.append(
        Figure(
            f"memory growth {small:,} -> {large:,} rows, {what}",
            max(peaks[large] - peaks[small], 0.0),
            "MB",
            goal_value=goal_mb,
            higher_is_better=False,
        )
    )
    return figures


def collect(quick: bool) -> Iterable[Figure]:
    policy = load_policy(POLICY_DIR)
    with tempfile.TemporaryDirectory(prefix="sluis-bench-") as name:
        folder = Path(name)
        yield _rate_figure(policy, folder, 200 if quick else 10_000, 1 if quick else 3)
        if quick:
            yield from _memory_figures(folder, 2_000, 20_000, seal=False, goal_mb=10)
        else:
            yield from _memory_figures(folder, 100_000, 1_000_000, seal=False, goal_mb=10)
            yield from _memory_figures(folder, 100_000, 300_000, seal=True, goal_mb=10)
