"""A month in the covenant, end to end, through real gunicorn on 127.0.0.1.

Every partner runs the real ``gateway-client`` on its own machine (its own folder, its own key
made by ``gateway-client init``). The walk, in the order README's "A month in the covenant"
tells it:

1. Wonen Limburg sends October's list (with an October clock), then both landlords write the
   tenant letters and send November's list: 60 rows, 3 invalid and 3 below the threshold
   never leave the machine; the tenant repeated from October attaches to the same case.
2. The municipality intake lists its inbox, opens and acknowledges every signal, and routes
   every case: half to both directors (invitation and rent withholding), half to AMW, with
   priority where its own records say the household has minor children.
3. The benefits administration, a department of the same municipality as the directors, tells
   the landlord about rent withholding on a case the directors hold: the landlord reads the
   amount, the start month and its own contract reference, and nothing else.
4. The directors and AMW list their inboxes (priority cases first) and open their envelopes.
5. AMW sends feedback to the landlord, a closed list of outcomes; the landlord reads it.
6. The register holds every event and ``gateway register verify --db`` passes.

At every step each party reads exactly the fields of the covenant's matrix for its role in
that flow, and nothing else; a partner asking for an envelope not addressed to it gets 404.
One gunicorn, two workers, bounded: the whole walk takes well under 120 seconds.
"""

from __future__ import annotations

import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from gateway.cli import cli as gateway_cli
from gateway.instance import init_instance, load_instance
from gateway.policy import Policy
from gateway.services.policy_publishing import publish
from gateway.settings import Settings
from tests.e2e.covenant import (
    KEYS_VALID_FROM,
    InboxLine,
    Party,
    case_state,
    free_port,
    gunicorn,
    matrix,
    onboard,
    register_events,
)

pytestmark = pytest.mark.slow

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
WL_OCTOBER = EXAMPLES / "huurachterstand-wonen-limburg-2026-10.csv"
WL_NOVEMBER = EXAMPLES / "huurachterstand-wonen-limburg-2026-11.csv"
SJ_NOVEMBER = EXAMPLES / "huurachterstand-st-joseph-2026-11.csv"

WONEN_LIMBURG = "wonen-limburg"
ST_JOSEPH = "st-joseph"
LANDLORDS = (WONEN_LIMBURG, ST_JOSEPH)
INTAKE = "gemeente-weert-intake"
DIRECTORS = ["gemeente-weert-participatie", "gemeente-weert-schulddienstverlening"]
BENEFITS = "gemeente-weert-uitkeringsadministratie"
AMW = "amw-midden-limburg"
EXPERT = "budgetcoach-weert"
PARTIES = (*LANDLORDS, INTAKE, *DIRECTORS, BENEFITS, AMW, EXPERT)

#: The landlords' clocks when they send their lists (the client seals with its own clock).
OCTOBER = datetime(2026, 10, 28, 10, 0, tzinfo=UTC)
NOVEMBER = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
INVITATION_DATE = "2026-12-07"
WALK_SECONDS = 120


def _counts(output: str) -> dict[str, int]:
    """The numbers of ``send signal``'s summary line."""
    found: dict[str, int] = {}
    for label in ("accepted", "refused", "sent before", "below threshold, not sent", "invalid"):
        found[label] = int(output.split(f"{label}: ")[1].split(";")[0].split(".")[0])
    return found


def _has_minors(signal: dict[str, Any]) -> bool:
    """The intake's own records (the municipality's, not the landlord's): does the household
    have minor children? Simulated deterministically for the test."""
    return int(signal["house_number"]) % 3 == 0


def _assert_matrix(
    policy: Policy, flow: str, recipient: str, fields: dict[str, Any], supplied: set[str]
) -> None:
    """The recipient reads exactly what the matrix grants its role in this flow of what the
    sender had, and nothing else."""
    allowed, required = matrix(policy, flow, recipient)
    assert set(fields) <= allowed, (flow, recipient, set(fields) - allowed)
    assert required <= set(fields), (flow, recipient, required - set(fields))
    assert set(fields) == allowed & supplied, (flow, recipient)


def _send_list(landlord: Party, month: datetime, list_file: Path) -> dict[str, int]:
    landlord.month_clock = month
    letters = landlord.ok(
        "letters", str(list_file), "--out", str(landlord.folder / f"brieven-{month:%Y-%m}")
    )
    assert "1 PDF(s)" in letters
    sent = _counts(landlord.ok("send", "signal", str(list_file)))
    landlord.month_clock = None
    return sent


def test_a_month_in_the_covenant(
    settings: Settings, gateway_env: dict[str, str], weert: Policy, tmp_path: Path
) -> None:
    started = time.monotonic()
    init_instance(settings)
    instance = load_instance(settings)
    with instance.database.connection() as conn:
        publish(
            conn,
            weert,
            instance.signing_key,
            now=datetime.now(UTC),
            effective_from=KEYS_VALID_FROM.date(),
            published_by="fg",
            register=instance.register,
        )
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    # Onboarding: every partner runs `gateway-client init`, the admin registers its key.
    party = {
        p: onboard(
            p, tmp_path / "partners", base, settings.signing_public_key_path, instance, weert
        )
        for p in PARTIES
    }
    intake, amw, benefits = party[INTAKE], party[AMW], party[BENEFITS]
    expected: Counter[str] = Counter()  # the processing events the walk should cause

    def opened_by(reader: Party, line: InboxLine) -> dict[str, Any]:
        document = reader.open(line.message_id)
        expected["envelope.delivered"] += 1
        expected["envelope.acknowledged"] += 1
        # A signal is sealed before the gateway gives it a case: its header names none, so
        # the intake takes the case reference from its inbox.
        case_in_header = None if line.flow == "arrears-signal" else line.case_ref
        assert document["caseRef"] == case_in_header
        assert document["sender"] == line.sender
        return document

    with gunicorn(gateway_env, port, tmp_path / "serve.log"):
        for p in party.values():
            assert "policy verified" in p.ok("policy", "pull")
            assert f"{len(PARTIES)} partners" in p.ok("directory", "pull")

        # 1. The landlords' lists: letters first, then the signals.
        wonen_limburg, st_joseph = party[WONEN_LIMBURG], party[ST_JOSEPH]
        october = _send_list(wonen_limburg, OCTOBER, WL_OCTOBER)
        assert october == {
            "accepted": 5,
            "refused": 0,
            "sent before": 0,
            "below threshold, not sent": 0,
            "invalid": 0,
        }
        for landlord, list_file in ((wonen_limburg, WL_NOVEMBER), (st_joseph, SJ_NOVEMBER)):
            november = _send_list(landlord, NOVEMBER, list_file)
            assert november == {
                "accepted": 54,
                "refused": 0,
                "sent before": 0,
                "below threshold, not sent": 3,
                "invalid": 3,
            }
            again = _counts(landlord.ok("send", "signal", str(list_file)))
            assert again["accepted"] == 0
            assert again["sent before"] == 54
        signals = 5 + 54 + 54
        expected["transfer.accepted"] += signals
        # The tenant repeated from October (WL-00902: October row 4, November row 27)
        # attaches to the same case; every other row opened a case of its own.
        receipts = wonen_limburg.receipts_by_label()
        repeated = receipts[f"{WL_OCTOBER.name} rij 4"]["caseRef"]
        assert receipts[f"{WL_NOVEMBER.name} rij 27"]["caseRef"] == repeated
        case_refs = [r["caseRef"] for p in LANDLORDS for r in party[p].receipts_by_label().values()]
        assert len(case_refs) == signals
        assert len(set(case_refs)) == signals - 1
        expected["case.opened"] += signals - 1

        # 2. The intake opens and acknowledges every signal (the case moves to triage).
        lines = intake.inbox()
        assert len(lines) == signals
        assert {(line.flow, line.state) for line in lines} == {("arrears-signal", "pending")}
        cases: dict[str, dict[str, Any]] = {}  # case -> the latest signal's fields
        landlord_of: dict[str, str] = {}
        for line in lines:
            document = opened_by(intake, line)
            signal = document["fields"]
            _assert_matrix(weert, "arrears-signal", INTAKE, signal, set(signal))
            assert "Opmerking" not in signal
            assert "opmerking" not in signal
            assert signal["tenant_informed_how"] == "letter"  # the letters were recorded
            cases[line.case_ref] = signal
            landlord_of[line.case_ref] = line.sender
        expected["case.moved"] += len(cases)  # signalled -> triage at the first acknowledgement
        assert intake.inbox() == []  # everything acknowledged
        assert len(cases) == signals - 1
        # Nobody else can fetch a signal: the other landlord, or the sender itself.
        one_signal = lines[0]
        for outsider in (st_joseph, wonen_limburg, amw):
            assert "HTTP 404" in outsider.refused_open(one_signal.message_id)

        # 3. Routing: half to the directors, half to AMW; priority for minors.
        to_directors: dict[str, bool] = {}
        to_amw: dict[str, bool] = {}
        for number, (case_ref, signal) in enumerate(cases.items()):
            minors = _has_minors(signal)
            priority = "--priority" if minors else "--no-priority"
            if number % 2 == 0:
                values = {
                    **signal,
                    "household_has_minors": minors,
                    "route_decision": "directors",
                    "invitation_date": INVITATION_DATE,
                }
                if not to_directors:
                    # The directors' routing cannot include the benefits administration: the
                    # covenant does not make it a recipient of route-to-directors.
                    refused = intake.reply(
                        "route-to-directors", case_ref, [*DIRECTORS, BENEFITS], values, priority
                    )
                    assert refused.exit_code == 2
                    assert "is not a recipient of flow 'route-to-directors'" in refused.output
                result = intake.reply("route-to-directors", case_ref, DIRECTORS, values, priority)
                to_directors[case_ref] = minors
            else:
                values = {**signal, "route_decision": "amw"}
                result = intake.reply("referral-to-amw", case_ref, [AMW], values, priority)
                to_amw[case_ref] = minors
            assert result.exit_code == 0, result.output
            assert "Geaccepteerd / accepted" in result.output, result.output
            expected["transfer.accepted"] += 1
            expected["case.moved"] += 1
        assert any(to_directors.values())
        assert not all(to_directors.values())
        assert any(to_amw.values())
        assert not all(to_amw.values())

        # 4. Rent withholding: the benefits administration acts on a case its municipality's
        # directors hold; the landlord reads amount, start month and its contract reference.
        withheld_case = next(iter(to_directors))
        withholding = {
            "withholding_amount": "577.54",
            "withholding_start_month": "2026-12",
            "contract_reference": cases[withheld_case]["contract_reference"],
        }
        result = benefits.reply(
            "rent-withholding", withheld_case, [landlord_of[withheld_case]], withholding
        )
        assert result.exit_code == 0, result.output
        assert "Geaccepteerd / accepted" in result.output, result.output
        expected["transfer.accepted"] += 1
        withheld_by = party[landlord_of[withheld_case]]
        [notice] = [line for line in withheld_by.inbox() if line.flow == "rent-withholding"]
        withheld_fields = opened_by(withheld_by, notice)["fields"]
        assert set(withheld_fields) == {
            "withholding_amount",
            "withholding_start_month",
            "contract_reference",
        }
        assert withheld_fields["withholding_amount"] == "577.54"
        assert benefits.inbox() == []

        # 5. The directors: priority cases first; each reads the directors' fields only.
        director_lines: list[InboxLine] = []
        for director in DIRECTORS:
            lines = party[director].inbox()
            assert {line.flow for line in lines} == {"route-to-directors"}
            assert {line.case_ref for line in lines} == set(to_directors)
            flags = [line.priority for line in lines]
            assert flags == sorted(flags, reverse=True)  # priority first
            assert sum(flags) == sum(to_directors.values())
            for line in lines:
                document = opened_by(party[director], line)
                fields = document["fields"]
                supplied = {*cases[line.case_ref], "household_has_minors", "route_decision"}
                supplied.add("invitation_date")
                _assert_matrix(weert, "route-to-directors", director, fields, supplied)
                assert fields["household_has_minors"] is to_directors[line.case_ref]
                assert line.priority is to_directors[line.case_ref]
                assert "contract_reference" not in fields
            director_lines.extend(lines)

        # 6. AMW: priority first; no contract, rent or household details.
        amw_lines = amw.inbox()
        assert {line.flow for line in amw_lines} == {"referral-to-amw"}
        assert {line.case_ref for line in amw_lines} == set(to_amw)
        flags = [line.priority for line in amw_lines]
        assert flags == sorted(flags, reverse=True)
        assert sum(flags) == sum(to_amw.values())
        for line in amw_lines:
            fields = opened_by(amw, line)["fields"]
            _assert_matrix(
                weert, "referral-to-amw", AMW, fields, {*cases[line.case_ref], "route_decision"}
            )
            assert not {"contract_reference", "monthly_rent", "household_has_minors"} & set(fields)
        # The directors and AMW cannot fetch each other's envelopes.
        assert "HTTP 404" in amw.refused_open(director_lines[0].message_id)
        assert "HTTP 404" in party[DIRECTORS[0]].refused_open(amw_lines[0].message_id)
        assert "HTTP 404" in party[EXPERT].refused_open(amw_lines[0].message_id)

        # 7. AMW's feedback to the landlord: a closed list of outcomes. AMW learns the landlord
        # from the case's parties; the contract reference the feedback must carry is NOT in
        # what the matrix gives AMW (referral-to-amw), so the test supplies it from the
        # landlord's list (finding: AMW cannot fill it from what it received).
        feedback: dict[str, str] = {}
        for number, line in enumerate(amw_lines):
            state = case_state(amw, line.case_ref)
            assert state["state"] == "with-amw"
            assert state["priority"] is to_amw[line.case_ref]
            [landlord] = [p for p in state["parties"] if p in LANDLORDS]
            assert landlord == landlord_of[line.case_ref]
            status = "help-accepted" if number % 2 == 0 else "contact-made"
            result = amw.reply(
                "feedback-to-landlord",
                line.case_ref,
                [landlord],
                {
                    "contract_reference": cases[line.case_ref]["contract_reference"],
                    "feedback_status": status,
                    "feedback_date": datetime.now(UTC).date().isoformat(),
                },
            )
            assert "Geaccepteerd / accepted" in result.output, result.output
            expected["transfer.accepted"] += 1
            feedback[line.case_ref] = status

        # 8. Each landlord reads the feedback on its own cases: three fields, nothing else.
        for name in LANDLORDS:
            landlord = party[name]
            lines = landlord.inbox()
            mine = {c for c in feedback if landlord_of[c] == name}
            assert {line.case_ref for line in lines} == mine
            assert {(line.flow, line.sender) for line in lines} == {("feedback-to-landlord", AMW)}
            for line in lines:
                fields = opened_by(landlord, line)["fields"]
                assert set(fields) == matrix(weert, "feedback-to-landlord", name)[0]
                assert fields["feedback_status"] == feedback[line.case_ref]
                assert fields["contract_reference"] == cases[line.case_ref]["contract_reference"]
            other = party[ST_JOSEPH if name == WONEN_LIMBURG else WONEN_LIMBURG]
            if lines:
                assert "HTTP 404" in other.refused_open(lines[0].message_id)

        # 9. A receipt from October proves its entry is in the register as it is now (the
        # scheduler signs checkpoints every few minutes; here the operator signs one now).
        signed = CliRunner().invoke(gateway_cli, ["register", "checkpoint"], env=gateway_env)
        assert signed.exit_code == 0, signed.output
        first = receipts[f"{WL_OCTOBER.name} rij 4"]["messageId"]
        receipt_file = wonen_limburg.profile().state_dir / "receipts" / f"{first}.json"
        assert "receipt valid" in wonen_limburg.ok("verify-receipt", str(receipt_file))

    # 10. The register holds every event of the walk, and verifies.
    entries = register_events(instance)
    watched = {*expected, "case.closed", "transfer.refused"}
    counted = Counter(e["type"] for e in entries if e["type"] in watched)
    assert counted == +expected, (counted, expected)
    for entry in entries:
        if entry["type"] == "transfer.accepted":  # field names only, within the matrix
            for recipient in entry["recipients"]:
                allowed, _ = matrix(weert, entry["flow"], recipient["party"])
                assert set(recipient["fields"]) <= allowed
    everything = "".join(str(e) for e in entries)
    server_log = (tmp_path / "serve.log").read_text()
    for value in ("Maessen", "Oda van Egmondstraat", "WL-00902", "577.54"):
        assert value not in everything
        assert value not in server_log
    verified = CliRunner().invoke(gateway_cli, ["register", "verify", "--db"], env=gateway_env)
    assert verified.exit_code == 0, verified.output
    assert time.monotonic() - started < WALK_SECONDS
