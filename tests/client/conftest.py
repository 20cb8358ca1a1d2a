"""Client fixtures: a gateway app with a published policy, and partners onboarded with
`gateway-client init`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask

from gateway.app import create_app
from gateway.instance import Instance
from gateway.policy import Policy
from gateway.services.policy_publishing import publish
from gateway.settings import Settings
from tests.api.world import T0, Clock
from tests.client.harness import ClientSide, onboard


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def gateway(settings: Settings, instance: Instance, weert: Policy, clock: Clock) -> Flask:
    with instance.database.connection() as conn:
        publish(
            conn,
            weert,
            instance.signing_key,
            now=T0,
            effective_from=T0.date(),
            published_by="fg",
            register=instance.register,
        )
    return create_app(settings, instance=instance, clock=clock)


@pytest.fixture
def partner_side(
    gateway: Flask, instance: Instance, clock: Clock, tmp_path: Path, settings: Settings
) -> Callable[[str], ClientSide]:
    made: dict[str, ClientSide] = {}

    def make(partner: str) -> ClientSide:
        if partner not in made:
            made[partner] = onboard(
                partner,
                tmp_path / "partners" / partner,
                gateway,
                instance,
                clock,
                settings.signing_public_key_path,
            )
        return made[partner]

    return make
