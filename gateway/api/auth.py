"""Partner authentication: HTTP Message Signatures (RFC 9421) on every non-public request.

The authenticator rebuilds the request as the partner signed it (method, authority, path as
sent, raw query, body), verifies it strictly (:mod:`gateway.crypto.http_signatures`), resolves
the key id in the key directory (a revoked or expired key is refused), and then spends the nonce:
a nonce seen before for that key is a replay and refused. Nonces of writes are kept in the
store, shared by every worker; nonces of reads in the worker's memory (reads change nothing).
Both are kept for the signature window plus the allowed skew, after which ``created`` alone
refuses the request.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime
from urllib.parse import quote

from flask import Flask, Request

from gateway.crypto.errors import RequestSignatureError, UnknownKeyId
from gateway.crypto.http_signatures import (
    RequestParts,
    ResolvedKey,
    SignaturePolicy,
    verify_request,
)
from gateway.errors import Unauthenticated
from gateway.services.key_directory import usable_at
from gateway.settings import Settings
from gateway.store import Connection
from gateway.store import exchange as exchange_store
from gateway.store import key_directory as directory
from gateway.web import request_connection
from gateway.web.access import Principal, register_authenticator

Clock = Callable[[], datetime]
SIGNED_HEADERS = ("content-digest", "signature", "signature-input")
NONCE_SWEEP_EVERY = 5  # seconds: in one of every five, old nonces are deleted (1000 at most)


def system_clock() -> datetime:
    return datetime.now(UTC)


def _raw_path(req: Request) -> str:
    raw = req.environ.get("RAW_URI") or req.environ.get("REQUEST_URI")
    if isinstance(raw, str) and raw.startswith("/"):
        return raw.split("?", 1)[0]
    return quote(req.path, safe="/:@!$&'()*+,;=-._~%")


def request_parts(req: Request) -> RequestParts:
    return RequestParts(
        method=req.method,
        authority=req.host,
        path=_raw_path(req),
        query=req.query_string.decode("latin-1"),
        headers={h: req.headers[h] for h in SIGNED_HEADERS if h in req.headers},
        body=req.get_data(cache=True),
    )


def key_resolver(conn: Connection, now: datetime) -> Callable[[str], ResolvedKey]:
    def resolve(key_id: str) -> ResolvedKey:
        record = directory.find_key(conn, key_id)
        if record is None:
            raise LookupError(key_id)
        if not usable_at(record, now):
            raise UnknownKeyId("The key is revoked, rotated or outside its validity period.")
        return ResolvedKey(record.partner_id, record.key_id, record.ed25519)

    return resolve


class RecentNonces:
    """Nonces of safe (read) requests seen by this worker process in the signature window.

    Reads change nothing, so their replay protection stays in memory: a replay to the same
    worker is refused, and any replay after the window is refused by ``created``. Nonces of
    writes are spent in the store, shared by all workers (:func:`spend_nonce`).
    """

    def __init__(self, keep_seconds: int, limit: int = 200_000) -> None:
        self.keep = keep_seconds
        self.limit = limit
        self._seen: dict[tuple[str, str], int] = {}
        self._lock = threading.Lock()

    def spend(self, key_id: str, nonce: str, now: int) -> bool:
        with self._lock:
            if len(self._seen) >= self.limit:
                cutoff = now - self.keep
                self._seen = {k: t for k, t in self._seen.items() if t >= cutoff}
                if len(self._seen) >= self.limit:  # a flood inside the window: keep newest half
                    newest = sorted(self._seen.items(), key=lambda kv: kv[1])[self.limit // 2 :]
                    self._seen = dict(newest)
            if (key_id, nonce) in self._seen:
                return False
            self._seen[(key_id, nonce)] = now
            return True


SAFE_METHODS = frozenset({"GET", "HEAD"})


def signature_authenticator(
    settings: Settings, clock: Clock
) -> Callable[[Request], Principal | None]:
    policy = SignaturePolicy(
        max_age=settings.signature_max_age, max_skew=settings.signature_max_skew
    )
    keep = settings.signature_max_age + settings.signature_max_skew
    recent = RecentNonces(keep)

    def authenticate(req: Request) -> Principal | None:
        if "signature" not in req.headers and "signature-input" not in req.headers:
            return None  # not a partner request; another authenticator may know it
        now = clock()
        seconds = int(now.timestamp())
        conn = request_connection()
        try:
            verified = verify_request(
                request_parts(req),
                resolve_key=key_resolver(conn, now),
                policy=policy,
                now=seconds,
            )
        except RequestSignatureError as error:  # every failed check is a 401 naming the check
            raise Unauthenticated(error.detail, reason=error.code) from None
        if req.method in SAFE_METHODS:
            fresh = recent.spend(verified.key_id, verified.nonce, seconds)
        else:
            sweep = seconds - keep if seconds % NONCE_SWEEP_EVERY == 0 else None
            fresh = exchange_store.spend_nonce(
                conn, verified.key_id, verified.nonce, seconds, forget_before=sweep
            )
        if not fresh:
            raise Unauthenticated(
                "This signed request was already used: sign every request with a new nonce.",
                reason="signature-replayed",
            )
        return Principal("partner", verified.partner_id)

    return authenticate


def install(app: Flask, settings: Settings, clock: Clock) -> None:
    register_authenticator(app, signature_authenticator(settings, clock))
