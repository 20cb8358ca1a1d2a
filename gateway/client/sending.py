"""Sealing and sending: projections per recipient, batches, receipts in the journal."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from gateway.client.errors import ClientError
from gateway.client.journal import Entry, Journal
from gateway.client.session import Session
from gateway.client.trust import Directory
from gateway.crypto.envelope import seal
from gateway.crypto.keys import PartnerKeyPair
from gateway.policy import Policy, validate_fields
from gateway.policy.values import FieldProblem

BATCH = 200


@dataclass(frozen=True)
class Outgoing:
    """One message to send: its journal key, where it came from, and how to seal it."""

    key: str
    label: str
    flow: str
    values: Mapping[str, Any]  # every field of the row; each recipient gets its projection
    recipients: tuple[str, ...]
    case_ref: str | None = None
    subject_ref: str | None = None
    routing: Mapping[str, Any] = field(default_factory=dict)


@dataclass
class SendReport:
    accepted: list[Entry] = field(default_factory=list)
    refused: list[Entry] = field(default_factory=list)
    already_sent: int = 0
    resent: int = 0

    @property
    def sent(self) -> int:
        return len(self.accepted) + len(self.refused)


def recipient_role(policy: Policy, flow: str, partner: str) -> str:
    party = policy.parties.get(partner)
    rules = policy.flows[flow].recipients if flow in policy.flows else ()
    for rule in rules:
        if party is not None and rule.role in party.roles:
            return rule.role
    raise ClientError(f"'{partner}' is not a recipient of flow '{flow}' in the covenant.")


def projection(
    policy: Policy, flow: str, partner: str, values: Mapping[str, Any]
) -> dict[str, Any]:
    """The fields this recipient may receive in this flow, and nothing else."""
    rule = policy.flows[flow].rule_for_role(recipient_role(policy, flow, partner))
    assert rule is not None  # noqa: S101 - recipient_role found it
    return {k: v for k, v in values.items() if k in rule.allowed}


def check_projections(
    policy: Policy, item: Outgoing, now: datetime
) -> list[tuple[str, FieldProblem]]:
    problems: list[tuple[str, FieldProblem]] = []
    flow = policy.flows.get(item.flow)
    if flow is None:
        raise ClientError(f"The covenant has no flow '{item.flow}'.")
    for partner in item.recipients:
        role = recipient_role(policy, item.flow, partner)
        values = projection(policy, item.flow, partner, item.values)
        problems.extend((partner, p) for p in validate_fields(policy, flow, role, values, now))
    return problems


def seal_outgoing(
    item: Outgoing,
    keys: PartnerKeyPair,
    policy: Policy,
    directory: Directory,
    now: datetime,
) -> dict[str, Any]:
    projections = {
        partner: (
            directory.encryption_keys(partner, now),
            projection(policy, item.flow, partner, item.values),
        )
        for partner in item.recipients
    }
    envelope = seal(
        keys,
        flow=item.flow,
        policy_version=policy.version_id,
        projections=projections,
        created=now,
        case_ref=item.case_ref,
        subject_ref=item.subject_ref,
        routing=dict(item.routing),
    )
    return envelope.to_json()


def send(
    session: Session,
    journal: Journal,
    items: Iterable[Outgoing],
    *,
    keys: PartnerKeyPair,
    policy: Policy,
    directory: Directory,
    now: Callable[[], datetime],
    batch_size: int = BATCH,
    progress: Callable[[int], None] | None = None,
) -> SendReport:
    """Seal (or reuse from the journal) and send ``items`` in batches; store every receipt."""
    report = SendReport()
    pending: list[Entry] = []
    for item in items:
        entry = journal.get(item.key)
        if entry is not None and entry.accepted:
            report.already_sent += 1
            if progress:
                progress(1)
            continue
        if entry is not None and entry.receipt is None:
            report.resent += 1  # sealed before, answer lost: send the very same envelope
        else:
            entry = Entry(item.key, item.label, seal_outgoing(item, keys, policy, directory, now()))
            journal.put(entry)  # written before it leaves: a crash cannot lose or double it
        pending.append(entry)
        if len(pending) >= batch_size:
            _flush(session, journal, pending, report, progress)
    if pending:
        _flush(session, journal, pending, report, progress)
    return report


def _flush(
    session: Session,
    journal: Journal,
    pending: list[Entry],
    report: SendReport,
    progress: Callable[[int], None] | None,
) -> None:
    answer = session.call(
        "POST", "/api/v1/envelope-batches", body={"envelopes": [e.envelope for e in pending]}
    ).json()
    receipts: Sequence[dict[str, Any]] = answer["receipts"]
    if len(receipts) != len(pending):
        raise ClientError("The gateway answered with another number of receipts than sent.")
    for entry, receipt in zip(pending, receipts, strict=True):
        entry.receipt = receipt
        journal.archive_receipt(receipt)
        journal.put(entry)
        (report.accepted if entry.accepted else report.refused).append(entry)
    if progress:
        progress(len(pending))
    pending.clear()
