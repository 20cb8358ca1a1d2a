"""argon2id password hashes: verify raises on mismatch, hashes carry salt and cost."""

from __future__ import annotations

import pytest

from gateway.crypto.errors import PasswordMismatch
from gateway.crypto.passwords import (
    CHEAP_FOR_TESTS,
    INTERACTIVE,
    hash_password,
    password_problem,
    verify_password,
)


def test_hash_verifies_and_is_salted() -> None:
    first = hash_password("correct horse battery", CHEAP_FOR_TESTS)
    second = hash_password("correct horse battery", CHEAP_FOR_TESTS)
    assert first.startswith("$argon2id$v=19$")
    assert first != second
    verify_password(first, "correct horse battery")
    verify_password(second, "correct horse battery")


@pytest.mark.parametrize(
    "attempt", ["correct horse batterY", "", "correct horse battery ", "x" * 2000, "é"]
)
def test_mismatch_raises(attempt: str) -> None:
    stored = hash_password("correct horse battery", CHEAP_FOR_TESTS)
    with pytest.raises(PasswordMismatch):
        verify_password(stored, attempt)


@pytest.mark.parametrize(
    "stored", ["", "plain", "$argon2i$v=19$m=8,t=1,p=1$AAAA$AAAA", "$argon2id$junk"]
)
def test_a_stored_value_that_is_no_argon2id_hash_never_matches(stored: str) -> None:
    with pytest.raises(PasswordMismatch):
        verify_password(stored, "plain")


def test_default_cost_is_libsodium_interactive() -> None:
    assert INTERACTIVE.memlimit >= 64 * 1024 * 1024
    assert INTERACTIVE.opslimit >= 2


def test_password_rules() -> None:
    assert password_problem("short") is not None
    assert password_problem(" " * 20) is not None
    assert password_problem("a long enough passphrase") is None
