"""A landlord's month: check the list, inform tenants, send, and run it again (nothing twice)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from tests.api.world import INTAKE, LANDLORD
from tests.client.harness import ClientSide

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
LIST = EXAMPLES / "huurachterstand-wonen-limburg-2026-11.csv"
Side = Callable[[str], ClientSide]


def test_dry_run_reports_every_problem_and_sends_nothing(partner_side: Side) -> None:
    landlord = partner_side(LANDLORD)
    partner_side(INTAKE)
    result = landlord.run("send", "signal", str(LIST), "--dry-run")
    assert result.exit_code == 0, result.output
    assert "dry run: nothing sent" in result.output
    assert "rij" in result.output.lower()  # problems name the row
    assert partner_side(INTAKE).run("inbox").output.strip().endswith("0 bericht(en) / message(s).")


def test_signal_needs_the_tenant_letters_first(partner_side: Side) -> None:
    landlord = partner_side(LANDLORD)
    partner_side(INTAKE)
    result = landlord.run("send", "signal", str(LIST))
    assert result.exit_code == 2
    assert "gateway-client letters" in result.output


def test_letters_then_send_then_rerun_sends_nothing_twice(
    partner_side: Side, tmp_path: Path
) -> None:
    landlord = partner_side(LANDLORD)
    intake = partner_side(INTAKE)
    letters = landlord.run("letters", str(LIST), "--out", str(tmp_path / "brieven"))
    assert letters.exit_code == 0, letters.output
    pdfs = list((tmp_path / "brieven").glob("*.pdf"))
    assert len(pdfs) == 1
    sent = landlord.run("send", "signal", str(LIST), "--report", str(tmp_path / "report.csv"))
    assert sent.exit_code == 0, sent.output
    accepted = int(sent.output.split("accepted: ")[1].split(";")[0])
    assert accepted > 40
    assert (tmp_path / "report.csv").read_bytes().startswith("\ufeff".encode())
    again = landlord.run("send", "signal", str(LIST))
    assert again.exit_code == 0, again.output
    assert "accepted: 0;" in again.output
    assert f"sent before: {accepted}" in again.output
    listed = intake.run("inbox", "--limit", "500")
    assert f"{accepted} bericht(en)" in listed.output
