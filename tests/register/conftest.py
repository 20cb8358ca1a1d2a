"""Register fixtures: a migrated store in tmp_path, a register with its own keys, and events."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from gateway.crypto import SigningKey
from gateway.register.entry import Actor, Event, RecipientFields
from gateway.register.epochs import EpochKeyring
from gateway.register.log import Register
from gateway.store import Connection, Database, DatabaseKey, migrate, transaction

T0 = datetime(2026, 11, 24, 9, 30, tzinfo=UTC)
LANDLORD = Actor("partner", "wonen-limburg")


@dataclass
class Log:
    conn: Connection
    register: Register
    keys: Path

    def append(self, events: list[Event], now: datetime = T0) -> list[bytes]:
        with transaction(self.conn):
            return [a.leaf_hash for a in self.register.append(self.conn, events, now=now)]

    def checkpoint(self, now: datetime = T0) -> None:
        with transaction(self.conn):
            self.register.sign_checkpoint(self.conn, now=now, force=True)


def transfer(n: int = 0, subject: str = "subject-a") -> Event:
    return Event(
        "transfer.accepted",
        LANDLORD,
        flow="signal",
        sender="wonen-limburg",
        recipients=(
            RecipientFields(
                "gemeente-weert",
                "municipality-intake",
                ("arrears-amount", "tenant-name"),
                "art. 3 Wgs",
            ),
        ),
        subjects=(subject,),
        case=f"case-{n:06d}",
        policy_version="c8" * 32,
        envelope_hash=f"{n:064x}",
        message_id=f"msg-{n}",
    )


@pytest.fixture
def log(tmp_path: Path) -> Iterator[Log]:
    database = Database(tmp_path / "register.db", DatabaseKey(b"\x07" * 32))
    conn = database.connect()
    migrate(conn)
    keys = tmp_path / "keys"
    register = Register(
        SigningKey.from_seed(b"\x01" * 32), "sluis.test/register", EpochKeyring(keys)
    )
    try:
        yield Log(conn, register, keys)
    finally:
        conn.close()
