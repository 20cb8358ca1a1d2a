"""Secret files: read only when owner-only (0600), written atomically with 0600.

Every secret Sluis uses (the database key, the gateway signing key, register epoch keys) comes
from a file through this module, so the permission rule lives in one place.
"""

from __future__ import annotations

import os
import secrets
import stat
from datetime import UTC, datetime
from pathlib import Path

from gateway.errors import KeyFileError

MAX_SECRET_FILE_BYTES = 64 * 1024


def read_secret(path: Path, *, what: str) -> bytes:
    """Return the bytes of the secret file at ``path``, refusing loose permissions."""
    try:
        info = path.stat()
    except FileNotFoundError:
        raise KeyFileError(
            f"The {what} {path} does not exist: run `gateway init` to create the keys "
            f"(or set SLUIS_KEY_DIR to the folder that holds them)."
        ) from None
    if not stat.S_ISREG(info.st_mode):
        raise KeyFileError(f"The {what} {path} is not a regular file.")
    mode = stat.S_IMODE(info.st_mode)
    if mode & 0o077:
        raise KeyFileError(
            f"The {what} {path} has permissions {mode:04o}, readable by others than its owner: "
            f"run `chmod 600 {path}` and start again."
        )
    if info.st_size > MAX_SECRET_FILE_BYTES:
        raise KeyFileError(f"The {what} {path} is {info.st_size} bytes, too large for a key file.")
    return path.read_bytes()


def write_secret(path: Path, data: bytes) -> None:
    """Create ``path`` with mode 0600 holding ``data``; never overwrites an existing file.

    The bytes go to a private temporary file first, which is then hard-linked to ``path``: the
    link either appears complete or not at all (a crash leaves no half-written key), and it fails
    with FileExistsError when another process created ``path`` first.
    """
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        try:
            os.fchmod(fd, 0o600)  # the umask may have narrowed it; never widened
            os.write(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.link(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_public(path: Path, data: bytes) -> None:
    """Write a public (non-secret) file, replacing any previous one."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    tmp.chmod(0o644)
    tmp.replace(path)


def set_aside(path: Path, now: datetime | None = None) -> Path | None:
    """Rename an existing file to ``NAME.replaced-YYYYmmddTHHMMSS`` so nothing is lost."""
    if not path.exists():
        return None
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%S")
    target = path.with_name(f"{path.name}.replaced-{stamp}")
    path.rename(target)
    return target
