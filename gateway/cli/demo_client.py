"""The demo walk's HTTP helper: signed requests to a running gateway, with urllib.

Only what ``gateway demo exchange`` needs. The real partner client (``gateway-client``) is a
separate piece of work; do not grow this into it.
"""

from __future__ import annotations

import json
import secrets
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

from gateway.crypto.http_signatures import RequestParts, sign_request
from gateway.crypto.keys import PartnerKeyPair
from gateway.errors import SluisError

TIMEOUT_SECONDS = 15


class DemoError(SluisError):
    """The demo could not be set up or could not walk through the covenant."""

    code = "demo-error"
    title = "Demo failed"
    status = 500


@dataclass(frozen=True)
class Gateway:
    """Where the gateway answers: ``http://HOST:PORT`` plus an optional path prefix."""

    base: str

    @classmethod
    def from_url(cls, url: str) -> Gateway:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise DemoError(f"The gateway URL {url!r} is not an http(s)://HOST:PORT address.")
        return cls(url.rstrip("/"))

    @property
    def authority(self) -> str:
        """``host[:port]`` as urllib sends it in the Host header (no default port)."""
        parts = urlsplit(self.base)
        host = parts.hostname or ""
        if ":" in host:
            host = f"[{host}]"
        default = 443 if parts.scheme == "https" else 80
        return host if parts.port in (None, default) else f"{host}:{parts.port}"

    @property
    def prefix(self) -> str:
        return urlsplit(self.base).path


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class SignedClient:
    """One partner talking to the gateway: every request signed with its key (RFC 9421)."""

    def __init__(self, gateway: Gateway, keys: PartnerKeyPair) -> None:
        self.gateway = gateway
        self.keys = keys

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        query: dict[str, str] | None = None,
    ) -> Answer:
        data = b"" if body is None else json.dumps(body).encode()
        query_string = urlencode(query or {})
        full_path = self.gateway.prefix + path
        headers = sign_request(
            RequestParts(method, self.gateway.authority, full_path, query_string, {}, data),
            self.keys,
            self.keys.public.key_id,
            int(time.time()),
            secrets.token_urlsafe(18),
        )
        if data:
            headers["Content-Type"] = "application/json"
        url = self.gateway.base + path + (f"?{query_string}" if query_string else "")
        request = urllib.request.Request(  # noqa: S310 - scheme checked in Gateway.from_url
            url, data=data or None, method=method, headers=headers
        )
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310
                return Answer(response.status, response.read())
        except urllib.error.HTTPError as error:
            # An HTTP error status is an answer: the caller reports its problem detail.
            return Answer(error.code, error.read())
        except OSError as error:
            # Nothing answers (refused, timeout, DNS): one sentence, never a traceback.
            raise DemoError(
                f"No gateway answers at {self.gateway.base} ({error.__class__.__name__}): "
                "start it first with `make run`."
            ) from None

    def ok(self, method: str, path: str, body: Any = None, **options: Any) -> Any:
        """Call and return the JSON answer; any non-2xx status ends the demo with its detail."""
        answer = self.call(method, path, body, **options)
        if not 200 <= answer.status < 300:
            raise DemoError(
                f"{method} {path} as {self.keys.partner} answered {answer.status}: "
                f"{_problem_detail(answer.body)}"
            )
        return answer.json()


def _problem_detail(body: bytes) -> str:
    try:
        problem = json.loads(body)
    except ValueError:
        # Not JSON (a proxy's page, say): say so rather than echo unknown bytes.
        return "(no problem details)"
    detail = problem.get("detail") if isinstance(problem, dict) else None
    return str(detail) if detail else "(no problem details)"
