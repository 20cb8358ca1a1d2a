"""The data-sharing matrix: per flow, which recipient gets which fields (the covenant annex)."""

from __future__ import annotations

import csv
import html
import io
from dataclasses import dataclass

from gateway.policy.model import Flow, Policy

REQUIRED, ALLOWED, NONE = "R", "X", ""


@dataclass(frozen=True)
class FlowMatrix:
    flow: Flow
    roles: tuple[str, ...]
    rows: tuple[tuple[str, tuple[str, ...]], ...]  # (field id, one mark per role)


def build(policy: Policy, flow_id: str | None = None) -> list[FlowMatrix]:
    result = []
    for flow in policy.flows.values():
        if flow_id is not None and flow.id != flow_id:
            continue
        roles = tuple(r.role for r in flow.recipients)
        used = {f for r in flow.recipients for f in r.allowed}
        rows = []
        for field_id in (f for f in policy.fields if f in used):
            marks = []
            for rule in flow.recipients:
                if field_id in rule.required_fields:
                    marks.append(REQUIRED)
                elif field_id in rule.allowed:
                    marks.append(ALLOWED)
                else:
                    marks.append(NONE)
            rows.append((field_id, tuple(marks)))
        result.append(FlowMatrix(flow, roles, tuple(rows)))
    return result


def _senders(policy: Policy, flow: Flow) -> str:
    return ", ".join(sorted(flow.sender_roles))


def render_text(policy: Policy, matrices: list[FlowMatrix]) -> str:
    out = []
    for m in matrices:
        out.append(f"{m.flow.id}: {m.flow.label_nl} / {m.flow.label_en}")
        out.append(f"  from: {_senders(policy, m.flow)}")
        width = max([len(f) for f, _ in m.rows] + [5])
        out.append("  " + "field".ljust(width) + "  " + "  ".join(m.roles))
        for field_id, marks in m.rows:
            cells = "  ".join(
                mark.center(len(role)) for mark, role in zip(marks, m.roles, strict=True)
            )
            out.append("  " + field_id.ljust(width) + "  " + cells)
        for rule in m.flow.recipients:
            out.append(f"  {rule.role}: purpose: {rule.purpose_en}")
            out.append(
                f"  {' ' * len(rule.role)}  legal basis: {rule.legal_basis}; "
                f"retention: {rule.retention.rule_en}"
            )
        out.append("")
    out.append("R = required, X = allowed, blank = never sent")
    return "\n".join(out) + "\n"


def render_csv(policy: Policy, matrices: list[FlowMatrix]) -> str:
    """Dutch-spreadsheet CSV: ';' separated, UTF-8 with BOM (added by the writer of the file)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(
        [
            "stroom",
            "afzender",
            "veld",
            "categorie",
            "ontvanger",
            "verplicht",
            "doel",
            "grondslag",
            "bewaartermijn",
        ]
    )
    for m in matrices:
        for rule in m.flow.recipients:
            for field_id in (f for f, _ in m.rows if f in rule.allowed):
                writer.writerow(
                    [
                        m.flow.id,
                        _senders(policy, m.flow),
                        field_id,
                        policy.fields[field_id].category,
                        rule.role,
                        "ja" if field_id in rule.required_fields else "nee",
                        rule.purpose_nl,
                        str(rule.legal_basis),
                        rule.retention.rule_nl,
                    ]
                )
    return "\ufeff" + buffer.getvalue()


def render_html(policy: Policy, matrices: list[FlowMatrix]) -> str:
    e = html.escape
    c = policy.covenant
    parts = [
        "<!DOCTYPE html>",
        '<html lang="nl"><head><meta charset="utf-8">',
        f"<title>Bijlage gegevensuitwisseling: {e(c.name_nl)}</title>",
        "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;margin-bottom:1em}"
        "th,td{border:1px solid #555;padding:.25em .5em;text-align:left}"
        "td.m{text-align:center;font-weight:bold}"
        ".identification{background:#fde2e2}.contact{background:#fff2cc}"
        ".financial{background:#dbeafe}.household{background:#e9d5ff}.case{background:#dcfce7}"
        "@media print{section{page-break-inside:avoid}}</style></head><body>",
        "<h1>Bijlage gegevensuitwisseling</h1>",
        render_html_body(policy, matrices),
        "</body></html>",
    ]
    return "\n".join(parts) + "\n"


def render_html_body(policy: Policy, matrices: list[FlowMatrix]) -> str:
    """The matrix as an HTML fragment (no head, no style, no h1): the annex's body and the
    console's page. Every text is escaped."""
    e = html.escape
    c = policy.covenant
    parts = [
        f"<p>{e(c.name_nl)}. Verwerkingsverantwoordelijke: "
        f"{e(c.controller_name)}. Beleidsversie <code>{e(policy.version_id[:16])}</code>.</p>",
        "<p>R = verplicht, X = toegestaan, leeg = wordt nooit verstrekt.</p>",
    ]
    for m in matrices:
        parts.append(f'<section><h2 id="{e(m.flow.id)}">{e(m.flow.label_nl)}</h2>')
        parts.append(f"<p>Afzender: {e(_senders(policy, m.flow))}</p>")
        parts.append(
            "<table><caption>Velden per ontvanger</caption><thead><tr><th scope='col'>Veld</th>"
            "<th scope='col'>Categorie</th>"
        )
        parts.extend(f"<th scope='col'>{e(role)}</th>" for role in m.roles)
        parts.append("</tr></thead><tbody>")
        for field_id, marks in m.rows:
            definition = policy.fields[field_id]
            parts.append(
                f"<tr class='{e(definition.category)}'><th scope='row'>{e(definition.label_nl)}"
                f" <small>({e(field_id)})</small></th><td>{e(definition.category)}</td>"
            )
            parts.extend(f"<td class='m'>{e(mark)}</td>" for mark in marks)
            parts.append("</tr>")
        parts.append("</tbody></table><dl>")
        for rule in m.flow.recipients:
            parts.append(
                f"<dt>{e(rule.role)}</dt><dd>Doel: {e(rule.purpose_nl)}<br>Grondslag: "
                f"{e(str(rule.legal_basis))}<br>Bewaartermijn: {e(rule.retention.rule_nl)}</dd>"
            )
        parts.append("</dl></section>")
    return "\n".join(parts)
