"""A console app with a movable clock and users of every role."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pyotp
import pytest
from flask import Flask
from flask.testing import FlaskClient

from gateway.app import create_app
from gateway.crypto.passwords import CHEAP_FOR_TESTS
from gateway.instance import Instance
from gateway.register.entry import decode_entry, operator
from gateway.services import accounts
from gateway.settings import Settings
from gateway.store import register as register_store

PASSWORD = "a long enough passphrase"
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
ROLES = {"fien": "fg", "ad": "admin", "otto": "auditor", "multi": "fg admin auditor"}


@dataclass
class Clock:
    now: datetime = START
    secrets: dict[str, str] = field(default_factory=dict)

    def __call__(self) -> datetime:
        return self.now

    def tick(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def console_app(settings: Settings, instance: Instance, clock: Clock) -> Flask:
    with instance.database.connection() as conn:
        for name, roles in ROLES.items():
            enrolment = accounts.add_user(
                conn,
                instance.register,
                name,
                frozenset(roles.split()),
                PASSWORD,
                now=START,
                actor=operator("tester"),
                cost=CHEAP_FOR_TESTS,
            )
            clock.secrets[name] = enrolment.totp_secret
    return create_app(settings, instance=instance, clock=clock)


@pytest.fixture
def web(console_app: Flask) -> Iterator[FlaskClient]:
    with console_app.test_client() as client:
        yield client


def csrf_token(client: FlaskClient, path: str = "/console/login") -> str:
    page = client.get(path).get_data(as_text=True)
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found, page
    return found.group(1)


def log_in(
    client: FlaskClient,
    clock: Clock,
    name: str,
    *,
    password: str = PASSWORD,
    code: str | None = None,
) -> Any:
    token = csrf_token(client)
    otp = code if code is not None else pyotp.TOTP(clock.secrets[name]).at(clock.now)
    clock.tick(seconds=31)  # the next login needs the next code (each code is used once)
    return client.post(
        "/console/login",
        data={"username": name, "password": password, "code": otp, "csrf_token": token},
    )


def register_entries(instance: Instance) -> list[dict[str, Any]]:
    with instance.database.connection() as conn:
        return [
            decode_entry(bytes(r[3])) for rows in register_store.iter_entries(conn) for r in rows
        ]
