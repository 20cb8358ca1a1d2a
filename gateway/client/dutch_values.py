"""Cells as Dutch spreadsheets hold them, turned into the values an envelope carries.

A clear cell becomes the envelope's form: amounts as text with a dot and two decimals
("1.424,90" -> "1424.90"), whole numbers as ``int``, dates as ISO text ("3-2-2026" ->
"2026-02-03"), booleans as ``bool``. A cell that cannot be read is passed on as the text found,
so :func:`gateway.policy.values.validate_fields` names the rule it breaks; the rules themselves
live there only. Empty cells become ``None``.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from gateway.policy.model import FieldDef

_DUTCH_AMOUNT = re.compile(r"^(-?)([0-9]{1,3}(?:\.[0-9]{3})+|[0-9]+)(?:,([0-9]+))?\Z")
_DOT_AMOUNT = re.compile(r"^(-?)([0-9]+)\.([0-9]{1,2})\Z")
_WHOLE = re.compile(r"^-?[0-9]+\Z")
_DUTCH_DATE = re.compile(r"^([0-9]{1,2})[-/.]([0-9]{1,2})[-/.]([0-9]{4})\Z")
_POSTAL = re.compile(r"^([1-9][0-9]{3})\s*([A-Za-z]{2})\Z")
_MONTH = re.compile(r"^([0-9]{1,2})[-/.]([0-9]{4})\Z")

TRUE_WORDS = frozenset({"ja", "j", "waar", "1", "true", "yes", "y"})
FALSE_WORDS = frozenset({"nee", "n", "onwaar", "0", "false", "no"})
#: Dutch words staff type for enum values (only where the dictionary's value is English).
ENUM_ALIASES: dict[str, str] = {
    "brief": "letter",
    "per brief": "letter",
    "e-mail": "email",
    "per e-mail": "email",
    "mail": "email",
    "persoonlijk": "in-person",
    "in persoon": "in-person",
}


def display(cell: object) -> str:
    """A cell as the spreadsheet shows it, for problem reports."""
    if cell is None:
        return ""
    if isinstance(cell, bool):
        return "WAAR" if cell else "ONWAAR"
    if isinstance(cell, datetime):
        if (cell.hour, cell.minute, cell.second) == (0, 0, 0):
            return cell.strftime("%d-%m-%Y")
        return cell.strftime("%d-%m-%Y %H:%M")
    if isinstance(cell, date):
        return cell.strftime("%d-%m-%Y")
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    return str(cell)


def to_field_value(definition: FieldDef, cell: object) -> object:
    """The envelope value for ``cell`` under ``definition``; unreadable cells stay as text."""
    if cell is None:
        return None
    if isinstance(cell, str):
        cell = cell.strip().replace("\u00a0", " ")
        if not cell:
            return None
    kind = definition.type
    if kind == "decimal":
        return amount(cell)
    if kind == "integer":
        return whole_number(cell)
    if kind == "date":
        return iso_date(cell)
    if kind == "boolean":
        return boolean(cell)
    if kind == "month":
        return iso_month(cell)
    text = display(cell)
    if kind == "postal-code":
        match = _POSTAL.match(text)
        return f"{match.group(1)} {match.group(2).upper()}" if match else text
    if kind == "enum":
        return ENUM_ALIASES.get(text.casefold(), text)
    return text


def amount(cell: object) -> object:
    """ "1.424,90", "1424,90", "1424.90", 1424.9 or "€ 1.424,90" -> "1424.90"."""
    if isinstance(cell, bool):
        return display(cell)
    if isinstance(cell, int | float):
        number = repr(cell)
    else:
        text = str(cell).replace("€", "").replace(" ", "")
        match = _DUTCH_AMOUNT.match(text)
        if match:
            sign, whole, fraction = match.groups()
            number = f"{sign}{whole.replace('.', '')}.{fraction or '0'}"
        elif _DOT_AMOUNT.match(text):
            number = text
        else:
            return str(cell)
    try:
        return _two_decimals(Decimal(number))
    except InvalidOperation:  # too many digits to quantize: values.py refuses the text
        return display(cell)


def _two_decimals(number: Decimal) -> str:
    if not number.is_finite():
        return str(number)
    cents = number.quantize(Decimal("0.01"))
    if cents != number:
        return format(number, "f")  # more than two decimals: values.py refuses it
    return format(cents, "f")


def whole_number(cell: object) -> object:
    """ "3", 3 or 3.0 -> 3; anything else stays as found."""
    if isinstance(cell, bool):
        return display(cell)
    if isinstance(cell, int):
        return cell
    if isinstance(cell, float):
        return int(cell) if cell.is_integer() else display(cell)
    text = str(cell)
    return int(text) if _WHOLE.match(text) and len(text) <= 12 else text


def iso_date(cell: object) -> object:
    """ "3-2-2026", "03-02-2026", "03/02/2026", a date cell or "2026-02-03" -> "2026-02-03"."""
    if isinstance(cell, datetime):
        return cell.date().isoformat()
    if isinstance(cell, date):
        return cell.isoformat()
    text = display(cell)
    match = _DUTCH_DATE.match(text)
    if match:
        day, month, year = (int(part) for part in match.groups())
        try:
            return date(year, month, day).isoformat()
        except ValueError:  # 31-02-2026 and the like: values.py reports the invalid date
            return text
    return text


def iso_month(cell: object) -> object:
    """ "2-2026", "02-2026" or a date cell -> "2026-02"."""
    if isinstance(cell, date):
        return cell.strftime("%Y-%m")
    text = display(cell)
    match = _MONTH.match(text)
    if match and 1 <= int(match.group(1)) <= 12:
        return f"{match.group(2)}-{int(match.group(1)):02d}"
    return text


def boolean(cell: object) -> object:
    """ja/nee, j/n, waar/onwaar, 1/0, true/false (any case), or a TRUE/FALSE cell."""
    if isinstance(cell, bool):
        return cell
    if isinstance(cell, int | float) and cell in (0, 1):
        return bool(cell)
    text = display(cell).casefold()
    if text in TRUE_WORDS:
        return True
    if text in FALSE_WORDS:
        return False
    return display(cell)
