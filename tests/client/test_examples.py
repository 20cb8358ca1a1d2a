"""The example monthly lists in examples/ read as their README says."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.client.spreadsheet import BELOW_THRESHOLD, INVALID, VALID, read_signal_list
from gateway.policy import Policy
from tests.client.sheets import NOW, SECRET

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def statuses(policy: Policy, name: str, landlord: str) -> dict[int, tuple[str, str | None]]:
    with read_signal_list(
        EXAMPLES / name, policy, now=NOW, landlord_id=landlord, secret=SECRET
    ) as rows:
        return {r.row: (r.status, r.subject) for r in rows}


@pytest.mark.parametrize(
    ("name", "landlord"),
    [
        ("huurachterstand-wonen-limburg-2026-11.csv", "wonen-limburg"),
        ("huurachterstand-st-joseph-2026-11.csv", "st-joseph"),
    ],
)
def test_november_lists(weert: Policy, name: str, landlord: str) -> None:
    found = statuses(weert, name, landlord)
    assert len(found) == 60
    assert sorted(r for r, (s, _) in found.items() if s == INVALID) == [9, 21, 35]
    assert sorted(r for r, (s, _) in found.items() if s == BELOW_THRESHOLD) == [14, 43, 57]
    assert sum(s == VALID for s, _ in found.values()) == 54


def test_the_repeated_tenant_has_last_months_subject(weert: Policy) -> None:
    october = statuses(weert, "huurachterstand-wonen-limburg-2026-10.csv", "wonen-limburg")
    november = statuses(weert, "huurachterstand-wonen-limburg-2026-11.csv", "wonen-limburg")
    assert len(october) == 5
    assert november[27][1] == october[4][1] is not None
    assert len({s for _, s in november.values() if s}) == 54  # no other repeats
