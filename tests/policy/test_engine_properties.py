"""Properties: for random transfers built from the policy's own names, the engine never allows
a field outside the matrix, a recipient outside the flow, or a flow outside the case state; and
it allows every transfer that is exactly the matrix."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.policy import Policy, Recipient, Transfer, evaluate, load_policy
from tests.policy.conftest import POLICY_DIR

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
POLICY: Policy = load_policy(POLICY_DIR)
PARTIES = sorted(POLICY.parties)
FIELDS = sorted(POLICY.fields)
FLOWS = sorted(POLICY.flows)
STATES = [None, *sorted(POLICY.workflow.states)]


def routing_for(flow_id: str) -> dict[str, bool]:
    return {name: True for name in POLICY.flows[flow_id].routing}


transfers = st.builds(
    Transfer,
    sender=st.sampled_from(PARTIES),
    flow=st.sampled_from(FLOWS),
    recipients=st.lists(
        st.builds(
            Recipient, st.sampled_from(PARTIES), st.frozensets(st.sampled_from(FIELDS), max_size=12)
        ),
        min_size=1,
        max_size=4,
    ).map(tuple),
    routing=st.just({}),
    case_state=st.sampled_from(STATES),
)


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(transfers, st.booleans())
def test_engine_never_allows_anything_outside_the_matrix(
    transfer: Transfer, add_routing: bool
) -> None:
    if add_routing:
        transfer = Transfer(
            transfer.sender,
            transfer.flow,
            transfer.recipients,
            routing_for(transfer.flow),
            transfer.case_state,
        )
    decision = evaluate(POLICY, transfer, NOW)
    if not decision.allowed:
        assert decision.reasons
        return
    flow = POLICY.flows[transfer.flow]
    assert POLICY.parties[transfer.sender].roles & flow.sender_roles
    assert POLICY.workflow.transition(flow.id, transfer.case_state) is not None
    for recipient in transfer.recipients:
        roles = POLICY.parties[recipient.partner].roles
        rules = [r for r in flow.recipients if r.role in roles]
        assert rules, "a recipient outside the flow was allowed"
        assert recipient.manifest <= rules[0].allowed, "a field outside the matrix was allowed"
        assert rules[0].required_fields <= recipient.manifest


@st.composite
def exact_transfers(draw: st.DrawFn) -> Transfer:
    transition = draw(st.sampled_from(POLICY.workflow.transitions))
    flow = POLICY.flows[transition.flow]
    state = draw(st.sampled_from(sorted(transition.from_states)))
    rules = [r for r in flow.recipients if r.mandatory] or [flow.recipients[0]]
    extra = draw(st.lists(st.sampled_from(flow.recipients), unique=True))
    recipients = []
    used: set[str] = set()
    for rule in [*rules, *extra]:
        candidates = [p.id for p in POLICY.parties_with_role(rule.role) if p.id not in used]
        if not candidates:
            continue
        partner = draw(st.sampled_from(candidates))
        used.add(partner)
        manifest = draw(st.frozensets(st.sampled_from(sorted(rule.allowed)))) | rule.required_fields
        recipients.append(Recipient(partner, manifest))
    senders = [
        p.id for p in POLICY.parties.values() if p.roles & flow.sender_roles and p.id not in used
    ]
    sender = draw(st.sampled_from(senders))
    return Transfer(
        sender,
        flow.id,
        tuple(recipients),
        routing_for(flow.id),
        None if state == "none" else state,
        POLICY.version_id,
    )


@settings(max_examples=300)
@given(exact_transfers())
def test_engine_allows_every_transfer_within_the_matrix(transfer: Transfer) -> None:
    decision = evaluate(POLICY, transfer, NOW)
    assert decision.allowed, decision.reasons
    assert decision.next_state is not None
