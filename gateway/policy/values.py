"""Field-value checks for partners' clients: types, formats and the flow's conditions.

The gateway never sees field values (they are sealed); the sender's client runs
:func:`validate_fields` on every row before sealing, and the recipient's client runs it after
opening. Pure: ``now`` is given, never read.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from gateway.policy.model import Condition, FieldDef, Flow, Policy

_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,255}\.[A-Za-z]{2,}\Z")
_PHONE = re.compile(r"^\+?[0-9 ()-]{8,20}\Z")
_POSTAL = re.compile(r"^[1-9][0-9]{3} ?[A-Z]{2}\Z")
_MONTH = re.compile(r"^[0-9]{4}-(0[1-9]|1[0-2])\Z")
_DECIMAL = re.compile(r"^-?[0-9]{1,9}(\.[0-9]{1,2})?\Z")
MAX_TEXT = 10_000


@dataclass(frozen=True)
class FieldProblem:
    field: str
    rule: str
    message_nl: str
    message_en: str


def _problem(field: str, rule: str, nl: str, en: str) -> FieldProblem:
    return FieldProblem(field, rule, nl, en)


def _number(value: object) -> Decimal | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, str) and _DECIMAL.match(value):
        try:
            return Decimal(value)
        except InvalidOperation:  # cannot happen after the regex; kept for safety
            return None
    return None


def check_value(definition: FieldDef, value: object, now: datetime) -> FieldProblem | None:
    """One value against its dictionary entry; None when it is valid."""
    name, kind = definition.id, definition.type
    if isinstance(value, str) and len(value) > MAX_TEXT:
        return _problem(name, "max-length", "Waarde is te lang.", "Value is too long.")
    if kind in ("string", "email", "phone", "postal-code", "enum"):
        if not isinstance(value, str) or not value:
            return _problem(name, "type", "Moet tekst zijn.", "Must be text.")
        if definition.max_length is not None and len(value) > definition.max_length:
            return _problem(
                name,
                "max-length",
                f"Hoogstens {definition.max_length} tekens.",
                f"At most {definition.max_length} characters.",
            )
        pattern = {
            "email": _EMAIL,
            "phone": _PHONE,
            "postal-code": _POSTAL,
        }.get(kind)
        if pattern is not None and not pattern.match(value):
            return _problem(name, "format", f"Geen geldig {kind}.", f"Not a valid {kind}.")
        if definition.pattern is not None and not re.fullmatch(definition.pattern, value):
            return _problem(name, "pattern", "Heeft niet de juiste vorm.", "Has the wrong form.")
        if kind == "enum" and value not in definition.values:
            allowed = ", ".join(definition.values)
            return _problem(
                name, "enum", f"Moet een van {allowed} zijn.", f"Must be one of {allowed}."
            )
        return None
    if kind == "boolean":
        if not isinstance(value, bool):
            return _problem(name, "type", "Moet ja of nee zijn.", "Must be true or false.")
        return None
    if kind == "date":
        try:
            parsed = date.fromisoformat(value) if isinstance(value, str) else None
        except ValueError:
            parsed = None
        if parsed is None or len(str(value)) != 10:
            return _problem(name, "format", "Geen geldige datum.", "Not a valid date.")
        if parsed > now.date() and name != "invitation_date":
            return _problem(name, "future", "Datum ligt in de toekomst.", "Date is in the future.")
        return None
    if kind == "month":
        if not isinstance(value, str) or not _MONTH.match(value):
            return _problem(
                name, "format", "Geen geldige maand (jjjj-mm).", "Not a valid month (yyyy-mm)."
            )
        return None
    number = _number(value)
    if kind == "integer" and (number is None or number != number.to_integral_value()):
        return _problem(name, "type", "Moet een geheel getal zijn.", "Must be a whole number.")
    if number is None:
        return _problem(name, "type", "Moet een bedrag zijn.", "Must be an amount.")
    if definition.minimum is not None and number < Decimal(str(definition.minimum)):
        return _problem(
            name,
            "minimum",
            f"Minimaal {definition.minimum:g}.",
            f"At least {definition.minimum:g}.",
        )
    if definition.maximum is not None and number > Decimal(str(definition.maximum)):
        return _problem(
            name, "maximum", f"Maximaal {definition.maximum:g}.", f"At most {definition.maximum:g}."
        )
    return None


def _condition_holds(cond: Condition, value: object, parameters: Mapping[str, object]) -> bool:
    target = parameters.get(cond.parameter) if cond.parameter else cond.value
    if cond.operator in ("==", "!="):
        equal = value == target and type(value) is type(target)
        return equal if cond.operator == "==" else not equal
    left, right = (
        _number(value),
        _number(target) if not isinstance(target, float) else Decimal(str(target)),
    )
    if left is None or right is None:
        return False
    return {
        ">=": left >= right,
        "<=": left <= right,
        ">": left > right,
        "<": left < right,
    }[cond.operator]


def condition_text(cond: Condition, parameters: Mapping[str, object]) -> str:
    target = parameters.get(cond.parameter) if cond.parameter else cond.value
    shown = str(target).lower() if isinstance(target, bool) else str(target)
    return f"{cond.field} {cond.operator} {shown}"


def validate_fields(
    policy: Policy, flow: Flow, recipient_role: str, values: Mapping[str, object], now: datetime
) -> list[FieldProblem]:
    """Every problem with ``values`` for one recipient role of ``flow``."""
    rule = flow.rule_for_role(recipient_role)
    if rule is None:
        return [
            _problem(
                "", "recipient", "Geen ontvanger van deze stroom.", "Not a recipient of this flow."
            )
        ]
    problems: list[FieldProblem] = []
    for name in sorted(set(values) - rule.allowed):
        problems.append(
            _problem(name, "not-allowed", "Dit veld mag niet mee.", "This field may not be sent.")
        )
    for name in sorted(rule.required_fields - set(values)):
        problems.append(
            _problem(name, "required", "Verplicht veld ontbreekt.", "Required field is missing.")
        )
    for name in sorted(set(values) & rule.allowed):
        value = values[name]
        if value is None or value == "":
            if name in rule.required_fields:
                problems.append(
                    _problem(
                        name, "required", "Verplicht veld is leeg.", "Required field is empty."
                    )
                )
            continue
        found = check_value(policy.fields[name], value, now)
        if found is not None:
            problems.append(found)
    params = policy.covenant.parameters
    for cond in flow.conditions:
        if (
            cond.field in values
            and values[cond.field] not in (None, "")
            and not _condition_holds(cond, values[cond.field], params)
        ):
            text = condition_text(cond, params)
            problems.append(
                _problem(
                    cond.field,
                    "condition",
                    f"Voldoet niet aan de voorwaarde {text}.",
                    f"Does not meet the condition {text}.",
                )
            )
    return problems
