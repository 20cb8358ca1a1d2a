"""Fault fixtures: the in-process covenant world (as in tests/api) for the insider tests."""

from __future__ import annotations

import pytest

from gateway.app import create_app
from gateway.instance import Instance
from gateway.policy import Policy
from gateway.settings import Settings
from tests.api.world import Clock, World, build_world


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def world(settings: Settings, instance: Instance, weert: Policy, clock: Clock) -> World:
    app = create_app(settings, instance=instance, clock=clock)
    return build_world(app, instance, weert, clock)
