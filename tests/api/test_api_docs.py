"""docs/API.md stays true: every path of the OpenAPI document and every refusal code is there."""

from __future__ import annotations

import re
from pathlib import Path

from flask.testing import FlaskClient

from gateway.services.exchange import ENVELOPE_REASONS_NL, MISMATCH_REASONS

DOC = (Path(__file__).resolve().parents[2] / "docs" / "API.md").read_text()


def test_every_path_is_documented(client: FlaskClient) -> None:
    spec = client.get("/api/v1/openapi.json").get_json()
    for path in spec["paths"]:
        if path in ("/health",):
            continue
        base = re.sub(r"\{[^}]+\}", "{", path).split("{")[0].rstrip("/")
        assert f"`{'GET' if 'get' in spec['paths'][path] else 'POST'} {base}" in DOC, path


def test_every_refusal_and_mismatch_code_is_documented() -> None:
    for code in (*ENVELOPE_REASONS_NL, *MISMATCH_REASONS):
        assert f"`{code}`" in DOC or f'"{code}"' in DOC, code
