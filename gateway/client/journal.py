"""The send journal: nothing is sent twice, nothing is lost.

Before an envelope is sent its sealed form is written to the journal (atomically, 0600); after
the gateway answered, its receipt is added. Running the same send again skips every row with an
accepted receipt and resends, unchanged, every sealed envelope that has no receipt yet (the
gateway answers a resubmitted message id with its stored receipt). A refused row is sealed
anew on the next run, after the cause was fixed. Journal entries are keyed by a hash of the
partner, flow and the row's own key (contract reference and the month of the list's letters),
never by personal data.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any


def journal_key(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:40]


@dataclass
class Entry:
    key: str
    label: str  # where the row came from, e.g. "huurlijst.csv rij 7"
    envelope: dict[str, Any]
    receipt: dict[str, Any] | None = None

    @property
    def message_id(self) -> str:
        return str(self.envelope["header"]["id"])

    @property
    def accepted(self) -> bool:
        return self.receipt is not None and self.receipt.get("outcome") == "accepted"

    @property
    def refused(self) -> bool:
        return self.receipt is not None and self.receipt.get("outcome") == "refused"


class Journal:
    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def _path(self, key: str) -> Path:
        return self.folder / f"{key}.json"

    def get(self, key: str) -> Entry | None:
        try:
            doc = json.loads(self._path(key).read_text())
        except FileNotFoundError:
            return None
        return Entry(doc["key"], doc["label"], doc["envelope"], doc.get("receipt"))

    def put(self, entry: Entry) -> None:
        self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        path = self._path(entry.key)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        data = json.dumps(
            {
                "key": entry.key,
                "label": entry.label,
                "envelope": entry.envelope,
                "receipt": entry.receipt,
            }
        ).encode()
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.write(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        tmp.replace(path)

    def archive_receipt(self, receipt: dict[str, Any]) -> Path:
        """Keep every receipt, refusals included, as evidence (``receipts/<message id>.json``)."""
        folder = self.folder.parent / "receipts"
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        name = str(receipt.get("messageId") or journal_key(json.dumps(receipt, sort_keys=True)))
        path = folder / f"{name}.json"
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_text(json.dumps(receipt, sort_keys=True, indent=1))
        tmp.chmod(0o600)
        tmp.replace(path)
        return path

    def entries(self) -> Iterator[Entry]:
        if not self.folder.is_dir():
            return
        for path in sorted(self.folder.glob("*.json")):
            found = self.get(path.stem)
            if found is not None:
                yield found

    def receipts(self) -> Iterator[dict[str, Any]]:
        for entry in self.entries():
            if entry.receipt is not None:
                yield entry.receipt
