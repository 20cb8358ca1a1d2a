"""Field-value checks the partners' clients run before sealing and after opening."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from gateway.policy import Policy, validate_fields

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
ROW: dict[str, object] = {
    "first_names": "Fatima",
    "surname": "El Amrani",
    "date_of_birth": "1984-03-12",
    "street": "Maasstraat",
    "house_number": 12,
    "postal_code": "6001 AB",
    "city": "Weert",
    "contract_reference": "WL-2024/00017",
    "monthly_rent": "712.45",
    "arrears_amount": "1424.90",
    "months_in_arrears": 2,
    "personal_contact_attempt_date": "2026-10-20",
    "debt_help_referral_date": "2026-10-20",
    "last_reminder_date": "2026-10-28",
    "reminder_offered_referral": True,
    "tenant_objected": False,
    "tenant_informed_date": "2026-11-02",
    "tenant_informed_how": "letter",
}


def check(policy: Policy, **changes: object) -> list[tuple[str, str]]:
    flow = policy.flows["arrears-signal"]
    values = {**ROW, **changes}
    return [
        (p.field, p.rule) for p in validate_fields(policy, flow, "municipality-intake", values, NOW)
    ]


def test_a_complete_signal_row_is_valid(weert: Policy) -> None:
    assert check(weert) == []


def test_row_below_the_threshold_is_refused(weert: Policy) -> None:
    assert check(weert, months_in_arrears=1) == [("months_in_arrears", "condition")]


def test_tenant_objection_stops_the_signal(weert: Policy) -> None:
    assert check(weert, tenant_objected=True) == [("tenant_objected", "condition")]


def test_reminder_must_have_offered_referral(weert: Policy) -> None:
    assert check(weert, reminder_offered_referral=False) == [
        ("reminder_offered_referral", "condition")
    ]


@pytest.mark.parametrize(
    ("field", "value", "rule"),
    [
        ("postal_code", "6001AB1", "format"),
        ("postal_code", "0001 AB", "format"),
        ("date_of_birth", "12-03-1984", "format"),
        ("date_of_birth", "2027-01-01", "future"),
        ("monthly_rent", "712,45", "type"),
        ("monthly_rent", "-5", "minimum"),
        ("house_number", "12a", "type"),
        ("house_number", 0, "minimum"),
        ("months_in_arrears", True, "type"),
        ("tenant_informed_how", "pigeon", "enum"),
        ("contract_reference", "WL 2024", "pattern"),
        ("first_names", "x" * 201, "max-length"),
        ("reminder_offered_referral", "ja", "type"),
    ],
)
def test_bad_values_name_field_and_rule(
    weert: Policy, field: str, value: object, rule: str
) -> None:
    assert (field, rule) in check(weert, **{field: value})


def test_missing_and_extra_fields(weert: Policy) -> None:
    found = check(weert, household_has_minors=True, surname="")
    assert ("household_has_minors", "not-allowed") in found
    assert ("surname", "required") in found
    row = dict(ROW)
    del row["city"]
    flow = weert.flows["arrears-signal"]
    problems = validate_fields(weert, flow, "municipality-intake", row, NOW)
    assert [(p.field, p.rule) for p in problems] == [("city", "required")]
    assert problems[0].message_nl
    assert problems[0].message_en


def test_withholding_month_and_email_formats(weert: Policy) -> None:
    flow = weert.flows["rent-withholding"]
    bad = {
        "withholding_amount": "100.00",
        "withholding_start_month": "2026-13",
        "contract_reference": "X1",
    }
    assert [(p.field, p.rule) for p in validate_fields(weert, flow, "landlord", bad, NOW)] == [
        ("withholding_start_month", "format")
    ]
    amw = weert.flows["referral-to-amw"]
    problems = validate_fields(weert, amw, "social-work", {"email": "not-an-address"}, NOW)
    assert ("email", "format") in [(p.field, p.rule) for p in problems]


def test_recipient_role_outside_the_flow(weert: Policy) -> None:
    flow = weert.flows["rent-withholding"]
    assert validate_fields(weert, flow, "social-work", {}, NOW)[0].rule == "recipient"
