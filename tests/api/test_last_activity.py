"""The partners page's last-activity query: latest envelope sent and received per partner."""

from __future__ import annotations

from gateway.store import exchange as exchange_store
from tests.api.world import World

LANDLORD = "wonen-limburg"
INTAKE = "gemeente-weert-intake"


def test_last_activity_per_partner(world: World) -> None:
    world.open_case("subject-9001")
    with world.instance.database.connection() as conn:
        activity = exchange_store.last_activity(conn)
    assert activity[LANDLORD][0] is not None  # sent the signal
    assert activity[INTAKE][1] is not None  # received it
    assert activity[INTAKE][0] is None
