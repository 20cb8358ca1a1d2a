"""Schemathesis against the app's own OpenAPI document, in-process (WSGI, no network).

Every generated request is signed with a partner's key on its way into the app, so the fuzz
reaches the endpoints' validation and logic rather than stopping at authentication. Bounded:
at most 25 examples per operation, no deadline. Checked: no 5xx, and every response (status,
content type, body) is one the document describes."""

from __future__ import annotations

import io
import secrets
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from gateway.crypto.errors import RequestSignatureError
from gateway.crypto.http_signatures import RequestParts, sign_request
from gateway.crypto.keys import PartnerKeyPair
from gateway.services.register_admin import sign_checkpoint
from tests.api.world import INTAKE, LANDLORD, World

MAX_EXAMPLES = 25
WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def signing_middleware(
    app: WsgiApp, world: World, keys: PartnerKeyPair, seen: Counter[tuple[str, str]]
) -> WsgiApp:
    """Sign each incoming request as ``keys``' partner would have, over the exact bytes; count
    the answers by path and status class."""

    def wrapped(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)
        raw = str(environ.get("RAW_URI") or environ.get("REQUEST_URI") or "")
        parts = RequestParts(
            environ["REQUEST_METHOD"],
            str(environ.get("HTTP_HOST", "localhost")).lower(),
            raw.split("?", 1)[0] or environ.get("PATH_INFO", ""),
            environ.get("QUERY_STRING", ""),
            {},
            body,
        )
        try:
            headers = sign_request(
                parts,
                keys,
                keys.public.key_id,
                int(world.clock().timestamp()),
                secrets.token_urlsafe(18),
            )
        except RequestSignatureError:  # a target no client can sign: sent unsigned (401)
            headers = {}
        for name, value in headers.items():
            environ["HTTP_" + name.upper().replace("-", "_")] = value
        path = str(environ.get("PATH_INFO", "")).split("/")[3:4]

        def recording(status: str, *args: Any) -> Any:
            seen[("/".join(path), status[0] + "xx")] += 1
            return start_response(status, *args)

        return app(environ, recording)

    return wrapped


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


def _fuzz(operation: Any, mode: GenerationMode) -> None:
    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate, Phase.target, Phase.shrink],
    )
    def run(case: Any) -> None:
        case.call_and_validate(checks=CHECKS)

    run()


@pytest.mark.slow
@pytest.mark.parametrize("partner", [LANDLORD, INTAKE])
def test_api_answers_every_generated_request_as_documented(world: World, partner: str) -> None:
    app = world.app
    seen: Counter[tuple[str, str]] = Counter()
    app.wsgi_app = signing_middleware(app.wsgi_app, world, world[partner].keys, seen)  # type: ignore[method-assign]
    world[LANDLORD].send("arrears-signal", subject_ref="subject-0001")  # something to find
    with world.instance.database.connection() as conn:
        sign_checkpoint(conn, world.instance.register, now=world.clock())
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 10
    failures: list[str] = []
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            try:
                _fuzz(operation, mode)
            except Unsatisfiable:  # nothing to make invalid (no parameters, or only paths)
                continue
            except Exception as error:  # noqa: BLE001 - collect every operation's failure
                failures.append(f"{operation.label} [{mode.value}]: {str(error)[:1500]}")
    assert not failures, "\n\n".join(failures)
    # The signatures let the fuzz through: every signed operation answered 2xx at least once.
    assert seen[("inbox", "2xx")]
    assert seen[("register-checkpoint", "2xx")]
    assert seen[("envelope-batches", "2xx")]
    assert sum(n for (_, status), n in seen.items() if status == "5xx") == 0
