"""The decision engine refuses everything outside the matrix, with every reason."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from types import MappingProxyType

import pytest

from gateway.policy import Policy, Recipient, Transfer, evaluate

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
SIGNAL_FIELDS = frozenset(
    {
        "first_names",
        "surname",
        "date_of_birth",
        "street",
        "house_number",
        "postal_code",
        "city",
        "contract_reference",
        "monthly_rent",
        "arrears_amount",
        "months_in_arrears",
        "personal_contact_attempt_date",
        "debt_help_referral_date",
        "last_reminder_date",
        "reminder_offered_referral",
        "tenant_objected",
        "tenant_informed_date",
        "tenant_informed_how",
    }
)
WITHHOLDING = frozenset({"withholding_amount", "withholding_start_month", "contract_reference"})


def signal(**changes: object) -> Transfer:
    base = Transfer(
        sender="wonen-limburg",
        flow="arrears-signal",
        recipients=(Recipient("gemeente-weert-intake", SIGNAL_FIELDS),),
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def test_exact_signal_opens_a_case(weert: Policy) -> None:
    decision = evaluate(weert, signal(policy_version=weert.version_id), NOW)
    assert decision.allowed, decision.reasons
    assert decision.next_state == "signalled"
    assert decision.rule == "flow:arrears-signal"
    assert decision.policy_version == weert.version_id


def test_repeat_signal_attaches_without_moving_the_case(weert: Policy) -> None:
    decision = evaluate(weert, signal(case_state="with-amw"), NOW)
    assert decision.allowed
    assert decision.next_state == "with-amw"


def test_landlord_cannot_receive_household_facts_with_withholding(weert: Policy) -> None:
    transfer = Transfer(
        "gemeente-weert-uitkeringsadministratie",
        "rent-withholding",
        (Recipient("wonen-limburg", WITHHOLDING | {"household_has_minors", "surname"}),),
        case_state="with-directors",
    )
    decision = evaluate(weert, transfer, NOW)
    assert not decision.allowed
    assert decision.codes == ("field-not-allowed", "field-not-allowed")
    assert {r.subject for r in decision.reasons} == {
        "wonen-limburg.household_has_minors",
        "wonen-limburg.surname",
    }
    assert all(r.message_nl and r.message_en for r in decision.reasons)


def test_landlord_cannot_read_amw_referral(weert: Policy) -> None:
    transfer = Transfer(
        "gemeente-weert-intake",
        "referral-to-amw",
        (
            Recipient(
                "amw-midden-limburg",
                frozenset(
                    {
                        "first_names",
                        "surname",
                        "street",
                        "house_number",
                        "postal_code",
                        "city",
                        "arrears_amount",
                        "months_in_arrears",
                        "route_decision",
                    }
                ),
            ),
            Recipient("wonen-limburg", frozenset({"route_decision"})),
        ),
        routing={"priority": True},
        case_state="triage",
    )
    decision = evaluate(weert, transfer, NOW)
    assert not decision.allowed
    assert decision.codes == ("recipient-not-in-flow",)


def test_amw_cannot_send_a_rent_signal(weert: Policy) -> None:
    decision = evaluate(weert, signal(sender="amw-midden-limburg"), NOW)
    assert decision.codes == ("sender-not-allowed",)


def test_unknown_sender_is_refused(weert: Policy) -> None:
    assert evaluate(weert, signal(sender="mallory"), NOW).codes == ("unknown-sender",)


def test_signal_cannot_go_straight_to_amw(weert: Policy) -> None:
    decision = evaluate(
        weert, signal(recipients=(Recipient("amw-midden-limburg", SIGNAL_FIELDS),)), NOW
    )
    assert set(decision.codes) == {"recipient-not-in-flow", "mandatory-recipient-missing"}


def test_missing_required_field_is_named(weert: Policy) -> None:
    transfer = signal(
        recipients=(Recipient("gemeente-weert-intake", SIGNAL_FIELDS - {"tenant_objected"}),)
    )
    decision = evaluate(weert, transfer, NOW)
    assert decision.codes == ("required-field-missing",)
    assert decision.reasons[0].subject == "gemeente-weert-intake.tenant_objected"


def test_routing_to_directors_needs_priority_flag(weert: Policy) -> None:
    transfer = Transfer(
        "gemeente-weert-intake",
        "route-to-directors",
        tuple(
            Recipient(p, frozenset(weert.flows["route-to-directors"].recipients[0].required_fields))
            for p in ("gemeente-weert-schulddienstverlening", "gemeente-weert-participatie")
        ),
        case_state="triage",
    )
    assert evaluate(weert, transfer, NOW).codes == ("routing-attribute-missing",)
    assert evaluate(weert, replace(transfer, routing={"priority": True}), NOW).allowed
    assert evaluate(weert, replace(transfer, routing={"priority": "yes"}), NOW).codes == (
        "routing-attribute-invalid",
    )
    assert evaluate(weert, replace(transfer, routing={"priority": 1}), NOW).codes == (
        "routing-attribute-invalid",
    )


def test_undeclared_routing_attribute_is_refused(weert: Policy) -> None:
    decision = evaluate(weert, signal(routing={"bsn_hint": "x"}), NOW)
    assert decision.codes == ("routing-attribute-not-allowed",)


def test_expert_referral_needs_recorded_consent(weert: Policy) -> None:
    transfer = Transfer(
        "amw-midden-limburg",
        "referral-to-expert",
        (
            Recipient(
                "budgetcoach-weert", frozenset({"first_names", "surname", "expert_consent_date"})
            ),
        ),
        case_state="with-amw",
    )
    assert set(evaluate(weert, transfer, NOW).codes) == {
        "consent-missing",
        "required-field-missing",
    }


def test_flows_are_refused_in_a_closed_case(weert: Policy) -> None:
    decision = evaluate(weert, signal(case_state="closed"), NOW)
    assert decision.codes == ("flow-not-allowed-in-state",)


def test_later_flows_need_an_existing_case(weert: Policy) -> None:
    transfer = Transfer(
        "gemeente-weert-intake",
        "feedback-to-landlord",
        (
            Recipient(
                "wonen-limburg",
                frozenset({"contract_reference", "feedback_status", "feedback_date"}),
            ),
        ),
    )
    assert evaluate(weert, transfer, NOW).codes == ("case-required",)


def test_stale_policy_version_is_refused(weert: Policy) -> None:
    assert evaluate(weert, signal(policy_version="0" * 64), NOW).codes == ("stale-policy-version",)


def test_covenant_out_of_force(weert: Policy) -> None:
    late = datetime(2031, 1, 1, tzinfo=UTC)
    assert evaluate(weert, signal(), late).codes == ("covenant-not-in-force",)


def test_unknown_flow_denies(weert: Policy) -> None:
    decision = evaluate(weert, signal(flow="everything"), NOW)
    assert not decision.allowed
    assert decision.rule == "no-rule"


def test_empty_rule_set_denies_everything(weert: Policy) -> None:
    empty = replace(weert, flows=MappingProxyType({}))
    assert evaluate(empty, signal(), NOW).codes == ("unknown-flow",)


def test_duplicate_and_self_recipients_are_refused(weert: Policy) -> None:
    twice = signal(recipients=(Recipient("gemeente-weert-intake", SIGNAL_FIELDS),) * 2)
    assert evaluate(weert, twice, NOW).codes == ("duplicate-recipient",)
    nobody = signal(recipients=())
    assert set(evaluate(weert, nobody, NOW).codes) == {
        "no-recipients",
        "mandatory-recipient-missing",
    }


def test_every_reason_is_listed(weert: Policy) -> None:
    decision = evaluate(
        weert,
        signal(
            sender="amw-midden-limburg",
            routing={"x": 1},
            policy_version="f" * 64,
            case_state="closed",
        ),
        NOW,
    )
    assert set(decision.codes) == {
        "stale-policy-version",
        "sender-not-allowed",
        "routing-attribute-not-allowed",
        "flow-not-allowed-in-state",
    }


@pytest.mark.parametrize("flow_id", ["rent-withholding", "referral-to-expert", "case-closure"])
def test_exact_matrix_is_allowed_for_every_flow(weert: Policy, flow_id: str) -> None:
    flow = weert.flows[flow_id]
    recipients = tuple(
        Recipient(weert.parties_with_role(rule.role)[0].id, rule.allowed)
        for rule in flow.recipients
    )
    sender = next(
        p.id
        for p in weert.parties.values()
        if p.roles & flow.sender_roles and p.id not in {r.partner for r in recipients}
    )
    state = next(
        iter(
            weert.workflow.transitions[
                [t.flow for t in weert.workflow.transitions].index(flow_id)
            ].from_states
        )
    )
    decision = evaluate(weert, Transfer(sender, flow_id, recipients, case_state=state), NOW)
    assert decision.allowed, decision.reasons
