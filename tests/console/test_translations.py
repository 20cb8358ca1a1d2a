"""The Dutch catalog covers every console text, and the compiled .mo matches the .po."""

from __future__ import annotations

import io
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

CONSOLE = Path(__file__).resolve().parents[2] / "gateway" / "console"
CATALOG = CONSOLE / "translations" / "nl" / "LC_MESSAGES"


def _catalog():  # type: ignore[no-untyped-def]
    with (CATALOG / "messages.po").open("rb") as fh:
        return read_po(fh, locale="nl")


def test_every_console_text_has_a_dutch_translation() -> None:
    catalog = _catalog()
    method_map = [("**.py", "python"), ("templates/**.html", "jinja2")]
    found = {
        message
        for _file, _line, message, _comments, _context in extract_from_dir(
            str(CONSOLE), method_map, keywords={"_": None}
        )
    }
    assert found
    missing = sorted(m for m in found if not (catalog.get(m) and catalog.get(m).string))
    assert missing == []


def test_the_compiled_catalog_is_up_to_date() -> None:
    buffer = io.BytesIO()
    write_mo(buffer, _catalog())
    assert (CATALOG / "messages.mo").read_bytes() == buffer.getvalue()
