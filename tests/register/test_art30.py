"""The art. 30 register: built from the Weert policy, rendered as JSON, CSV and HTML."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
from datetime import UTC, datetime, timedelta, timezone
from types import MappingProxyType

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.policy import Policy
from gateway.register.art30 import (
    CSV_HEADER,
    Art30Register,
    build_art30,
    render_csv,
    render_html,
    render_json,
)

WHEN = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def reg(weert: Policy) -> Art30Register:
    return build_art30(weert, generated_at=WHEN)


def _with_flow_label(policy: Policy, label: str) -> Policy:
    flow_id = sorted(policy.flows)[0]
    flows = dict(policy.flows)
    flows[flow_id] = dataclasses.replace(flows[flow_id], label_nl=label, label_en=label)
    return dataclasses.replace(policy, flows=MappingProxyType(flows))


def _csv_rows(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline=""), delimiter=";"))


def test_every_flow_and_recipient_rule_is_one_activity(weert: Policy, reg: Art30Register) -> None:
    expected = sorted((f.id, r.role) for f in weert.flows.values() for r in f.recipients)
    assert [(a.flow_id, a.recipient_role) for a in reg.activities] == expected
    assert len(reg.activities) == len(expected) > len(weert.flows) - 1


def test_header_comes_from_the_covenant(weert: Policy, reg: Art30Register) -> None:
    c = weert.covenant
    assert reg.controller_name == c.controller_name == "Gemeente Weert"
    assert reg.controller_address == c.controller_address
    assert (reg.privacy_officer_name, reg.privacy_officer_email, reg.privacy_officer_phone) == (
        c.privacy_officer_name,
        c.privacy_officer_email,
        c.privacy_officer_phone,
    )
    assert reg.ap_notification_reference == c.ap_notification_reference
    assert reg.policy_version == weert.version_id != ""
    assert (reg.effective_from, reg.effective_until) == (c.effective_from, c.effective_until)
    assert reg.register_retention_processing_months == 84
    assert reg.register_retention_administration_months == 24
    assert reg.generated_at == WHEN


def test_activity_carries_the_rule(weert: Policy, reg: Art30Register) -> None:
    for a in reg.activities:
        rule = weert.flows[a.flow_id].rule_for_role(a.recipient_role)
        assert rule is not None
        assert (a.purpose_nl, a.purpose_en) == (rule.purpose_nl, rule.purpose_en)
        assert (a.legal_basis_article, a.legal_basis_law) == (
            rule.legal_basis.article,
            rule.legal_basis.law,
        )
        assert a.retention_months == rule.retention.months
        assert a.retention_rule_nl == rule.retention.rule_nl
        personal = {f for f in rule.allowed if weert.fields[f].personal}
        assert set(a.field_names) == personal
        for category in a.data_categories:
            assert {weert.fields[f].category for f in category.fields} == {category.category}
            assert list(category.fields) == sorted(category.fields)
        names = {p.name for p in weert.parties_with_role(a.recipient_role)}
        assert set(a.recipients) == names
        assert list(a.recipients) == sorted(names)
        assert [s.id for s in a.data_subject_categories] == ["household", "tenant"]
        assert a.security_measures_nl == weert.covenant.security_measures_nl
        assert (a.third_country_transfers_nl, a.third_country_transfers_en) == ("geen", "none")


def test_the_signal_goes_to_the_intake_with_its_retention(reg: Art30Register) -> None:
    signal = next(a for a in reg.activities if a.flow_id == "arrears-signal")
    assert signal.recipients == ("Gemeente Weert, intake vroegsignalering",)
    assert signal.senders == ("Wonen Limburg", "Woningstichting St. Joseph")
    assert (signal.retention_picked_up_months, signal.retention_after_closure_months) == (12, 18)
    assert [d.category for d in signal.data_categories] == sorted(
        {"identification", "contact", "financial", "case"}
    )


def test_non_personal_fields_are_left_out(weert: Policy) -> None:
    fields = dict(weert.fields)
    fields["arrears_amount"] = dataclasses.replace(fields["arrears_amount"], personal=False)
    reg = build_art30(
        dataclasses.replace(weert, fields=MappingProxyType(fields)), generated_at=WHEN
    )
    signal = next(a for a in reg.activities if a.flow_id == "arrears-signal")
    assert "arrears_amount" not in signal.field_names
    assert "monthly_rent" in signal.field_names


def test_naive_time_is_refused(weert: Policy) -> None:
    with pytest.raises(ValueError, match="timezone"):
        build_art30(weert, generated_at=datetime(2026, 1, 1))


def test_register_is_deterministic(weert: Policy) -> None:
    first = build_art30(weert, generated_at=WHEN)
    reversed_flows = MappingProxyType(dict(reversed(list(weert.flows.items()))))
    second = build_art30(dataclasses.replace(weert, flows=reversed_flows), generated_at=WHEN)
    assert first == second
    assert render_json(first) == render_json(second)
    assert render_csv(first) == render_csv(second)


def test_only_field_names_from_the_dictionary_appear(weert: Policy, reg: Art30Register) -> None:
    document = reg.to_json_dict()
    for activity in document["activities"]:
        for category in activity["personal_data_categories"]:
            assert set(category) == {"category", "label_nl", "label_en", "fields"}
            assert all(name in weert.fields for name in category["fields"])
    # No key anywhere that could hold a value of a field.
    text = render_json(reg).decode()
    assert '"value' not in text
    assert '"example' not in text


def test_json_is_canonical_and_plain(reg: Art30Register) -> None:
    data = render_json(reg)
    assert data.endswith(b"}\n")
    assert not data.endswith(b"\n\n")
    parsed = json.loads(data)
    assert parsed == json.loads(json.dumps(reg.to_json_dict()))  # JSON-able as it is
    canonical = json.dumps(parsed, sort_keys=True, ensure_ascii=False, indent=2) + "\n"
    assert data == canonical.encode()
    assert parsed["generated_at"] == "2026-11-30T12:00:00+00:00"
    assert parsed["activities"][0]["third_country_transfers"] == {"nl": "geen", "en": "none"}
    assert "financiële gegevens".encode() in data  # UTF-8, not \u escapes


def test_json_keeps_the_offset_of_the_time(weert: Policy) -> None:
    cet = timezone(timedelta(hours=1))
    reg = build_art30(weert, generated_at=datetime(2026, 12, 1, 9, 30, tzinfo=cet))
    assert json.loads(render_json(reg))["generated_at"] == "2026-12-01T09:30:00+01:00"


def test_csv_is_a_dutch_spreadsheet(reg: Art30Register) -> None:
    data = render_csv(reg)
    assert data.startswith(b"\xef\xbb\xbf")
    assert data.count(b"\r\n") >= len(reg.activities) + 1
    assert b"\n" not in data.replace(b"\r\n", b"")
    rows = _csv_rows(data)
    assert tuple(rows[0]) == CSV_HEADER
    assert len(rows) == len(reg.activities) + 1
    assert all(len(row) == len(CSV_HEADER) for row in rows)
    first = dict(zip(CSV_HEADER, rows[1], strict=True))
    activity = reg.activities[0]
    assert first["verwerking"] == f"{activity.flow_id}/{activity.recipient_role}"
    assert first["velden"] == ", ".join(activity.field_names)
    assert first["doorgifte derde landen"] == "geen"
    assert first["bewaartermijn maanden"] == str(activity.retention_months)


@settings(max_examples=60, deadline=None)
@given(label=st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=40))
def test_csv_round_trips_any_label(weert: Policy, label: str) -> None:
    reg = build_art30(_with_flow_label(weert, label), generated_at=WHEN)
    rows = _csv_rows(render_csv(reg))
    assert rows[1][1] == label


@pytest.mark.parametrize("label", ["a;b", 'zeg "ja"', "regel\r\nnieuw", "\ufeffbom", ";\n;"])
def test_csv_round_trips_awkward_labels(weert: Policy, label: str) -> None:
    reg = build_art30(_with_flow_label(weert, label), generated_at=WHEN)
    rows = _csv_rows(render_csv(reg))
    assert len(rows) == len(reg.activities) + 1
    assert rows[1][1] == label


def test_html_is_dutch_by_default_and_english_on_request(reg: Art30Register) -> None:
    dutch = render_html(reg)
    assert '<html lang="nl">' in dutch
    assert "Verwerkingsverantwoordelijke" in dutch
    assert "pagina" in dutch
    assert "Maandelijks signaal huurachterstand" in dutch
    english = render_html(reg, lang="en")
    assert '<html lang="en">' in english
    assert "Controller" in english
    assert "Monthly rent arrears signal" in english
    assert "Verwerkingsverantwoordelijke" not in english
    with pytest.raises(ValueError, match="lang"):
        render_html(reg, lang="de")


def test_html_has_no_script_and_no_remote_resources(reg: Art30Register) -> None:
    page = render_html(reg).lower()
    for needle in ("<script", "src=", "href=", "url(", "@import", "http://", "https://"):
        assert needle not in page


def test_html_escapes_a_malicious_label(weert: Policy) -> None:
    evil = '<script>alert("x")</script><img src="http://127.0.0.1:9/x.png">'
    reg = build_art30(_with_flow_label(weert, evil), generated_at=WHEN)
    for lang in ("nl", "en"):
        page = render_html(reg, lang=lang)
        assert "<script" not in page
        assert "<img" not in page
        assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page


def test_register_retention_missing_or_malformed(weert: Policy) -> None:
    def with_retention(value: dict[str, object]) -> Policy:
        covenant = dataclasses.replace(
            weert.covenant, register_retention_months=MappingProxyType(value)
        )
        return dataclasses.replace(weert, covenant=covenant)

    reg = build_art30(with_retention({"processing": 84}), generated_at=WHEN)
    assert reg.register_retention_administration_months is None
    assert json.loads(render_json(reg))["register_retention_months"]["administration"] is None
    assert "beheer: - maanden" in render_html(reg)
    for bad in ("84", True, 8.4):
        with pytest.raises(TypeError, match="whole number"):
            build_art30(with_retention({"processing": bad}), generated_at=WHEN)
