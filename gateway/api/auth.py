"""Partner authentication: HTTP Message Signatures (RFC 9421) on every non-public request.

The authenticator rebuilds the request as the partner signed it (method, authority, path as
sent, raw query, body), verifies it strictly (:mod:`gateway.crypto.http_signatures`), resolves
the key id in the key directory (a revoked or expired key is refused), and then spends the nonce:
a nonce seen before for that key is a replay and refused. Nonces of writes are kept in the
store, shared by every worker; nonces of reads in the worker's memory (reads change nothing).
Both are kept for the signature window plus the allowed skew, after which ``created`` alone
refuses the request.

Batch submission (:data:`NONCE_IN_TRANSACTION`) spends its nonce as the first statement of the
batch's own write transaction instead of in a transaction before it: the request then takes the
database's write lock once, not twice (waiting for it twice made the workers run in lockstep).
The authenticator still refuses a nonce the store already holds, before anything else; the
transaction refuses one spent in between (a concurrent copy) and rolls the batch back; and a
request that ends without having spent it (refused before its transaction, or failed inside
it) spends it after the view, as every other write does before it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import quote

from flask import Flask, Request, Response, g

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
#: Write endpoints that spend the request's nonce inside their own write transaction.
NONCE_IN_TRANSACTION = frozenset({"exchange.EnvelopeBatches"})
PENDING_NONCE = "sluis_pending_nonce"
_REPLAYED = "This signed request was already used: sign every request with a new nonce."


@dataclass
class PendingNonce:
    """The nonce of a write that spends it in its own transaction (:func:`pending_nonce`)."""

    key_id: str
    nonce: str
    seen_at: int
    forget_before: int | None
    spent: bool = False

    def spend(self, conn: Connection) -> None:
        """Record the nonce inside the caller's open write transaction; a nonce spent before
        (a concurrent copy of this request) raises Unauthenticated, rolling the write back."""
        if not exchange_store.remember_nonce(conn, self.key_id, self.nonce, self.seen_at):
            raise Unauthenticated(_REPLAYED, reason="signature-replayed")
        if self.forget_before is not None:
            exchange_store.forget_nonces_before(conn, self.forget_before)
        self.spent = True


def pending_nonce() -> PendingNonce | None:
    """The request's nonce, when its endpoint is to spend it in its own transaction."""
    pending: PendingNonce | None = g.get(PENDING_NONCE)
    return pending


def _spend_pending_nonce(response: Response) -> Response:
    """After the view: spend a deferred nonce the view did not spend in a committed write.

    A refused or failed request (status >= 400) wrote nothing of its own; its nonce is spent
    here, in its own small transaction (a no-op when the view's transaction did commit it). A
    successful response whose nonce was never spent would be a write without replay
    protection: it is turned into an error instead of being sent.
    """
    pending: PendingNonce | None = g.pop(PENDING_NONCE, None)
    if pending is None or (pending.spent and response.status_code < 400):
        return response
    fresh = exchange_store.spend_nonce(
        request_connection(),
        pending.key_id,
        pending.nonce,
        pending.seen_at,
        forget_before=pending.forget_before,
    )
    if not pending.spent and response.status_code < 400:
        raise RuntimeError(  # the endpoint's view must call PendingNonce.spend in its write
            f"{'fresh' if fresh else 'replayed'} nonce of a successful write was never spent"
        )
    return response


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
        sweep = seconds - keep if seconds % NONCE_SWEEP_EVERY == 0 else None
        if req.method in SAFE_METHODS:
            fresh = recent.spend(verified.key_id, verified.nonce, seconds)
        elif req.endpoint in NONCE_IN_TRANSACTION:
            fresh = not exchange_store.nonce_seen(conn, verified.key_id, verified.nonce)
            if fresh:  # spent as the first statement of the endpoint's write transaction
                g.setdefault(
                    PENDING_NONCE, PendingNonce(verified.key_id, verified.nonce, seconds, sweep)
                )
        else:
            fresh = exchange_store.spend_nonce(
                conn, verified.key_id, verified.nonce, seconds, forget_before=sweep
            )
        if not fresh:
            raise Unauthenticated(_REPLAYED, reason="signature-replayed")
        return Principal("partner", verified.partner_id)

    return authenticate


def install(app: Flask, settings: Settings, clock: Clock) -> None:
    register_authenticator(app, signature_authenticator(settings, clock))
    app.after_request(_spend_pending_nonce)
