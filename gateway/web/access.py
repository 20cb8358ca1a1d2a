"""Default-deny access: every route needs an authenticated principal, except a short list.

Authenticators (HTTP message signatures for partners, the console session for staff) are
registered by the blueprints that need them. A request to any endpoint not in
:data:`PUBLIC_ENDPOINTS` that no authenticator accepts gets 401. A test walks ``app.url_map`` so
a new route cannot slip through.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from types import MappingProxyType

from flask import Flask, Request, current_app, g, request

from gateway.errors import Unauthenticated

#: Endpoints reachable without credentials, each with the reason it may be.
PUBLIC_ENDPOINTS = MappingProxyType(
    {
        "health.Health": "liveness probe for load balancers; reveals only the schema version",
        "api-docs.openapi_json": "the public API description partners build clients from",
        "api-docs.docs": "the same API description as a readable page, generated from it",
        "console.login": "the console's login form: where staff authenticate (password + TOTP)",
        "console.static": "the console's one stylesheet, needed by the login page",
    }
)

AUTHENTICATORS_KEY = "sluis.authenticators"
PUBLIC_KEY = "sluis.public_endpoints"


@dataclass(frozen=True)
class Principal:
    """Who is calling: a partner (signed request) or a console user."""

    kind: str  # "partner" or "user"
    id: str


Authenticator = Callable[[Request], Principal | None]


def register_authenticator(app: Flask, authenticator: Authenticator) -> None:
    app.extensions.setdefault(AUTHENTICATORS_KEY, []).append(authenticator)


def _guard() -> None:
    endpoint = request.endpoint
    if endpoint is None or endpoint in current_app.extensions[PUBLIC_KEY]:
        return  # unknown routes fall through to 404/405; public ones need nothing
    for authenticate in current_app.extensions.get(AUTHENTICATORS_KEY, []):
        principal = authenticate(request)
        if principal is not None:
            g.principal = principal
            return
    raise Unauthenticated(
        "This route needs a signed request (partners) or a console login (staff)."
    )


def public_endpoints(app: Flask) -> dict[str, str]:
    """This app's allowlist (a copy of PUBLIC_ENDPOINTS; tests may extend their own app's)."""
    allowed: dict[str, str] = app.extensions[PUBLIC_KEY]
    return allowed


def install(app: Flask) -> None:
    app.extensions.setdefault(AUTHENTICATORS_KEY, [])
    app.extensions[PUBLIC_KEY] = dict(PUBLIC_ENDPOINTS)
    app.before_request(_guard)
