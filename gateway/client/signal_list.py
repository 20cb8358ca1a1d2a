"""From a monthly list to sent signals: check, inform tenants, seal, send, report.

The list is read twice, streaming both times: the first pass checks every row and reports
every problem before anything is sent; the second seals and sends the valid rows in batches.
The tenant letters record (when and how the tenants were informed) is kept per list file, so
`send signal` adds it to each row the letters covered.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from gateway.client.columns import load_mapping_file
from gateway.client.errors import ClientError
from gateway.client.journal import Journal, journal_key
from gateway.client.letters import informed_record, render_letters
from gateway.client.profile import Profile
from gateway.client.sending import Outgoing, SendReport, send
from gateway.client.session import Session
from gateway.client.spreadsheet import (
    SIGNAL_FLOW,
    VALID,
    CheckedRow,
    InputReport,
    SignalList,
    read_signal_list,
)
from gateway.client.trust import Directory
from gateway.crypto.keys import PartnerKeyPair
from gateway.keyfiles import read_secret
from gateway.policy import Policy

INTAKE_ROLE = "municipality-intake"


def file_key(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()[:32]


def subject_secret(profile: Profile) -> bytes:
    text = read_secret(profile.subject_secret_file, what="subject reference key").strip()
    try:
        return bytes.fromhex(text.decode("ascii"))
    except (UnicodeDecodeError, ValueError):
        raise ClientError(
            f"{profile.subject_secret_file} is not a subject reference key."
        ) from None


def list_month(supplied: dict[str, object], now: datetime) -> str:
    """The month a list's signals belong to: the month its tenant letters were made.

    The journal keys each row by contract and this month, so running the same file again after
    a month boundary (its letters record is keyed by the file's bytes) still sends nothing
    twice, while next month's list, with letters of its own, signals again."""
    informed = supplied.get("tenant_informed_date")
    if isinstance(informed, str):
        try:
            return date.fromisoformat(informed).strftime("%Y-%m")
        except ValueError:  # a damaged record: fall back to the clock, as before letters existed
            pass
    return now.strftime("%Y-%m")


def _letters_record_path(profile: Profile, list_file: Path) -> Path:
    return profile.state_dir / "letters" / f"{file_key(list_file)}.json"


def letters_record(profile: Profile, list_file: Path) -> dict[str, object] | None:
    try:
        data = json.loads(_letters_record_path(profile, list_file).read_text())
    except FileNotFoundError:
        return None
    return dict(data) if isinstance(data, dict) else None


@dataclass(frozen=True)
class ListRun:
    profile: Profile
    policy: Policy
    list_file: Path
    now: datetime
    mapping_file: Path | None = None

    def open(self, supplied: dict[str, object] | None = None) -> SignalList:
        flow = self.policy.flows[SIGNAL_FLOW]
        mapping = (
            load_mapping_file(self.mapping_file, self.policy, flow) if self.mapping_file else None
        )
        return read_signal_list(
            self.list_file,
            self.policy,
            now=self.now,
            landlord_id=self.profile.partner,
            secret=subject_secret(self.profile),
            mapping=mapping,
            supplied=supplied,
        )

    def supplied(self) -> dict[str, object] | None:
        record = letters_record(self.profile, self.list_file)
        return None if record is None else dict(record)

    def check(self) -> InputReport:
        with self.open(self.supplied() or informed_record(self.now.date())) as rows:
            return rows.check_all()

    def valid_rows(self, supplied: dict[str, object] | None) -> Iterator[CheckedRow]:
        with self.open(supplied) as rows:
            for row in rows:
                if row.status == VALID:
                    yield row


def write_letters(run: ListRun, out_dir: Path, *, merged: bool, today: date) -> list[Path]:
    """Letters for every valid row; remember that (and when) these tenants were informed."""
    rows = list(run.valid_rows(informed_record(today)))
    if not rows:
        raise ClientError(f"{run.list_file.name} has no valid rows: no letters to write.")
    paths = render_letters(run.policy, run.profile.partner, rows, merged=merged, out_dir=out_dir)
    record_path = _letters_record_path(run.profile, run.list_file)
    record_path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    record_path.write_text(json.dumps(informed_record(today)))
    record_path.chmod(0o600)
    return paths


def intake_partners(policy: Policy) -> tuple[str, ...]:
    found = tuple(sorted(p.id for p in policy.parties_with_role(INTAKE_ROLE)))
    if not found:
        raise ClientError("The covenant names no municipality intake to send signals to.")
    return found


def send_list(
    run: ListRun,
    session: Session,
    keys: PartnerKeyPair,
    directory: Directory,
    *,
    clock: Callable[[], datetime],
    progress: Callable[[int], None] | None = None,
) -> SendReport:
    supplied = run.supplied()
    if supplied is None:
        raise ClientError(
            "The tenants on this list have not been informed yet: run `gateway-client letters "
            f"{run.list_file}` first (the signal records when and how they were told)."
        )
    month = list_month(supplied, run.now)
    recipients = intake_partners(run.policy)
    journal = Journal(run.profile.state_dir / "journal")

    def items() -> Iterator[Outgoing]:
        for row in run.valid_rows(supplied):
            contract = str(row.values.get("contract_reference", row.row))
            yield Outgoing(
                journal_key(run.profile.partner, SIGNAL_FLOW, contract, month),
                f"{run.list_file.name} rij {row.row}",
                SIGNAL_FLOW,
                row.values,
                recipients,
                subject_ref=row.subject,
            )

    return send(
        session,
        journal,
        items(),
        keys=keys,
        policy=run.policy,
        directory=directory,
        now=clock,
        progress=progress,
    )
