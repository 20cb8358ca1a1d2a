"""GET /api/v1/notices: signed requests only, each partner its own notices, no personal data."""

from __future__ import annotations

from datetime import UTC, datetime

from gateway.scheduler import runner
from gateway.services import notices
from tests.api.world import INTAKE, LANDLORD, LANDLORD_2, World


def _overdue_and_missing(world: World) -> str:
    world.clock.now = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    case_ref = world.open_case()
    world.clock.now = datetime(2026, 12, 14, 9, 0, tzinfo=UTC)
    for name in ("deadlines", "monthly-deliveries"):
        runner.run_job(name, world.instance, now=world.clock())
    return case_ref


def test_a_partner_sees_only_its_own_notices(world: World) -> None:
    case_ref = _overdue_and_missing(world)
    response = world[INTAKE].get("/api/v1/notices")
    assert response.status_code == 200, response.get_json()
    (item,) = response.get_json()["items"]
    assert item["kind"] == "case-overdue"
    assert item["caseRef"] == case_ref
    assert item["state"] == "signalled"
    assert item["daysOverdue"] == 4
    assert set(item) == {
        "id",
        "createdAt",
        "kind",
        "caseRef",
        "state",
        "daysOverdue",
        "dueDate",
        "reference",
    }
    landlord_2 = world[LANDLORD_2].get("/api/v1/notices").get_json()["items"]
    assert [(n["kind"], n["reference"]) for n in landlord_2] == [
        ("monthly-delivery-missing", "2026-12")
    ]
    assert world[LANDLORD].get("/api/v1/notices").get_json()["items"] == []


def test_notices_page_by_id(world: World) -> None:
    _overdue_and_missing(world)
    first = world[LANDLORD_2].get("/api/v1/notices", query={"limit": 1}).get_json()
    assert first["nextAfter"] is None
    after = world[LANDLORD_2].get("/api/v1/notices", query={"after": first["items"][0]["id"]})
    assert after.get_json()["items"] == []


def test_the_console_lists_every_notice(world: World) -> None:
    _overdue_and_missing(world)
    with world.instance.database.connection() as conn:
        page = notices.for_console(conn)
        only = notices.for_console(conn, kind="case-overdue")
    assert sorted(n.kind for n in page.items) == ["case-overdue", "monthly-delivery-missing"]
    assert [n.partner for n in only.items] == [INTAKE]


def test_unsigned_request_is_refused(world: World) -> None:
    response = world[INTAKE].get("/api/v1/notices", sign=False)
    assert response.status_code == 401
    assert response.content_type.startswith("application/problem+json")
