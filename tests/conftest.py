"""Shared fixtures: an initialised instance in tmp_path, its app and a Flask client."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from gateway.app import create_app
from gateway.instance import Instance, init_instance, load_instance
from gateway.policy import Policy, load_policy
from gateway.settings import Settings

POLICY_DIR = Path(__file__).resolve().parent.parent / "policies"


@pytest.fixture(scope="session")
def weert() -> Policy:
    """The shipped Weert covenant policy, loaded once."""
    return load_policy(POLICY_DIR)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        data_dir=tmp_path / "data",
        key_dir=tmp_path / "keys",
        policy_dir=POLICY_DIR,
    )


@pytest.fixture
def instance(settings: Settings) -> Instance:
    init_instance(settings)
    return load_instance(settings)


@pytest.fixture
def app(settings: Settings, instance: Instance) -> Flask:
    return create_app(settings, instance=instance)


@pytest.fixture
def client(app: Flask) -> Iterator[FlaskClient]:
    with app.test_client() as client:
        yield client


@pytest.fixture
def gateway_env(settings: Settings) -> dict[str, str]:
    """Environment variables that point the ``gateway`` command at the test instance."""
    return {
        "SLUIS_DATA_DIR": str(settings.data_dir),
        "SLUIS_KEY_DIR": str(settings.key_dir),
        "SLUIS_POLICY_DIR": str(settings.policy_dir),
    }
