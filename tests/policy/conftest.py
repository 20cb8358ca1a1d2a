"""Fixtures: the shipped Weert policy, and a writable copy to break."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import POLICY_DIR

__all__ = ["POLICY_DIR"]


@pytest.fixture
def policy_copy(tmp_path: Path) -> Path:
    target = tmp_path / "policies"
    shutil.copytree(POLICY_DIR, target)
    return target


Edit = Callable[[str, Callable[[str], str]], None]


@pytest.fixture
def edit(policy_copy: Path) -> Edit:
    """Change one file of the copy: ``edit("flows/x.yaml", lambda text: ...)``."""

    def apply(name: str, change: Callable[[str], str]) -> None:
        path = policy_copy / name
        before = path.read_text(encoding="utf-8")
        after = change(before)
        assert after != before, f"the edit of {name} changed nothing"
        path.write_text(after, encoding="utf-8")

    return apply
