"""Console accounts: argon2id + TOTP login, lockout, sessions, and every step in the register."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pyotp
import pytest

from gateway.crypto.passwords import CHEAP_FOR_TESTS
from gateway.errors import InvalidRequest, NotFound
from gateway.instance import Instance
from gateway.register.entry import decode_entry, operator
from gateway.services import accounts
from gateway.services.accounts import LoginRefused, LoginRules
from gateway.store import Connection
from gateway.store import register as register_store

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
PASSWORD = "a long enough passphrase"
ADDRESS = accounts.address_key(b"k" * 32, "192.0.2.1")
RULES = LoginRules()


@pytest.fixture
def conn(instance: Instance) -> Iterator[Connection]:
    with instance.database.connection() as conn:
        yield conn


def entries(conn: Connection) -> list[dict[str, Any]]:
    return [decode_entry(bytes(r[3])) for rows in register_store.iter_entries(conn) for r in rows]


def add(conn: Connection, instance: Instance, name: str = "fien", roles: str = "fg") -> str:
    enrolment = accounts.add_user(
        conn,
        instance.register,
        name,
        frozenset(roles.split()),
        PASSWORD,
        now=NOW,
        actor=operator("tester"),
        cost=CHEAP_FOR_TESTS,
    )
    return enrolment.totp_secret


def code(secret: str, at: datetime = NOW) -> str:
    return pyotp.TOTP(secret).at(at)


def login(
    conn: Connection,
    instance: Instance,
    *,
    password: str = PASSWORD,
    otp: str,
    at: datetime = NOW,
    name: str = "fien",
    address: str = ADDRESS,
) -> str:
    return accounts.login(
        conn,
        instance.register,
        username=name,
        password=password,
        code=otp,
        address=address,
        now=at,
        rules=RULES,
    )


def test_add_user_records_roles_and_gives_an_enrolment(
    conn: Connection, instance: Instance
) -> None:
    enrolment = accounts.add_user(
        conn,
        instance.register,
        "fien",
        frozenset({"fg", "auditor"}),
        PASSWORD,
        now=NOW,
        actor=operator("tester"),
        cost=CHEAP_FOR_TESTS,
    )
    assert enrolment.provisioning_uri.startswith("otpauth://totp/Sluis:fien?")
    svg = enrolment.qr_svg()
    assert svg.startswith("<svg")
    assert "<script" not in svg
    assert "<title>" in svg
    assert "█" in enrolment.qr_text() or "▀" in enrolment.qr_text()
    last = entries(conn)[-1]
    assert last["type"] == "user.role-changed"
    assert last["stream"] == "administration"
    assert last["attributes"] == {"account": "fien", "roles": "auditor+fg"}
    assert last["actor"] == {"kind": "operator", "id": "tester"}
    assert PASSWORD not in str(entries(conn))
    assert enrolment.totp_secret not in str(entries(conn))


@pytest.mark.parametrize(
    ("name", "roles", "password"),
    [
        ("F", "fg", PASSWORD),
        ("fien smit", "fg", PASSWORD),
        ("unknown-user", "fg", PASSWORD),
        ("fien", "root", PASSWORD),
        ("fien", "fg", "short"),
    ],
)
def test_bad_account_input_is_refused(
    conn: Connection, instance: Instance, name: str, roles: str, password: str
) -> None:
    with pytest.raises(InvalidRequest):
        accounts.add_user(
            conn,
            instance.register,
            name,
            frozenset({roles}),
            password,
            now=NOW,
            actor=operator("tester"),
            cost=CHEAP_FOR_TESTS,
        )


def test_duplicate_user_is_refused(conn: Connection, instance: Instance) -> None:
    add(conn, instance)
    with pytest.raises(InvalidRequest, match="exists"):
        add(conn, instance)


def test_login_with_password_and_totp_opens_a_session(conn: Connection, instance: Instance) -> None:
    secret = add(conn, instance, roles="fg admin")
    token = login(conn, instance, otp=code(secret))
    user = accounts.session_user(conn, token, now=NOW, rules=RULES)
    assert user == accounts.ConsoleUser("fien", frozenset({"fg", "admin"}))
    last = entries(conn)[-1]
    assert (last["type"], last["actor"], last["outcome"]) == (
        "user.login",
        {"kind": "user", "id": "fien"},
        "success",
    )


@pytest.mark.parametrize(
    ("password", "otp_offset", "reason"),
    [
        ("wrong passphrase!", 0, "bad-password"),
        (PASSWORD, 300, "bad-totp"),
    ],
)
def test_failures_are_refused_and_recorded(
    conn: Connection, instance: Instance, password: str, otp_offset: int, reason: str
) -> None:
    secret = add(conn, instance)
    with pytest.raises(LoginRefused) as refused:
        login(
            conn, instance, password=password, otp=code(secret, NOW + timedelta(seconds=otp_offset))
        )
    assert refused.value.reason == reason
    last = entries(conn)[-1]
    assert (last["type"], last["outcome"], last["reason"]) == (
        "user.login-failed",
        "refused",
        reason,
    )


def test_unknown_user_is_recorded_without_the_typed_name(
    conn: Connection, instance: Instance
) -> None:
    with pytest.raises(LoginRefused) as refused:
        login(conn, instance, name="typo-or-a-password", otp="123456")
    assert refused.value.reason == "unknown-user"
    last = entries(conn)[-1]
    assert last["actor"] == {"kind": "user", "id": "unknown-user"}
    assert "typo-or-a-password" not in str(entries(conn))


def test_a_totp_code_is_used_once(conn: Connection, instance: Instance) -> None:
    secret = add(conn, instance)
    login(conn, instance, otp=code(secret))
    with pytest.raises(LoginRefused) as refused:
        login(conn, instance, otp=code(secret), at=NOW + timedelta(seconds=5))
    assert refused.value.reason == "totp-replayed"


def test_lockout_after_five_failures_then_expiry(conn: Connection, instance: Instance) -> None:
    secret = add(conn, instance)
    for i in range(RULES.max_failures):
        with pytest.raises(LoginRefused):
            login(
                conn,
                instance,
                password="wrong passphrase!",
                otp=code(secret),
                at=NOW + timedelta(seconds=i),
            )
    later = NOW + timedelta(minutes=1)
    with pytest.raises(LoginRefused) as refused:  # the right password no longer helps
        login(conn, instance, otp=code(secret, later), at=later)
    assert refused.value.reason == "locked"
    after_lock = NOW + RULES.lockout + timedelta(minutes=1)
    assert login(conn, instance, otp=code(secret, after_lock), at=after_lock)


def test_an_address_is_locked_after_many_failures(conn: Connection, instance: Instance) -> None:
    for i in range(RULES.address_max_failures):
        with pytest.raises(LoginRefused):
            login(conn, instance, name=f"nobody{i}", otp="000000")
    secret = add(conn, instance)
    with pytest.raises(LoginRefused) as refused:
        login(conn, instance, otp=code(secret))
    assert refused.value.reason == "address-locked"
    other = accounts.address_key(b"k" * 32, "192.0.2.2")
    assert login(conn, instance, otp=code(secret), address=other)


def test_session_expires_when_idle_and_logout_ends_it(conn: Connection, instance: Instance) -> None:
    secret = add(conn, instance)
    token = login(conn, instance, otp=code(secret))
    soon = NOW + timedelta(minutes=20)
    assert accounts.session_user(conn, token, now=soon, rules=RULES) is not None
    assert accounts.session_user(conn, token, now=soon + timedelta(minutes=29), rules=RULES)
    idle = soon + timedelta(minutes=29) + RULES.idle
    assert accounts.session_user(conn, token, now=idle, rules=RULES) is None
    token = login(conn, instance, otp=code(secret, idle), at=idle)
    accounts.logout(conn, instance.register, token, now=idle)
    assert accounts.session_user(conn, token, now=idle, rules=RULES) is None
    assert entries(conn)[-1]["type"] == "user.logout"
    assert accounts.session_user(conn, "nonsense", now=idle, rules=RULES) is None


def test_role_change_and_reset_end_sessions(conn: Connection, instance: Instance) -> None:
    secret = add(conn, instance)
    token = login(conn, instance, otp=code(secret))
    roles = accounts.change_roles(
        conn,
        instance.register,
        "fien",
        add=frozenset({"auditor"}),
        remove=frozenset({"fg"}),
        now=NOW,
        actor=operator("tester"),
    )
    assert roles == {"auditor"}
    assert accounts.session_user(conn, token, now=NOW, rules=RULES) is None
    assert entries(conn)[-1]["attributes"] == {"account": "fien", "roles": "auditor"}
    later = NOW + timedelta(minutes=2)
    token = login(conn, instance, otp=code(secret, later), at=later)
    new = accounts.reset_user(
        conn,
        instance.register,
        "fien",
        "another long passphrase",
        now=later,
        actor=operator("tester"),
        cost=CHEAP_FOR_TESTS,
    )
    assert accounts.session_user(conn, token, now=later, rules=RULES) is None
    assert entries(conn)[-1]["type"] == "user.reset"
    with pytest.raises(LoginRefused):
        login(conn, instance, otp=code(secret, later), at=later)
    assert login(
        conn,
        instance,
        password="another long passphrase",
        otp=code(new.totp_secret, later),
        at=later,
    )
    with pytest.raises(NotFound):
        accounts.change_roles(
            conn, instance.register, "nobody", add=frozenset({"fg"}), now=NOW, actor=operator("t")
        )
