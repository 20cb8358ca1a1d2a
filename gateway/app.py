"""The application factory."""

from __future__ import annotations

from flask import Flask
from flask_smorest import Api

from gateway import __version__, console
from gateway.api import auth, docs, exchange, health, notices, openapi, problems
from gateway.api.auth import Clock, system_clock
from gateway.errors import ConfigError
from gateway.instance import Instance, load_instance
from gateway.policy import Policy, PolicyInvalid, load_policy
from gateway.settings import Settings
from gateway.web import API_KEY, EXTENSION_KEY, headers, install_connections, policy_reload
from gateway.web import access as access_guard


def create_app(
    settings: Settings,
    *,
    instance: Instance | None = None,
    clock: Clock = system_clock,
) -> Flask:
    """Build the gateway's Flask app from one settings object.

    Loads the instance first (keys, database, migrations) and the covenant policy, so a
    misconfigured gateway refuses to start with a :class:`~gateway.errors.StartupError` instead
    of failing on its first request. ``clock`` is injectable for tests.
    """
    app = Flask("gateway")
    app.config.update(
        MAX_CONTENT_LENGTH=settings.max_request_bytes,
        JSON_SORT_KEYS=False,
        API_TITLE="Sluis gateway API",
        API_VERSION=__version__,
        OPENAPI_VERSION="3.0.3",
        # No OPENAPI_URL_PREFIX: gateway.api.docs serves the shaped document and the docs page.
    )
    app.extensions[EXTENSION_KEY] = instance or load_instance(settings)
    app.extensions[exchange.POLICY_KEY] = load_running_policy(settings)
    app.extensions[exchange.CLOCK_KEY] = clock
    api = Api(app)
    app.extensions[API_KEY] = api
    api.register_blueprint(health.blp)
    api.register_blueprint(exchange.blp)
    api.register_blueprint(notices.blp)
    openapi.install(app, api, settings)
    app.register_blueprint(docs.blp)
    problems.install(app)  # after Api(), so our handlers replace flask-smorest's
    access_guard.install(app)
    policy_reload.install(app)  # after the guard: refused requests never reach it
    auth.install(app, settings, clock)
    console.install(app, settings, clock)
    headers.install(app)
    install_connections(app)
    return app


def load_running_policy(settings: Settings) -> Policy:
    """The covenant policy the gateway decides with; invalid files stop the start."""
    try:
        return load_policy(settings.policy_dir)
    except PolicyInvalid as invalid:
        first = invalid.problems[0] if invalid.problems else "no policy files"
        raise ConfigError(
            f"The policy in {settings.policy_dir} is not valid ({len(invalid.problems)} "
            f"problem(s), first: {first}): run `gateway policy check`."
        ) from None
