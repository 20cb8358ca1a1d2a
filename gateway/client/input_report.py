"""The report on a checked monthly list: counts, warnings and every problem, for the staff.

Rendered as text (Dutch with the English in brackets, or one language) and as a CSV for Excel
(``;``, UTF-8 with BOM). It holds cell values, because staff must find and fix them: it is
personal data and is written to files for the landlord's staff, never to logs.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

LANGUAGES: tuple[str, ...] = ("nl+en", "nl", "en")
DEFAULT_MAX_PROBLEMS = 50_000
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class RowProblem:
    """One broken rule in one cell (or, for a missing column value, one row)."""

    row: int  # as the spreadsheet shows it: header = 1
    column: str  # the letter above the column ("" when the field has no column)
    header: str
    field: str
    value: str  # as the spreadsheet shows it
    rule: str  # the machine code from gateway.policy.values (type, format, required, ...)
    message_nl: str
    message_en: str


@dataclass(frozen=True)
class Notice:
    """A file-level warning: the file is read, but staff should know."""

    message_nl: str
    message_en: str


@dataclass
class InputReport:
    """Counts and problems of one file; filled while its rows stream by."""

    file_name: str
    kind: str
    encoding: str | None
    delimiter: str | None
    rows: int = 0
    valid: int = 0
    below_threshold: int = 0
    invalid: int = 0
    empty_rows: int = 0
    problems: list[RowProblem] = field(default_factory=list)
    problems_not_listed: int = 0
    warnings: list[Notice] = field(default_factory=list)
    max_problems: int = DEFAULT_MAX_PROBLEMS
    complete: bool = False  # every row has been read

    def add_problems(self, problems: tuple[RowProblem, ...]) -> None:
        room = max(0, self.max_problems - len(self.problems))
        self.problems.extend(problems[:room])
        self.problems_not_listed += max(0, len(problems) - room)

    @property
    def ok(self) -> bool:
        return self.complete and self.invalid == 0


def _pick(lang: str, nl: str, en: str) -> str:
    if lang == "nl":
        return nl
    if lang == "en":
        return en
    return f"{nl} ({en})"


def render_text(report: InputReport, lang: str = "nl+en") -> str:
    """Plain text for the terminal: ``nl+en`` (default, Dutch with English in brackets)."""
    if lang not in LANGUAGES:
        raise ValueError(f"lang must be one of {', '.join(LANGUAGES)}, not {lang!r}")

    def t(nl: str, en: str) -> str:
        return _pick(lang, nl, en)

    kind = report.kind.upper()
    details = [kind]
    if report.encoding:
        details.append(t("codering", "encoding") + f" {report.encoding}")
    if report.delimiter:
        shown = "tab" if report.delimiter == "\t" else f"'{report.delimiter}'"
        details.append(t("scheidingsteken", "delimiter") + f" {shown}")
    lines = [
        t("Controle van", "Check of") + f" {report.file_name}: " + ", ".join(details),
        t("Rijen met gegevens", "Rows with data") + f": {report.rows}",
        "  " + t("in orde, worden verstuurd", "valid, will be sent") + f": {report.valid}",
        "  "
        + t("onder de drempel, niet verstuurd", "below the threshold, not sent")
        + f": {report.below_threshold}",
        "  " + t("met fouten, niet verstuurd", "with problems, not sent") + f": {report.invalid}",
    ]
    if not report.complete:
        lines.append(
            t("Let op: het bestand is niet helemaal gelezen.", "Note: file not fully read.")
        )
    if report.warnings:
        lines.append(t("Waarschuwingen", "Warnings") + ":")
        lines.extend("  " + t(w.message_nl, w.message_en) for w in report.warnings)
    if report.problems:
        lines.append(t("Problemen", "Problems") + ":")
    for p in report.problems:
        where = t("rij", "row") + f" {p.row}"
        if p.column:
            where += ", " + t("kolom", "column") + f' {p.column} "{p.header}"'
        value = f': "{p.value}"' if p.value else ""
        lines.append(f"  {where}{value}: {t(p.message_nl, p.message_en)}")
    if report.problems_not_listed:
        lines.append(
            "  "
            + t(
                f"... en nog {report.problems_not_listed} problemen (niet getoond)",
                f"... and {report.problems_not_listed} more problems (not shown)",
            )
        )
    return "\n".join(lines) + "\n"


CSV_HEADER: tuple[str, ...] = (
    "rij",
    "kolom",
    "kolomkop",
    "veld",
    "waarde",
    "regel",
    "probleem",
    "problem",
)


def _cell(text: str) -> str:
    """Defuse text Excel would run as a formula (CSV injection)."""
    return "'" + text if text.startswith(_FORMULA_START) else text


def render_csv(report: InputReport) -> bytes:
    """One line per problem (warnings first, without a row), ';' separated, UTF-8 with BOM."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    for w in report.warnings:
        writer.writerow(["", "", "", "", "", "warning", _cell(w.message_nl), _cell(w.message_en)])
    for p in report.problems:
        writer.writerow(
            [
                str(p.row),
                p.column,
                _cell(p.header),
                p.field,
                _cell(p.value),
                p.rule,
                _cell(p.message_nl),
                _cell(p.message_en),
            ]
        )
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")
