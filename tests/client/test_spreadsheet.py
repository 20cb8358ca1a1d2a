"""The monthly arrears list: Dutch CSV and XLSX, header mapping, every rule, numbering, limits."""

from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.client.columns import column_letter, load_mapping_file
from gateway.client.input_errors import (
    CellTooLong,
    DuplicateColumns,
    FileTooLarge,
    MappingFileInvalid,
    MissingColumns,
    SpreadsheetError,
    UnreadableFile,
)
from gateway.client.sheet_readers import Limits, sniff_delimiter
from gateway.client.spreadsheet import (
    BELOW_THRESHOLD,
    INVALID,
    VALID,
    CheckedRow,
    SignalList,
    read_signal_list,
    render_csv,
    render_text,
    subject_reference,
)
from gateway.policy import Policy
from tests.client.sheets import HEADERS, LANDLORD, NOW, ROW, SECRET, csv_bytes, row, write_csv


def open_list(policy: Policy, source: Path | bytes, **kwargs: object) -> SignalList:
    stream = io.BytesIO(source) if isinstance(source, bytes) else source
    return read_signal_list(
        stream,
        policy,
        now=NOW,
        landlord_id=LANDLORD,
        secret=SECRET,
        **kwargs,  # type: ignore[arg-type]
    )


def check(
    policy: Policy, source: Path | bytes, **kwargs: object
) -> tuple[list[CheckedRow], SignalList]:
    sheet = open_list(policy, source, **kwargs)
    with sheet:
        rows = list(sheet)
    return rows, sheet


def one(policy: Policy, **changes: str) -> CheckedRow:
    rows, _ = check(policy, csv_bytes([row(**changes)]))
    assert len(rows) == 1
    return rows[0]


# --- reading: encodings, delimiters, Dutch values -----------------------------------------------


def test_utf8_bom_semicolon_csv_gives_envelope_values(weert: Policy, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "lijst.csv", [ROW])
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    rows, sheet = check(weert, path)
    assert [r.status for r in rows] == [VALID]
    values = rows[0].values
    assert values["arrears_amount"] == "1424.90"
    assert values["monthly_rent"] == "712.45"
    assert values["months_in_arrears"] == 2
    assert values["house_number"] == 12
    assert values["date_of_birth"] == "1984-03-12"
    assert values["reminder_offered_referral"] is True
    assert values["tenant_objected"] is False
    assert "surname_prefix" not in values  # empty cells are left out
    assert sheet.report.encoding == "utf-8-sig"
    assert sheet.report.delimiter == ";"
    assert sheet.report.file_name == "lijst.csv"
    assert sheet.report.ok


def test_cp1252_csv_is_detected_and_decoded(weert: Policy, tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "ansi.csv",
        [row(Voornamen="Zoë René", Straat="Hoogstraat")],
        encoding="cp1252",
    )
    assert b"\xeb" in path.read_bytes()  # ë in Windows-1252
    rows, sheet = check(weert, path)
    assert rows[0].values["first_names"] == "Zoë René"
    assert sheet.report.encoding == "cp1252"


def test_utf8_without_bom(weert: Policy) -> None:
    rows, sheet = check(weert, csv_bytes([row(Voornamen="Zoë")], encoding="utf-8"))
    assert rows[0].values["first_names"] == "Zoë"
    assert sheet.report.encoding == "utf-8"


def test_utf16_is_refused_with_advice(weert: Policy) -> None:
    with pytest.raises(UnreadableFile, match="UTF-16"):
        open_list(weert, "\ufeffa;b\r\n".encode("utf-16-le"))


@pytest.mark.parametrize(("delimiter", "name"), [(",", ","), ("\t", "\t"), (";", ";")])
def test_comma_and_tab_when_the_header_uses_them(weert: Policy, delimiter: str, name: str) -> None:
    source = csv_bytes([row(Huurachterstand="1424,90")], delimiter=delimiter)
    if delimiter == ",":  # a decimal comma must then be quoted, as Excel does
        source = source.replace(b"1424,90", b'"1424,90"').replace(b"712,45", b'"712,45"')
    rows, sheet = check(weert, source)
    assert sheet.report.delimiter == name
    assert rows[0].values["arrears_amount"] == "1424.90"


def test_sniffing_prefers_semicolon_on_a_tie() -> None:
    assert sniff_delimiter("Naam;Bedrag") == ";"
    assert sniff_delimiter("Naam,Bedrag") == ","
    assert sniff_delimiter("Naam\tBedrag") == "\t"
    assert sniff_delimiter("Naam, roepnaam;Bedrag") == ";"
    assert sniff_delimiter("a,b;c\td") == ";"
    assert sniff_delimiter("Naam") == ";"


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("1.424,90", "1424.90"),
        ("1424,90", "1424.90"),
        ("1424,9", "1424.90"),
        ("1424", "1424.00"),
        ("1.424", "1424.00"),
        ("€ 1.424,90", "1424.90"),
        ("1424.90", "1424.90"),
        ("0,00", "0.00"),
    ],
)
def test_decimal_comma_amounts(weert: Policy, cell: str, expected: str) -> None:
    assert one(weert, Huurachterstand=cell).values["arrears_amount"] == expected


@pytest.mark.parametrize(
    ("cell", "expected"),
    [("12-03-1984", "1984-03-12"), ("2-3-1984", "1984-03-02"), ("02/03/1984", "1984-03-02")],
)
def test_dutch_dates(weert: Policy, cell: str, expected: str) -> None:
    assert one(weert, Geboortedatum=cell).values["date_of_birth"] == expected


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("ja", True), ("J", True), ("waar", True), ("1", True), ("TRUE", True),
        ("nee", False), ("n", False), ("ONWAAR", False), ("0", False), ("false", False),
    ],
)  # fmt: skip
def test_booleans(weert: Policy, cell: str, expected: bool) -> None:
    values = one(weert, Bezwaar=cell).values
    assert values["tenant_objected"] is expected


def test_postal_code_is_normalised(weert: Policy) -> None:
    assert one(weert, Postcode="6001ab").values["postal_code"] == "6001 AB"


# --- XLSX ---------------------------------------------------------------------------------------


def write_xlsx(path: Path, rows: list[list[object]], headers: tuple[str, ...] = HEADERS) -> Path:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(list(headers))
    for cells in rows:
        sheet.append(cells)
    workbook.save(path)
    return path


def xlsx_row(**changes: object) -> list[object]:
    cells: dict[str, object] = {
        **ROW,
        "Geboortedatum": datetime(1984, 3, 12),
        "Huisnummer": 12,
        "Huur": 712.45,
        "Huurachterstand": 1424.9,
        "Maanden achterstand": 2,
        "Datum persoonlijk contact": date(2026, 10, 20),
        "Gewezen op schuldhulp": datetime(2026, 10, 20),
        "Laatste herinnering": datetime(2026, 10, 28),
        "Doorgifte aangeboden": True,
        "Bezwaar": False,
        "Tussenvoegsel": None,
        "Toevoeging": None,
    }
    cells.update({k.replace("_", " "): v for k, v in changes.items()})
    return [cells[h] for h in HEADERS]


def test_xlsx_with_real_dates_and_numbers(weert: Policy, tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "lijst.xlsx", [xlsx_row(), [], xlsx_row(Huurachterstand="abc")])
    rows, sheet = check(weert, path)
    assert [(r.row, r.status) for r in rows] == [(2, VALID), (4, INVALID)]
    values = rows[0].values
    assert values["date_of_birth"] == "1984-03-12"
    assert values["arrears_amount"] == "1424.90"
    assert values["monthly_rent"] == "712.45"
    assert values["months_in_arrears"] == 2
    assert values["tenant_objected"] is False
    (problem,) = rows[1].problems
    assert (problem.row, problem.column, problem.header) == (4, "L", "Huurachterstand")
    assert sheet.report.kind == "xlsx"
    assert sheet.report.empty_rows == 1


def test_xlsx_numbers_in_text_columns(weert: Policy, tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "n.xlsx", [xlsx_row(Contractnummer=4711, Bezwaar=0)])
    rows, _ = check(weert, path)
    assert rows[0].values["contract_reference"] == "4711"
    assert rows[0].values["tenant_objected"] is False


def test_corrupt_xlsx_is_refused(weert: Policy) -> None:
    with pytest.raises(UnreadableFile, match="Excel"):
        open_list(weert, b"PK\x03\x04 not really a zip file")


# --- rows, columns and the policy's rules -------------------------------------------------------


def test_row_and_column_numbers_as_excel_shows_them(weert: Policy) -> None:
    source = csv_bytes([ROW, {}, row(Postcode="600 AB", Achternaam="")])
    rows, sheet = check(weert, source)
    assert [(r.row, r.status) for r in rows] == [(2, VALID), (4, INVALID)]
    located = {(p.column, p.header, p.field, p.value, p.rule) for p in rows[1].problems}
    assert located == {
        ("D", "Achternaam", "surname", "", "required"),
        ("I", "Postcode", "postal_code", "600 AB", "format"),
    }
    assert sheet.report.empty_rows == 1
    assert column_letter(0) == "A"
    assert column_letter(25) == "Z"
    assert column_letter(26) == "AA"
    assert column_letter(701) == "ZZ"
    assert column_letter(702) == "AAA"


def test_quoted_line_break_is_one_row(weert: Policy) -> None:
    source = csv_bytes([row(Straat='"Maas\nstraat"'), ROW])
    rows, _ = check(weert, source)
    assert [r.row for r in rows] == [2, 3]


@pytest.mark.parametrize(
    ("changes", "field", "rule"),
    [
        ({"Achternaam": ""}, "surname", "required"),
        ({"Postcode": "600 AB"}, "postal_code", "format"),
        ({"Huurachterstand": "abc"}, "arrears_amount", "type"),
        ({"Huurachterstand": "12,345"}, "arrears_amount", "type"),
        ({"Huurachterstand": "-5,00"}, "arrears_amount", "minimum"),
        ({"Huur": "20.000,00"}, "monthly_rent", "maximum"),
        ({"Huisnummer": "12a"}, "house_number", "type"),
        ({"Huisnummer": "0"}, "house_number", "minimum"),
        ({"Geboortedatum": "31-02-1984"}, "date_of_birth", "format"),
        ({"Laatste herinnering": "01-01-2027"}, "last_reminder_date", "future"),
        ({"Bezwaar": "misschien"}, "tenant_objected", "type"),
        ({"Bezwaar": "ja"}, "tenant_objected", "condition"),
        ({"Maanden achterstand": "twee"}, "months_in_arrears", "type"),
        ({"Maanden achterstand": ""}, "months_in_arrears", "required"),
        ({"Doorgifte aangeboden": "nee"}, "reminder_offered_referral", "condition"),
        ({"Contractnummer": "WL 17!"}, "contract_reference", "pattern"),
        ({"Toevoeging": "x" * 11}, "house_number_suffix", "max-length"),
    ],
)
def test_every_rule_makes_the_row_invalid(
    weert: Policy, changes: dict[str, str], field: str, rule: str
) -> None:
    checked = one(weert, **{k.replace(" ", "_"): v for k, v in changes.items()})
    assert checked.status == INVALID
    assert [(p.field, p.rule) for p in checked.problems] == [(field, rule)]
    problem = checked.problems[0]
    assert problem.column == column_letter(HEADERS.index(next(iter(changes))))
    assert problem.message_nl
    assert problem.message_en
    assert checked.subject is None


def test_every_problem_of_a_row_is_listed(weert: Policy) -> None:
    checked = one(weert, Achternaam="", Postcode="x", Huurachterstand="abc", Bezwaar="ja")
    assert {p.field for p in checked.problems} == {
        "surname",
        "postal_code",
        "arrears_amount",
        "tenant_objected",
    }
    assert [p.column for p in checked.problems] == ["D", "I", "L", "R"]  # sorted by column


def test_below_threshold_is_skipped_and_counted(weert: Policy) -> None:
    rows, sheet = check(weert, csv_bytes([row(Maanden_achterstand="1"), ROW]))
    assert [r.status for r in rows] == [BELOW_THRESHOLD, VALID]
    assert rows[0].problems == ()
    assert rows[0].subject is None
    report = sheet.report
    assert (report.rows, report.valid, report.below_threshold, report.invalid) == (2, 1, 1, 0)
    assert report.problems == []


def test_threshold_follows_the_policy_parameter(weert: Policy) -> None:
    from dataclasses import replace
    from types import MappingProxyType

    lowered = replace(
        weert,
        covenant=replace(
            weert.covenant, parameters=MappingProxyType({"arrears_threshold_months": 1})
        ),
    )
    assert one(lowered, Maanden_achterstand="1").status == VALID


def test_unknown_columns_warned_once_and_ignored(weert: Policy) -> None:
    headers = (*HEADERS, "Opmerking", "")
    source = csv_bytes([row(Opmerking="let op"), ROW], headers=headers)
    rows, sheet = check(weert, source)
    assert all(r.status == VALID for r in rows)
    assert [w.message_en for w in sheet.report.warnings] == [
        'Column S "Opmerking" is unknown and ignored.'
    ]


def test_missing_required_columns_are_a_file_error(weert: Policy) -> None:
    headers = tuple(h for h in HEADERS if h not in ("Achternaam", "Postcode"))
    with pytest.raises(MissingColumns) as refused:
        open_list(weert, csv_bytes([ROW], headers=headers))
    assert refused.value.fields == ("postal_code", "surname")
    assert "Achternaam" in refused.value.message_nl
    assert "Postcode" in refused.value.message_en


def test_two_columns_for_one_field_is_a_file_error(weert: Policy) -> None:
    with pytest.raises(DuplicateColumns, match="Last name|surname"):
        open_list(weert, csv_bytes([ROW], headers=(*HEADERS, "geslachtsnaam")))


def test_headers_are_case_insensitive_and_trimmed(weert: Policy) -> None:
    headers = tuple(f"  {h.upper()} " for h in HEADERS)
    source = csv_bytes([], headers=headers) + csv_bytes([ROW]).split(b"\r\n", 1)[1]
    rows, _ = check(weert, source)
    assert rows[0].status == VALID


def test_policy_labels_and_field_ids_are_headers_too(weert: Policy) -> None:
    renamed = {"Achternaam": "surname", "Huurachterstand": "Bedrag huurachterstand"}
    headers = tuple(renamed.get(h, h) for h in HEADERS)
    source = csv_bytes([], headers=headers) + csv_bytes([ROW]).split(b"\r\n", 1)[1]
    rows, _ = check(weert, source)
    assert rows[0].values["surname"] == "El Amrani"


def test_client_supplied_informed_fields(weert: Policy) -> None:
    checked = one(weert)
    assert checked.missing_client_fields == {"tenant_informed_date", "tenant_informed_how"}
    supplied = {"tenant_informed_date": "2026-11-30", "tenant_informed_how": "letter"}
    rows, _ = check(weert, csv_bytes([ROW]), supplied=supplied)
    assert rows[0].values["tenant_informed_how"] == "letter"
    assert rows[0].missing_client_fields == frozenset()
    headers = (*HEADERS, "Geïnformeerd via")
    rows, _ = check(weert, csv_bytes([row(Geïnformeerd_via="brief")], headers=headers))
    assert rows[0].values["tenant_informed_how"] == "letter"
    rows, _ = check(weert, csv_bytes([row(Geïnformeerd_via="fax")], headers=headers))
    assert [(p.field, p.rule) for p in rows[0].problems] == [("tenant_informed_how", "enum")]


# --- mapping file -------------------------------------------------------------------------------


def test_yaml_mapping_file_renames_and_ignores(weert: Policy, tmp_path: Path) -> None:
    mapping_path = tmp_path / "kolommen.yaml"
    mapping_path.write_text(
        "columns:\n  Naam huurder: surname\n  Opmerking: null\nreplace_defaults: false\n",
        encoding="utf-8",
    )
    flow = weert.flows["arrears-signal"]
    mapping = load_mapping_file(mapping_path, weert, flow)
    headers = tuple("Naam huurder" if h == "Achternaam" else h for h in HEADERS) + ("Opmerking",)
    source = csv_bytes([], headers=headers) + csv_bytes([ROW]).split(b"\r\n", 1)[1]
    rows, sheet = check(weert, source, mapping=mapping)
    assert rows[0].values["surname"] == "El Amrani"
    assert sheet.report.warnings == []


def test_json_mapping_file_replacing_defaults(weert: Policy, tmp_path: Path) -> None:
    path = tmp_path / "kolommen.json"
    path.write_text(json.dumps({"columns": {"Naam": "surname"}, "replace_defaults": True}))
    mapping = load_mapping_file(path, weert, weert.flows["arrears-signal"])
    with pytest.raises(MissingColumns):
        open_list(weert, csv_bytes([ROW]), mapping=mapping)


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("columns:\n  Naam: bsn\n", r"kolommen.yaml:2: 'bsn' is geen veld"),
        ("columns: [a]\n", "'columns' moet een object"),
        ("colums:\n  Naam: surname\n", "onbekende sleutel 'colums'"),
        ("columns: &a\n  Naam: surname\n", "anchors"),
        ("columns:\n  Naam: surname\nreplace_defaults: ja\n", "replace_defaults"),
        ("columns:\n  '  ': surname\n", "lege kolomkop"),
    ],
)
def test_bad_mapping_files(weert: Policy, tmp_path: Path, text: str, match: str) -> None:
    path = tmp_path / "kolommen.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(MappingFileInvalid, match=match):
        load_mapping_file(path, weert, weert.flows["arrears-signal"])


def test_mapping_json_not_valid(weert: Policy, tmp_path: Path) -> None:
    path = tmp_path / "kolommen.json"
    path.write_text("{columns", encoding="utf-8")
    with pytest.raises(MappingFileInvalid, match="JSON"):
        load_mapping_file(path, weert, weert.flows["arrears-signal"])


# --- limits -------------------------------------------------------------------------------------


def test_file_over_the_size_limit_is_refused(weert: Policy, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "groot.csv", [ROW] * 20)
    with pytest.raises(FileTooLarge, match="MB"):
        open_list(weert, path, limits=Limits(max_file_bytes=1000))


def test_cell_over_the_limit_is_refused_with_its_place(weert: Policy) -> None:
    sheet = open_list(weert, csv_bytes([ROW, row(Straat="x" * 1001)]))
    with pytest.raises(CellTooLong, match="F3"), sheet:
        list(sheet)
    assert not sheet.report.complete


def test_empty_and_missing_files(weert: Policy, tmp_path: Path) -> None:
    with pytest.raises(UnreadableFile, match="leeg"):
        open_list(weert, b"")
    with pytest.raises(UnreadableFile, match="niet openen"):
        open_list(weert, tmp_path / "bestaat-niet.csv")


# --- subject reference --------------------------------------------------------------------------


def test_subject_reference_is_keyed_normalised_and_fits_the_envelope() -> None:
    first = subject_reference(SECRET, LANDLORD, "WL-2024/00017")
    assert len(first) == 43
    assert subject_reference(SECRET, LANDLORD, "  wl-2024/ 00017 ") == first
    assert subject_reference(SECRET, "st-joseph", "WL-2024/00017") != first
    assert subject_reference(b"t" * 32, LANDLORD, "WL-2024/00017") != first
    import re

    assert re.fullmatch(r"[A-Za-z0-9_-]{8,86}", first)
    with pytest.raises(ValueError, match="at least"):
        subject_reference(b"short", LANDLORD, "X")
    with pytest.raises(ValueError, match="non-empty"):
        subject_reference(SECRET, LANDLORD, "   ")


def test_valid_rows_carry_their_subject(weert: Policy) -> None:
    checked = one(weert)
    assert checked.subject == subject_reference(SECRET, LANDLORD, "WL-2024/00017")


# --- the report ---------------------------------------------------------------------------------


def test_report_as_text_and_csv(weert: Policy) -> None:
    headers = (*HEADERS, "Opmerking")
    source = csv_bytes(
        [ROW, row(Postcode="600 AB"), row(Maanden_achterstand="1"), row(Huisnummer="=1+1")],
        headers=headers,
    )
    _, sheet = check(weert, source)
    text = render_text(sheet.report)
    assert "in orde, worden verstuurd (valid, will be sent): 1" in text
    assert "onder de drempel, niet verstuurd (below the threshold, not sent): 1" in text
    assert 'rij (row) 3, kolom (column) I "Postcode": "600 AB"' in text
    assert "Geen geldige postcode" in text
    assert "Not a valid postal code" in text
    english = render_text(sheet.report, lang="en")
    assert "row 3, column I" in english
    assert "rij" not in english
    dutch = render_text(sheet.report, lang="nl")
    assert "(row)" not in dutch
    with pytest.raises(ValueError, match="lang"):
        render_text(sheet.report, lang="de")
    data = render_csv(sheet.report)
    assert data.startswith(b"\xef\xbb\xbf")
    lines = list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))
    assert lines[0][:3] == ["rij", "kolom", "kolomkop"]
    assert lines[1][5] == "warning"
    assert lines[2][:5] == ["3", "I", "Postcode", "postal_code", "600 AB"]
    assert lines[3][4] == "'=1+1"  # no formula for Excel to run


def test_problems_beyond_the_cap_are_counted(weert: Policy) -> None:
    _, sheet = check(weert, csv_bytes([row(Postcode="x")] * 5), max_problems=3)
    assert len(sheet.report.problems) == 3
    assert sheet.report.problems_not_listed == 2
    assert sheet.report.invalid == 5
    assert "2 more problems" in render_text(sheet.report, lang="en")


# --- properties: arbitrary bytes only ever raise the module's errors ----------------------------


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=2000))
def test_arbitrary_bytes_raise_only_typed_errors(weert: Policy, data: bytes) -> None:
    try:
        sheet = open_list(weert, data)
        with sheet:
            for checked in sheet:
                assert checked.status in (VALID, BELOW_THRESHOLD, INVALID)
    except SpreadsheetError:
        pass  # the only kind of failure allowed


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.lists(st.text(max_size=30), min_size=0, max_size=len(HEADERS) + 2),
        max_size=5,
    ),
    st.sampled_from(["utf-8", "utf-8-sig", "cp1252"]),
)
def test_arbitrary_cells_under_a_real_header(
    weert: Policy, cells: list[list[str]], encoding: str
) -> None:
    lines = [";".join(HEADERS), *(";".join(c) for c in cells)]
    data = "\r\n".join(lines).encode(encoding, errors="replace")
    try:
        rows, sheet = check(weert, data)
    except SpreadsheetError:
        return
    assert sheet.report.rows == len(rows)
    assert sheet.report.valid + sheet.report.below_threshold + sheet.report.invalid == len(rows)
