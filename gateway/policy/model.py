"""The typed, frozen, in-memory covenant policy. Built only by :mod:`gateway.policy.loader`."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from types import MappingProxyType

FIELD_TYPES: tuple[str, ...] = (
    "string",
    "date",
    "month",
    "integer",
    "decimal",
    "boolean",
    "enum",
    "email",
    "phone",
    "postal-code",
)
CATEGORIES: tuple[str, ...] = ("identification", "contact", "financial", "household", "case")
ROLES: tuple[str, ...] = (
    "landlord",
    "municipality-intake",
    "director",
    "benefits-administration",
    "social-work",
    "expert",
)
NO_STATE = "none"
SAME_STATE = "same"


def frozen_map(data: dict[str, object] | None = None) -> MappingProxyType[str, object]:
    return MappingProxyType(dict(data or {}))


@dataclass(frozen=True)
class Party:
    id: str
    name: str
    organisation: str
    roles: frozenset[str]


@dataclass(frozen=True)
class DataSubjectCategory:
    id: str
    label_nl: str
    label_en: str


@dataclass(frozen=True)
class Schedule:
    monthly_delivery_day: int
    acknowledged_envelope_grace_days: int
    undelivered_envelope_expiry_days: int
    repeat_signal_lookback_months: int


@dataclass(frozen=True)
class Covenant:
    id: str
    name_nl: str
    name_en: str
    effective_from: date
    effective_until: date | None
    controller_name: str
    controller_address: str
    privacy_officer_name: str
    privacy_officer_email: str
    privacy_officer_phone: str
    ap_notification_reference: str
    data_subject_categories: tuple[DataSubjectCategory, ...]
    security_measures_nl: tuple[str, ...]
    security_measures_en: tuple[str, ...]
    parameters: MappingProxyType[str, object]
    schedule: Schedule
    register_retention_months: MappingProxyType[str, object]


@dataclass(frozen=True)
class FieldDef:
    id: str
    type: str
    category: str
    personal: bool
    label_nl: str
    label_en: str
    description_nl: str
    description_en: str
    max_length: int | None = None
    pattern: str | None = None
    minimum: float | None = None
    maximum: float | None = None
    values: tuple[str, ...] = ()


@dataclass(frozen=True)
class LegalBasis:
    article: str
    law: str

    def __str__(self) -> str:
        return f"{self.article} {self.law}"


@dataclass(frozen=True)
class Retention:
    months: int
    rule_nl: str
    rule_en: str
    picked_up_months: int | None = None
    after_closure_months: int | None = None


@dataclass(frozen=True)
class RecipientRule:
    role: str
    mandatory: bool  # at least one party with this role must be among the recipients
    purpose_nl: str
    purpose_en: str
    legal_basis: LegalBasis
    retention: Retention
    allowed: frozenset[str]
    required_fields: frozenset[str]


@dataclass(frozen=True)
class Condition:
    """A rule on a field's value that the sender's client checks before sealing."""

    field: str
    operator: str  # one of == != >= <= > <
    value: object = None
    parameter: str | None = None


@dataclass(frozen=True)
class RoutingAttribute:
    name: str
    type: str  # boolean, string, integer
    required: bool
    label_nl: str
    label_en: str


@dataclass(frozen=True)
class Flow:
    id: str
    label_nl: str
    label_en: str
    sender_roles: frozenset[str]
    recipients: tuple[RecipientRule, ...]
    opens_case: bool = False
    consent_field: str | None = None
    conditions: tuple[Condition, ...] = ()
    routing: MappingProxyType[str, RoutingAttribute] = field(
        default_factory=lambda: MappingProxyType({})
    )

    def rule_for_role(self, role: str) -> RecipientRule | None:
        for rule in self.recipients:
            if rule.role == role:
                return rule
        return None


@dataclass(frozen=True)
class State:
    id: str
    label_nl: str
    label_en: str
    deadline_normal_days: int | None
    deadline_priority_days: int | None


@dataclass(frozen=True)
class Transition:
    flow: str
    from_states: frozenset[str]  # may contain NO_STATE: the flow opens a case
    to: str  # a state id or SAME_STATE


@dataclass(frozen=True)
class EventTransition:
    event: str
    from_states: frozenset[str]
    to: str


@dataclass(frozen=True)
class Workflow:
    states: MappingProxyType[str, State]
    transitions: tuple[Transition, ...]
    events: tuple[EventTransition, ...]

    def transition(self, flow: str, state: str | None) -> Transition | None:
        current = NO_STATE if state is None else state
        for transition in self.transitions:
            if transition.flow == flow and current in transition.from_states:
                return transition
        return None

    def allowed_flows(self, state: str | None) -> frozenset[str]:
        current = NO_STATE if state is None else state
        return frozenset(t.flow for t in self.transitions if current in t.from_states)


@dataclass(frozen=True)
class Policy:
    """The whole covenant policy, validated. ``version_id`` is the SHA-256 of its bundle."""

    covenant: Covenant
    parties: MappingProxyType[str, Party]
    fields: MappingProxyType[str, FieldDef]
    flows: MappingProxyType[str, Flow]
    workflow: Workflow
    version_id: str = ""

    def parties_with_role(self, role: str) -> tuple[Party, ...]:
        return tuple(p for p in self.parties.values() if role in p.roles)
