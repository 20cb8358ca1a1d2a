"""Password hashing for console accounts: argon2id through libsodium (PyNaCl).

The stored form is libsodium's PHC string (``$argon2id$v=19$m=...,t=...,p=1$salt$hash``), which
carries its own salt and cost, so a hash made with cheap test limits or older limits still
verifies. :func:`verify_password` raises :class:`PasswordMismatch`; it never returns a bool.
libsodium compares in constant time.
"""

from __future__ import annotations

from dataclasses import dataclass

from nacl import pwhash
from nacl.exceptions import CryptoError as NaclCryptoError
from nacl.exceptions import InvalidkeyError

from gateway.crypto.errors import PasswordMismatch

MIN_PASSWORD_CHARS = 12
MAX_PASSWORD_BYTES = 1024


@dataclass(frozen=True)
class HashCost:
    """argon2id work factors: passes over memory and memory in bytes."""

    opslimit: int
    memlimit: int


#: libsodium's interactive limits (2 passes, 64 MiB): above OWASP's argon2id minimum.
INTERACTIVE = HashCost(pwhash.argon2id.OPSLIMIT_INTERACTIVE, pwhash.argon2id.MEMLIMIT_INTERACTIVE)
#: The cheapest limits libsodium allows: for tests only.
CHEAP_FOR_TESTS = HashCost(pwhash.argon2id.OPSLIMIT_MIN, pwhash.argon2id.MEMLIMIT_MIN)


def hash_password(password: str, cost: HashCost = INTERACTIVE) -> str:
    """The argon2id PHC string of ``password`` with a fresh random salt."""
    data = password.encode("utf-8")
    if len(data) > MAX_PASSWORD_BYTES:
        raise ValueError("A password is at most 1024 bytes.")
    return pwhash.argon2id.str(data, opslimit=cost.opslimit, memlimit=cost.memlimit).decode("ascii")


def verify_password(stored: str, password: str) -> None:
    """Return if ``password`` matches ``stored``; raise :class:`PasswordMismatch` otherwise."""
    data = password.encode("utf-8")
    if len(data) > MAX_PASSWORD_BYTES or not stored.startswith("$argon2id$"):
        raise PasswordMismatch("The password does not match.")
    try:
        pwhash.argon2id.verify(stored.encode("ascii"), data)
    except (InvalidkeyError, NaclCryptoError, UnicodeEncodeError):
        raise PasswordMismatch("The password does not match.") from None


def password_problem(password: str) -> str | None:
    """Why ``password`` may not be chosen, or None (length rules after NIST SP 800-63B)."""
    if len(password) < MIN_PASSWORD_CHARS:
        return f"A password has at least {MIN_PASSWORD_CHARS} characters."
    if len(password.encode("utf-8")) > MAX_PASSWORD_BYTES:
        return "A password is at most 1024 bytes."
    if not password.strip():
        return "A password is not only spaces."
    return None
