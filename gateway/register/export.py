"""The export for the Autoriteit Persoonsgegevens, and its offline verifier.

An export folder holds:

- the art. 30 register of processing activities (``art30.json|csv|pdf``), from the policy;
- the processing log of the period in the chosen format (``processing-log.json|csv|pdf``) and,
  always, ``entries.jsonl``: the period's entries byte for byte as the tree hashes them;
- ``tree.json``: where the entries sit in the tree and the hashes of the subtrees outside the
  period, so the tree head can be recomputed without the rest of the log;
- ``checkpoint.txt``: the gateway's signed checkpoint (C2SP tlog-checkpoint) for that tree head;
- ``consistency.json``: the previous export's signed checkpoint and the RFC 9162 proof that this
  tree extends it (nothing was rewritten in between);
- ``verifier.txt``: the gateway's note verifier key (compare its fingerprint out of band);
- ``MANIFEST.txt``: SHA-256 of every other file, as a note signed by the gateway.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import shutil
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from gateway.crypto import CryptoError
from gateway.crypto.note import NoteVerifier, open_note
from gateway.errors import InvalidRequest, SluisError
from gateway.policy import Policy
from gateway.register import merkle
from gateway.register.checkpoint import Checkpoint, open_checkpoint
from gateway.register.entry import EVENT_TYPES, Actor, Event, decode_entry, iso_time
from gateway.register.log import Register
from gateway.register.verify import RegisterTampered
from gateway.store import Connection, transaction
from gateway.store import register as store

FORMATS = ("json", "csv", "pdf")
MANIFEST = "MANIFEST.txt"
PDF_LOG_ROWS = 2000
EXPORT_FORMAT = "sluis-register-export/1"
MAX_EXPORT_FILE_BYTES = 4 << 30

LOG_CSV_HEADER = (
    "volgnummer",
    "tijdstip (UTC)",
    "stroom",
    "gebeurtenis",
    "door",
    "gegevensstroom",
    "verstrekker",
    "ontvangers (partij: rol: velden)",
    "aantal betrokkenen",
    "pseudoniemen",
    "zaak",
    "beleidsversie",
    "envelop-hash",
    "uitkomst",
    "reden",
)


class ExportInvalid(SluisError):
    """An export folder fails verification; the message names the file or entry."""

    code = "export-invalid"
    title = "Export does not verify"
    status = 409


@dataclass(frozen=True)
class ExportResult:
    folder: Path
    files: tuple[str, ...]
    first: int
    end: int
    size: int
    root: bytes


@dataclass(frozen=True)
class ExportReport:
    folder: Path
    verifier: NoteVerifier
    size: int
    root: bytes
    first: int
    end: int
    previous_size: int
    files: int


def _period_bounds(period_from: date, period_to: date) -> tuple[str, str]:
    if period_to < period_from:
        raise InvalidRequest(f"The period ends ({period_to}) before it starts ({period_from}).")
    start = datetime.combine(period_from, time(), UTC)
    end = datetime.combine(period_to + timedelta(days=1), time(), UTC)
    return iso_time(start), iso_time(end)


def _entry_time(data: bytes) -> str:
    at = data.find(b'"time":"')
    return data[at + 8 : at + 32].decode("ascii") if at >= 0 else ""


def period_range(conn: Connection, start: str, end: str, size: int) -> tuple[int, int]:
    """The contiguous entry range from the first to the last entry timed in ``[start, end)``."""
    first = last = -1
    for rows in store.iter_entries(conn, 0, size):
        for seq, _leaf, _seal, data in rows:
            if start <= _entry_time(bytes(data)) < end:
                if first < 0:
                    first = seq
                last = seq
    return (first, last + 1) if first >= 0 else (size, size)


def _log_rows(entries: list[dict[str, Any]]) -> Iterator[dict[str, str]]:
    for e in entries:
        recipients = "; ".join(
            f"{r.get('party')}: {r.get('role')}: {', '.join(r.get('fields', []))}"
            for r in e.get("recipients", [])
        )
        actor = e.get("actor", {})
        yield {
            "seq": str(e["seq"]),
            "time": str(e.get("time", "")),
            "stream": str(e.get("stream", "")),
            "type": str(e.get("type", "")),
            "actor": f"{actor.get('kind', '')}:{actor.get('id', '')}",
            "flow": str(e.get("flow", "")),
            "sender": str(e.get("sender", "")),
            "recipients": recipients,
            "subjects": str(e.get("subjectCount", "")),
            "pseudonyms": ", ".join(e.get("subjects", [])),
            "case": str(e.get("case", "")),
            "policy": str(e.get("policyVersion", "")),
            "envelope": str(e.get("envelopeHash", "")),
            "outcome": str(e.get("outcome", "")),
            "reason": str(e.get("reason", "")),
        }


def render_log_csv(entries: list[dict[str, Any]]) -> bytes:
    """Dutch-spreadsheet CSV: ';' separated, UTF-8 with BOM, CRLF."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(LOG_CSV_HEADER)
    for row in _log_rows(entries):
        writer.writerow(row.values())
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def render_log_pdf(
    entries: list[dict[str, Any]],
    *,
    policy: Policy,
    period: tuple[date, date],
    tree: dict[str, Any],
) -> bytes:
    from gateway.register.art30 import _ENV  # the one Jinja environment of the register
    from gateway.register.pdf import render_pdf

    counts = Counter(str(e.get("type")) for e in entries)
    html = _ENV.get_template("processing-log.html").render(
        covenant=policy.covenant.name_nl,
        period_from=period[0].strftime("%d-%m-%Y"),
        period_to=period[1].strftime("%d-%m-%Y"),
        first=tree["first"],
        end=tree["end"],
        size=tree["size"],
        root=tree["root"],
        counts=[(t, EVENT_TYPES.get(t, ("", "", ""))[2], n) for t, n in sorted(counts.items())],
        rows=list(_log_rows(entries[:PDF_LOG_ROWS])),
        truncated=len(entries) > PDF_LOG_ROWS,
    )
    return render_pdf(html)


def write_export(
    conn: Connection,
    register: Register,
    policy: Policy,
    *,
    period: tuple[date, date],
    fmt: str,
    out: Path,
    now: datetime,
    actor: Actor,
) -> ExportResult:
    """Write the export folder ``out`` and record ``export.made``; all or nothing.

    Files are written to a sibling temporary folder that is renamed to ``out`` only after the
    register transaction (checkpoint, export event) committed; on any failure nothing is left.
    """
    if fmt not in FORMATS:
        raise InvalidRequest(f"The export format is one of {', '.join(FORMATS)}, not '{fmt}'.")
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise InvalidRequest(f"{out} exists and is not an empty folder: choose a new one.")
    start, end = _period_bounds(*period)
    staging = out.with_name(f".{out.name}.partial-{os.getpid()}")
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir(parents=True, mode=0o700)
    try:
        with transaction(conn):
            checkpoint = register.sign_checkpoint(conn, now=now, force=True)
            assert checkpoint is not None  # noqa: S101 - force=True always signs
            size = checkpoint.size
            first, stop = period_range(conn, start, end, size)
            files = _write_files(
                conn, register, policy, staging, fmt, period, first, stop, checkpoint, now
            )
            register.append(
                conn,
                [
                    Event(
                        "export.made",
                        actor,
                        attributes={
                            "exportFrom": period[0].isoformat(),
                            "exportTo": period[1].isoformat(),
                            "exportSize": size,
                            "checkpointRoot": checkpoint.root.hex(),
                        },
                    )
                ],
                now=now,
            )
        if out.exists():
            out.rmdir()
        staging.rename(out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return ExportResult(out, files, first, stop, size, checkpoint.root)


def _previous_export(conn: Connection) -> tuple[int, str] | None:
    data = store.last_of_type(conn, "export.made")
    if data is None:
        return None
    attributes = decode_entry(data).get("attributes", {})
    size = int(attributes["exportSize"])
    stored = store.checkpoint_at(conn, size)
    if stored is None:
        raise RegisterTampered(f"The checkpoint of size {size} of the previous export is missing.")
    return size, stored.note


def _write_files(
    conn: Connection,
    register: Register,
    policy: Policy,
    folder: Path,
    fmt: str,
    period: tuple[date, date],
    first: int,
    stop: int,
    checkpoint: store.StoredCheckpoint,
    now: datetime,
) -> tuple[str, ...]:
    from gateway.register import art30

    written: dict[str, bytes] = {}
    lines: list[bytes] = []
    for rows in store.iter_entries(conn, first, stop):
        lines.extend(bytes(r[3]) for r in rows)
    entries = [decode_entry(line) for line in lines]
    size = checkpoint.size
    boundary = merkle.boundary_ranges(first, stop, size)
    tree = {
        "format": EXPORT_FORMAT,
        "origin": register.origin,
        "size": size,
        "root": checkpoint.root.hex(),
        "first": first,
        "end": stop,
        "period": [period[0].isoformat(), period[1].isoformat()],
        "boundary": [
            [lo, hi, h.hex()]
            for (lo, hi), h in zip(boundary, register.hashes(conn, boundary), strict=True)
        ],
    }
    previous = _previous_export(conn)
    consistency: dict[str, Any] = {"fromSize": 0, "toSize": size, "proof": []}
    if previous is not None:
        old_size, old_note = previous
        consistency = {
            "fromSize": old_size,
            "fromCheckpoint": old_note,
            "toSize": size,
            "proof": [h.hex() for h in register.consistency_proof(conn, old_size, size)],
        }
    record = art30.build_art30(policy, generated_at=now)
    if fmt == "json":
        written["art30.json"] = art30.render_json(record)
        written["processing-log.json"] = _json_bytes({"tree": tree, "entries": entries})
    elif fmt == "csv":
        written["art30.csv"] = art30.render_csv(record)
        written["processing-log.csv"] = render_log_csv(entries)
    else:
        from gateway.register.pdf import render_pdf

        written["art30.pdf"] = render_pdf(art30.render_html(record))
        written["processing-log.pdf"] = render_log_pdf(
            entries, policy=policy, period=period, tree=tree
        )
    written["entries.jsonl"] = b"".join(line + b"\n" for line in lines)
    written["tree.json"] = _json_bytes(tree)
    written["checkpoint.txt"] = checkpoint.note.encode()
    written["consistency.json"] = _json_bytes(consistency)
    written["verifier.txt"] = (register.verifier.vkey + "\n").encode()
    for name, data in written.items():
        (folder / name).write_bytes(data)
    manifest = "".join(
        f"{hashlib.sha256(data).hexdigest()}  {name}\n" for name, data in sorted(written.items())
    )
    (folder / MANIFEST).write_text(register.sign_note(manifest))
    return (*sorted(written), MANIFEST)


def _json_bytes(value: Any) -> bytes:
    return (json.dumps(value, sort_keys=True, ensure_ascii=False, indent=1) + "\n").encode()


# -- verification ---------------------------------------------------------------------------


def _load_json(folder: Path, name: str) -> Any:
    try:
        return json.loads((folder / name).read_bytes())
    except (OSError, ValueError):
        raise ExportInvalid(f"{name} is missing or not valid JSON.") from None


def verify_export(
    folder: Path, *, pinned: NoteVerifier | None = None, previous: Path | None = None
) -> ExportReport:
    """Check an export folder offline; raise ExportInvalid naming the file or entry at fault.

    Without ``pinned`` the folder's own ``verifier.txt`` is used: the caller must compare its
    fingerprint with the gateway's, published out of band. With ``previous`` (an earlier export
    folder) its checkpoint must be the one this export's consistency proof starts from.
    """
    if not folder.is_dir():
        raise ExportInvalid(f"{folder} is not an export folder.")
    try:
        verifier = NoteVerifier.from_vkey((folder / "verifier.txt").read_text())
    except (OSError, UnicodeDecodeError):
        raise ExportInvalid("verifier.txt is missing or unreadable.") from None
    if pinned is not None and pinned.vkey != verifier.vkey:
        raise ExportInvalid("The export is signed by another key than the pinned gateway key.")
    listed = _check_manifest(folder, verifier)
    checkpoint = _open_checkpoint_file(folder / "checkpoint.txt", verifier)
    tree = _load_json(folder, "tree.json")
    try:
        first, stop, size = int(tree["first"]), int(tree["end"]), int(tree["size"])
        boundary = {(int(lo), int(hi)): bytes.fromhex(h) for lo, hi, h in tree["boundary"]}
    except (KeyError, TypeError, ValueError):
        raise ExportInvalid("tree.json lacks the range, size or boundary hashes.") from None
    if size != checkpoint.size:
        raise ExportInvalid(
            f"tree.json describes {size} entries, the signed checkpoint {checkpoint.size}."
        )
    leaves = _entry_leaves(folder / "entries.jsonl", first)
    if len(leaves) != stop - first:
        raise ExportInvalid(
            f"entries.jsonl holds {len(leaves)} entries, tree.json says {stop - first}."
        )
    try:
        root = merkle.root_from_range(first, leaves, size, boundary)
    except merkle.MerkleProofError as error:
        raise ExportInvalid(f"tree.json: {error.detail}") from None
    if root != checkpoint.root:
        raise ExportInvalid(
            "The entries and boundary hashes do not lead to the signed tree head: entries.jsonl "
            "or tree.json was changed."
        )
    previous_size = _check_consistency(folder, verifier, checkpoint.size, root, previous)
    return ExportReport(folder, verifier, size, root, first, stop, previous_size, len(listed))


def _open_checkpoint_file(path: Path, verifier: NoteVerifier) -> Checkpoint:
    try:
        return open_checkpoint(path.read_text(), verifier)
    except (OSError, UnicodeDecodeError):
        raise ExportInvalid(f"{path} is missing or unreadable.") from None
    except CryptoError as error:  # name the file: the auditor must know which one failed
        raise ExportInvalid(f"{path.name}: {error.detail}") from None


def _check_manifest(folder: Path, verifier: NoteVerifier) -> dict[str, str]:
    try:
        text = open_note((folder / MANIFEST).read_text(), verifier)
    except (OSError, UnicodeDecodeError):
        raise ExportInvalid(f"{MANIFEST} is missing or unreadable.") from None
    except CryptoError as error:  # a bad or missing signature: name the file and the reason
        raise ExportInvalid(f"{MANIFEST} is not signed by the gateway: {error.detail}") from None
    listed: dict[str, str] = {}
    for line in text.splitlines():
        digest, _, name = line.partition("  ")
        listed[name] = digest
    present = {p.name for p in folder.iterdir() if p.is_file()} - {MANIFEST}
    for name in sorted(present - set(listed)):
        raise ExportInvalid(f"{name} is not listed in {MANIFEST}: it was added after export.")
    for name, digest in sorted(listed.items()):
        path = folder / name
        if "/" in name or name.startswith(".") or not path.is_file():
            raise ExportInvalid(f"{name}, listed in {MANIFEST}, is missing.")
        if path.stat().st_size > MAX_EXPORT_FILE_BYTES:
            raise ExportInvalid(f"{name} is larger than any export file can be.")
        with path.open("rb") as fh:  # streamed: entries.jsonl can be gigabytes
            found = hashlib.file_digest(fh, "sha256").hexdigest()
        if found != digest:
            raise ExportInvalid(f"{name} was changed after export: its SHA-256 does not match.")
    return listed


_READ_BLOCK = 1 << 23


def _entry_leaves(path: Path, first: int) -> list[bytes]:
    """Leaf hashes of the lines of entries.jsonl, each line checked to name its entry number.

    Read in blocks of 8 MiB and checked a block of lines at a time: the markers come from one
    format call, and rfind (same answer as ``in``) starts from the end, near which the number
    stands in an entry.
    """
    leaves: list[bytes] = []
    sha = hashlib.sha256
    number = 0
    rest = b""
    with path.open("rb") as fh:
        while True:
            block = fh.read(_READ_BLOCK)
            lines = (rest + block).split(b"\n")
            rest = lines.pop() if block else b""
            if not block and lines == [b""]:
                lines = []
            start = first + number
            marks = (b'"seq":%d,\n' * len(lines) % tuple(range(start, start + len(lines)))).split(
                b"\n"
            )
            if not all([line.rfind(mark) >= 0 for line, mark in zip(lines, marks, strict=False)]):
                bad = next(i for i, line in enumerate(lines) if marks[i] not in line)
                raise ExportInvalid(
                    f"entries.jsonl line {number + bad + 1} is not entry {start + bad}."
                )
            leaves.extend([sha(b"\x00" + line).digest() for line in lines])
            number += len(lines)
            if not block:
                return leaves


def _check_consistency(
    folder: Path, verifier: NoteVerifier, size: int, root: bytes, previous: Path | None
) -> int:
    data = _load_json(folder, "consistency.json")
    try:
        from_size = int(data["fromSize"])
        proof = [bytes.fromhex(h) for h in data["proof"]]
    except (KeyError, TypeError, ValueError):
        raise ExportInvalid("consistency.json lacks its sizes or proof.") from None
    if int(data.get("toSize", -1)) != size:
        raise ExportInvalid("consistency.json does not end at the signed tree size.")
    if from_size == 0:
        if previous is not None:
            raise ExportInvalid("This export names no previous export to be consistent with.")
        return 0
    try:
        old = open_checkpoint(str(data.get("fromCheckpoint", "")), verifier)
    except CryptoError as error:  # name the file: the auditor must know which one failed
        raise ExportInvalid(f"consistency.json: {error.detail}") from None
    if old.size != from_size:
        raise ExportInvalid("consistency.json's checkpoint and size disagree.")
    if previous is not None:
        before = _open_checkpoint_file(previous / "checkpoint.txt", verifier)
        if (before.size, before.root) != (old.size, old.root):
            raise ExportInvalid(
                f"The previous export's checkpoint (size {before.size}) is not the one this "
                f"export continues from (size {old.size})."
            )
    try:
        merkle.verify_consistency(old.size, size, old.root, root, proof)
    except merkle.MerkleProofError:
        raise ExportInvalid(
            f"The register was rewritten between the previous export (size {old.size}) and "
            f"this one (size {size}): the consistency proof fails."
        ) from None
    return old.size
