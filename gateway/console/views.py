"""The console's pages. Each view names the roles that may open it (least privilege)."""

from __future__ import annotations

import io
import logging
import tempfile
import zipfile
from collections.abc import Callable
from datetime import date, datetime
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar, cast

from flask import (
    Blueprint,
    Response,
    current_app,
    g,
    redirect,
    render_template,
    request,
    send_file,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from markupsafe import Markup
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response as BaseResponse

from gateway.api.exchange import POLICY_KEY
from gateway.api.problems import render_http_exception
from gateway.errors import Forbidden, InvalidRequest, SluisError, Unauthenticated
from gateway.policy import Policy, matrix
from gateway.register.entry import EVENT_TYPES, STREAMS, Actor, iso_time
from gateway.register.export import FORMATS, write_export
from gateway.register.verify import RegisterTampered
from gateway.services import accounts, notices, register_admin, register_browse
from gateway.services.accounts import ConsoleUser, LoginRefused, LoginRules
from gateway.store import register as register_store
from gateway.store import transaction
from gateway.store.meta import get_meta, set_meta
from gateway.web import current_instance, request_connection

log = logging.getLogger(__name__)
bp = Blueprint(
    "console",
    __name__,
    url_prefix="/console",
    template_folder="templates",
    static_folder="static",
)
CLOCK_KEY = "sluis.console.clock"
RULES_KEY = "sluis.console.rules"
LAST_VERIFY_META = "console_last_verification"
#: The console's own CSP: no script at all, styles and images only from the gateway.
CONSOLE_CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
ALL_ROLES = frozenset({"fg", "admin", "auditor"})
#: Which roles may open which page: the navigation and the checks both read this.
PAGES: dict[str, frozenset[str]] = {
    "console.overview": ALL_ROLES,
    "console.verify": frozenset({"fg", "auditor"}),
    "console.register": frozenset({"fg", "auditor"}),
    "console.subject": frozenset({"fg"}),
    "console.exports": frozenset({"fg", "auditor"}),
    "console.matrix": ALL_ROLES,
    "console.policy": frozenset({"fg"}),
    "console.policy_flow": frozenset({"fg"}),
    "console.policy_history": frozenset({"fg"}),
    "console.policy_restore": frozenset({"fg"}),
    "console.partners": frozenset({"admin"}),
    "console.partner_add": frozenset({"admin"}),
    "console.key_upload": frozenset({"admin"}),
    "console.key_confirm": frozenset({"admin"}),
    "console.key_revoke": frozenset({"admin"}),
}
#: Who the register names for a subject-access query made in the console: a role, never a
#: person (processing entries carry no user identities, Logboek Dataverwerkingen).
SUBJECT_ACCESS_ACTOR = Actor("operator", "console-fg")

F = TypeVar("F", bound=Callable[..., Any])


def _now() -> datetime:
    clock = cast(Callable[[], datetime], current_app.extensions[CLOCK_KEY])
    return clock()


def _rules() -> LoginRules:
    rules: LoginRules = current_app.extensions[RULES_KEY]
    return rules


def current_user() -> ConsoleUser | None:
    user: ConsoleUser | None = g.get("console_user")
    return user


def requires_role(view: F) -> F:
    """Refuse (403 page) a user without one of the roles PAGES lists for this view."""

    @wraps(view)
    def checked(*args: Any, **kwargs: Any) -> Any:
        user = current_user()
        allowed = PAGES[str(request.endpoint)]
        if user is None or not (user.roles & allowed):
            raise Forbidden("Your role does not give access to this page.")
        return view(*args, **kwargs)

    return cast(F, checked)


@bp.before_request
def _before() -> None:
    lang = request.args.get("lang")
    if lang in ("nl", "en"):
        session["lang"] = lang
    if request.method == "POST":
        current_app.extensions["sluis.csrf"].protect()


@bp.after_request
def _headers(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = CONSOLE_CSP
    if request.is_secure:
        response.headers["Strict-Transport-Security"] = "max-age=63072000; includeSubDomains"
    return response


@bp.context_processor
def _template_globals() -> dict[str, Any]:
    user = current_user()
    nav = [
        ("console.overview", _("Overview")),
        ("console.register", _("Register")),
        ("console.exports", _("Exports")),
        ("console.matrix", _("Data-sharing matrix")),
        ("console.monitor", _("Monitor")),
        ("console.policy", _("Policy")),
        ("console.partners", _("Partners and keys")),
    ]
    visible = [
        (e, label) for e, label in nav if e in PAGES and user is not None and user.roles & PAGES[e]
    ]
    lang = session.get("lang", "nl")
    return {"console_user": user, "nav": visible, "lang": lang if lang in ("nl", "en") else "nl"}


# -- errors: HTML pages, never a traceback ----------------------------------------------------


def _error_page(status: int, title: str, detail: str) -> tuple[str, int]:
    return render_template("console/error.html", title=title, detail=detail, status=status), status


@bp.errorhandler(Unauthenticated)
def _unauthenticated(_error: Unauthenticated) -> BaseResponse:
    if g.get("console_expired"):
        session.pop("sid", None)
        return redirect(url_for("console.login", expired=1), code=303)
    return redirect(url_for("console.login"), code=303)


@bp.errorhandler(CSRFError)
def _csrf(_error: CSRFError) -> tuple[str, int]:
    return _error_page(
        400,
        _("The form has expired"),
        _(
            "This form was not sent with a valid security token. Open the page again and "
            "resend the form."
        ),
    )


@bp.errorhandler(SluisError)
def _sluis_error(error: SluisError) -> tuple[str, int]:
    if error.status == 403:
        return _error_page(
            403,
            _("No access"),
            _("Your role does not give access to this page. Ask an administrator if you need it."),
        )
    if error.status >= 500:
        log.error("console request failed: %s (%s)", error.code, type(error).__name__)
        return _error_page(500, _("Something went wrong"), _("The gateway could not do this."))
    return _error_page(error.status, _("This cannot be done"), error.detail)


@bp.errorhandler(HTTPException)
def _http_error(error: HTTPException) -> tuple[str, int]:
    status = error.code or 500
    if status == 404:
        return _error_page(404, _("Page not found"), _("There is no such page in the console."))
    if status == 405:
        return _error_page(405, _("Not allowed"), _("This page cannot be used this way."))
    return _error_page(status, _("This cannot be done"), error.description or "")


def not_found_page(error: HTTPException) -> Response | tuple[str, int]:
    """App-wide 404: an HTML page under /console/, problem+json everywhere else."""
    if request.path.startswith(bp.url_prefix or "/console"):
        return _error_page(404, _("Page not found"), _("There is no such page in the console."))
    return render_http_exception(error)


@bp.errorhandler(Exception)
def _unexpected(error: Exception) -> tuple[str, int]:
    log.error("unexpected %s in console %s", type(error).__name__, request.endpoint)
    return _error_page(500, _("Something went wrong"), _("The gateway could not do this."))


# -- login and logout -------------------------------------------------------------------------


@bp.route("/login", methods=["GET", "POST"])
def login() -> BaseResponse | str | tuple[str, int]:
    message = None
    if request.method == "GET" and request.args.get("expired"):
        message = _("Your session has ended. Please log in again.")
    if request.method == "POST":
        form = request.form
        instance = current_instance()
        address = accounts.address_key(instance.console_secret, request.remote_addr or "-")
        try:
            token = accounts.login(
                request_connection(),
                instance.register,
                username=form.get("username", ""),
                password=form.get("password", ""),
                code=form.get("code", ""),
                address=address,
                now=_now(),
                rules=_rules(),
            )
        except LoginRefused as refused:
            if refused.reason == "address-locked":
                message = _("Too many failed logins from this address: wait a while and try again.")
            else:
                message = _(
                    "The username, password and code do not match, or the account is locked "
                    "for a while after too many failed attempts."
                )
            return render_template("console/login.html", message=message, error=True), 401
        lang = session.get("lang")
        session.clear()  # a new session after login: no fixation
        session["sid"] = token
        if lang:
            session["lang"] = lang
        return redirect(url_for("console.overview"), code=303)
    return render_template("console/login.html", message=message, error=False)


@bp.route("/logout", methods=["POST"])
def logout() -> BaseResponse:
    token = session.get("sid")
    if isinstance(token, str):
        accounts.logout(request_connection(), current_instance().register, token, now=_now())
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
    return redirect(url_for("console.login"), code=303)


# -- pages ------------------------------------------------------------------------------------


@bp.route("/")
@requires_role
def overview() -> str:
    conn = request_connection()
    instance = current_instance()
    now = _now()
    checkpoint = register_store.latest_checkpoint(conn)
    counts = register_browse.counts_since(conn, register_browse.month_start(now.date()))
    page = notices.for_console(conn, limit=notices.MAX_PAGE)
    last_verify = get_meta(conn, LAST_VERIFY_META)
    return render_template(
        "console/overview.html",
        size=instance.register.size(conn),
        checkpoint=checkpoint,
        counts=counts,
        labels=_event_labels(),
        mismatches=counts.get("envelope.mismatch-reported", 0),
        notices=list(reversed(page.items[-20:])),
        last_verify=last_verify.split("|", 2) if last_verify else None,
        may_verify=bool(current_user() and current_user().roles & PAGES["console.verify"]),  # type: ignore[union-attr]
    )


@bp.route("/verify", methods=["POST"])
@requires_role
def verify() -> BaseResponse:
    """Verify the whole register now (O(n): on request, never on every page load)."""
    conn = request_connection()
    at = iso_time(_now())
    try:
        report = register_admin.verify_database(conn, current_instance().register)
        outcome = f"{at}|ok|{report.entries}"
    except RegisterTampered as tampered:
        outcome = f"{at}|failed|{tampered.detail[:200]}"
    with transaction(conn):
        set_meta(conn, LAST_VERIFY_META, outcome)
    return redirect(url_for("console.overview"), code=303)


def _event_labels() -> dict[str, str]:
    nl = session.get("lang", "nl") != "en"
    return {k: (v[2] if nl else v[1]) for k, v in EVENT_TYPES.items()}


def _date_arg(name: str) -> date | None:
    raw = request.args.get(name, "").strip()
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise InvalidRequest(_("Give dates as YYYY-MM-DD.")) from None


@bp.route("/register")
@requires_role
def register() -> str:
    before_raw = request.args.get("before", "")
    before = int(before_raw) if before_raw.isdigit() else None
    filters = {
        "from": request.args.get("from", ""),
        "to": request.args.get("to", ""),
        "type": request.args.get("type", ""),
        "stream": request.args.get("stream", ""),
    }
    page = register_browse.browse(
        request_connection(),
        period_from=_date_arg("from"),
        period_to=_date_arg("to"),
        event_type=filters["type"] or None,
        stream=filters["stream"] or None,
        before=before,
    )
    next_url = None
    if page.next_before is not None:
        args = {k: v for k, v in filters.items() if v}
        next_url = url_for("console.register", before=page.next_before, **args)  # type: ignore[arg-type]
    return render_template(
        "console/register.html",
        page=page,
        filters=filters,
        event_types=sorted(EVENT_TYPES),
        streams=STREAMS,
        labels=_event_labels(),
        next_url=next_url,
        may_query_subject=bool(current_user().roles & PAGES["console.subject"]),  # type: ignore[union-attr]
    )


@bp.route("/register/subject", methods=["POST"])
@requires_role
def subject() -> str:
    """Subject access (GDPR art. 15): every entry about one subject reference; recorded."""
    found = register_admin.subject_access(
        request_connection(),
        current_instance().register,
        request.form.get("subject", ""),
        now=_now(),
        actor=SUBJECT_ACCESS_ACTOR,
    )
    return render_template(
        "console/subject.html",
        found=found,
        labels=_event_labels(),
    )


@bp.route("/exports", methods=["GET", "POST"])
@requires_role
def exports() -> BaseResponse | str | tuple[str, int]:
    if request.method == "GET":
        return render_template("console/exports.html", formats=FORMATS, errors={}, values={})
    values = {k: request.form.get(k, "").strip() for k in ("from", "to", "format")}
    errors: dict[str, str] = {}
    dates: dict[str, date] = {}
    for name in ("from", "to"):
        try:
            dates[name] = date.fromisoformat(values[name])
        except ValueError:
            errors[name] = _("Give a date as YYYY-MM-DD.")
    if values["format"] not in FORMATS:
        errors["format"] = _("Choose one of the formats.")
    if len(dates) == 2 and dates["to"] < dates["from"]:
        errors["to"] = _("The end date lies before the start date.")
    if errors:
        return render_template(
            "console/exports.html", formats=FORMATS, errors=errors, values=values
        ), 400
    user = current_user()
    policy: Policy = current_app.extensions[POLICY_KEY]
    with tempfile.TemporaryDirectory(prefix="sluis-export-") as tmp:
        out = Path(tmp) / "export"
        result = write_export(
            request_connection(),
            current_instance().register,
            policy,
            period=(dates["from"], dates["to"]),
            fmt=values["format"],
            out=out,
            now=_now(),
            actor=Actor("user", user.username if user else "unknown-user"),
        )
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for name in result.files:
                archive.write(out / name, arcname=f"sluis-export/{name}")
    buffer.seek(0)
    name = f"sluis-register-{dates['from']}-{dates['to']}.zip"
    return send_file(buffer, mimetype="application/zip", as_attachment=True, download_name=name)


@bp.route("/matrix", endpoint="matrix")
@requires_role
def matrix_page() -> str:
    policy: Policy = current_app.extensions[POLICY_KEY]
    body = matrix.render_html_body(policy, matrix.build(policy))
    return render_template("console/matrix.html", body=Markup(body))  # noqa: S704 - escaped
