"""Every partner endpoint x every covenant role x own or other's resource.

The scenario: a landlord signals (recipient: the intake), the intake routes the case to both
directors. A partner may read only envelopes addressed to it and only cases it is a party to;
anything else is answered 404, exactly as for a resource that does not exist.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from tests.api.world import (
    AMW,
    BENEFITS,
    DIRECTOR,
    DIRECTOR_2,
    EXPERT,
    INTAKE,
    LANDLORD,
    LANDLORD_2,
    PARTIES,
    World,
)

ROUTED_TO = {DIRECTOR, DIRECTOR_2}
CASE_PARTIES = {LANDLORD, INTAKE, DIRECTOR, DIRECTOR_2}
ROLES = {
    LANDLORD: "landlord",
    LANDLORD_2: "other landlord",
    INTAKE: "municipality intake",
    AMW: "social work",
    DIRECTOR: "director",
    DIRECTOR_2: "director",
    BENEFITS: "benefits administration",
    EXPERT: "expert",
}


@dataclass(frozen=True)
class Scenario:
    case_ref: str
    routed: str  # message id of the routing envelope (to both directors)


@pytest.fixture
def scenario(world: World) -> Scenario:
    case = world.open_case()
    receipt = world[INTAKE].send("route-to-directors", case_ref=case, routing={"priority": True})
    assert receipt["outcome"] == "accepted", receipt["reasons"]
    return Scenario(case, receipt["messageId"])


@pytest.mark.parametrize("party", PARTIES, ids=lambda p: f"{ROLES[p]}:{p}")
def test_fetch_envelope_only_as_its_recipient(world: World, scenario: Scenario, party: str) -> None:
    response = world[party].get(f"/api/v1/envelopes/{scenario.routed}")
    assert response.status_code == (200 if party in ROUTED_TO else 404)


@pytest.mark.parametrize("party", PARTIES, ids=lambda p: f"{ROLES[p]}:{p}")
def test_acknowledge_only_as_its_recipient(world: World, scenario: Scenario, party: str) -> None:
    response = world[party].post(f"/api/v1/envelopes/{scenario.routed}/acknowledgement")
    assert response.status_code == (200 if party in ROUTED_TO else 404)


@pytest.mark.parametrize("party", PARTIES, ids=lambda p: f"{ROLES[p]}:{p}")
def test_report_mismatch_only_as_its_recipient(
    world: World, scenario: Scenario, party: str
) -> None:
    response = world[party].post(
        f"/api/v1/envelopes/{scenario.routed}/mismatch-reports", {"reason": "other"}
    )
    assert response.status_code == (201 if party in ROUTED_TO else 404)


@pytest.mark.parametrize("party", PARTIES, ids=lambda p: f"{ROLES[p]}:{p}")
def test_case_state_only_for_its_parties(world: World, scenario: Scenario, party: str) -> None:
    response = world[party].get(f"/api/v1/cases/{scenario.case_ref}")
    assert response.status_code == (200 if party in CASE_PARTIES else 404)


@pytest.mark.parametrize("party", PARTIES, ids=lambda p: f"{ROLES[p]}:{p}")
def test_inbox_shows_only_own_envelopes(world: World, scenario: Scenario, party: str) -> None:
    items = world[party].get("/api/v1/inbox").get_json()["items"]
    ids = {i["messageId"] for i in items}
    assert (scenario.routed in ids) == (party in ROUTED_TO)
    expected = {INTAKE: 1}.get(party, 1 if party in ROUTED_TO else 0)
    assert len(items) == expected


@pytest.mark.parametrize("party", PARTIES, ids=lambda p: f"{ROLES[p]}:{p}")
def test_submit_only_as_itself_and_only_into_own_cases(
    world: World, scenario: Scenario, party: str
) -> None:
    # Each partner sends feedback on the case: allowed for intake and directors (senders of
    # that flow and parties to the case); others are refused by role or by case membership.
    envelope = world[party].seal("feedback-to-landlord", case_ref=scenario.case_ref)
    receipt = world[party].submit(envelope).get_json()["receipts"][0]
    allowed = party in {INTAKE, DIRECTOR, DIRECTOR_2}
    assert receipt["outcome"] == ("accepted" if allowed else "refused"), receipt["reasons"]
    # ... and nobody can submit an envelope sealed by another partner.
    foreign = world[LANDLORD_2 if party != LANDLORD_2 else LANDLORD].seal(
        "arrears-signal", subject_ref="subject-7777"
    )
    refused = world[party].submit(foreign).get_json()["receipts"][0]
    assert [r["code"] for r in refused["reasons"]] == ["sender-mismatch"]


@pytest.mark.parametrize("party", PARTIES, ids=lambda p: f"{ROLES[p]}:{p}")
@pytest.mark.parametrize(
    "path", ["/api/v1/policy-bundle", "/api/v1/partner-directory", "/api/v1/inbox"]
)
def test_shared_reads_need_a_signature_but_no_case(world: World, party: str, path: str) -> None:
    assert world[party].get(path).status_code == 200
    assert world[party].get(path, sign=False).status_code == 401
