"""Write a typed policy back to policy files that :func:`load_policy` accepts.

The files come out in one canonical layout (keys in a fixed order, block style, no comments);
loading them gives a policy with the same version id. The console uses this to write an edited
flow file and to rebuild an old version from its stored bundle.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from gateway.policy.model import Covenant, FieldDef, Flow, Policy, RecipientRule, Workflow

HEADER = "# Written by the Sluis console in a canonical layout; edit here or in the console.\n"


class _Dumper(yaml.SafeDumper):
    """SafeDumper that never writes anchors or aliases (the loader refuses them)."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def dump(document: Mapping[str, Any]) -> str:
    text: str = yaml.dump(
        dict(document),
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=False,
        width=100,
    )
    return HEADER + text


def _number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value


def covenant_document(policy: Policy) -> dict[str, Any]:
    c: Covenant = policy.covenant
    doc: dict[str, Any] = {
        "id": c.id,
        "name_nl": c.name_nl,
        "name_en": c.name_en,
        "effective_from": c.effective_from,
    }
    if c.effective_until is not None:
        doc["effective_until"] = c.effective_until
    doc.update(
        {
            "controller": {"name": c.controller_name, "address": c.controller_address},
            "privacy_officer": {
                "name": c.privacy_officer_name,
                "email": c.privacy_officer_email,
                "phone": c.privacy_officer_phone,
            },
            "ap_notification_reference": c.ap_notification_reference,
            "data_subject_categories": [
                {"id": d.id, "label_nl": d.label_nl, "label_en": d.label_en}
                for d in c.data_subject_categories
            ],
            "security_measures_nl": list(c.security_measures_nl),
            "security_measures_en": list(c.security_measures_en),
            "parameters": dict(c.parameters),
            "schedule": {
                "monthly_delivery_day": c.schedule.monthly_delivery_day,
                "acknowledged_envelope_grace_days": c.schedule.acknowledged_envelope_grace_days,
                "undelivered_envelope_expiry_days": c.schedule.undelivered_envelope_expiry_days,
                "repeat_signal_lookback_months": c.schedule.repeat_signal_lookback_months,
            },
            "register_retention_months": dict(c.register_retention_months),
            "parties": [
                {
                    "id": p.id,
                    "name": p.name,
                    "organisation": p.organisation,
                    "roles": sorted(p.roles),
                }
                for p in policy.parties.values()
            ],
        }
    )
    return doc


def _field(f: FieldDef) -> dict[str, Any]:
    doc: dict[str, Any] = {"type": f.type}
    if f.max_length is not None:
        doc["max_length"] = f.max_length
    if f.pattern is not None:
        doc["pattern"] = f.pattern
    if f.minimum is not None:
        doc["minimum"] = _number(f.minimum)
    if f.maximum is not None:
        doc["maximum"] = _number(f.maximum)
    if f.values:
        doc["values"] = list(f.values)
    doc.update(
        {
            "category": f.category,
            "personal": f.personal,
            "label_nl": f.label_nl,
            "label_en": f.label_en,
            "description_nl": f.description_nl,
            "description_en": f.description_en,
        }
    )
    return doc


def fields_document(policy: Policy) -> dict[str, Any]:
    return {"fields": {fid: _field(f) for fid, f in policy.fields.items()}}


def _recipient(rule: RecipientRule, field_order: list[str]) -> dict[str, Any]:
    retention: dict[str, Any] = {"months": rule.retention.months}
    if rule.retention.picked_up_months is not None:
        retention["picked_up_months"] = rule.retention.picked_up_months
    if rule.retention.after_closure_months is not None:
        retention["after_closure_months"] = rule.retention.after_closure_months
    retention["rule_nl"] = rule.retention.rule_nl
    retention["rule_en"] = rule.retention.rule_en

    def ordered(names: frozenset[str]) -> list[str]:
        # Dictionary order reads best; names not in the dictionary (never in a valid policy,
        # but possible in an edit under validation) go last.
        known = [n for n in field_order if n in names]
        return known + sorted(names - set(known))

    return {
        "role": rule.role,
        "mandatory": rule.mandatory,
        "purpose_nl": rule.purpose_nl,
        "purpose_en": rule.purpose_en,
        "legal_basis": {"article": rule.legal_basis.article, "law": rule.legal_basis.law},
        "retention": retention,
        "allowed": ordered(rule.allowed),
        "required": ordered(rule.required_fields),
    }


def flow_document(flow: Flow, field_order: list[str]) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "id": flow.id,
        "label_nl": flow.label_nl,
        "label_en": flow.label_en,
        "sender_roles": sorted(flow.sender_roles),
        "opens_case": flow.opens_case,
    }
    if flow.consent_field is not None:
        doc["consent_field"] = flow.consent_field
    conditions = []
    for c in flow.conditions:
        cond: dict[str, Any] = {"field": c.field, "operator": c.operator}
        if c.parameter is not None:
            cond["parameter"] = c.parameter
        else:
            cond["value"] = c.value
        conditions.append(cond)
    if conditions:
        doc["conditions"] = conditions
    if flow.routing:
        doc["routing"] = {
            name: {
                "type": a.type,
                "required": a.required,
                "label_nl": a.label_nl,
                "label_en": a.label_en,
            }
            for name, a in flow.routing.items()
        }
    doc["recipients"] = [_recipient(r, field_order) for r in flow.recipients]
    return doc


def workflow_document(workflow: Workflow) -> dict[str, Any]:
    states = []
    for s in workflow.states.values():
        state: dict[str, Any] = {"id": s.id, "label_nl": s.label_nl, "label_en": s.label_en}
        if s.deadline_normal_days is not None and s.deadline_priority_days is not None:
            state["deadline_working_days"] = {
                "normal": s.deadline_normal_days,
                "priority": s.deadline_priority_days,
            }
        states.append(state)
    return {
        "states": states,
        "events": [
            {"event": e.event, "from": sorted(e.from_states), "to": e.to} for e in workflow.events
        ],
        "transitions": [
            {"flow": t.flow, "from": sorted(t.from_states), "to": t.to}
            for t in workflow.transitions
        ],
    }


def flow_file(flow: Flow, policy: Policy) -> str:
    """The text of ``flows/<id>.yaml`` for ``flow`` (field order from ``policy``'s dictionary)."""
    return dump(flow_document(flow, list(policy.fields)))


def policy_files(policy: Policy) -> dict[str, str]:
    """Every policy file of ``policy``, by its path relative to the policy folder."""
    files = {
        "covenant.yaml": dump(covenant_document(policy)),
        "fields.yaml": dump(fields_document(policy)),
        "workflow.yaml": dump(workflow_document(policy.workflow)),
    }
    for flow in policy.flows.values():
        files[f"flows/{flow.id}.yaml"] = flow_file(flow, policy)
    return files


def write_file_atomically(path: Path, text: str) -> None:
    """Write ``text`` to a temporary name beside ``path``, flush it to disk, rename it over."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)  # noqa: S103 - policy files are public documents, as before
        os.replace(tmp, path)
    except BaseException:  # any failure: leave no temporary file behind, then re-raise
        Path(tmp).unlink(missing_ok=True)
        raise


def write_policy(policy: Policy, directory: Path) -> None:
    """Write every file of ``policy`` into ``directory`` (a fresh folder)."""
    for name, text in policy_files(policy).items():
        write_file_atomically(directory / name, text)
