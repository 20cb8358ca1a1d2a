"""The GDPR art. 30 register of processing activities, generated from the covenant policy.

Pure: a :class:`~gateway.policy.model.Policy` and a time in, a frozen :class:`Art30Register`
out, rendered as canonical JSON, as a Dutch-spreadsheet CSV or as HTML (Dutch by default) that
:mod:`gateway.register.pdf` turns into the PDF the privacy officer sends to the AP. A policy holds
no field values, and neither does this record: only field names and their categories.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from gateway.policy.model import Flow, Policy, RecipientRule

FORMAT = "sluis-art30/1"
LANGUAGES: tuple[str, ...] = ("nl", "en")

CATEGORY_LABELS: dict[str, tuple[str, str]] = {
    "identification": ("identificatiegegevens", "identification data"),
    "contact": ("contactgegevens", "contact details"),
    "financial": ("financiële gegevens", "financial data"),
    "household": ("gegevens over het huishouden", "household data"),
    "case": ("dossiergegevens", "case data"),
}
ROLE_LABELS: dict[str, tuple[str, str]] = {
    "landlord": ("verhuurder", "landlord"),
    "municipality-intake": ("gemeente, intake", "municipality, intake"),
    "director": ("regisseur", "director"),
    "benefits-administration": ("uitkeringsadministratie", "benefits administration"),
    "social-work": ("maatschappelijk werk", "social work"),
    "expert": ("deskundige", "expert"),
}
NO_THIRD_COUNTRY = ("geen", "none")


@dataclass(frozen=True)
class DataCategory:
    """One category of personal data in an activity, with the field NAMES (never values)."""

    category: str
    label_nl: str
    label_en: str
    fields: tuple[str, ...]


@dataclass(frozen=True)
class SubjectCategory:
    id: str
    label_nl: str
    label_en: str


@dataclass(frozen=True)
class ProcessingActivity:
    """One flow to one recipient role: the unit the covenant grants and art. 30 describes."""

    flow_id: str
    flow_label_nl: str
    flow_label_en: str
    recipient_role: str
    recipient_role_nl: str
    recipient_role_en: str
    senders: tuple[str, ...]
    recipients: tuple[str, ...]
    purpose_nl: str
    purpose_en: str
    legal_basis_article: str
    legal_basis_law: str
    data_subject_categories: tuple[SubjectCategory, ...]
    data_categories: tuple[DataCategory, ...]
    retention_months: int
    retention_picked_up_months: int | None
    retention_after_closure_months: int | None
    retention_rule_nl: str
    retention_rule_en: str
    security_measures_nl: tuple[str, ...]
    security_measures_en: tuple[str, ...]
    third_country_transfers_nl: str
    third_country_transfers_en: str

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(sorted(name for c in self.data_categories for name in c.fields))


@dataclass(frozen=True)
class Art30Register:
    generated_at: datetime
    policy_version: str
    covenant_id: str
    covenant_name_nl: str
    covenant_name_en: str
    effective_from: date
    effective_until: date | None
    controller_name: str
    controller_address: str
    privacy_officer_name: str
    privacy_officer_email: str
    privacy_officer_phone: str
    ap_notification_reference: str
    register_retention_processing_months: int | None
    register_retention_administration_months: int | None
    activities: tuple[ProcessingActivity, ...]

    def to_json_dict(self) -> dict[str, Any]:
        """Plain JSON-able data: str, int, None, lists and dicts only."""
        return {
            "format": FORMAT,
            "generated_at": self.generated_at.isoformat(),
            "policy_version": self.policy_version,
            "covenant": {
                "id": self.covenant_id,
                "name_nl": self.covenant_name_nl,
                "name_en": self.covenant_name_en,
                "effective_from": self.effective_from.isoformat(),
                "effective_until": _iso_or_none(self.effective_until),
            },
            "controller": {"name": self.controller_name, "address": self.controller_address},
            "privacy_officer": {
                "name": self.privacy_officer_name,
                "email": self.privacy_officer_email,
                "phone": self.privacy_officer_phone,
            },
            "ap_notification_reference": self.ap_notification_reference,
            "register_retention_months": {
                "processing": self.register_retention_processing_months,
                "administration": self.register_retention_administration_months,
            },
            "activities": [_activity_dict(a) for a in self.activities],
        }


def build_art30(policy: Policy, *, generated_at: datetime) -> Art30Register:
    """The art. 30(1) record of ``policy``: one activity per flow and recipient rule, sorted."""
    if generated_at.tzinfo is None or generated_at.utcoffset() is None:
        raise ValueError("generated_at must be timezone-aware")
    c = policy.covenant
    retention = c.register_retention_months
    activities = [
        _activity(policy, flow, rule) for flow in policy.flows.values() for rule in flow.recipients
    ]
    activities.sort(key=lambda a: (a.flow_id, a.recipient_role))
    return Art30Register(
        generated_at=generated_at,
        policy_version=policy.version_id,
        covenant_id=c.id,
        covenant_name_nl=c.name_nl,
        covenant_name_en=c.name_en,
        effective_from=c.effective_from,
        effective_until=c.effective_until,
        controller_name=c.controller_name,
        controller_address=c.controller_address,
        privacy_officer_name=c.privacy_officer_name,
        privacy_officer_email=c.privacy_officer_email,
        privacy_officer_phone=c.privacy_officer_phone,
        ap_notification_reference=c.ap_notification_reference,
        register_retention_processing_months=_months(retention.get("processing")),
        register_retention_administration_months=_months(retention.get("administration")),
        activities=tuple(activities),
    )


def _activity(policy: Policy, flow: Flow, rule: RecipientRule) -> ProcessingActivity:
    c = policy.covenant
    role_nl, role_en = ROLE_LABELS.get(rule.role, (rule.role, rule.role))
    subjects = sorted(c.data_subject_categories, key=lambda s: s.id)
    return ProcessingActivity(
        flow_id=flow.id,
        flow_label_nl=flow.label_nl,
        flow_label_en=flow.label_en,
        recipient_role=rule.role,
        recipient_role_nl=role_nl,
        recipient_role_en=role_en,
        senders=_party_names(policy, flow.sender_roles),
        recipients=_party_names(policy, {rule.role}),
        purpose_nl=rule.purpose_nl,
        purpose_en=rule.purpose_en,
        legal_basis_article=rule.legal_basis.article,
        legal_basis_law=rule.legal_basis.law,
        data_subject_categories=tuple(
            SubjectCategory(s.id, s.label_nl, s.label_en) for s in subjects
        ),
        data_categories=_data_categories(policy, rule),
        retention_months=rule.retention.months,
        retention_picked_up_months=rule.retention.picked_up_months,
        retention_after_closure_months=rule.retention.after_closure_months,
        retention_rule_nl=rule.retention.rule_nl,
        retention_rule_en=rule.retention.rule_en,
        security_measures_nl=c.security_measures_nl,
        security_measures_en=c.security_measures_en,
        third_country_transfers_nl=NO_THIRD_COUNTRY[0],
        third_country_transfers_en=NO_THIRD_COUNTRY[1],
    )


def _party_names(policy: Policy, roles: frozenset[str] | set[str]) -> tuple[str, ...]:
    return tuple(sorted({p.name for role in roles for p in policy.parties_with_role(role)}))


def _data_categories(policy: Policy, rule: RecipientRule) -> tuple[DataCategory, ...]:
    by_category: dict[str, list[str]] = {}
    for name in rule.allowed:
        definition = policy.fields[name]
        if definition.personal:
            by_category.setdefault(definition.category, []).append(name)
    result = []
    for category in sorted(by_category):
        label_nl, label_en = CATEGORY_LABELS.get(category, (category, category))
        result.append(
            DataCategory(category, label_nl, label_en, tuple(sorted(by_category[category])))
        )
    return tuple(result)


def _months(value: object) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"register retention must be a whole number of months, not {value!r}")
    return value


def _iso_or_none(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


def _activity_dict(a: ProcessingActivity) -> dict[str, Any]:
    return {
        "flow": {"id": a.flow_id, "label_nl": a.flow_label_nl, "label_en": a.flow_label_en},
        "recipient_role": {
            "id": a.recipient_role,
            "label_nl": a.recipient_role_nl,
            "label_en": a.recipient_role_en,
        },
        "senders": list(a.senders),
        "recipients": list(a.recipients),
        "purpose": {"nl": a.purpose_nl, "en": a.purpose_en},
        "legal_basis": {"article": a.legal_basis_article, "law": a.legal_basis_law},
        "data_subject_categories": [
            {"id": s.id, "label_nl": s.label_nl, "label_en": s.label_en}
            for s in a.data_subject_categories
        ],
        "personal_data_categories": [
            {
                "category": d.category,
                "label_nl": d.label_nl,
                "label_en": d.label_en,
                "fields": list(d.fields),
            }
            for d in a.data_categories
        ],
        "retention": {
            "months": a.retention_months,
            "picked_up_months": a.retention_picked_up_months,
            "after_closure_months": a.retention_after_closure_months,
            "rule_nl": a.retention_rule_nl,
            "rule_en": a.retention_rule_en,
        },
        "security_measures": {
            "nl": list(a.security_measures_nl),
            "en": list(a.security_measures_en),
        },
        "third_country_transfers": {
            "nl": a.third_country_transfers_nl,
            "en": a.third_country_transfers_en,
        },
    }


# --- renderers ---------------------------------------------------------------------------------


def render_json(reg: Art30Register) -> bytes:
    """Canonical JSON: sorted keys, UTF-8 (not \\u-escaped), two-space indent, final newline."""
    text = json.dumps(reg.to_json_dict(), sort_keys=True, ensure_ascii=False, indent=2)
    return (text + "\n").encode("utf-8")


CSV_HEADER: tuple[str, ...] = (
    "verwerking",
    "gegevensstroom",
    "ontvangerrol",
    "verstrekkers",
    "ontvangers",
    "doel",
    "grondslag artikel",
    "grondslag wet",
    "categorieën betrokkenen",
    "categorieën persoonsgegevens",
    "velden",
    "bewaartermijn maanden",
    "bewaartermijn",
    "beveiligingsmaatregelen",
    "doorgifte derde landen",
    "beleidsversie",
)


def render_csv(reg: Art30Register) -> bytes:
    """Dutch-spreadsheet CSV: ';' separated, UTF-8 with BOM, CRLF, one row per activity."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(CSV_HEADER)
    for a in reg.activities:
        writer.writerow(
            [
                f"{a.flow_id}/{a.recipient_role}",
                a.flow_label_nl,
                a.recipient_role_nl,
                ", ".join(a.senders),
                ", ".join(a.recipients),
                a.purpose_nl,
                a.legal_basis_article,
                a.legal_basis_law,
                ", ".join(s.label_nl for s in a.data_subject_categories),
                ", ".join(d.label_nl for d in a.data_categories),
                ", ".join(a.field_names),
                str(a.retention_months),
                a.retention_rule_nl,
                ", ".join(a.security_measures_nl),
                a.third_country_transfers_nl,
                reg.policy_version,
            ]
        )
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


_ENV = Environment(
    loader=PackageLoader("gateway.register", "templates"),
    autoescape=select_autoescape(("html",), default=True, default_for_string=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def render_html(reg: Art30Register, lang: str = "nl") -> str:
    """A self-contained HTML document (no scripts, no remote resources), Dutch by default."""
    if lang not in LANGUAGES:
        raise ValueError(f"lang must be one of {', '.join(LANGUAGES)}, not {lang!r}")
    template = _ENV.get_template("art30.html")
    return template.render(reg=reg, lang=lang, generated=_dutch_time(reg.generated_at))


def _dutch_time(moment: datetime) -> str:
    return moment.strftime("%d-%m-%Y %H:%M %Z").strip()
