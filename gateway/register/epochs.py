"""Epoch keys: subject pseudonyms that can be made unlinkable by destroying one key file.

The register never stores a subject reference as given. It stores
``BLAKE2b-128(key=epoch key, subject reference)`` in hex (a keyed PRF), where the epoch is the
calendar month (UTC) of the event and its key is a 0600 file
``KEY_DIR/register-epochs/YYYY-MM.key``.
While the key exists, a subject-access query can find the subject's entries of that month; once
the register's retention for that month has passed, the key is destroyed and the pseudonyms of
that month are unlinkable to anyone. Entries and the Merkle tree are untouched, so the log still
verifies.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

from gateway.errors import KeyFileError
from gateway.keyfiles import read_secret, write_secret

EPOCH_DIR = "register-epochs"
_EPOCH_RE = re.compile(r"([0-9]{4})-(0[1-9]|1[0-2])\Z")
_KEY_BYTES = 32
PSEUDONYM_HEX = 32


def epoch_of(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m")


def epoch_end(epoch: str) -> date:
    """The first day after the epoch (month)."""
    match = _EPOCH_RE.match(epoch)
    if match is None:
        raise KeyFileError(f"'{epoch}' is not an epoch (YYYY-MM).")
    year, month = int(match.group(1)), int(match.group(2))
    return date(year + month // 12, month % 12 + 1, 1)


def add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def pseudonym(key: bytes, subject: str) -> str:
    return hashlib.blake2b(subject.encode("utf-8"), key=key, digest_size=16).hexdigest()


@dataclass
class EpochKeyring:
    """The epoch key files under ``KEY_DIR/register-epochs``; keys are cached once read."""

    key_dir: Path
    _cache: dict[str, bytes] = field(default_factory=dict, repr=False)
    _keyed: dict[str, hashlib.blake2b] = field(default_factory=dict, repr=False)

    @property
    def folder(self) -> Path:
        return self.key_dir / EPOCH_DIR

    def path(self, epoch: str) -> Path:
        epoch_end(epoch)  # validates the name before it becomes a path
        return self.folder / f"{epoch}.key"

    def epochs(self) -> list[str]:
        """The epochs whose keys still exist, oldest first."""
        if not self.folder.is_dir():
            return []
        return sorted(p.stem for p in self.folder.glob("*.key") if _EPOCH_RE.match(p.stem))

    def key(self, epoch: str, *, create: bool) -> bytes | None:
        """The epoch's key; created (0600) on first use when ``create``; None once destroyed."""
        cached = self._cache.get(epoch)
        if cached is not None:
            return cached
        path = self.path(epoch)
        if not path.exists():
            if not create:
                return None
            # Another worker may have created it a moment ago (FileExistsError): read theirs.
            with contextlib.suppress(FileExistsError):
                write_secret(path, secrets.token_bytes(_KEY_BYTES).hex().encode() + b"\n")
        text = read_secret(path, what="register epoch key").strip()
        try:
            key = bytes.fromhex(text.decode("ascii"))
        except (UnicodeDecodeError, ValueError):
            key = b""  # reported just below with the file's name
        if len(key) != _KEY_BYTES:
            raise KeyFileError(f"The register epoch key {path} is not 64 hexadecimal characters.")
        self._cache[epoch] = key
        return key

    def _keyed_state(self, epoch: str) -> hashlib.blake2b:
        keyed = self._keyed.get(epoch)
        if keyed is None:
            key = self.key(epoch, create=True)
            if key is None:  # pragma: no cover - create=True always returns a key
                raise KeyFileError(f"No register epoch key for {epoch}.")
            keyed = self._keyed[epoch] = hashlib.blake2b(key=key, digest_size=16)
        return keyed

    def pseudonyms(self, epoch: str, subjects: tuple[str, ...]) -> tuple[str, ...]:
        """:func:`pseudonym` of each subject under the epoch's key (created on first use)."""
        if not subjects:
            return ()
        return self.pseudonyms_of_batch(epoch, [subjects])[0]

    def pseudonyms_of_batch(
        self, epoch: str, batch: Sequence[tuple[str, ...]]
    ) -> list[tuple[str, ...]]:
        """:meth:`pseudonyms` of each event's subjects in a batch, in one pass; the key is read
        (or created) only when some event names a subject."""
        if not any(batch):
            return [()] * len(batch)
        copy = self._keyed_state(epoch).copy
        out: list[tuple[str, ...]] = []
        for subjects in batch:  # copies of the keyed state: cheaper than keying each
            if len(subjects) == 1:  # the usual case: no list to build and convert
                state = copy()
                state.update(subjects[0].encode("utf-8"))
                out.append((state.hexdigest(),))
                continue
            names = []
            for subject in subjects:
                state = copy()
                state.update(subject.encode("utf-8"))
                names.append(state.hexdigest())
            out.append(tuple(names))
        return out

    def expired(self, today: date, retention_months: int) -> list[str]:
        """Epochs whose retention has ended: ``end of month + retention <= today``."""
        return [e for e in self.epochs() if add_months(epoch_end(e), retention_months) <= today]

    def destroy(self, epoch: str) -> bool:
        """Overwrite and delete the epoch's key file; return False when it was already gone.

        Overwriting first helps on plain disks; on SSDs and copy-on-write file systems only
        encrypting the key folder's volume guarantees the old bytes are unrecoverable
        (docs/REGISTER.md says so).
        """
        path = self.path(epoch)
        self._cache.pop(epoch, None)
        self._keyed.pop(epoch, None)
        if not path.exists():
            return False
        size = path.stat().st_size
        with path.open("r+b") as fh:
            fh.write(b"\x00" * size)
            fh.flush()
        path.unlink()
        return True
