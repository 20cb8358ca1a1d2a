"""Signed HTTP calls to the gateway, retried with backoff when the gateway is unreachable.

Every attempt is signed anew (fresh nonce and ``created``), so a retry is never a replay. Only
failures that cannot have changed anything are retried blindly (no connection, 502/503/504,
429); a batch submission is safe to retry in every case because the gateway answers a
resubmitted message id with its stored receipt.
"""

from __future__ import annotations

import http.client
import json
import secrets
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode, urlsplit

from gateway.client.errors import GatewayRefused, GatewayUnreachable
from gateway.crypto.http_signatures import RequestParts, sign_request
from gateway.crypto.keys import PartnerKeyPair

RETRY_STATUSES = frozenset({429, 502, 503, 504})
MAX_RESPONSE_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 6
    first_delay: float = 0.5
    max_delay: float = 20.0
    sleep: Callable[[float], None] = time.sleep

    def delays(self) -> list[float]:
        return [min(self.max_delay, self.first_delay * 2**i) for i in range(self.attempts - 1)]


@dataclass
class Response:
    status: int
    body: bytes
    content_type: str

    def json(self) -> Any:
        return json.loads(self.body)


Transport = Callable[[str, str, bytes, Mapping[str, str]], Response]


def urllib_transport(timeout: float = 30.0) -> Transport:
    def send(method: str, url: str, body: bytes, headers: Mapping[str, str]) -> Response:
        request = urllib.request.Request(  # noqa: S310 - the profile's http(s) gateway URL
            url, data=body or None, method=method, headers=dict(headers)
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout) as answer:  # noqa: S310
                return Response(
                    answer.status, _read_whole(answer), answer.headers.get("Content-Type", "")
                )
        except urllib.error.HTTPError as error:  # an answer, not a failure: the caller decides
            return Response(error.code, _read_whole(error), error.headers.get("Content-Type", ""))
        except http.client.HTTPException as error:  # a broken answer: as if none came
            raise ConnectionResetError(f"broken answer ({type(error).__name__})") from None

    return send


def _read_whole(answer: Any) -> bytes:
    """The body, or ConnectionResetError when the connection closed before all of it came:
    ``read(amt)`` returns a short body silently, and a cut-off answer must be retried, never
    parsed (a gateway worker killed while writing it)."""
    body: bytes = answer.read(MAX_RESPONSE_BYTES)
    length = answer.headers.get("Content-Length", "")
    if length.isdigit() and len(body) < min(int(length), MAX_RESPONSE_BYTES):
        raise ConnectionResetError(f"answer cut off after {len(body)} of {length} bytes")
    return body


@dataclass
class Session:
    """One partner talking to one gateway."""

    base_url: str
    keys: PartnerKeyPair
    transport: Transport = field(default_factory=urllib_transport)
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    on_retry: Callable[[int, float, str], None] | None = None

    def call(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        query: Mapping[str, Any] | None = None,
        expect: tuple[int, ...] = (200,),
    ) -> Response:
        data = b"" if body is None else json.dumps(body, separators=(",", ":")).encode()
        query_string = urlencode(query or {}, doseq=True)
        url = f"{self.base_url}{path}" + (f"?{query_string}" if query_string else "")
        authority = urlsplit(self.base_url).netloc.lower()
        last = "no attempt"
        delays = [*self.retry.delays(), None]
        for attempt, delay in enumerate(delays, start=1):
            headers = sign_request(
                RequestParts(method, authority, urlsplit(url).path, query_string, {}, data),
                self.keys,
                self.keys.public.key_id,
                int(self.clock().timestamp()),
                secrets.token_urlsafe(16),
            )
            if data:
                headers["Content-Type"] = "application/json"
            try:
                answer = self.transport(method, url, data, headers)
            except OSError as error:  # refused, reset, timed out, DNS: the gateway is away
                last = f"{type(error).__name__}"
            else:
                if answer.status in expect:
                    return answer
                if answer.status not in RETRY_STATUSES:
                    raise _refusal(answer)
                last = f"HTTP {answer.status}"
            if delay is None:
                break
            if self.on_retry is not None:
                self.on_retry(attempt, delay, last)
            self.retry.sleep(delay)
        raise GatewayUnreachable(
            f"The gateway at {self.base_url} did not answer after {len(delays)} attempts "
            f"({last}). Nothing was lost: run the same command again later."
        )


def _refusal(answer: Response) -> GatewayRefused:
    try:
        problem = json.loads(answer.body)
        detail = str(problem.get("detail") or problem.get("title") or "")
        code = str(problem.get("reason") or problem.get("code") or "")
    except (ValueError, AttributeError):  # not problem+json: report the status only
        detail, code = "", ""
    return GatewayRefused(
        f"The gateway refused the request (HTTP {answer.status}): {detail or 'no detail'}",
        status=answer.status,
        problem_code=code,
    )
