"""The partner client's errors: each one a sentence a landlord's or social worker's staff can
act on. The CLI prints it and exits with code 2."""

from __future__ import annotations

from gateway.errors import SluisError


class ClientError(SluisError):
    code = "client-error"
    title = "Client error"
    status = 400


class ProfileError(ClientError):
    """The profile file is missing, unreadable or incomplete."""

    code = "profile-error"


class GatewayUnreachable(ClientError):
    """The gateway did not answer, even after retrying with backoff."""

    code = "gateway-unreachable"


class GatewayRefused(ClientError):
    """The gateway answered with an error (its problem+json detail is the message)."""

    code = "gateway-refused"

    def __init__(self, detail: str, *, status: int, problem_code: str) -> None:
        super().__init__(detail)
        self.http_status = status
        self.problem_code = problem_code


class UntrustedData(ClientError):
    """Something the gateway sent is not signed by the pinned gateway key, or is stale."""

    code = "untrusted-data"
