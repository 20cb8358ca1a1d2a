"""``gateway openapi`` writes the served document without touching any real instance."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner
from flask.testing import FlaskClient

from gateway.cli import cli


def test_openapi_writes_the_served_document(tmp_path: Path, client: FlaskClient) -> None:
    out = tmp_path / "build" / "openapi.json"
    env = {"SLUIS_DATA_DIR": str(tmp_path / "absent"), "SLUIS_KEY_DIR": str(tmp_path / "nokeys")}
    result = CliRunner().invoke(cli, ["openapi", "--out", str(out)], env=env)
    assert result.exit_code == 0, result.output
    written = json.loads(out.read_text(encoding="utf-8"))
    assert written == client.get("/api/v1/openapi.json").get_json()
    assert not (tmp_path / "absent").exists()  # built on a temporary instance
    assert not (tmp_path / "nokeys").exists()


def test_openapi_to_stdout_uses_the_contact_settings() -> None:
    env = {"SLUIS_API_CONTACT_EMAIL": "sluis@weert.example"}
    result = CliRunner().invoke(cli, ["openapi"], env=env)
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["info"]["contact"]["email"] == "sluis@weert.example"
