"""The urllib transport against a gateway that dies while answering (127.0.0.1, one connection
per case): a cut-off answer is a failed attempt to retry, never a body to parse."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest

from gateway.client.errors import GatewayUnreachable
from gateway.client.session import RetryPolicy, Session, urllib_transport
from gateway.crypto.keys import PartnerKeyPair

WHOLE = b'{"items": []}'


def _serve(answers: list[bytes]) -> Iterator[str]:
    """Answer one connection per element of ``answers`` with those raw bytes, then close it."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)
    listener.settimeout(10)

    def run() -> None:
        for raw in answers:
            conn, _ = listener.accept()
            with conn:
                conn.recv(65536)
                conn.sendall(raw)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        thread.join(timeout=10)
        listener.close()


def _answer(body: bytes, length: int, *, status: str = "200 OK") -> bytes:
    return (
        f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {length}\r\nConnection: close\r\n\r\n"
    ).encode() + body


@pytest.fixture
def session_for() -> Iterator[object]:
    servers: list[Iterator[str]] = []

    def make(*answers: bytes) -> Session:
        server = _serve(list(answers))
        servers.append(server)
        url = next(server)
        keys = PartnerKeyPair.generate("wonen-limburg")
        return Session(
            url,
            keys,
            transport=urllib_transport(timeout=5),
            retry=RetryPolicy(attempts=len(answers), first_delay=0, sleep=lambda _: None),
        )

    yield make
    for server in servers:
        for _ in server:
            pass


def test_answer_cut_off_by_a_dying_worker_is_retried(session_for) -> None:  # type: ignore[no-untyped-def]
    session = session_for(
        _answer(b"", len(WHOLE)), _answer(WHOLE[:5], len(WHOLE)), _answer(WHOLE, len(WHOLE))
    )
    assert session.call("GET", "/api/v1/inbox").json() == {"items": []}


def test_error_answer_cut_off_is_retried_too(session_for) -> None:  # type: ignore[no-untyped-def]
    session = session_for(
        _answer(b'{"ti', 40, status="400 Bad Request"), _answer(WHOLE, len(WHOLE))
    )
    assert session.call("GET", "/api/v1/inbox").json() == {"items": []}


def test_only_cut_off_answers_mean_unreachable(session_for) -> None:  # type: ignore[no-untyped-def]
    session = session_for(_answer(b"", 10), _answer(b"{", 10))
    with pytest.raises(GatewayUnreachable, match="ConnectionResetError"):
        session.call("GET", "/api/v1/inbox")
