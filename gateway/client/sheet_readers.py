"""Raw rows from a CSV or XLSX file, streamed: one row in memory at a time.

CSV: the encoding is decided by a first streaming pass (strict UTF-8, with or without BOM;
otherwise Windows-1252, which Dutch Excel writes by default; anything else is refused). The
header must be on the first line; its delimiter is the one of ``;``, tab and ``,`` that splits it
into the most columns (``;`` wins a tie, then tab). XLSX: the first worksheet, through openpyxl
in read-only mode with cached values (``data_only``), so formulas count as their last result.

Row numbers are the ones the spreadsheet shows: the header is row 1, and an empty line is a
row too. Only :mod:`gateway.client.input_errors` types escape from here.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from gateway.client.columns import column_letter
from gateway.client.input_errors import CellTooLong, FileTooLarge, UnreadableFile

MAX_FILE_BYTES = 50 * 1024 * 1024
MAX_CELL_CHARS = 1000
MAX_HEADER_CHARS = 64 * 1024
DELIMITERS: tuple[str, ...] = (";", "\t", ",")
_CHUNK = 64 * 1024
_ZIP_MAGIC = b"PK\x03\x04"
_UTF8_BOM = codecs.BOM_UTF8


@dataclass(frozen=True)
class Limits:
    """Refuse files over ``max_file_bytes`` and cells over ``max_cell_chars`` characters."""

    max_file_bytes: int = MAX_FILE_BYTES
    max_cell_chars: int = MAX_CELL_CHARS


@dataclass(frozen=True)
class SheetRow:
    number: int  # as the spreadsheet shows it: the header is row 1
    cells: tuple[object, ...]  # str (CSV), or str/int/float/bool/datetime/None (XLSX)


@dataclass(frozen=True)
class SheetInfo:
    kind: str  # "csv" or "xlsx"
    encoding: str | None  # "utf-8", "utf-8-sig" or "cp1252" for CSV
    delimiter: str | None
    headers: tuple[str, ...]


@contextlib.contextmanager
def open_sheet(
    source: Path | IO[bytes], limits: Limits | None = None
) -> Iterator[tuple[SheetInfo, Iterator[SheetRow]]]:
    """The header and a stream of the rows after it; files are closed on exit."""
    limits = limits or Limits()
    with contextlib.ExitStack() as stack:
        if isinstance(source, Path):
            try:
                stream: IO[bytes] = stack.enter_context(source.open("rb"))
            except OSError as error:  # missing file, a folder, no permission: say which
                raise UnreadableFile(
                    f"Kan {source.name} niet openen ({error.strerror}).",
                    f"Cannot open {source.name} ({error.strerror}).",
                ) from None
        else:
            stream = source
        _check_size(stream, limits)
        magic = stream.read(4)
        stream.seek(0)
        if magic == _ZIP_MAGIC:
            yield _open_xlsx(stream, limits, stack)
        else:
            yield _open_csv(stream, limits, stack)


def _check_size(stream: IO[bytes], limits: Limits) -> None:
    size = stream.seek(0, io.SEEK_END)
    stream.seek(0)
    if size > limits.max_file_bytes:
        mb = limits.max_file_bytes / (1024 * 1024)
        raise FileTooLarge(
            f"Het bestand is {size} bytes; de grens is {mb:g} MB. Splits de lijst.",
            f"The file is {size} bytes; the limit is {mb:g} MB. Split the list.",
        )
    if size == 0:
        raise UnreadableFile("Het bestand is leeg.", "The file is empty.")


# --- CSV -------------------------------------------------------------------------------------


def detect_encoding(stream: IO[bytes]) -> str:
    """ "utf-8-sig", "utf-8" or "cp1252", by decoding the whole stream in chunks (strictly)."""
    stream.seek(0)
    head = stream.read(4)
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise UnreadableFile(
            "Het bestand is UTF-16 (Excel 'Unicode-tekst'); sla het op als 'CSV UTF-8'.",
            "The file is UTF-16 (Excel 'Unicode text'); save it as 'CSV UTF-8'.",
        )
    for encoding in ("utf-8", "cp1252"):
        if _decodes(stream, encoding):
            stream.seek(0)
            if encoding == "utf-8" and head.startswith(_UTF8_BOM):
                return "utf-8-sig"
            return encoding
    raise UnreadableFile(
        "Het bestand is geen tekst in UTF-8 of Windows-1252. Is het wel een CSV-bestand?",
        "The file is not text in UTF-8 or Windows-1252. Is it a CSV file?",
    )


def _decodes(stream: IO[bytes], encoding: str) -> bool:
    stream.seek(0)
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    try:
        while chunk := stream.read(_CHUNK):
            decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:  # not this encoding: the caller tries the next one
        return False
    return True


def sniff_delimiter(header_line: str) -> str:
    """The delimiter that splits the header into the most columns; ``;`` wins ties, then tab."""
    best, best_count = DELIMITERS[0], 1
    for delimiter in DELIMITERS:
        count = len(_parse_line(header_line, delimiter))
        if count > best_count:
            best, best_count = delimiter, count
    return best


def _parse_line(line: str, delimiter: str) -> list[str]:
    try:
        return next(csv.reader([line], delimiter=delimiter), [])
    except csv.Error:  # an unbalanced quote in the header: counts as one column
        return [line]


def _open_csv(
    stream: IO[bytes], limits: Limits, stack: contextlib.ExitStack
) -> tuple[SheetInfo, Iterator[SheetRow]]:
    encoding = detect_encoding(stream)
    text = io.TextIOWrapper(stream, encoding=encoding, errors="strict", newline="")
    stack.callback(text.detach)  # leave the caller's stream open; ours is closed by the stack
    header_line = text.readline(MAX_HEADER_CHARS)
    if len(header_line) >= MAX_HEADER_CHARS and not header_line.endswith(("\n", "\r")):
        raise UnreadableFile(
            "De eerste regel (de kolomkoppen) is te lang.",
            "The first line (the column headers) is too long.",
        )
    delimiter = sniff_delimiter(header_line.rstrip("\r\n"))
    headers = tuple(_parse_line(header_line.rstrip("\r\n"), delimiter))
    _check_cells(1, headers, limits)
    info = SheetInfo("csv", encoding, delimiter, headers)
    return info, _csv_rows(text, delimiter, limits)


def _csv_rows(text: IO[str], delimiter: str, limits: Limits) -> Iterator[SheetRow]:
    reader = csv.reader(text, delimiter=delimiter, strict=False)
    number = 1
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as error:  # e.g. a field over csv's own size limit: refuse the file
            raise UnreadableFile(
                f"Rij {number + 1} is geen geldige CSV ({error}).",
                f"Row {number + 1} is not valid CSV ({error}).",
            ) from None
        number += 1  # a quoted cell with a line break is still one row in Excel
        _check_cells(number, cells, limits)
        yield SheetRow(number, tuple(cells))


def _check_cells(number: int, cells: tuple[object, ...] | list[str], limits: Limits) -> None:
    for index, cell in enumerate(cells):
        if isinstance(cell, str) and len(cell) > limits.max_cell_chars:
            raise CellTooLong(number, column_letter(index), limits.max_cell_chars)


# --- XLSX ------------------------------------------------------------------------------------


def _open_xlsx(
    stream: IO[bytes], limits: Limits, stack: contextlib.ExitStack
) -> tuple[SheetInfo, Iterator[SheetRow]]:
    from openpyxl import load_workbook  # imported here: CSV-only runs never load it

    try:
        workbook: Any = load_workbook(stream, read_only=True, data_only=True)
    except Exception as error:  # noqa: BLE001
        # openpyxl and the XML and zip parsers under it raise many unrelated types for a corrupt
        # or non-Excel zip; any of them means "not a workbook we can read", named by its class
        raise UnreadableFile(
            f"Het bestand is geen leesbaar Excel-bestand (.xlsx): {type(error).__name__}.",
            f"The file is not a readable Excel workbook (.xlsx): {type(error).__name__}.",
        ) from None
    stack.callback(workbook.close)
    sheet = workbook.worksheets[0] if workbook.worksheets else None
    if sheet is None:
        raise UnreadableFile("Het werkboek heeft geen werkblad.", "The workbook has no sheet.")
    first = sheet.min_row if isinstance(sheet.min_row, int) else 1
    rows = _xlsx_rows(sheet, first, limits)
    header = next(rows, None)
    if header is None:
        raise UnreadableFile("Het werkblad is leeg.", "The sheet is empty.")
    headers = tuple("" if cell is None else str(cell) for cell in header.cells)
    return SheetInfo("xlsx", None, None, headers), rows


def _xlsx_rows(sheet: Any, first: int, limits: Limits) -> Iterator[SheetRow]:
    rows = sheet.iter_rows(values_only=True)
    number = first - 1
    while True:
        try:
            cells = next(rows)
        except StopIteration:
            return
        except Exception as error:  # noqa: BLE001
            # a sheet part that breaks while streaming (any parser error type): refuse the file
            raise UnreadableFile(
                f"Rij {number + 1} van het werkblad is onleesbaar: {type(error).__name__}.",
                f"Row {number + 1} of the sheet is unreadable: {type(error).__name__}.",
            ) from None
        number += 1
        _check_cells(number, cells, limits)
        yield SheetRow(number, tuple(cells))
