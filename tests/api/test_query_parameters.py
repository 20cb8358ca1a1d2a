"""Query strings are checked like bodies: an unknown parameter is a 400, never ignored."""

from __future__ import annotations

import pytest

from gateway.store import transaction
from tests.api.world import INTAKE, World

# Every API operation that takes query parameters, with one it knows. The first test keeps this
# list equal to the OpenAPI document, so a new operation cannot skip the second.
QUERY_OPERATIONS = {
    "/api/v1/inbox": "limit",
    "/api/v1/notices": "limit",
    "/api/v1/register-checkpoint": "fromSize",
}


def test_the_list_names_every_operation_with_query_parameters(world: World) -> None:
    spec = world.app.test_client().get("/api/v1/openapi.json").get_json()
    prefix = spec["servers"][0]["url"].rstrip("/") if spec.get("servers") else ""
    with_query = {
        prefix + path
        for path, item in spec["paths"].items()
        for operation in item.values()
        if isinstance(operation, dict)
        and any(p.get("in") == "query" for p in operation.get("parameters", []))
    }
    assert {p.removeprefix("/api/v1") for p in with_query} == {
        p.removeprefix("/api/v1") for p in QUERY_OPERATIONS
    }


@pytest.mark.parametrize("path", sorted(QUERY_OPERATIONS))
def test_a_misspelt_query_parameter_is_refused_not_ignored(world: World, path: str) -> None:
    """``?limt=5`` must not silently answer with the default page."""
    response = world[INTAKE].get(path, query={"limt": "5"})
    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"
    assert "limt" in response.get_json()["detail"]


@pytest.mark.parametrize(("path", "known"), sorted(QUERY_OPERATIONS.items()))
def test_a_known_query_parameter_is_still_accepted(world: World, path: str, known: str) -> None:
    world.open_case()
    with world.instance.database.connection() as conn, transaction(conn):
        world.instance.register.sign_checkpoint(conn, now=world.clock())
    assert world[INTAKE].get(path, query={known: "1"}).status_code == 200
