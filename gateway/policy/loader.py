"""Load the policy folder: strict YAML, schema checks, cross-file checks, the typed model.

Every problem found is collected (not just the first) and raised together as
:class:`PolicyInvalid`, each with its file and line.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

from marshmallow import Schema, ValidationError

from gateway.policy import schemas
from gateway.policy.errors import PolicyInvalid, PolicyProblem
from gateway.policy.model import (
    NO_STATE,
    SAME_STATE,
    Condition,
    Covenant,
    DataSubjectCategory,
    EventTransition,
    FieldDef,
    Flow,
    LegalBasis,
    Party,
    Policy,
    RecipientRule,
    Retention,
    RoutingAttribute,
    Schedule,
    State,
    Transition,
    Workflow,
)
from gateway.policy.yamlfile import YamlDocument, load_yaml

MAX_FLOW_FILES = 100


class _Collector:
    def __init__(self) -> None:
        self.problems: list[PolicyProblem] = []

    def add(self, doc: YamlDocument, path: tuple[str | int, ...], message: str) -> None:
        self.problems.append(PolicyProblem(doc.file, doc.line_of(path), message))


def _flatten(
    messages: Any, path: tuple[str | int, ...] = ()
) -> Iterable[tuple[tuple[str | int, ...], str]]:
    if isinstance(messages, dict):
        for key, value in messages.items():
            yield from _flatten(value, (*path, key))
    elif isinstance(messages, list) and all(isinstance(m, str) for m in messages):
        for message in messages:
            yield path, message
    elif isinstance(messages, list):
        for i, value in enumerate(messages):
            yield from _flatten(value, (*path, i))
    else:
        yield path, str(messages)


def _describe(path: tuple[str | int, ...], message: str) -> str:
    if message == "Unknown field.":
        return f"unknown key '{path[-1]}'" if path else "unknown key"
    # dict key/value errors from marshmallow come as {"key": {"key": [...]}} / {"value": ...}
    shown = ".".join(str(p) for p in path if p not in ("key", "value"))
    return f"{shown}: {message}" if shown else message


def _validate(doc: YamlDocument, schema: Schema, out: _Collector) -> dict[str, Any] | None:
    if not isinstance(doc.data, dict):
        out.add(doc, (), "the file must be a mapping of keys to values")
        return None
    try:
        result: dict[str, Any] = schema.load(doc.data)
    except ValidationError as error:
        for path, message in _flatten(error.messages):
            # Locate by the YAML path; marshmallow's dict errors insert "key"/"value" levels.
            yaml_path = tuple(p for p in path if p not in ("key", "value", "_schema"))
            out.add(doc, yaml_path, _describe(path, message))
        return None
    return result


def _covenant(data: dict[str, Any]) -> Covenant:
    schedule = data["schedule"]
    return Covenant(
        id=data["id"],
        name_nl=data["name_nl"],
        name_en=data["name_en"],
        effective_from=data["effective_from"],
        effective_until=data["effective_until"],
        controller_name=data["controller"]["name"],
        controller_address=data["controller"]["address"],
        privacy_officer_name=data["privacy_officer"]["name"],
        privacy_officer_email=data["privacy_officer"]["email"],
        privacy_officer_phone=data["privacy_officer"]["phone"],
        ap_notification_reference=data["ap_notification_reference"],
        data_subject_categories=tuple(
            DataSubjectCategory(c["id"], c["label_nl"], c["label_en"])
            for c in data["data_subject_categories"]
        ),
        security_measures_nl=tuple(data["security_measures_nl"]),
        security_measures_en=tuple(data["security_measures_en"]),
        parameters=MappingProxyType(dict(data["parameters"])),
        schedule=Schedule(**schedule),
        register_retention_months=MappingProxyType(dict(data["register_retention_months"])),
    )


def _field(field_id: str, d: dict[str, Any]) -> FieldDef:
    return FieldDef(
        id=field_id,
        type=d["type"],
        category=d["category"],
        personal=d["personal"],
        label_nl=d["label_nl"],
        label_en=d["label_en"],
        description_nl=d["description_nl"],
        description_en=d["description_en"],
        max_length=d.get("max_length"),
        pattern=d.get("pattern"),
        minimum=d.get("minimum"),
        maximum=d.get("maximum"),
        values=tuple(d.get("values", ())),
    )


def _flow(d: dict[str, Any]) -> Flow:
    return Flow(
        id=d["id"],
        label_nl=d["label_nl"],
        label_en=d["label_en"],
        sender_roles=frozenset(d["sender_roles"]),
        opens_case=d["opens_case"],
        consent_field=d.get("consent_field"),
        conditions=tuple(
            Condition(c["field"], c["operator"], c.get("value"), c.get("parameter"))
            for c in d["conditions"]
        ),
        routing=MappingProxyType(
            {
                name: RoutingAttribute(name, a["type"], a["required"], a["label_nl"], a["label_en"])
                for name, a in d["routing"].items()
            }
        ),
        recipients=tuple(
            RecipientRule(
                role=r["role"],
                mandatory=r["mandatory"],
                purpose_nl=r["purpose_nl"],
                purpose_en=r["purpose_en"],
                legal_basis=LegalBasis(r["legal_basis"]["article"], r["legal_basis"]["law"]),
                retention=Retention(
                    months=r["retention"]["months"],
                    rule_nl=r["retention"]["rule_nl"],
                    rule_en=r["retention"]["rule_en"],
                    picked_up_months=r["retention"].get("picked_up_months"),
                    after_closure_months=r["retention"].get("after_closure_months"),
                ),
                allowed=frozenset(r["allowed"]),
                required_fields=frozenset(r["required_fields"]),
            )
            for r in d["recipients"]
        ),
    )


def _duplicates(items: Iterable[str]) -> list[tuple[int, str]]:
    seen: set[str] = set()
    dups = []
    for i, item in enumerate(items):
        if item in seen:
            dups.append((i, item))
        seen.add(item)
    return dups


def _check_covenant(doc: YamlDocument, data: dict[str, Any], out: _Collector) -> None:
    for i, party_id in _duplicates(p["id"] for p in data["parties"]):
        out.add(doc, ("parties", i, "id"), f"duplicate party id '{party_id}'")
    for i, cat in _duplicates(c["id"] for c in data["data_subject_categories"]):
        out.add(doc, ("data_subject_categories", i, "id"), f"duplicate category id '{cat}'")
    for name, value in data["parameters"].items():
        if isinstance(value, bool) or not isinstance(value, int | float):
            out.add(doc, ("parameters", name), f"parameter '{name}' must be a number")
    until = data["effective_until"]
    if until is not None and until < data["effective_from"]:
        out.add(doc, ("effective_until",), "effective_until is before effective_from")


def _check_fields(doc: YamlDocument, fields: Mapping[str, FieldDef], out: _Collector) -> None:
    for field_id, f in fields.items():
        if f.pattern is not None:
            try:
                re.compile(f.pattern)
            except re.error as error:
                out.add(
                    doc, ("fields", field_id, "pattern"), f"pattern is not a valid regex: {error}"
                )
        if f.minimum is not None and f.maximum is not None and f.minimum > f.maximum:
            out.add(doc, ("fields", field_id, "minimum"), "minimum is larger than maximum")


def _check_flow(
    doc: YamlDocument,
    flow: Flow,
    fields: Mapping[str, FieldDef],
    parties: Mapping[str, Party],
    parameters: Mapping[str, object],
    out: _Collector,
) -> None:
    roles_with_party = {role for p in parties.values() for role in p.roles}
    for i, role in enumerate(sorted(flow.sender_roles)):
        if role not in roles_with_party:
            out.add(doc, ("sender_roles",), f"sender role '{role}' has no party in covenant.yaml")
            del i
    for i, dup in _duplicates(r.role for r in flow.recipients):
        out.add(doc, ("recipients", i, "role"), f"recipient role '{dup}' is listed twice")
    for i, rule in enumerate(flow.recipients):
        where = ("recipients", i)
        if rule.role not in roles_with_party:
            out.add(
                doc, (*where, "role"), f"recipient role '{rule.role}' has no party in covenant.yaml"
            )
        raw = doc.data["recipients"][i]
        for j, name in enumerate(raw["allowed"]):
            if name not in fields:
                out.add(doc, (*where, "allowed", j), f"field '{name}' is not in fields.yaml")
        for j, dup in _duplicates(raw["allowed"]):
            out.add(doc, (*where, "allowed", j), f"field '{dup}' is listed twice")
        for j, name in enumerate(raw.get("required", [])):
            if name not in rule.allowed:
                out.add(
                    doc,
                    (*where, "required", j),
                    f"required field '{name}' is not in the allowed fields of '{rule.role}'",
                )
        if flow.consent_field and flow.consent_field not in rule.required_fields:
            out.add(
                doc,
                ("consent_field",),
                f"consent field '{flow.consent_field}' must be required for '{rule.role}'",
            )
    if flow.consent_field and flow.consent_field not in fields:
        out.add(doc, ("consent_field",), f"field '{flow.consent_field}' is not in fields.yaml")
    all_allowed = {f for r in flow.recipients for f in r.allowed}
    for i, cond in enumerate(flow.conditions):
        if cond.field not in fields:
            out.add(doc, ("conditions", i, "field"), f"field '{cond.field}' is not in fields.yaml")
        elif cond.field not in all_allowed:
            out.add(
                doc,
                ("conditions", i, "field"),
                f"condition on '{cond.field}', which no recipient of this flow receives",
            )
        if cond.parameter is not None and cond.parameter not in parameters:
            out.add(
                doc,
                ("conditions", i, "parameter"),
                f"parameter '{cond.parameter}' is not in covenant.yaml parameters",
            )
    for name in flow.routing:
        if name in fields:
            out.add(doc, ("routing", name), f"routing attribute '{name}' is also a field name")


def _workflow(data: dict[str, Any]) -> Workflow:
    states = {
        s["id"]: State(
            s["id"],
            s["label_nl"],
            s["label_en"],
            s["deadline_working_days"]["normal"] if "deadline_working_days" in s else None,
            s["deadline_working_days"]["priority"] if "deadline_working_days" in s else None,
        )
        for s in data["states"]
    }
    return Workflow(
        states=MappingProxyType(states),
        transitions=tuple(
            Transition(t["flow"], frozenset(t["from_"]), t["to"]) for t in data["transitions"]
        ),
        events=tuple(
            EventTransition(e["event"], frozenset(e["from_"]), e["to"]) for e in data["events"]
        ),
    )


def _check_workflow(
    doc: YamlDocument,
    data: dict[str, Any],
    flow_ids: set[str],
    flows: Mapping[str, Flow],
    out: _Collector,
) -> None:
    """Check the workflow against every flow id seen in the files (valid or not)."""
    for i, dup in _duplicates(s["id"] for s in data["states"]):
        out.add(doc, ("states", i, "id"), f"duplicate state id '{dup}'")
    states = {s["id"] for s in data["states"]}
    if NO_STATE in states or SAME_STATE in states:
        out.add(doc, ("states",), f"'{NO_STATE}' and '{SAME_STATE}' are reserved state names")
    for kind, items in (("transitions", data["transitions"]), ("events", data["events"])):
        for i, t in enumerate(items):
            if kind == "transitions" and t["flow"] not in flow_ids:
                out.add(doc, (kind, i, "flow"), f"unknown flow '{t['flow']}'")
            for j, state in enumerate(t["from_"]):
                if state not in states and not (kind == "transitions" and state == NO_STATE):
                    out.add(doc, (kind, i, "from", j), f"unknown state '{state}'")
            if t["to"] not in states and t["to"] != SAME_STATE:
                out.add(doc, (kind, i, "to"), f"unknown state '{t['to']}'")
            if kind == "transitions" and t["flow"] in flows:
                opens = NO_STATE in t["from_"]
                if opens and not flows[t["flow"]].opens_case:
                    out.add(
                        doc,
                        (kind, i, "from"),
                        f"flow '{t['flow']}' starts from '{NO_STATE}' but does not have "
                        "opens_case: true",
                    )
                if opens and t["to"] == SAME_STATE:
                    out.add(doc, (kind, i, "to"), f"a transition from '{NO_STATE}' needs a state")
    seen: dict[tuple[str, str], int] = {}
    for i, t in enumerate(data["transitions"]):
        for state in t["from_"]:
            if (t["flow"], state) in seen:
                out.add(
                    doc,
                    ("transitions", i),
                    f"flow '{t['flow']}' has two transitions from state '{state}'",
                )
            seen[(t["flow"], state)] = i
    with_transition = {t["flow"] for t in data["transitions"]}
    for flow_id in sorted(flow_ids - with_transition):
        out.add(
            doc, ("transitions",), f"flow '{flow_id}' has no transition: it could never be used"
        )
    for flow_id, flow in flows.items():
        if flow.opens_case and flow_id in with_transition and (flow_id, NO_STATE) not in seen:
            out.add(
                doc,
                ("transitions",),
                f"flow '{flow_id}' opens cases but has no transition from '{NO_STATE}'",
            )


def load_policy(directory: Path) -> Policy:
    """Load and validate the policy folder; raise PolicyInvalid listing every problem."""
    from gateway.policy.bundle import version_id

    out = _Collector()
    required = ("covenant.yaml", "fields.yaml", "workflow.yaml")
    docs: dict[str, YamlDocument] = {}
    if not directory.is_dir():
        raise PolicyInvalid([PolicyProblem(str(directory), 1, "the policy folder does not exist")])
    for name in required:
        path = directory / name
        if not path.is_file():
            out.problems.append(PolicyProblem(name, 1, "file is missing"))
            continue
        doc, problems = load_yaml(path, name)
        out.problems.extend(problems)
        if doc is not None:
            docs[name] = doc
    flow_paths = (
        sorted((directory / "flows").glob("*.yaml")) if (directory / "flows").is_dir() else []
    )
    if not flow_paths:
        out.problems.append(
            PolicyProblem("flows/", 1, "no flow files: an empty rule set denies everything")
        )
    if len(flow_paths) > MAX_FLOW_FILES:
        out.problems.append(PolicyProblem("flows/", 1, f"more than {MAX_FLOW_FILES} flow files"))
        flow_paths = flow_paths[:MAX_FLOW_FILES]
    flow_docs = []
    for path in flow_paths:
        doc, problems = load_yaml(path, f"flows/{path.name}")
        out.problems.extend(problems)
        if doc is not None:
            flow_docs.append(doc)

    covenant_data = (
        _validate(docs["covenant.yaml"], schemas.CovenantSchema(), out)
        if "covenant.yaml" in docs
        else None
    )
    fields_data = (
        _validate(docs["fields.yaml"], schemas.FieldsFileSchema(), out)
        if "fields.yaml" in docs
        else None
    )
    workflow_data = (
        _validate(docs["workflow.yaml"], schemas.WorkflowSchema(), out)
        if "workflow.yaml" in docs
        else None
    )

    parties: dict[str, Party] = {}
    covenant = None
    if covenant_data is not None:
        _check_covenant(docs["covenant.yaml"], covenant_data, out)
        covenant = _covenant(covenant_data)
        parties = {
            p["id"]: Party(p["id"], p["name"], p["organisation"], frozenset(p["roles"]))
            for p in covenant_data["parties"]
        }
    fields: dict[str, FieldDef] = {}
    if fields_data is not None:
        fields = {fid: _field(fid, d) for fid, d in fields_data["field_definitions"].items()}
        _check_fields(docs["fields.yaml"], fields, out)

    flows: dict[str, Flow] = {}
    flow_ids = {
        str(doc.data["id"])
        for doc in flow_docs
        if isinstance(doc.data, dict) and isinstance(doc.data.get("id"), str)
    }
    for doc in flow_docs:
        data = _validate(doc, schemas.FlowSchema(), out)
        if data is None:
            continue
        flow = _flow(data)
        expected_name = f"flows/{flow.id}.yaml"
        if doc.file != expected_name:
            out.add(doc, ("id",), f"flow id '{flow.id}' must match its file name ({expected_name})")
        if flow.id in flows:
            out.add(doc, ("id",), f"duplicate flow id '{flow.id}'")
            continue
        if fields_data is not None and covenant is not None:
            _check_flow(doc, flow, fields, parties, covenant.parameters, out)
        flows[flow.id] = flow

    workflow = None
    if workflow_data is not None:
        workflow = _workflow(workflow_data)
        _check_workflow(docs["workflow.yaml"], workflow_data, flow_ids, flows, out)

    if out.problems or covenant is None or workflow is None:
        raise PolicyInvalid(out.problems or [PolicyProblem(str(directory), 1, "policy incomplete")])
    policy = Policy(
        covenant=covenant,
        parties=MappingProxyType(parties),
        fields=MappingProxyType(fields),
        flows=MappingProxyType(dict(sorted(flows.items()))),
        workflow=workflow,
    )
    return replace(policy, version_id=version_id(policy))
