"""Typed errors for input files the client refuses, each with its reason in Dutch and English.

Readers raise only these (and their subclasses), so a command can print the reason and stop
without a traceback. Messages name rows, columns and headers, never cell values: a refused
file may hold personal data, and these messages can end up in logs.
"""

from __future__ import annotations


class SpreadsheetError(Exception):
    """A file (or mapping file) the client refuses as a whole."""

    def __init__(self, message_nl: str, message_en: str) -> None:
        super().__init__(f"{message_nl} ({message_en})")
        self.message_nl = message_nl
        self.message_en = message_en


class FileTooLarge(SpreadsheetError):
    """The file is larger than the configured limit."""


class CellTooLong(SpreadsheetError):
    """One cell holds more characters than the configured limit."""

    def __init__(self, row: int, column: str, limit: int) -> None:
        super().__init__(
            f"Cel {column}{row} is langer dan {limit} tekens; is dit wel de maandlijst?",
            f"Cell {column}{row} is longer than {limit} characters; is this the monthly list?",
        )
        self.row = row
        self.column = column


class UnreadableFile(SpreadsheetError):
    """Not a CSV or XLSX file the client can read (encoding, structure, corrupt workbook)."""


class MissingColumns(SpreadsheetError):
    """Required columns are absent from the header row."""

    def __init__(self, fields: tuple[str, ...], headers: tuple[str, ...]) -> None:
        shown = ", ".join(f'"{h}" ({f})' for f, h in zip(fields, headers, strict=True))
        super().__init__(
            f"Verplichte kolommen ontbreken: {shown}.",
            f"Required columns are missing: {shown}.",
        )
        self.fields = fields


class DuplicateColumns(SpreadsheetError):
    """Two or more columns map to the same field."""


class MappingFileInvalid(SpreadsheetError):
    """The column mapping file is not valid; the message names file and line where known."""
