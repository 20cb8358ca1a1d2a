"""The gateway instance: its key files and database, created by ``gateway init``.

``load_instance`` is what every entry point (web, CLI, scheduler) calls first: it reads the key
files (refusing loose permissions), opens the database, applies migrations, and raises a
:class:`~gateway.errors.StartupError` with one clear sentence when anything is wrong.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from gateway.crypto import SigningKey
from gateway.crypto.errors import KeyFormatError
from gateway.errors import KeyFileError, StartupError
from gateway.keyfiles import read_secret, set_aside, write_public, write_secret
from gateway.register.epochs import EpochKeyring
from gateway.register.log import Register
from gateway.settings import Settings
from gateway.store import Database, DatabaseKey, migrate, transaction
from gateway.store.meta import get_meta, set_meta


@dataclass(frozen=True)
class Instance:
    """What a running gateway holds: its database handle and its signing key."""

    settings: Settings
    database: Database
    signing_key: SigningKey
    schema_version: int
    register: Register
    console_secret: bytes = field(repr=False, default=b"")


@dataclass(frozen=True)
class InitReport:
    db_key_path: Path
    signing_key_path: Path
    database_path: Path
    signing_fingerprint: str
    set_aside: tuple[Path, ...]


def load_signing_key(path: Path) -> SigningKey:
    text = read_secret(path, what="gateway signing key")
    try:
        return SigningKey.from_seed(bytes.fromhex(text.strip().decode("ascii")))
    except (UnicodeDecodeError, ValueError, KeyFormatError):
        raise KeyFileError(
            f"The gateway signing key {path} is not a Sluis signing key "
            "(expected 64 hexadecimal characters)."
        ) from None


def load_database_key(path: Path) -> DatabaseKey:
    return DatabaseKey.from_file_text(read_secret(path, what="database key"), path=path)


CONSOLE_SECRET_BYTES = 32


def load_console_secret(path: Path) -> bytes:
    if not path.exists():
        raise KeyFileError(
            f"The console session key {path} does not exist: run `gateway init --console-key` "
            "to create it (an instance made before the console has none)."
        )
    text = read_secret(path, what="console session key")
    try:
        raw = bytes.fromhex(text.strip().decode("ascii"))
    except (UnicodeDecodeError, ValueError):
        raw = b""
    if len(raw) != CONSOLE_SECRET_BYTES:
        raise KeyFileError(
            f"The console session key {path} is not a Sluis key "
            "(expected 64 hexadecimal characters)."
        )
    return raw


def write_console_secret(path: Path) -> None:
    write_secret(path, secrets.token_bytes(CONSOLE_SECRET_BYTES).hex().encode() + b"\n")


def load_instance(settings: Settings) -> Instance:
    """Read keys, open and migrate the database; raise StartupError with one sentence."""
    db_key = load_database_key(settings.db_key_path)
    signing_key = load_signing_key(settings.signing_key_path)
    console_secret = load_console_secret(settings.console_secret_path)
    database = Database(settings.database_path, db_key)
    if not settings.database_path.exists():
        raise StartupError(
            f"The database {settings.database_path} does not exist: run `gateway init` "
            "(or set SLUIS_DB_PATH / SLUIS_DATA_DIR to where it is)."
        )
    with database.connection() as conn:
        version = migrate(conn)
        recorded = get_meta(conn, "gateway_signing_key")
        instance_id = get_meta(conn, "instance_id") or "unnamed"
    if recorded is not None and recorded != signing_key.public_key.hex():
        raise KeyFileError(
            f"The gateway signing key {settings.signing_key_path} is not the key this instance "
            "was created with: restore the original key file."
        )
    register = Register(signing_key, register_origin(instance_id), EpochKeyring(settings.key_dir))
    return Instance(settings, database, signing_key, version, register, console_secret)


def register_origin(instance_id: str) -> str:
    """The register's log name in checkpoints: unique per instance, no spaces or '+'."""
    return f"sluis.local/register/{instance_id}"


def init_instance(settings: Settings, *, force: bool = False) -> InitReport:
    """Create the key files and the database. Existing files are refused unless ``force``.

    With ``force`` nothing is deleted: existing keys and database are renamed to
    ``NAME.replaced-TIMESTAMP`` first.
    """
    owned = [
        settings.db_key_path,
        settings.signing_key_path,
        settings.database_path,
        settings.console_secret_path,
    ]
    existing = [p for p in owned if p.exists()]
    if existing and not force:
        raise KeyFileError(
            f"{existing[0]} already exists: this instance is initialised. Use "
            "`gateway init --force` only to start a new instance (old files are set aside)."
        )
    now = datetime.now(UTC)
    moved = tuple(
        m
        for p in [*owned, settings.signing_public_key_path]
        if (m := set_aside(p, now)) is not None
    )
    for wal in ("-wal", "-shm"):
        side = settings.database_path.with_name(settings.database_path.name + wal)
        if side.exists():
            side.unlink()  # belongs to the database set aside above, which was closed
    settings.key_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(settings.key_dir, 0o700)
    db_key = DatabaseKey(secrets.token_bytes(32))
    write_secret(settings.db_key_path, db_key.to_file_text())
    write_console_secret(settings.console_secret_path)
    signing_key = SigningKey.generate()
    write_secret(settings.signing_key_path, signing_key.export_seed().hex().encode() + b"\n")
    write_public(settings.signing_public_key_path, signing_key.public_key.hex().encode() + b"\n")
    database = Database(settings.database_path, db_key)
    with database.connection() as conn:
        migrate(conn)
        with transaction(conn):
            set_meta(conn, "instance_id", secrets.token_hex(16))
            set_meta(conn, "created_at", now.isoformat(timespec="seconds"))
            set_meta(conn, "gateway_signing_key", signing_key.public_key.hex())
    return InitReport(
        settings.db_key_path,
        settings.signing_key_path,
        settings.database_path,
        signing_key.fingerprint,
        moved,
    )
