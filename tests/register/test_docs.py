"""docs/REGISTER.md stays true: it lists every event type with its stream."""

from __future__ import annotations

from pathlib import Path

from gateway.register.entry import EVENT_TYPES

DOC = Path(__file__).resolve().parents[2] / "docs" / "REGISTER.md"


def test_register_doc_lists_every_event_type_with_its_stream() -> None:
    text = DOC.read_text()
    for kind, (stream, _en, nl) in EVENT_TYPES.items():
        assert f"| `{kind}` | {stream} | {nl} |" in text, kind
