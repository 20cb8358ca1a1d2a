"""Which column holds which field: header names mapped to field ids, overridable by a file.

Headers are compared case-insensitively, trimmed, with runs of spaces collapsed. The default
mapping knows the headers Dutch landlords' exports use (``DEFAULT_HEADERS``) and, for every
field the flow allows, the field id and its Dutch and English labels from ``fields.yaml``.
A mapping file (YAML through the project's strict loader, or JSON) adds or replaces names::

    columns:                      # header in the file -> field id, or null to ignore it
      Naam huurder: surname
      Huurschuld: arrears_amount
      Opmerking: null
    replace_defaults: false       # true: only the names listed here count

See docs/CLIENT_INPUT.md.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from gateway.client.input_errors import DuplicateColumns, MappingFileInvalid
from gateway.policy.model import Flow, Policy
from gateway.policy.yamlfile import load_yaml

MAX_MAPPING_FILE_BYTES = 256 * 1024

#: Headers as landlords' exports name them (normalised form) -> field id.
DEFAULT_HEADERS: dict[str, str] = {
    "voornamen": "first_names",
    "voornaam": "first_names",
    "tussenvoegsel": "surname_prefix",
    "tussenvoegsels": "surname_prefix",
    "voorvoegsel": "surname_prefix",
    "achternaam": "surname",
    "geslachtsnaam": "surname",
    "geboortedatum": "date_of_birth",
    "straat": "street",
    "straatnaam": "street",
    "huisnummer": "house_number",
    "huisnr": "house_number",
    "huisnr.": "house_number",
    "toevoeging": "house_number_suffix",
    "huisnummertoevoeging": "house_number_suffix",
    "huisletter": "house_number_suffix",
    "postcode": "postal_code",
    "woonplaats": "city",
    "plaats": "city",
    "telefoon": "phone",
    "telefoonnummer": "phone",
    "mobiel": "phone",
    "e-mail": "email",
    "email": "email",
    "e-mailadres": "email",
    "contractnummer": "contract_reference",
    "contractnr": "contract_reference",
    "contractnr.": "contract_reference",
    "huurcontract": "contract_reference",
    "huurcontractnummer": "contract_reference",
    "huur": "monthly_rent",
    "huurprijs": "monthly_rent",
    "maandhuur": "monthly_rent",
    "huurachterstand": "arrears_amount",
    "achterstand": "arrears_amount",
    "bedrag achterstand": "arrears_amount",
    "bedrag huurachterstand": "arrears_amount",
    "maanden achterstand": "months_in_arrears",
    "aantal maanden achterstand": "months_in_arrears",
    "achterstand in maanden": "months_in_arrears",
    "datum persoonlijk contact": "personal_contact_attempt_date",
    "poging persoonlijk contact": "personal_contact_attempt_date",
    "datum schuldhulp": "debt_help_referral_date",
    "gewezen op schuldhulp": "debt_help_referral_date",
    "datum laatste herinnering": "last_reminder_date",
    "laatste herinnering": "last_reminder_date",
    "doorgifte aangeboden": "reminder_offered_referral",
    "bezwaar": "tenant_objected",
    "bezwaar huurder": "tenant_objected",
    "bezwaar tegen doorgifte": "tenant_objected",
    "huurder geïnformeerd op": "tenant_informed_date",
    "datum geïnformeerd": "tenant_informed_date",
    "geïnformeerd via": "tenant_informed_how",
    "wijze geïnformeerd": "tenant_informed_how",
}


def normalise_header(header: str) -> str:
    """Trimmed, case-folded, runs of white space (including no-break spaces) as one space."""
    return " ".join(header.replace("\u00a0", " ").split()).casefold()


def column_letter(index: int) -> str:
    """0 -> "A", 25 -> "Z", 26 -> "AA": the letters Excel shows above a column."""
    letters = ""
    number = index + 1
    while number:
        number, rest = divmod(number - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def sender_fields(flow: Flow) -> frozenset[str]:
    """Every field the sender may put in a row of ``flow``: the union over its recipients."""
    return frozenset().union(*(rule.allowed for rule in flow.recipients))


def default_mapping(policy: Policy, flow: Flow) -> dict[str, str]:
    """Normalised header -> field id, for the fields ``flow`` allows."""
    allowed = sender_fields(flow)
    mapping = {name: field for name, field in DEFAULT_HEADERS.items() if field in allowed}
    for field in sorted(allowed):
        definition = policy.fields[field]
        for name in (field, definition.label_nl, definition.label_en):
            mapping.setdefault(normalise_header(name), field)
    return mapping


@dataclass(frozen=True)
class MappingFile:
    """A loaded mapping file: normalised header -> field id (None: ignore the column)."""

    columns: Mapping[str, str | None]
    replace_defaults: bool = False

    def apply(self, defaults: Mapping[str, str]) -> dict[str, str | None]:
        base: dict[str, str | None] = {} if self.replace_defaults else dict(defaults)
        base.update(self.columns)
        return base


def load_mapping_file(path: Path, policy: Policy, flow: Flow) -> MappingFile:
    """Read a ``.yaml``/``.yml`` or ``.json`` mapping file; every problem names file and line."""
    display = path.name
    if path.stat().st_size > MAX_MAPPING_FILE_BYTES:
        raise MappingFileInvalid(
            f"{display}: koppelingsbestand is groter dan {MAX_MAPPING_FILE_BYTES} bytes.",
            f"{display}: mapping file is larger than {MAX_MAPPING_FILE_BYTES} bytes.",
        )
    lines: dict[tuple[str | int, ...], int] = {}
    if path.suffix.lower() == ".json":
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as error:  # named to the user below
            raise MappingFileInvalid(
                f"{display}: geen geldige JSON in UTF-8 ({error}).",
                f"{display}: not valid JSON in UTF-8 ({error}).",
            ) from None
    else:
        document, problems = load_yaml(path, display)
        if document is None:
            text = "; ".join(f"{p.file}:{p.line}: {p.message}" for p in problems)
            raise MappingFileInvalid(text, text)
        data, lines = document.data, document.lines
    return _parse_mapping(data, display, lines, sender_fields(flow))


def _parse_mapping(
    data: object, display: str, lines: Mapping[tuple[str | int, ...], int], allowed: frozenset[str]
) -> MappingFile:
    def fail(path: tuple[str | int, ...], nl: str, en: str) -> MappingFileInvalid:
        where = f"{display}:{lines[path]}" if path in lines else display
        return MappingFileInvalid(f"{where}: {nl}", f"{where}: {en}")

    if not isinstance(data, dict):
        raise fail((), "verwacht een object met 'columns'.", "expected an object with 'columns'.")
    unknown = sorted(set(data) - {"columns", "replace_defaults"})
    if unknown:
        raise fail(
            (unknown[0],), f"onbekende sleutel '{unknown[0]}'.", f"unknown key '{unknown[0]}'."
        )
    columns = data.get("columns")
    if not isinstance(columns, dict):
        raise fail(("columns",), "'columns' moet een object zijn.", "'columns' must be an object.")
    replace = data.get("replace_defaults", False)
    if not isinstance(replace, bool):
        raise fail(
            ("replace_defaults",),
            "'replace_defaults' moet true of false zijn.",
            "'replace_defaults' must be true or false.",
        )
    parsed: dict[str, str | None] = {}
    for header, field in columns.items():
        key = normalise_header(str(header))
        if not key:
            raise fail(("columns", header), "lege kolomkop.", "empty column header.")
        if field is not None and (not isinstance(field, str) or field not in allowed):
            raise fail(
                ("columns", header),
                f"'{field}' is geen veld dat deze stroom verstuurt.",
                f"'{field}' is not a field this flow sends.",
            )
        if key in parsed:
            raise fail(
                ("columns", header),
                f"kolomkop '{header}' staat er twee keer.",
                f"column header '{header}' is listed twice.",
            )
        parsed[key] = field
    return MappingFile(parsed, replace)


@dataclass(frozen=True)
class ColumnPlan:
    """How one file's header row maps to fields."""

    headers: tuple[str, ...]
    field_of: Mapping[int, str]  # column index -> field id
    unknown: tuple[int, ...]  # column indexes with a header nobody maps (warned once, ignored)

    def column_of(self, field: str) -> int | None:
        for index, name in self.field_of.items():
            if name == field:
                return index
        return None


def plan_columns(headers: tuple[str, ...], mapping: Mapping[str, str | None]) -> ColumnPlan:
    """Map each header; two columns for one field is an error (which one would count?)."""
    field_of: dict[int, str] = {}
    unknown: list[int] = []
    seen: dict[str, int] = {}
    for index, header in enumerate(headers):
        key = normalise_header(header)
        if not key:
            continue  # a column without a header: exports often add empty ones at the end
        if key not in mapping:
            unknown.append(index)
            continue
        field = mapping[key]
        if field is None:
            continue  # explicitly ignored in the mapping file
        if field in seen:
            first = seen[field]
            raise DuplicateColumns(
                f'Kolommen {column_letter(first)} "{headers[first]}" en {column_letter(index)} '
                f'"{header}" horen allebei bij veld {field}.',
                f'Columns {column_letter(first)} "{headers[first]}" and {column_letter(index)} '
                f'"{header}" both map to field {field}.',
            )
        seen[field] = index
        field_of[index] = field
    return ColumnPlan(headers, field_of, tuple(unknown))
