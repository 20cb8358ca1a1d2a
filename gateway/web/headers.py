"""Security headers and the ``API-Version`` header on every response."""

from __future__ import annotations

from flask import Flask, Response

from gateway import __version__

#: The full API version (Dutch API Design Rules, /core/version-header); the major is in the path.
API_VERSION_HEADER = "API-Version"

_DEFAULTS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
    "Cache-Control": "no-store",
    "Cross-Origin-Resource-Policy": "same-origin",
}


def _add_headers(response: Response) -> Response:
    for name, value in _DEFAULTS.items():
        response.headers.setdefault(name, value)
    response.headers[API_VERSION_HEADER] = __version__
    return response


def install(app: Flask) -> None:
    app.after_request(_add_headers)
