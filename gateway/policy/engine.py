"""The decision engine: may this transfer happen under this policy, in this case state?

Pure: no Flask, no database, no clock of its own. ``evaluate`` returns every reason a transfer
is refused, each with a stable machine code and a sentence in Dutch and English. A flow the
policy does not know is refused: an empty rule set denies everything.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from gateway.policy.model import NO_STATE, SAME_STATE, Flow, Policy

RoutingValue = str | bool | int


@dataclass(frozen=True)
class Recipient:
    partner: str
    manifest: frozenset[str]


@dataclass(frozen=True)
class Transfer:
    """What the gateway can see of a transfer: the clear header of an envelope."""

    sender: str
    flow: str
    recipients: tuple[Recipient, ...]
    routing: Mapping[str, RoutingValue] = field(default_factory=dict)
    case_state: str | None = None  # None: no case yet (the flow must open one)
    policy_version: str | None = None


@dataclass(frozen=True)
class Reason:
    code: str
    subject: str
    message_nl: str
    message_en: str


@dataclass(frozen=True)
class Decision:
    allowed: bool
    rule: str  # the rule that decided, e.g. "flow:arrears-signal"
    policy_version: str
    reasons: tuple[Reason, ...] = ()
    next_state: str | None = None  # the case state after an allowed transfer

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(r.code for r in self.reasons)


def _reason(code: str, subject: str, nl: str, en: str) -> Reason:
    return Reason(code, subject, nl, en)


def _check_parties(policy: Policy, flow: Flow, transfer: Transfer) -> list[Reason]:
    reasons: list[Reason] = []
    sender = policy.parties.get(transfer.sender)
    if sender is None:
        reasons.append(
            _reason(
                "unknown-sender",
                transfer.sender,
                f"Afzender '{transfer.sender}' is geen partij in het convenant.",
                f"Sender '{transfer.sender}' is not a party to the covenant.",
            )
        )
    elif not sender.roles & flow.sender_roles:
        reasons.append(
            _reason(
                "sender-not-allowed",
                transfer.sender,
                f"'{transfer.sender}' mag stroom '{flow.id}' niet versturen.",
                f"'{transfer.sender}' may not send flow '{flow.id}'.",
            )
        )
    if not transfer.recipients:
        reasons.append(
            _reason(
                "no-recipients",
                flow.id,
                "Het bericht heeft geen ontvangers.",
                "The message has no recipients.",
            )
        )
    seen: set[str] = set()
    present_roles: set[str] = set()
    for recipient in transfer.recipients:
        if recipient.partner in seen:
            reasons.append(
                _reason(
                    "duplicate-recipient",
                    recipient.partner,
                    f"Ontvanger '{recipient.partner}' staat er twee keer in.",
                    f"Recipient '{recipient.partner}' is listed twice.",
                )
            )
            continue
        seen.add(recipient.partner)
        reasons.extend(_check_recipient(policy, flow, transfer, recipient, present_roles))
    for rule in flow.recipients:
        if rule.mandatory and rule.role not in present_roles:
            reasons.append(
                _reason(
                    "mandatory-recipient-missing",
                    rule.role,
                    f"Stroom '{flow.id}' moet naar een partij met rol '{rule.role}'.",
                    f"Flow '{flow.id}' must go to a party with role '{rule.role}'.",
                )
            )
    return reasons


def _check_recipient(
    policy: Policy, flow: Flow, transfer: Transfer, recipient: Recipient, present: set[str]
) -> list[Reason]:
    party = policy.parties.get(recipient.partner)
    rules = [] if party is None else [r for r in flow.recipients if r.role in party.roles]
    if party is None or not rules or recipient.partner == transfer.sender:
        return [
            _reason(
                "recipient-not-in-flow",
                recipient.partner,
                f"'{recipient.partner}' is geen ontvanger van stroom '{flow.id}'.",
                f"'{recipient.partner}' is not a recipient of flow '{flow.id}'.",
            )
        ]
    rule = rules[0]
    present.add(rule.role)
    reasons = []
    for name in sorted(recipient.manifest - rule.allowed):
        reasons.append(
            _reason(
                "field-not-allowed",
                f"{recipient.partner}.{name}",
                f"'{recipient.partner}' mag veld '{name}' niet ontvangen in stroom '{flow.id}'.",
                f"'{recipient.partner}' may not receive field '{name}' in flow '{flow.id}'.",
            )
        )
    for name in sorted(rule.required_fields - recipient.manifest):
        reasons.append(
            _reason(
                "required-field-missing",
                f"{recipient.partner}.{name}",
                f"Verplicht veld '{name}' ontbreekt voor '{recipient.partner}'.",
                f"Required field '{name}' is missing for '{recipient.partner}'.",
            )
        )
    return reasons


def _check_routing(flow: Flow, transfer: Transfer) -> list[Reason]:
    reasons = []
    for name, value in sorted(transfer.routing.items()):
        declared = flow.routing.get(name)
        if declared is None:
            reasons.append(
                _reason(
                    "routing-attribute-not-allowed",
                    name,
                    f"Routeringskenmerk '{name}' hoort niet bij stroom '{flow.id}'.",
                    f"Routing attribute '{name}' is not declared for flow '{flow.id}'.",
                )
            )
            continue
        expected = {"boolean": bool, "string": str, "integer": int}[declared.type]
        valid = isinstance(value, expected) and (expected is bool or not isinstance(value, bool))
        if not valid:
            reasons.append(
                _reason(
                    "routing-attribute-invalid",
                    name,
                    f"Routeringskenmerk '{name}' moet van type {declared.type} zijn.",
                    f"Routing attribute '{name}' must be of type {declared.type}.",
                )
            )
    for name, declared in sorted(flow.routing.items()):
        if declared.required and name not in transfer.routing:
            reasons.append(
                _reason(
                    "routing-attribute-missing",
                    name,
                    f"Routeringskenmerk '{name}' is verplicht in stroom '{flow.id}'.",
                    f"Routing attribute '{name}' is required in flow '{flow.id}'.",
                )
            )
    return reasons


def _check_consent(flow: Flow, transfer: Transfer) -> list[Reason]:
    if flow.consent_field is None:
        return []
    return [
        _reason(
            "consent-missing",
            recipient.partner,
            f"Stroom '{flow.id}' vereist vastgelegde toestemming ('{flow.consent_field}').",
            f"Flow '{flow.id}' requires recorded consent ('{flow.consent_field}').",
        )
        for recipient in transfer.recipients
        if flow.consent_field not in recipient.manifest
    ]


def evaluate(policy: Policy, transfer: Transfer, now: datetime) -> Decision:
    """Decide a transfer. ``now`` is checked against the covenant's effective period."""
    version = policy.version_id
    flow = policy.flows.get(transfer.flow)
    rule = f"flow:{transfer.flow}"
    if flow is None:
        return Decision(
            False,
            "no-rule",
            version,
            (
                _reason(
                    "unknown-flow",
                    transfer.flow,
                    f"Stroom '{transfer.flow}' bestaat niet in het convenant.",
                    f"Flow '{transfer.flow}' does not exist in the covenant.",
                ),
            ),
        )
    reasons: list[Reason] = []
    if transfer.policy_version is not None and transfer.policy_version != version:
        reasons.append(
            _reason(
                "stale-policy-version",
                transfer.policy_version,
                "Het bericht is opgesteld onder een andere beleidsversie; "
                "haal het actuele beleid op.",
                "The message was sealed under another policy version; fetch the current policy.",
            )
        )
    today = now.date()
    covenant = policy.covenant
    if today < covenant.effective_from or (
        covenant.effective_until is not None and today > covenant.effective_until
    ):
        reasons.append(
            _reason(
                "covenant-not-in-force",
                covenant.id,
                "Het convenant is op deze datum niet van kracht.",
                "The covenant is not in force on this date.",
            )
        )
    reasons.extend(_check_parties(policy, flow, transfer))
    reasons.extend(_check_routing(flow, transfer))
    reasons.extend(_check_consent(flow, transfer))
    transition = policy.workflow.transition(flow.id, transfer.case_state)
    next_state = None
    if transition is None:
        state = transfer.case_state or NO_STATE
        if transfer.case_state is None:
            nl, en = (
                f"Stroom '{flow.id}' hoort bij een bestaande zaak.",
                f"Flow '{flow.id}' needs an existing case.",
            )
            code = "case-required"
        else:
            nl, en = (
                f"Stroom '{flow.id}' mag niet in zaakstatus '{state}'.",
                f"Flow '{flow.id}' is not allowed in case state '{state}'.",
            )
            code = "flow-not-allowed-in-state"
        reasons.append(_reason(code, state, nl, en))
    else:
        next_state = transfer.case_state if transition.to == SAME_STATE else transition.to
    if reasons:
        return Decision(False, rule, version, tuple(reasons))
    return Decision(True, rule, version, (), next_state)
