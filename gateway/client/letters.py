"""Letters that tell tenants their data was passed on: why, to whom, and where to ask.

For every row sent in the arrears signal the landlord informs the tenant (Besluit
gemeentelijke schuldhulpverlening, art. 2; GDPR art. 13/14). The letter is rendered from the
Jinja2 template ``policies/letters/informatie-huurder.html`` with the policy's own texts: the
field LABELS sent (never the values, apart from the tenant's name and address for the letter
head), the intake's party name, the purpose, the legal basis, the retention rule and the
privacy officer's contact. PDFs go through :func:`gateway.register.pdf.render_pdf` (offline,
every URL refused) and are written 0600: they hold personal data. File names hold none.

The signal then records how the tenant was informed: :func:`informed_record` gives the
``tenant_informed_date`` and ``tenant_informed_how`` ("letter", Dutch "brief") values.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from gateway.client.spreadsheet import CLIENT_SUPPLIED, SIGNAL_FLOW, VALID, CheckedRow
from gateway.policy.model import Policy, RecipientRule
from gateway.register.pdf import render_pdf

TEMPLATE = "informatie-huurder.html"
DEFAULT_TEMPLATE_DIR = Path(__file__).resolve().parents[2] / "policies" / "letters"
INTAKE_ROLE = "municipality-intake"
HOW_LETTER = "letter"  # the value fields.yaml allows for tenant_informed_how: "per brief"
MONTHS_NL = (
    "januari", "februari", "maart", "april", "mei", "juni",
    "juli", "augustus", "september", "oktober", "november", "december",
)  # fmt: skip


def dutch_date(day: date) -> str:
    """30 november 2026."""
    return f"{day.day} {MONTHS_NL[day.month - 1]} {day.year}"


def informed_record(letter_date: date) -> dict[str, object]:
    """The values the signal carries about informing the tenant by this letter."""
    return {"tenant_informed_date": letter_date.isoformat(), "tenant_informed_how": HOW_LETTER}


def informed_records(rows: Iterable[CheckedRow], letter_date: date) -> dict[int, dict[str, object]]:
    """Per row number: the record to add to that row's values before it is sealed."""
    return {row.row: informed_record(letter_date) for row in rows}


@dataclass(frozen=True)
class Letter:
    """What one letter says; built from the policy and one row, rendered by the template."""

    tenant_name: str
    address_lines: tuple[str, ...]
    shared_labels: tuple[str, ...]


@dataclass(frozen=True)
class LetterContext:
    """What every letter of one landlord and date shares."""

    landlord_name: str
    recipient_names: tuple[str, ...]
    purpose: str
    legal_basis: str
    retention: str
    controller_name: str
    controller_address: str
    privacy_officer_name: str
    privacy_officer_email: str
    privacy_officer_phone: str
    covenant_name: str
    letter_date: str


def _context(policy: Policy, landlord_id: str, rule: RecipientRule, today: date) -> LetterContext:
    c = policy.covenant
    landlord = policy.parties.get(landlord_id)
    if landlord is None or "landlord" not in landlord.roles:
        raise ValueError(f"{landlord_id!r} is not a landlord in this policy")
    return LetterContext(
        landlord_name=landlord.name,
        recipient_names=tuple(sorted(p.name for p in policy.parties_with_role(rule.role))),
        purpose=rule.purpose_nl,
        legal_basis=f"{rule.legal_basis.article} {rule.legal_basis.law}",
        retention=rule.retention.rule_nl,
        controller_name=c.controller_name,
        controller_address=c.controller_address,
        privacy_officer_name=c.privacy_officer_name,
        privacy_officer_email=c.privacy_officer_email,
        privacy_officer_phone=c.privacy_officer_phone,
        covenant_name=c.name_nl,
        letter_date=dutch_date(today),
    )


def _letter(policy: Policy, rule: RecipientRule, row: CheckedRow) -> Letter:
    if row.status != VALID:
        raise ValueError(f"row {row.row} is not sent ({row.status}): it gets no letter")
    v = row.values
    name = _joined(v, "first_names", "surname_prefix", "surname")
    address = (
        _joined(v, "street", "house_number", "house_number_suffix"),
        _joined(v, "postal_code", "city", sep="  "),
    )
    sent = (set(v) | CLIENT_SUPPLIED) & rule.allowed
    labels = tuple(policy.fields[f].label_nl for f in policy.fields if f in sent)
    return Letter(name, address, labels)


def _joined(values: Mapping[str, object], *fields: str, sep: str = " ") -> str:
    return sep.join(str(values[f]) for f in fields if values.get(f) not in (None, ""))


def _environment(template_dir: Path) -> Environment:
    return Environment(
        loader=FileSystemLoader(str(template_dir)),
        autoescape=select_autoescape(("html",), default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def letters_html(
    policy: Policy,
    landlord_id: str,
    rows: Iterable[CheckedRow],
    *,
    today: date,
    template_dir: Path = DEFAULT_TEMPLATE_DIR,
) -> str:
    """One HTML document with one letter per row, each starting on a new page."""
    rule = policy.flows[SIGNAL_FLOW].rule_for_role(INTAKE_ROLE)
    if rule is None:
        raise ValueError(f"the {SIGNAL_FLOW} flow has no {INTAKE_ROLE} recipient")
    context = _context(policy, landlord_id, rule, today)
    letters = [_letter(policy, rule, row) for row in rows]
    template = _environment(template_dir).get_template(TEMPLATE)
    return template.render(c=context, letters=letters)


def render_letters(
    policy: Policy,
    landlord_id: str,
    rows: Iterable[CheckedRow],
    *,
    merged: bool,
    out_dir: Path,
    today: date | None = None,
    template_dir: Path = DEFAULT_TEMPLATE_DIR,
) -> list[Path]:
    """PDFs in ``out_dir`` (0600): one merged file, or one per row named by its row number."""
    day = today or date.today()
    chosen = list(rows)
    out_dir.mkdir(parents=True, exist_ok=True)
    if merged:
        html = letters_html(policy, landlord_id, chosen, today=day, template_dir=template_dir)
        path = out_dir / f"informatie-huurders-{landlord_id}-{day.isoformat()}.pdf"
        _write_private(path, render_pdf(html))
        return [path]
    paths = []
    for row in chosen:
        html = letters_html(policy, landlord_id, [row], today=day, template_dir=template_dir)
        path = out_dir / f"informatie-huurder-{day.isoformat()}-rij-{row.row:07d}.pdf"
        _write_private(path, render_pdf(html))
        paths.append(path)
    return paths


def _write_private(path: Path, data: bytes) -> None:
    """Write through a 0600 temporary file in the same folder, then rename over ``path``."""
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".letter-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as out:
            os.fchmod(out.fileno(), 0o600)
            out.write(data)
        os.replace(temporary, path)
    except BaseException:  # any failure: remove the half-written file, then re-raise
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
