"""The policy editor (role fg): edit a flow, check it, see the diff, publish; history, restore."""

from __future__ import annotations

import logging
import re
import threading
from dataclasses import dataclass, replace
from datetime import date
from types import MappingProxyType
from typing import Any

from flask import current_app, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response as BaseResponse

from gateway.api.exchange import POLICY_KEY
from gateway.errors import NotFound
from gateway.policy import Policy, PolicyInvalid, PolicyProblem
from gateway.policy.bundle import policy_from_bundle
from gateway.policy.diff import Change, diff
from gateway.policy.model import Condition, Flow, LegalBasis, Retention
from gateway.policy.writer import flow_file
from gateway.services import policy_editing
from gateway.services.policy_publishing import PolicyChanged, publish_anew
from gateway.store import policy_versions
from gateway.web import current_instance, request_connection
from gateway.web.policy_reload import replace_policy

from .views import _now, bp, current_user, requires_role

log = logging.getLogger(__name__)
OPERATORS = ("==", "!=", ">=", "<=", ">", "<")
#: One publication at a time in this process (across processes the database transaction
#: decides: the second one finds the first one's version and is refused).
_PUBLISHING = threading.Lock()


def _running() -> Policy:
    policy: Policy = current_app.extensions[POLICY_KEY]
    return policy


def _published(conn: Any) -> Policy:
    """The latest published version (the running policy when nothing is published yet)."""
    latest = policy_versions.latest_published_id(conn)
    if latest is None:
        return _running()
    if latest == _running().version_id:
        return _running()
    return policy_from_bundle(policy_versions.require(conn, latest).bundle)


def _nl() -> bool:
    return bool(session.get("lang", "nl") != "en")


# -- problems in plain words ------------------------------------------------------------------

_PATH_PREFIX = re.compile(r"^[A-Za-z0-9_.]+: ")


def plain_problem(message: str, policy: Policy) -> str:
    """A loader message in plain words, in the user's language (unknown ones as they are)."""
    return str(_plain_problem(message, policy))


def _plain_problem(message: str, policy: Policy) -> Any:
    text = _PATH_PREFIX.sub("", message)

    def label(field_id: str) -> str:
        f = policy.fields.get(field_id)
        if f is None:
            return field_id
        return f.label_nl if _nl() else f.label_en

    if m := re.fullmatch(r"required field '(.+)' is not in the allowed fields of '(.+)'", text):
        return _(
            "'%(field)s' is required but not allowed: tick it under allowed fields too, or "
            "untick it here.",
            field=label(m[1]),
        )
    if m := re.fullmatch(r"consent field '(.+)' must be required for '(.+)'", text):
        return _(
            "This flow needs consent: '%(field)s' must be allowed and required for every "
            "recipient.",
            field=label(m[1]),
        )
    if m := re.fullmatch(r"condition on '(.+)', which no recipient of this flow receives", text):
        return _(
            "The condition is on '%(field)s', which no recipient of this flow receives.",
            field=label(m[1]),
        )
    if m := re.fullmatch(r"field '(.+)' is not in fields.yaml", text):
        return _("'%(field)s' is not in the data dictionary.", field=m[1])
    if m := re.fullmatch(r"parameter '(.+)' is not in covenant.yaml parameters", text):
        return _("'%(name)s' is not a parameter of the covenant.", name=m[1])
    if text.startswith("Shorter than minimum length") or text == "Missing data for required field.":
        return _("Fill in this field.")
    if text.startswith("Longer than maximum length"):
        return _("This text is too long.")
    if m := re.fullmatch(r"Length must be between 1 and (\d+)\.", text):
        if m[1] == "500":  # the list of allowed fields
            return _("Choose at least one field.")
        return _("Fill in this field (at most %(n)s characters).", n=m[1])
    if text.startswith("Must be greater than or equal to"):
        return _("Give a number from 1 to 1200.")
    if text == "a condition has either a value or a parameter, not both":
        return _("Give a value or a parameter for the condition (one of the two).")
    return text


# -- the form ---------------------------------------------------------------------------------


@dataclass
class Form:
    """The editor form's values (as typed) and its errors, by form field name."""

    values: dict[str, Any]
    errors: dict[str, list[str]]
    general: list[str]


def _values_of(flow: Flow) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for i, r in enumerate(flow.recipients):
        p = f"r{i}-"
        values[p + "allowed"] = set(r.allowed)
        values[p + "required"] = set(r.required_fields)
        values[p + "purpose_nl"] = r.purpose_nl
        values[p + "purpose_en"] = r.purpose_en
        values[p + "article"] = r.legal_basis.article
        values[p + "law"] = r.legal_basis.law
        values[p + "months"] = str(r.retention.months)
        values[p + "picked_up_months"] = _opt(r.retention.picked_up_months)
        values[p + "after_closure_months"] = _opt(r.retention.after_closure_months)
        values[p + "rule_nl"] = r.retention.rule_nl
        values[p + "rule_en"] = r.retention.rule_en
    for j, c in enumerate(flow.conditions):
        p = f"c{j}-"
        values[p + "field"] = c.field
        values[p + "operator"] = c.operator
        values[p + "parameter"] = c.parameter or ""
        values[p + "value"] = "" if c.parameter is not None else _show(c.value)
    return values


def _opt(value: int | None) -> str:
    return "" if value is None else str(value)


def _show(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    return str(value)


def _parse_value(raw: str) -> object:
    if raw in ("true", "false"):
        return raw == "true"
    for kind in (int, float):
        try:
            return kind(raw)
        except ValueError:  # not this kind of number: try the next, else keep the text
            continue
    return raw


def _read_form(flow: Flow) -> tuple[Flow, Form]:
    """The flow as edited in the form; values that cannot be read keep the old value and get
    an error of their own."""
    form = request.form
    values: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}

    def number(name: str, old: int | None, optional: bool) -> int | None:
        raw = form.get(name, "").strip()
        values[name] = raw
        if optional and not raw:
            return None
        if raw.isdigit():
            return int(raw)
        errors.setdefault(name, []).append(_("Give a whole number of months."))
        return old

    rules = []
    for i, r in enumerate(flow.recipients):
        p = f"r{i}-"
        texts = {
            k: form.get(p + k, "").strip()
            for k in ("purpose_nl", "purpose_en", "article", "law", "rule_nl", "rule_en")
        }
        for k, v in texts.items():
            values[p + k] = v
        allowed = set(form.getlist(p + "allowed"))
        required = set(form.getlist(p + "required"))
        values[p + "allowed"], values[p + "required"] = allowed, required
        months = number(p + "months", r.retention.months, False)
        rules.append(
            replace(
                r,
                purpose_nl=texts["purpose_nl"],
                purpose_en=texts["purpose_en"],
                legal_basis=LegalBasis(texts["article"], texts["law"]),
                retention=Retention(
                    months=months if months is not None else r.retention.months,
                    rule_nl=texts["rule_nl"],
                    rule_en=texts["rule_en"],
                    picked_up_months=number(
                        p + "picked_up_months", r.retention.picked_up_months, True
                    ),
                    after_closure_months=number(
                        p + "after_closure_months", r.retention.after_closure_months, True
                    ),
                ),
                allowed=frozenset(allowed),
                required_fields=frozenset(required),
            )
        )
    conditions = []
    for j in range(len(flow.conditions) + 1):
        p = f"c{j}-"
        field_id = form.get(p + "field", "").strip()
        operator = form.get(p + "operator", "").strip()
        raw_value = form.get(p + "value", "").strip()
        parameter = form.get(p + "parameter", "").strip()
        values.update(
            {
                p + "field": field_id,
                p + "operator": operator,
                p + "value": raw_value,
                p + "parameter": parameter,
            }
        )
        if form.get(p + "remove") or not field_id:
            continue
        if operator not in OPERATORS:
            errors.setdefault(p + "operator", []).append(_("Choose a comparison."))
            operator = "=="
        if raw_value and parameter:
            errors.setdefault(p + "value", []).append(
                _("Give a value or a parameter for the condition (one of the two).")
            )
        if not raw_value and not parameter:
            errors.setdefault(p + "value", []).append(
                _("Give a value or a parameter for the condition (one of the two).")
            )
        conditions.append(
            Condition(
                field_id,
                operator,
                None if parameter or not raw_value else _parse_value(raw_value),
                parameter or None,
            )
        )
    edited = replace(flow, recipients=tuple(rules), conditions=tuple(conditions))
    return edited, Form(values, errors, [])


def _form_field(path: tuple[str | int, ...]) -> str | None:
    """The form field a YAML path of the flow file belongs to."""
    if len(path) >= 3 and path[0] == "recipients":
        i, key = path[1], path[2]
        if key in ("allowed", "required", "purpose_nl", "purpose_en"):
            return f"r{i}-{key}"
        if key == "legal_basis":
            return f"r{i}-{path[3]}" if len(path) > 3 else f"r{i}-article"
        if key == "retention":
            return f"r{i}-{path[3]}" if len(path) > 3 else f"r{i}-months"
    if len(path) >= 2 and path[0] == "conditions":
        key = str(path[2]) if len(path) > 2 else "field"
        return f"c{path[1]}-{key if key in ('field', 'operator', 'parameter') else 'value'}"
    if path and path[0] == "consent_field":
        return "r0-required"
    return None


def _check(base: Policy, edited: Flow, form: Form) -> Policy | None:
    """Load the policy with the edited flow in a temporary copy; errors go into ``form``."""
    flows = dict(base.flows)
    flows[edited.id] = edited
    target = replace(base, flows=MappingProxyType(flows))
    name = f"flows/{edited.id}.yaml"
    text = flow_file(edited, base)
    plan = policy_editing.Plan({name: text})
    try:
        return policy_editing.check_in_copy(current_instance().settings.policy_dir, plan)
    except PolicyInvalid as invalid:
        for path, problem in policy_editing.locate(invalid.problems, name, text):
            _place(form, path, problem, target)
        return None


def _place(form: Form, path: tuple[str | int, ...], problem: PolicyProblem, policy: Policy) -> None:
    message = plain_problem(problem.message, policy)
    field = _form_field(path)
    if field is None:
        form.general.append(message if path else str(problem))
    elif message not in form.errors.get(field, []):
        form.errors.setdefault(field, []).append(message)


def _render_flow(
    flow: Flow,
    form: Form,
    *,
    based_on: str,
    changes: list[Change] | None = None,
    checked: str = "",
    effective: str = "",
    refused: PolicyChanged | None = None,
    status: int = 200,
) -> tuple[str, int]:
    policy = _running()
    return render_template(
        "console/policy_flow.html",
        flow=flow,
        policy=policy,
        fields=list(policy.fields.values()),
        parameters=sorted(policy.covenant.parameters),
        operators=OPERATORS,
        form=form,
        based_on=based_on,
        changes=changes,
        checked=checked,
        effective=effective or _now().date().isoformat(),
        refused=refused,
        nl=_nl(),
    ), status


# -- pages ------------------------------------------------------------------------------------


@bp.route("/policy")
@requires_role
def policy() -> str:
    conn = request_connection()
    running = _running()
    latest = policy_versions.latest_published_id(conn)
    return render_template(
        "console/policy.html",
        policy=running,
        latest=latest,
        nl=_nl(),
    )


@bp.route("/policy/flows/<flow_id>", methods=["GET", "POST"])
@requires_role
def policy_flow(flow_id: str) -> BaseResponse | tuple[str, int]:
    base = _running()
    flow = base.flows.get(flow_id)
    if flow is None:
        raise NotFound(_("There is no such flow."))
    if request.method == "GET":
        return _render_flow(flow, Form(_values_of(flow), {}, []), based_on=base.version_id)
    based_on = request.form.get("based_on", "")
    action = request.form.get("action", "check")
    effective_raw = request.form.get("effective_from", "").strip()
    edited, form = _read_form(flow)
    checked = _check(base, edited, form)
    if form.errors or form.general or checked is None:
        return _render_flow(edited, form, based_on=based_on, effective=effective_raw, status=422)
    conn = request_connection()
    published = _published(conn)
    changes = diff(published, checked)
    shown = dict(
        based_on=based_on, changes=changes, checked=checked.version_id, effective=effective_raw
    )
    if action != "publish" or request.form.get("checked") != checked.version_id:
        # Publishing needs a check first, of exactly this edit: the diff is always seen.
        return _render_flow(edited, form, **shown)  # type: ignore[arg-type]
    try:
        effective = date.fromisoformat(effective_raw)
    except ValueError:
        form.errors["effective_from"] = [_("Give a date as YYYY-MM-DD.")]
        return _render_flow(edited, form, status=422, **shown)  # type: ignore[arg-type]
    if not changes:
        form.general.append(_("This edit changes nothing: there is nothing to publish."))
        return _render_flow(edited, form, status=422, **shown)  # type: ignore[arg-type]
    target = replace(base, flows=MappingProxyType({**base.flows, edited.id: edited}), version_id="")
    try:
        _publish(checked, target, based_on=based_on, effective=effective)
    except PolicyChanged as refused:
        current = _published(conn)
        return _render_flow(
            edited,
            form,
            based_on=based_on,
            changes=diff(current, checked),
            checked=checked.version_id,
            effective=effective_raw,
            refused=refused,
            status=409,
        )
    return redirect(url_for("console.policy_history", published=checked.version_id[:12]), 303)


def _publish(checked: Policy, target: Policy, *, based_on: str, effective: date) -> None:
    """Publish ``checked`` (stored, signed, recorded), then write its files and run it."""
    instance = current_instance()
    live_dir = instance.settings.policy_dir
    user = current_user()
    with _PUBLISHING:
        plan = policy_editing.plan_for(live_dir, target)
        again = policy_editing.check_in_copy(live_dir, plan)
        if again.version_id != checked.version_id:
            # The live folder changed under us: treat it as someone else's publication.
            raise PolicyChanged(based_on, again.version_id)
        publish_anew(
            request_connection(),
            checked,
            instance.signing_key,
            now=_now(),
            effective_from=effective,
            published_by=user.username if user else "console",
            register=instance.register,
            based_on=based_on,
        )
        policy_editing.apply(live_dir, plan)
        replace_policy(current_app._get_current_object(), checked)  # type: ignore[attr-defined]


@bp.route("/policy/history")
@requires_role
def policy_history() -> str:
    conn = request_connection()
    rows = policy_versions.publications(conn, limit=50)
    policies: dict[str, Policy] = {}
    for row in rows:
        if row.version_id not in policies:
            policies[row.version_id] = policy_from_bundle(
                policy_versions.require(conn, row.version_id).bundle
            )
    entries = []
    for k, row in enumerate(rows):
        previous = rows[k + 1] if k + 1 < len(rows) else None
        changes = (
            diff(policies[previous.version_id], policies[row.version_id]) if previous else None
        )
        entries.append((row, previous, changes))
    return render_template(
        "console/policy_history.html",
        entries=entries,
        latest=rows[0].version_id if rows else _running().version_id,
        today=_now().date().isoformat(),
        published=request.args.get("published", ""),
        restored=request.args.get("restored", ""),
        refused=request.args.get("refused", ""),
    )


@bp.route("/policy/history/restore", methods=["POST"])
@requires_role
def policy_restore() -> BaseResponse | tuple[str, int]:
    conn = request_connection()
    version_id = request.form.get("version_id", "")
    based_on = request.form.get("based_on", "")
    stored = policy_versions.get(conn, version_id)
    if stored is None:
        raise NotFound(_("This policy version was never published."))
    try:
        effective = date.fromisoformat(request.form.get("effective_from", "").strip())
    except ValueError:
        return render_template(
            "console/error.html",
            title=_("This cannot be done"),
            detail=_("Give a date as YYYY-MM-DD."),
            status=400,
        ), 400
    target = policy_from_bundle(stored.bundle)
    try:
        _publish(target, target, based_on=based_on, effective=effective)
    except PolicyChanged:
        return redirect(url_for("console.policy_history", refused=1), 303)
    return redirect(url_for("console.policy_history", restored=version_id[:12]), 303)
