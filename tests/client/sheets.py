"""Builders for monthly lists in tests: one valid row, Dutch headers, CSV and XLSX files."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
SECRET = b"s" * 32
LANDLORD = "wonen-limburg"

#: Dutch header -> the cell as a Dutch spreadsheet exports it.
ROW: dict[str, str] = {
    "Contractnummer": "WL-2024/00017",
    "Voornamen": "Fatima",
    "Tussenvoegsel": "",
    "Achternaam": "El Amrani",
    "Geboortedatum": "12-03-1984",
    "Straat": "Maasstraat",
    "Huisnummer": "12",
    "Toevoeging": "",
    "Postcode": "6001 AB",
    "Woonplaats": "Weert",
    "Huur": "712,45",
    "Huurachterstand": "1.424,90",
    "Maanden achterstand": "2",
    "Datum persoonlijk contact": "20-10-2026",
    "Gewezen op schuldhulp": "20-10-2026",
    "Laatste herinnering": "28-10-2026",
    "Doorgifte aangeboden": "ja",
    "Bezwaar": "nee",
}
HEADERS = tuple(ROW)


def csv_bytes(
    rows: list[dict[str, str]],
    *,
    delimiter: str = ";",
    encoding: str = "utf-8-sig",
    headers: tuple[str, ...] = HEADERS,
) -> bytes:
    lines = [delimiter.join(headers)]
    lines.extend(delimiter.join(row.get(h, "") for h in headers) for row in rows)
    return ("\r\n".join(lines) + "\r\n").encode(encoding)


def row(**changes: str) -> dict[str, str]:
    """ROW with changes; keyword names use _ for spaces (Maanden_achterstand="1")."""
    return {**ROW, **{k.replace("_", " "): v for k, v in changes.items()}}


def write_csv(path: Path, rows: list[dict[str, str]], **kwargs: object) -> Path:
    path.write_bytes(csv_bytes(rows, **kwargs))  # type: ignore[arg-type]
    return path
