"""The one error hierarchy of Sluis.

Every error raised on purpose derives from :class:`SluisError`. It carries a stable machine
``code``, an HTTP ``status`` and a ``detail`` sentence a person can act on. The API renders any
of them as ``application/problem+json``; the CLI prints the sentence and exits with code 2.
"""

from __future__ import annotations

from typing import Any, ClassVar


class SluisError(Exception):
    """Base of every error Sluis raises on purpose."""

    code: ClassVar[str] = "internal-error"
    title: ClassVar[str] = "Internal error"
    status: ClassVar[int] = 500

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra


# --- Start-up: configuration, key files, database -------------------------------------------


class StartupError(SluisError):
    """The gateway cannot start; the sentence says what is wrong and what to do."""

    code = "startup-error"
    title = "The gateway cannot start"
    status = 503


class ConfigError(StartupError):
    """A setting is missing or has a value outside its rule."""

    code = "config-error"
    title = "Invalid configuration"


class KeyFileError(StartupError):
    """A key file is missing, too readable, or not in the expected format."""

    code = "key-file-error"
    title = "Key file problem"


class DatabaseOpenError(StartupError):
    """The database file cannot be opened: wrong key, or not a Sluis database."""

    code = "database-open-error"
    title = "Database cannot be opened"


class SchemaVersionError(StartupError):
    """The database was written by a newer Sluis than this one."""

    code = "schema-version-error"
    title = "Database schema is newer than this Sluis"


# --- Requests --------------------------------------------------------------------------------


class ApiProblem(SluisError):
    """A request that Sluis refuses; rendered as problem+json."""

    code = "bad-request"
    title = "Bad request"
    status = 400


class InvalidRequest(ApiProblem):
    """The request body or parameters break a schema rule."""

    code = "invalid-request"
    title = "Invalid request"
    status = 400


class Unauthenticated(ApiProblem):
    """The request carries no valid credentials for this route."""

    code = "unauthenticated"
    title = "Authentication required"
    status = 401


class Forbidden(ApiProblem):
    """The caller is known but may not do this."""

    code = "forbidden"
    title = "Forbidden"
    status = 403


class NotFound(ApiProblem):
    """No such resource, or none the caller may see."""

    code = "not-found"
    title = "Not found"
    status = 404


class Gone(ApiProblem):
    """The resource existed but has expired or was purged under the retention rules."""

    code = "gone"
    title = "Gone"
    status = 410


class PayloadTooLarge(ApiProblem):
    """The request body is larger than the configured limit."""

    code = "payload-too-large"
    title = "Payload too large"
    status = 413


class ServiceUnavailable(ApiProblem):
    """A dependency of the request (the store) is not available."""

    code = "service-unavailable"
    title = "Service unavailable"
    status = 503
