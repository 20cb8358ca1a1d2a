"""Privacy canaries: a covenant exchange through real gunicorn (127.0.0.1) with a marker in every
personal field, then a search of everything the gateway keeps or writes for those markers.

The landlord sends its monthly list with `gateway-client letters` and `send signal`, the intake
opens it and refers the tenant to AMW, AMW opens the referral and gives the landlord feedback, the
landlord opens it. Searched: every text and blob column of every table of the decrypted database,
the server's log, the register export in json, csv and pdf (text extracted), and every file in
the gateway's data folder: no marker anywhere. The partners' opened 0600 files hold them, which
proves the markers did travel (the test cannot pass because nothing was sent)."""

from __future__ import annotations

import json
import re
import stat
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from pypdf import PdfReader

from gateway.client import reading
from gateway.client.cli import cli as client_cli
from gateway.client.profile import load_profile
from gateway.client.session import Session, urllib_transport
from gateway.crypto.keys import read_private_key_file
from gateway.instance import init_instance, load_instance
from gateway.policy import Policy
from gateway.services import key_directory
from gateway.services.policy_publishing import publish
from gateway.settings import Settings
from tests.api.world import AMW, INTAKE, LANDLORD
from tests.faults.live import Server

PASSPHRASE = "canary passphrase for tests"
TAG = "7f3a9c"

#: Text markers, one per personal text field of the list.
TEXT = {
    "Contractnummer": f"CANARY-{TAG}-CONTRACT",
    "Voornamen": f"Canaryfirst{TAG}",
    "Achternaam": f"Canarysurname{TAG}",
    "Straat": f"Canarystraat{TAG}",
    "Woonplaats": f"Canarycity{TAG}",
    "Opmerking": f"CANARY-{TAG}-REMARK",
}
#: Typed fields carry values found nowhere else, searched in every spelling they may take.
TYPED = {
    "Tussenvoegsel": ("van der", []),  # a common word: checked in the opened file only
    "Geboortedatum": ("13-02-1937", ["13-02-1937", "1937-02-13"]),
    "Huisnummer": ("9137", [r"(?<![\w-])9137(?![\w-])"]),
    "Toevoeging": ("QZ", []),  # two letters: checked in the opened file only
    "Postcode": ("6001 QX", ["6001 QX", "6001QX"]),
    "Huur": ("917,33", ["917,33", "917.33"]),
    "Huurachterstand": ("2.751,97", ["2.751,97", "2751.97", "2751,97"]),
}
HEADER = (
    "Contractnummer;Voornamen;Tussenvoegsel;Achternaam;Geboortedatum;Straat;Huisnummer;"
    "Toevoeging;Postcode;Woonplaats;Huur;Huurachterstand;Maanden achterstand;"
    "Datum persoonlijk contact;Gewezen op schuldhulp;Laatste herinnering;Doorgifte aangeboden;"
    "Bezwaar;Opmerking"
)
PHONE, EMAIL = "0612937137", f"canary.{TAG}@example.org"


def _markers() -> dict[str, list[re.Pattern[str]]]:
    """Per field of the list (and the reply fields), the patterns that find its marker."""
    found = {name: [re.compile(re.escape(m), re.IGNORECASE)] for name, m in TEXT.items()}
    found["phone"] = [re.compile(re.escape(PHONE))]
    found["email"] = [re.compile(re.escape(EMAIL), re.IGNORECASE)]
    for name, (_, spellings) in TYPED.items():
        if spellings:
            found[name] = [re.compile(s if s.startswith("(?") else re.escape(s)) for s in spellings]
    return found


MARKERS = _markers()
#: Not a covenant field: it must stay on the landlord's machine and reach no partner either.
LANDLORD_ONLY = {"Opmerking"}
EVERY = [p for patterns in MARKERS.values() for p in patterns] + [re.compile(TAG, re.IGNORECASE)]


def _hits(text: str) -> list[str]:
    return [p.pattern for p in EVERY if p.search(text)]


def _found_fields(text: str) -> set[str]:
    return {name for name, patterns in MARKERS.items() if any(p.search(text) for p in patterns)}


def _signal_list(path: Path, today: date) -> None:
    values = {**TEXT, **{k: v for k, (v, _) in TYPED.items()}}
    contact = (today - timedelta(days=20)).strftime("%d-%m-%Y")
    reminder = (today - timedelta(days=14)).strftime("%d-%m-%Y")
    row = {
        **values,
        "Maanden achterstand": "3",
        "Datum persoonlijk contact": contact,
        "Gewezen op schuldhulp": contact,
        "Laatste herinnering": reminder,
        "Doorgifte aangeboden": "ja",
        "Bezwaar": "nee",
    }
    line = ";".join(row[name] for name in HEADER.split(";"))
    path.write_bytes(("\ufeff" + HEADER + "\r\n" + line + "\r\n").encode("utf-8"))


class Side:
    """gateway-client on one partner's machine, against the live gateway."""

    def __init__(self, partner: str, folder: Path, url: str, gateway_key: Path) -> None:
        self.partner, self.folder = partner, folder
        folder.mkdir(parents=True)
        self.passphrase = folder / "passphrase.txt"
        self.passphrase.write_text(PASSPHRASE + "\n")
        self.passphrase.chmod(0o600)
        result = self.run(
            "init",
            "--gateway",
            url,
            "--partner",
            partner,
            "--gateway-key",
            str(gateway_key),
            "--cheap-kdf",
        )
        assert result.exit_code == 0, result.output
        self.keys = read_private_key_file(self.profile().key_file, PASSPHRASE)

    def profile(self):  # type: ignore[no-untyped-def]
        return load_profile(self.folder / "sluis-profile.json")

    def run(self, *args: str) -> Result:
        return CliRunner().invoke(
            client_cli,
            [
                "--profile",
                str(self.folder / "sluis-profile.json"),
                "--passphrase-file",
                str(self.passphrase),
                *args,
            ],
        )

    def ok(self, *args: str) -> str:
        result = self.run(*args)
        assert result.exit_code == 0, (args, result.output)
        return result.output

    def open_all(self) -> list[dict[str, object]]:
        """Open and acknowledge every message in the inbox with gateway-client open and ack."""
        session = Session(self.profile().gateway_url, self.keys, transport=urllib_transport(10))
        opened = []
        for item in reading.inbox(session)["items"]:
            out = self.folder / f"opened-{item['messageId']}.json"
            self.ok("open", item["messageId"], "--out", str(out))
            assert stat.S_IMODE(out.stat().st_mode) == 0o600
            self.ok("ack", item["messageId"])
            opened.append({**json.loads(out.read_text()), "inboxCaseRef": item["caseRef"]})
        return opened


def _register_keys(settings: Settings, policy: Policy, sides: list[Side]) -> None:
    instance = load_instance(settings)
    now = datetime.now(UTC)
    with instance.database.connection() as conn:
        publish(
            conn,
            policy,
            instance.signing_key,
            now=now - timedelta(hours=1),
            effective_from=now.date() - timedelta(days=1),
            published_by="fg",
            register=instance.register,
        )
        for side in sides:
            key_directory.add_partner(
                conn, policy, side.partner, now=now, by="admin", register=instance.register
            )
            key_directory.register_key(
                conn,
                side.keys.public,
                now=now - timedelta(hours=1),
                by="admin",
                register=instance.register,
            )


def _database_text(settings: Settings) -> str:
    """Every text and blob value of every table, decrypted with the database key."""
    instance = load_instance(settings)
    parts: list[str] = []
    with instance.database.connection() as conn:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        assert {"receipts", "envelopes", "deliveries", "register_entries", "cases"} <= set(tables)
        for table in tables:
            for row in conn.execute(f'SELECT * FROM "{table}"'):  # noqa: S608 - names from the schema
                for value in row:
                    if isinstance(value, bytes):
                        parts.append(value.decode("latin-1"))
                    elif isinstance(value, str):
                        parts.append(value)
    return "\n".join(parts)


@pytest.mark.slow
def test_no_personal_marker_leaves_the_sealed_envelopes(
    settings: Settings, gateway_env: dict[str, str], weert: Policy, tmp_path: Path
) -> None:
    init_instance(settings)
    server = Server.for_settings(settings, gateway_env, tmp_path / "serve.log")
    sides = {
        p: Side(p, tmp_path / "partners" / p, server.url, settings.signing_public_key_path)
        for p in (LANDLORD, INTAKE, AMW)
    }
    _register_keys(settings, weert, list(sides.values()))
    today = datetime.now(UTC).date()
    signal_list = tmp_path / "partners" / LANDLORD / "huurachterstand.csv"
    _signal_list(signal_list, today)
    server.start()
    try:
        landlord, intake, amw = sides[LANDLORD], sides[INTAKE], sides[AMW]
        landlord.ok("letters", str(signal_list), "--out", str(landlord.folder / "brieven"))
        sent = landlord.ok("send", "signal", str(signal_list))
        assert "accepted: 1;" in sent, sent

        [signal] = intake.open_all()
        fields = dict(signal["fields"])  # type: ignore[call-overload]
        assert fields["surname"] == TEXT["Achternaam"]
        referral = {**fields, "phone": PHONE, "email": EMAIL, "route_decision": "amw"}
        referral_file = intake.folder / "referral.json"
        referral_file.write_text(json.dumps(referral))
        replied = intake.run(
            "reply",
            "referral-to-amw",
            "--case",
            str(signal["inboxCaseRef"]),
            "--to",
            AMW,
            "--fields",
            str(referral_file),
            "--priority",
        )
        assert replied.exit_code == 0, replied.output

        [referred] = amw.open_all()
        assert referred["fields"]["phone"] == PHONE  # type: ignore[index]
        feedback_file = amw.folder / "feedback.json"
        feedback_file.write_text(
            json.dumps(
                {
                    "contract_reference": TEXT["Contractnummer"],
                    "feedback_status": "help-accepted",
                    "feedback_date": today.isoformat(),
                }
            )
        )
        amw.ok(
            "reply",
            "feedback-to-landlord",
            "--case",
            str(signal["inboxCaseRef"]),
            "--to",
            LANDLORD,
            "--fields",
            str(feedback_file),
        )
        [feedback] = landlord.open_all()
        assert feedback["fields"]["contract_reference"] == TEXT["Contractnummer"]  # type: ignore[index]
    finally:
        server.stop()

    # The partners' opened files hold the markers: they did travel, sealed.
    opened = "\n".join(
        p.read_text() for side in sides.values() for p in side.folder.glob("opened-*.json")
    )
    assert _found_fields(opened) == set(MARKERS) - LANDLORD_ONLY
    assert TYPED["Tussenvoegsel"][0] in opened
    assert TYPED["Toevoeging"][0] in opened

    # The gateway's register export in every format.
    export_dir = tmp_path / "export"
    exported: list[str] = []
    for fmt in ("json", "csv", "pdf"):
        out = export_dir / fmt
        made = subprocess.run(  # noqa: S603 - this interpreter, fixed arguments
            [
                sys.executable,
                "-m",
                "gateway",
                "register",
                "export",
                "--from",
                "2020-01-01",
                "--to",
                "2099-12-31",
                "--format",
                fmt,
                "--out",
                str(out),
            ],
            env=server.env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert made.returncode == 0, made.stderr
        files = [p for p in out.rglob("*") if p.is_file()]
        assert files
        for path in files:
            if path.suffix == ".pdf":
                text = "\n".join(page.extract_text() or "" for page in PdfReader(path).pages)
                assert "wonen-limburg" in text or "register" in text.lower()
                exported.append(text)
            exported.append(path.read_bytes().decode("latin-1"))
    assert any("transfer.accepted" in text or "envelope" in text for text in exported)

    places = {
        "database": _database_text(settings),
        "server log": server.log.read_text(errors="replace"),
        "register export": "\n".join(exported),
        "data folder": "\n".join(
            p.read_bytes().decode("latin-1") for p in settings.data_dir.rglob("*") if p.is_file()
        ),
    }
    assert "POST /api/v1/envelope-batches" in places["server log"]  # the log was captured
    leaks = {where: _hits(text) for where, text in places.items() if _hits(text)}
    assert leaks == {}
