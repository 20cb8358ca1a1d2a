"""The console session key: made by `gateway init`, required at start, 0600."""

from __future__ import annotations

import stat

import flask
import pytest
from click.testing import CliRunner

from gateway.cli import cli
from gateway.errors import KeyFileError
from gateway.instance import Instance, load_instance
from gateway.settings import Settings


def test_init_makes_it_owner_only(settings: Settings, instance: Instance) -> None:
    path = settings.console_secret_path
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(instance.console_secret) == 32
    assert (
        "console_secret" not in repr(instance)
        or "b'" not in repr(instance).split("console_secret")[1][:5]
    )


def test_start_is_refused_without_it_and_init_can_add_it(
    settings: Settings, instance: Instance, gateway_env: dict[str, str]
) -> None:
    settings.console_secret_path.unlink()
    with pytest.raises(KeyFileError, match="gateway init --console-key"):
        load_instance(settings)
    made = CliRunner(env=gateway_env).invoke(cli, ["init", "--console-key"])
    assert made.exit_code == 0, made.output
    assert len(load_instance(settings).console_secret) == 32
    again = CliRunner(env=gateway_env).invoke(cli, ["init", "--console-key"])
    assert again.exit_code == 2


def test_a_loose_or_malformed_key_is_refused(settings: Settings, instance: Instance) -> None:
    path = settings.console_secret_path
    path.chmod(0o644)
    with pytest.raises(KeyFileError, match="chmod 600"):
        load_instance(settings)
    path.chmod(0o600)
    path.write_text("not hex\n")
    with pytest.raises(KeyFileError, match="64 hexadecimal"):
        load_instance(settings)


def test_the_session_is_opened_only_under_the_console_path(console_app: flask.Flask) -> None:
    """Browsers send the console cookie only under /console; elsewhere there is no session."""
    interface = console_app.session_interface
    with console_app.test_request_context("/api/v1/inbox"):
        assert interface.is_null_session(flask.session._get_current_object())  # type: ignore[attr-defined]
        with pytest.raises(RuntimeError):
            flask.session["sid"] = "x"
    with console_app.test_request_context("/console/login"):
        assert not interface.is_null_session(flask.session._get_current_object())  # type: ignore[attr-defined]
