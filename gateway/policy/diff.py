"""Differences between two policies, as a person reads them: path, old value, new value."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gateway.policy.bundle import to_document
from gateway.policy.model import Policy


@dataclass(frozen=True)
class Change:
    path: str
    old: Any
    new: Any

    def __str__(self) -> str:
        if self.old is None:
            return f"+ {self.path}: {self.new}"
        if self.new is None:
            return f"- {self.path}: {self.old}"
        return f"~ {self.path}: {self.old} -> {self.new}"


def _walk(old: Any, new: Any, path: str, out: list[Change]) -> None:
    if isinstance(old, dict) and isinstance(new, dict):
        for key in sorted(set(old) | set(new)):
            sub = f"{path}.{key}" if path else str(key)
            _walk(old.get(key), new.get(key), sub, out)
        return
    if (
        isinstance(old, list)
        and isinstance(new, list)
        and all(isinstance(v, str) for v in old + new)
    ):
        for item in sorted(set(old) - set(new)):
            out.append(Change(path, item, None))
        for item in sorted(set(new) - set(old)):
            out.append(Change(path, None, item))
        return
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        for i, (a, b) in enumerate(zip(old, new, strict=True)):
            _walk(a, b, f"{path}[{i}]", out)
        return
    if old != new:
        out.append(Change(path, old, new))


def diff(old: Policy, new: Policy) -> list[Change]:
    changes: list[Change] = []
    _walk(to_document(old), to_document(new), "", changes)
    return changes
