"""docs/THREAT_MODEL.md stays true: every row of its tables names a test, and every test it
names (file, and function where given with ``::``) exists."""

from __future__ import annotations

import ast
import re
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "docs" / "THREAT_MODEL.md"
CODE = re.compile(r"`([^`]+)`")


@cache
def _functions(path: Path) -> frozenset[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    return frozenset(
        node.name
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    )


def _cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def _rows() -> list[tuple[str, str]]:
    """(first cell, "shown by" cell) of every row of every table with a "shown by" column."""
    rows: list[tuple[str, str]] = []
    column: int | None = None
    for line in PAGE.read_text(encoding="utf-8").splitlines():
        if not line.startswith("|"):
            column = None
            continue
        cells = _cells(line)
        if column is None:
            column = cells.index("shown by") if "shown by" in cells else -1
            continue
        if column < 0 or set(line) <= set("|- :"):
            continue
        rows.append((cells[0], cells[column]))
    return rows


def _references(text: str) -> list[tuple[str, str | None]]:
    """(test file, function or None) for every `tests/...` or `::name` span in ``text``."""
    found: list[tuple[str, str | None]] = []
    current: str | None = None
    for span in CODE.findall(text):
        if span.startswith("tests/"):
            current, _, function = span.partition("::")
            found.append((current, function or None))
        elif span.startswith("::"):
            assert current is not None, f"{span} names no file before it"
            found.append((current, span[2:]))
    return found


def test_both_tables_are_there_with_the_actors_the_issue_names() -> None:
    names = [first for first, _ in _rows()]
    assert len(names) >= 15
    for actor in (
        "curious gateway operator",
        "compromised partner",
        "outsider with a copy of the database file",
        "malicious insider with the DB key",
    ):
        assert any(name.startswith(actor) for name in names), actor


def test_every_row_names_a_test() -> None:
    for first, shown_by in _rows():
        assert _references(shown_by), f"row {first!r} names no test"


def test_every_named_test_file_and_function_exists() -> None:
    text = PAGE.read_text(encoding="utf-8")
    references = _references(text)
    assert len(references) >= 30
    for file, function in references:
        path = ROOT / file
        assert path.is_file(), f"{file} (named in docs/THREAT_MODEL.md) does not exist"
        if function is not None:
            assert function in _functions(path), f"{file}::{function} does not exist"


def test_other_named_files_exist() -> None:
    for _, shown_by in _rows():
        for span in CODE.findall(shown_by):
            path = span.partition("::")[0]
            if "/" in path and path.endswith((".py", ".sql")):
                assert (ROOT / path).is_file(), path
