"""Console accounts, their roles, server-side sessions and the per-address login throttle."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from gateway.store.database import Connection


@dataclass(frozen=True)
class StoredUser:
    username: str
    password_hash: str
    totp_secret: str
    last_totp_step: int
    failed_logins: int
    locked_until: str | None
    roles: frozenset[str]
    created_at: str
    updated_at: str


@dataclass(frozen=True)
class StoredSession:
    username: str
    created_at: str
    last_seen_at: str


@dataclass(frozen=True)
class Throttle:
    failures: int
    window_start: str
    locked_until: str | None


def roles_of(conn: Connection, username: str) -> frozenset[str]:
    rows = conn.execute("SELECT role FROM user_roles WHERE username = ?", (username,)).fetchall()
    return frozenset(str(r[0]) for r in rows)


def get_user(conn: Connection, username: str) -> StoredUser | None:
    row = conn.execute(
        "SELECT username, password_hash, totp_secret, last_totp_step, failed_logins, "
        "locked_until, created_at, updated_at FROM users WHERE username = ?",
        (username,),
    ).fetchone()
    if row is None:
        return None
    return StoredUser(
        str(row[0]),
        str(row[1]),
        str(row[2]),
        int(row[3]),
        int(row[4]),
        None if row[5] is None else str(row[5]),
        roles_of(conn, username),
        str(row[6]),
        str(row[7]),
    )


def list_usernames(conn: Connection) -> list[str]:
    rows = conn.execute("SELECT username FROM users ORDER BY username").fetchall()
    return [str(r[0]) for r in rows]


def insert_user(
    conn: Connection, username: str, password_hash: str, totp_secret: str, *, at: str
) -> None:
    conn.execute(
        "INSERT INTO users (username, password_hash, totp_secret, created_at, updated_at) "
        "VALUES (?, ?, ?, ?, ?)",
        (username, password_hash, totp_secret, at, at),
    )


def set_credentials(
    conn: Connection, username: str, password_hash: str, totp_secret: str, *, at: str
) -> None:
    """New password and TOTP secret; clears the lock and the failure count."""
    conn.execute(
        "UPDATE users SET password_hash = ?, totp_secret = ?, last_totp_step = 0, "
        "failed_logins = 0, locked_until = NULL, updated_at = ? WHERE username = ?",
        (password_hash, totp_secret, at, username),
    )


def set_roles(conn: Connection, username: str, roles: Iterable[str], *, at: str) -> None:
    conn.execute("DELETE FROM user_roles WHERE username = ?", (username,))
    conn.executemany(
        "INSERT INTO user_roles (username, role) VALUES (?, ?)",
        [(username, role) for role in sorted(set(roles))],
    )
    conn.execute("UPDATE users SET updated_at = ? WHERE username = ?", (at, username))


def record_failure(
    conn: Connection, username: str, *, locked_until: str | None, reset: bool = False
) -> None:
    """One more failed login (or, with ``reset``, the first of a new count) and the lock."""
    conn.execute(
        "UPDATE users SET failed_logins = CASE WHEN ? THEN 1 ELSE failed_logins + 1 END, "
        "locked_until = ? WHERE username = ?",
        (1 if reset else 0, locked_until, username),
    )


def record_success(conn: Connection, username: str, totp_step: int) -> None:
    conn.execute(
        "UPDATE users SET failed_logins = 0, locked_until = NULL, last_totp_step = ? "
        "WHERE username = ?",
        (totp_step, username),
    )


# -- sessions ---------------------------------------------------------------------------------


def insert_session(conn: Connection, token_hash: bytes, username: str, *, at: str) -> None:
    conn.execute(
        "INSERT INTO console_sessions (token_hash, username, created_at, last_seen_at) "
        "VALUES (?, ?, ?, ?)",
        (token_hash, username, at, at),
    )


def get_session(conn: Connection, token_hash: bytes) -> StoredSession | None:
    row = conn.execute(
        "SELECT username, created_at, last_seen_at FROM console_sessions WHERE token_hash = ?",
        (token_hash,),
    ).fetchone()
    return None if row is None else StoredSession(str(row[0]), str(row[1]), str(row[2]))


def touch_session(conn: Connection, token_hash: bytes, *, at: str) -> None:
    conn.execute(
        "UPDATE console_sessions SET last_seen_at = ? WHERE token_hash = ?", (at, token_hash)
    )


def delete_session(conn: Connection, token_hash: bytes) -> None:
    conn.execute("DELETE FROM console_sessions WHERE token_hash = ?", (token_hash,))


def delete_sessions_of(conn: Connection, username: str) -> int:
    return int(
        conn.execute("DELETE FROM console_sessions WHERE username = ?", (username,)).rowcount
    )


def delete_sessions_seen_before(conn: Connection, before: str) -> int:
    return int(
        conn.execute("DELETE FROM console_sessions WHERE last_seen_at < ?", (before,)).rowcount
    )


# -- per-address throttle ---------------------------------------------------------------------


def get_throttle(conn: Connection, address_key: str) -> Throttle | None:
    row = conn.execute(
        "SELECT failures, window_start, locked_until FROM login_throttle WHERE address_key = ?",
        (address_key,),
    ).fetchone()
    if row is None:
        return None
    return Throttle(int(row[0]), str(row[1]), None if row[2] is None else str(row[2]))


def put_throttle(conn: Connection, address_key: str, throttle: Throttle) -> None:
    conn.execute(
        "INSERT INTO login_throttle (address_key, failures, window_start, locked_until) "
        "VALUES (?, ?, ?, ?) ON CONFLICT (address_key) DO UPDATE SET "
        "failures = excluded.failures, window_start = excluded.window_start, "
        "locked_until = excluded.locked_until",
        (address_key, throttle.failures, throttle.window_start, throttle.locked_until),
    )


def clear_throttle(conn: Connection, address_key: str) -> None:
    conn.execute("DELETE FROM login_throttle WHERE address_key = ?", (address_key,))
