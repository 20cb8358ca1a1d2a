"""The web console for the FG, the admin and the auditor (server-rendered, no JavaScript).

A plain Flask blueprint (not flask-smorest: it is not part of the partner API or its OpenAPI
document). Staff log in with username, password and a TOTP code; the session is server-side (the
signed cookie carries only a random token). Every form carries a CSRF token (Flask-WTF); pages
check roles; errors are HTML pages, never a traceback. Dutch by default, English on request.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from flask import Flask, Request, current_app, g, request, session
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from flask_babel import Babel
from flask_wtf.csrf import CSRFProtect

from gateway.api.auth import Clock
from gateway.console import monitor as _monitor  # noqa: F401 - registers the monitor pages
from gateway.console import partner_views, policy_views  # noqa: F401 - their routes
from gateway.console.views import CLOCK_KEY, RULES_KEY, bp, not_found_page
from gateway.instance import Instance
from gateway.services import accounts
from gateway.services.accounts import LoginRules
from gateway.settings import Settings
from gateway.web import EXTENSION_KEY, request_connection
from gateway.web.access import Principal, register_authenticator

LANGUAGES = ("nl", "en")
SESSION_COOKIE = "sluis_console"


def _locale() -> str:
    if request.blueprint == bp.name:
        lang = session.get("lang")
        if lang in LANGUAGES:
            return str(lang)
    return "nl"


def _authenticate(req: Request) -> Principal | None:
    """A console page with a live session; never an API route (staff do not call the API)."""
    if req.blueprint != bp.name:
        return None
    token = session.get("sid")
    if not isinstance(token, str):
        return None
    user = accounts.session_user(
        request_connection(),
        token,
        now=current_app.extensions[CLOCK_KEY](),
        rules=current_app.extensions[RULES_KEY],
    )
    if user is None:
        g.console_expired = True
        return None
    g.console_user = user
    return Principal("user", user.username)


class ConsoleSessions(SecureCookieSessionInterface):
    """The console's signed-cookie session, opened only under the console's cookie path.

    Browsers send the cookie nowhere else, so elsewhere (the partner API) there is no session
    to read: those requests get Flask's null session (empty; writing to it raises) instead of
    building a signing serializer per request (about 30 us of an inbox listing).
    """

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if not request.path.startswith(app.config["SESSION_COOKIE_PATH"]):
            return self.make_null_session(app)
        return super().open_session(app, request)


def install(app: Flask, settings: Settings, clock: Clock) -> None:
    instance: Instance = app.extensions[EXTENSION_KEY]
    app.secret_key = instance.console_secret
    app.session_interface = ConsoleSessions()
    app.config.update(
        SESSION_COOKIE_NAME=SESSION_COOKIE,
        SESSION_COOKIE_SECURE=True,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Strict",
        SESSION_COOKIE_PATH="/console",
        PERMANENT_SESSION_LIFETIME=timedelta(hours=12),
        # Only the console's forms are checked (the partner API signs its requests instead).
        WTF_CSRF_CHECK_DEFAULT=False,
        # With Referrer-Policy no-referrer browsers send no Referer: the token and
        # SameSite=Strict carry the protection.
        WTF_CSRF_SSL_STRICT=False,
        WTF_CSRF_TIME_LIMIT=None,
        BABEL_DEFAULT_LOCALE="nl",
        BABEL_TRANSLATION_DIRECTORIES=str(Path(__file__).with_name("translations")),
    )
    app.extensions[CLOCK_KEY] = clock
    app.extensions[RULES_KEY] = LoginRules(
        max_failures=settings.console_max_failures,
        lockout=timedelta(minutes=settings.console_lockout_minutes),
        address_max_failures=4 * settings.console_max_failures,
        idle=timedelta(minutes=settings.console_idle_minutes),
    )
    Babel(app, locale_selector=_locale)
    csrf = CSRFProtect(app)
    app.extensions["sluis.csrf"] = csrf
    app.register_blueprint(bp)
    app.register_error_handler(404, not_found_page)
    register_authenticator(app, _authenticate)
