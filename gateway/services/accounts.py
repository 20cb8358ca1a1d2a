"""Console accounts: creation, reset and roles (CLI), login with password and TOTP, lockout,
and server-side sessions (console). Every login, failure, logout, reset and role change is
appended to the register's administration stream in the transaction that makes it so.

Nothing here logs or records a password, a TOTP code or a client address: addresses arrive
already reduced to a keyed hash (``address_key``).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import pyotp
import segno

from gateway.crypto.errors import PasswordMismatch
from gateway.crypto.passwords import INTERACTIVE, HashCost, hash_password, password_problem
from gateway.crypto.passwords import verify_password as _verify_password
from gateway.errors import InvalidRequest, NotFound, SluisError
from gateway.register.entry import Actor, Event, iso_time
from gateway.register.log import Register
from gateway.store import Connection, transaction
from gateway.store import users as store

ROLES = ("fg", "admin", "auditor")
ISSUER = "Sluis"
TOTP_INTERVAL = 30
_USERNAME = re.compile(r"[a-z][a-z0-9._-]{1,63}\Z")
#: Never a username: the register's actor id for a login attempt with an unknown name.
UNKNOWN_USER = "unknown-user"
SESSION_TOKEN_BYTES = 32
#: A session is re-stamped at most once a minute, not on every request.
TOUCH_EVERY = timedelta(seconds=60)


class LoginRefused(SluisError):
    """A login attempt failed. ``reason`` is the register's reason code; the sentence is the
    same for every reason except an address lock, so a page never tells which part was wrong."""

    code = "login-refused"
    title = "Login refused"
    status = 401

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason


@dataclass(frozen=True)
class LoginRules:
    max_failures: int = 5
    lockout: timedelta = timedelta(minutes=15)
    address_max_failures: int = 20
    idle: timedelta = timedelta(minutes=30)
    absolute: timedelta = timedelta(hours=12)


@dataclass(frozen=True)
class Enrolment:
    """What a new or reset user needs to set up the authenticator app."""

    username: str
    totp_secret: str
    provisioning_uri: str

    def qr_svg(self) -> str:
        return qr_svg(self.provisioning_uri, title=f"TOTP: {self.username}")

    def qr_text(self) -> str:
        """The QR code as block characters, for a terminal."""
        qr = segno.make(self.provisioning_uri, error="m")
        lines: list[str] = []
        matrix = [list(row) for row in qr.matrix_iter(scale=1, border=2)]
        for top, bottom in zip(matrix[::2], [*matrix[1::2], [0] * len(matrix[0])], strict=False):
            lines.append(
                "".join(
                    " " if not a and not b else "▀" if a and not b else "▄" if b and not a else "█"
                    for a, b in zip(top, bottom, strict=True)
                )
            )
        return "\n".join(lines)


@dataclass(frozen=True)
class ConsoleUser:
    username: str
    roles: frozenset[str]


def qr_svg(data: str, *, title: str) -> str:
    """An inline SVG QR code (segno: pure Python, no image library), no script, no style."""
    qr = segno.make(data, error="m")
    svg: str = qr.svg_inline(scale=4, border=4, title=title, dark="#000", light="#fff")
    return svg


def check_username(username: str) -> str:
    if not _USERNAME.match(username) or username == UNKNOWN_USER:
        raise InvalidRequest(
            f"{username[:40]!r} is not a usable username: 2-64 characters, lower-case letters, "
            "digits and '.-_', starting with a letter."
        )
    return username


def check_roles(roles: tuple[str, ...] | list[str] | frozenset[str]) -> frozenset[str]:
    unknown = sorted(set(roles) - set(ROLES))
    if unknown:
        raise InvalidRequest(f"'{unknown[0]}' is not a role: the roles are {', '.join(ROLES)}.")
    return frozenset(roles)


def roles_token(roles: frozenset[str]) -> str:
    """Roles as one register token: ``admin+fg``, or ``none``."""
    return "+".join(sorted(roles)) or "none"


def _check_password(password: str) -> None:
    problem = password_problem(password)
    if problem:
        raise InvalidRequest(problem)


def _new_enrolment(username: str) -> Enrolment:
    secret = pyotp.random_base32(32)
    uri = pyotp.TOTP(secret, interval=TOTP_INTERVAL).provisioning_uri(
        name=username, issuer_name=ISSUER
    )
    return Enrolment(username, secret, uri)


def add_user(
    conn: Connection,
    register: Register,
    username: str,
    roles: frozenset[str],
    password: str,
    *,
    now: datetime,
    actor: Actor,
    cost: HashCost = INTERACTIVE,
) -> Enrolment:
    """Create an account with a password and a fresh TOTP secret; record its roles."""
    check_username(username)
    check_roles(roles)
    _check_password(password)
    if store.get_user(conn, username) is not None:
        raise InvalidRequest(f"The user {username} exists: use `gateway user reset` or `role`.")
    enrolment = _new_enrolment(username)
    hashed = hash_password(password, cost)
    at = iso_time(now)
    with transaction(conn):
        store.insert_user(conn, username, hashed, enrolment.totp_secret, at=at)
        store.set_roles(conn, username, roles, at=at)
        register.append(
            conn,
            [
                Event(
                    "user.role-changed",
                    actor,
                    reason="account-created",
                    attributes={"account": username, "roles": roles_token(roles)},
                )
            ],
            now=now,
        )
    return enrolment


def _existing(conn: Connection, username: str) -> store.StoredUser:
    user = store.get_user(conn, username)
    if user is None:
        raise NotFound(f"There is no console user {username[:64]!r}.")
    return user


def reset_user(
    conn: Connection,
    register: Register,
    username: str,
    password: str,
    *,
    now: datetime,
    actor: Actor,
    cost: HashCost = INTERACTIVE,
) -> Enrolment:
    """New password and TOTP secret, lock cleared, every session of the user ended."""
    _existing(conn, username)
    _check_password(password)
    enrolment = _new_enrolment(username)
    hashed = hash_password(password, cost)
    with transaction(conn):
        store.set_credentials(conn, username, hashed, enrolment.totp_secret, at=iso_time(now))
        store.delete_sessions_of(conn, username)
        register.append(
            conn, [Event("user.reset", actor, attributes={"account": username})], now=now
        )
    return enrolment


def change_roles(
    conn: Connection,
    register: Register,
    username: str,
    *,
    add: frozenset[str] = frozenset(),
    remove: frozenset[str] = frozenset(),
    now: datetime,
    actor: Actor,
) -> frozenset[str]:
    """Add and remove roles; the user's sessions end so the new roles apply at once."""
    check_roles(add | remove)
    if add & remove:
        raise InvalidRequest("A role cannot be added and removed at once.")
    user = _existing(conn, username)
    roles = (user.roles | add) - remove
    if roles == user.roles:
        return roles
    with transaction(conn):
        store.set_roles(conn, username, roles, at=iso_time(now))
        store.delete_sessions_of(conn, username)
        register.append(
            conn,
            [
                Event(
                    "user.role-changed",
                    actor,
                    reason="roles-changed",
                    attributes={"account": username, "roles": roles_token(roles)},
                )
            ],
            now=now,
        )
    return roles


# -- login ------------------------------------------------------------------------------------

_GENERIC = (
    "The username, password and code do not match, or the account is locked for a while "
    "after too many failed attempts."
)
_ADDRESS_LOCKED = "Too many failed logins from this address: wait a while and try again."
#: Verified when the username is unknown, so an unknown name takes as long as a known one.
_DUMMY_HASH: list[str] = []


def _dummy_hash() -> str:
    if not _DUMMY_HASH:
        _DUMMY_HASH.append(hash_password(secrets.token_urlsafe(16)))
    return _DUMMY_HASH[0]


def address_key(secret: bytes, address: str) -> str:
    """A keyed hash of the client address: enough to count failures, not to recover it."""
    return hmac.new(secret, b"login-address\x00" + address.encode(), hashlib.sha256).hexdigest()


def _totp_step(secret: str, code: str, now: datetime) -> int | None:
    """The time step whose code equals ``code`` (one step of clock drift either way)."""
    code = code.strip().replace(" ", "")
    if not re.fullmatch(r"[0-9]{6}", code):
        return None
    totp = pyotp.TOTP(secret, interval=TOTP_INTERVAL)
    current = int(now.timestamp()) // TOTP_INTERVAL
    found = None
    for step in (current - 1, current, current + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            found = step
    return found


def _locked(until: str | None, now: str) -> bool:
    return until is not None and until > now


def login(
    conn: Connection,
    register: Register,
    *,
    username: str,
    password: str,
    code: str,
    address: str,
    now: datetime,
    rules: LoginRules,
) -> str:
    """Check password and TOTP code; return a new session token or raise LoginRefused.

    ``address`` is the keyed hash from :func:`address_key`. A user is locked for
    ``rules.lockout`` after ``rules.max_failures`` failures in a row; an address after
    ``rules.address_max_failures`` failures within ``rules.lockout``.
    """
    at = iso_time(now)
    username = username.strip().lower()[:64]
    user = store.get_user(conn, username) if _USERNAME.match(username) else None
    throttle = store.get_throttle(conn, address)
    reason: str | None = None
    step: int | None = None
    if throttle is not None and _locked(throttle.locked_until, at):
        reason = "address-locked"
    elif user is None:
        _verify_quietly(_dummy_hash(), password)
        reason = "unknown-user"
    elif _locked(user.locked_until, at):
        reason = "locked"
    elif not _verify_quietly(user.password_hash, password):
        reason = "bad-password"
    else:
        step = _totp_step(user.totp_secret, code, now)
        if step is None:
            reason = "bad-totp"
        elif step <= user.last_totp_step:
            reason = "totp-replayed"
    actor = Actor("user", user.username if user is not None else UNKNOWN_USER)
    if reason is not None:
        _refuse(conn, register, user, throttle, address, reason, actor, now, rules)
        raise LoginRefused(reason, _ADDRESS_LOCKED if reason == "address-locked" else _GENERIC)
    if user is None or step is None:  # unreachable: reason is None only with both
        raise LoginRefused("internal", _GENERIC)
    token = secrets.token_urlsafe(SESSION_TOKEN_BYTES)
    with transaction(conn):
        store.record_success(conn, user.username, step)
        store.insert_session(conn, _token_hash(token), user.username, at=at)
        store.delete_sessions_seen_before(conn, iso_time(now - rules.idle))
        register.append(conn, [Event("user.login", actor)], now=now)
    return token


def _verify_quietly(stored: str, password: str) -> bool:
    try:
        _verify_password(stored, password)
    except PasswordMismatch:
        return False
    return True


def _refuse(
    conn: Connection,
    register: Register,
    user: store.StoredUser | None,
    throttle: store.Throttle | None,
    address: str,
    reason: str,
    actor: Actor,
    now: datetime,
    rules: LoginRules,
) -> None:
    at = iso_time(now)
    lock_end = iso_time(now + rules.lockout)
    with transaction(conn):
        if user is not None and reason != "locked" and reason != "address-locked":
            expired = user.locked_until is not None  # an old lock ran out: count afresh
            failures = 1 if expired else user.failed_logins + 1
            locked = lock_end if failures >= rules.max_failures else None
            store.record_failure(conn, user.username, locked_until=locked, reset=expired)
        if reason != "address-locked":
            window_open = throttle is not None and throttle.window_start > iso_time(
                now - rules.lockout
            )
            failures = throttle.failures + 1 if throttle is not None and window_open else 1
            start = throttle.window_start if throttle is not None and window_open else at
            locked = lock_end if failures >= rules.address_max_failures else None
            store.put_throttle(conn, address, store.Throttle(failures, start, locked))
        register.append(
            conn,
            [Event("user.login-failed", actor, outcome="refused", reason=reason)],
            now=now,
        )


# -- sessions ---------------------------------------------------------------------------------


def _token_hash(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def session_user(
    conn: Connection, token: str, *, now: datetime, rules: LoginRules
) -> ConsoleUser | None:
    """The user of a live session, or None (unknown, idle too long, or too old: then ended)."""
    if not token or len(token) > 128:
        return None
    key = _token_hash(token)
    found = store.get_session(conn, key)
    if found is None:
        return None
    at = iso_time(now)
    if found.last_seen_at <= iso_time(now - rules.idle) or found.created_at <= iso_time(
        now - rules.absolute
    ):
        store.delete_session(conn, key)
        return None
    if found.last_seen_at <= iso_time(now - TOUCH_EVERY):
        store.touch_session(conn, key, at=at)
    return ConsoleUser(found.username, store.roles_of(conn, found.username))


def logout(conn: Connection, register: Register, token: str, *, now: datetime) -> None:
    key = _token_hash(token)
    found = store.get_session(conn, key)
    if found is None:
        return
    with transaction(conn):
        store.delete_session(conn, key)
        register.append(conn, [Event("user.logout", Actor("user", found.username))], now=now)
