"""Tenant information letters: what they say, what they never say, and how they are stored."""

from __future__ import annotations

import io
import stat
from dataclasses import replace
from datetime import date
from pathlib import Path
from types import MappingProxyType

import pytest
from pypdf import PdfReader

from gateway.client.letters import (
    informed_record,
    informed_records,
    letters_html,
    render_letters,
)
from gateway.client.spreadsheet import CheckedRow, read_signal_list
from gateway.policy import Policy, validate_fields
from tests.client.sheets import LANDLORD, NOW, ROW, SECRET, csv_bytes, row

TODAY = date(2026, 11, 30)


@pytest.fixture(scope="module")
def sent_rows(weert: Policy) -> list[CheckedRow]:
    source = csv_bytes(
        [
            ROW,
            row(Voornamen="Zoë", Achternaam="Dijk", Tussenvoegsel="van", Contractnummer="WL-2"),
            row(Voornamen="Mohamed", Achternaam="El Idrissi", Contractnummer="WL-3"),
        ]
    )
    with read_signal_list(
        io.BytesIO(source), weert, now=NOW, landlord_id=LANDLORD, secret=SECRET
    ) as rows:
        return list(rows)


def text_of(path: Path) -> list[str]:
    return [page.extract_text() for page in PdfReader(path).pages]


def flat(text: str) -> str:
    return " ".join(text.split())


def test_letter_says_who_why_and_where_to_ask(
    weert: Policy, sent_rows: list[CheckedRow], tmp_path: Path
) -> None:
    (path,) = render_letters(
        weert, LANDLORD, sent_rows[:1], merged=False, out_dir=tmp_path, today=TODAY
    )
    text = flat("\n".join(text_of(path)))
    rule = weert.flows["arrears-signal"].rule_for_role("municipality-intake")
    assert rule is not None
    assert "Fatima El Amrani" in text
    assert "Maasstraat 12" in text
    assert "6001 AB" in text
    assert "Gemeente Weert, intake vroegsignalering" in text
    assert flat(rule.purpose_nl) in text
    assert weert.covenant.privacy_officer_email in text
    assert weert.covenant.privacy_officer_phone in text
    assert "30 november 2026" in text
    assert "Bedrag huurachterstand" in text  # the label, as what was shared
    assert "1424" not in text.replace(".", "")  # never the amount itself
    assert "1.424,90" not in text
    assert "712" not in text
    assert "WL-2024" not in text  # nor the contract reference


def test_merged_pdf_has_a_page_per_letter(
    weert: Policy, sent_rows: list[CheckedRow], tmp_path: Path
) -> None:
    (path,) = render_letters(weert, LANDLORD, sent_rows, merged=True, out_dir=tmp_path, today=TODAY)
    pages = text_of(path)
    assert len(pages) >= len(sent_rows)
    joined = flat("\n".join(pages))
    for name in ("Fatima El Amrani", "Zoë van Dijk", "Mohamed El Idrissi"):
        assert name in joined
    starts = [i for i, page in enumerate(pages) if "Beste " in page]
    assert len(starts) == len(sent_rows)  # each letter starts on its own page


def test_files_are_private_and_named_without_personal_data(
    weert: Policy, sent_rows: list[CheckedRow], tmp_path: Path
) -> None:
    paths = render_letters(weert, LANDLORD, sent_rows, merged=False, out_dir=tmp_path, today=TODAY)
    assert [p.name for p in paths] == [
        f"informatie-huurder-2026-11-30-rij-{n:07d}.pdf" for n in (2, 3, 4)
    ]
    for path in paths:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert "Amrani" not in path.name
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in paths)


def test_label_from_the_policy_is_escaped(weert: Policy, sent_rows: list[CheckedRow]) -> None:
    fields = dict(weert.fields)
    fields["surname"] = replace(fields["surname"], label_nl="<script>alert(1)</script>")
    hostile = replace(weert, fields=MappingProxyType(fields))
    html = letters_html(hostile, LANDLORD, sent_rows[:1], today=TODAY)
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_only_rows_that_are_sent_get_a_letter(weert: Policy, sent_rows: list[CheckedRow]) -> None:
    skipped = replace(sent_rows[0], status="below-threshold")
    with pytest.raises(ValueError, match="no letter"):
        letters_html(weert, LANDLORD, [skipped], today=TODAY)
    with pytest.raises(ValueError, match="not a landlord"):
        letters_html(weert, "amw-midden-limburg", sent_rows, today=TODAY)


def test_informed_record_completes_the_signal(weert: Policy, sent_rows: list[CheckedRow]) -> None:
    record = informed_record(TODAY)
    assert record == {"tenant_informed_date": "2026-11-30", "tenant_informed_how": "letter"}
    values = {**sent_rows[0].values, **record}
    flow = weert.flows["arrears-signal"]
    assert validate_fields(weert, flow, "municipality-intake", values, NOW) == []
    assert set(informed_records(sent_rows, TODAY)) == {2, 3, 4}
