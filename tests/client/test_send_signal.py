"""A landlord's month: check the list, inform tenants, send, and run it again (nothing twice)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from gateway.client.signal_list import list_month
from tests.api.world import INTAKE, LANDLORD, Clock
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


def test_rerun_after_the_month_ends_still_sends_nothing_twice(
    partner_side: Side, tmp_path: Path, clock: Clock
) -> None:
    """A list sent on the last days of November and run again on 1 December: the rows belong to
    November (the month of their letters), so the rerun finds them all in the journal."""
    landlord = partner_side(LANDLORD)
    partner_side(INTAKE)
    assert landlord.run("letters", str(LIST), "--out", str(tmp_path / "brieven")).exit_code == 0
    sent = landlord.run("send", "signal", str(LIST))
    assert sent.exit_code == 0, sent.output
    accepted = int(sent.output.split("accepted: ")[1].split(";")[0])
    clock.now = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
    again = landlord.run("send", "signal", str(LIST))
    assert again.exit_code == 0, again.output
    assert "accepted: 0;" in again.output
    assert f"sent before: {accepted}" in again.output


def test_list_month_is_the_month_of_the_letters() -> None:
    december = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
    assert list_month({"tenant_informed_date": "2026-11-30"}, december) == "2026-11"
    assert list_month({}, december) == "2026-12"
    assert list_month({"tenant_informed_date": "2026-13-01"}, december) == "2026-12"
