"""Editing the policy files from the console: check in a temporary copy, then write.

An edit (or a restore) is turned into a *plan*: the files to write and the flow files to
remove. The plan is first applied to a temporary copy of the policy folder and loaded with
:func:`load_policy`; only a plan that loads is ever applied to the live folder, and then file by
file through temporary names and renames. Files whose meaning does not change are left as
they are (comments included); a changed file is written in the writer's canonical layout.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from gateway.policy import Policy, PolicyInvalid, PolicyProblem, load_policy
from gateway.policy.writer import policy_files
from gateway.policy.yamlfile import Path_, parse_yaml


@dataclass(frozen=True)
class Plan:
    write: Mapping[str, str]
    remove: tuple[str, ...] = ()
    notes: tuple[str, ...] = field(default=())


def plan_for(live_dir: Path, target: Policy) -> Plan:
    """The files to change in ``live_dir`` so that it holds ``target``."""
    wanted = policy_files(target)
    try:
        live = load_policy(live_dir)
    except PolicyInvalid:  # a broken live folder: rewrite every file of the target
        live = None
    current = policy_files(live) if live is not None else {}
    write = {name: text for name, text in wanted.items() if current.get(name) != text}
    remove = tuple(
        sorted(
            f"flows/{p.name}"
            for p in (live_dir / "flows").glob("*.yaml")
            if f"flows/{p.name}" not in wanted
        )
    )
    return Plan(write, remove)


def check_in_copy(live_dir: Path, plan: Plan) -> Policy:
    """Apply ``plan`` to a temporary copy of ``live_dir`` and load it (PolicyInvalid if not)."""
    with tempfile.TemporaryDirectory(prefix="sluis-policy-edit-") as tmp:
        copy = Path(tmp) / "policy"
        shutil.copytree(live_dir, copy, symlinks=False)
        for name, text in plan.write.items():
            target = copy / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
        for name in plan.remove:
            (copy / name).unlink(missing_ok=True)
        return load_policy(copy)


def apply(live_dir: Path, plan: Plan) -> None:
    """Write the plan into the live folder: every file to a temporary name first, then renamed
    over the old one (each file is replaced atomically), then removed flow files go."""
    prepared: list[tuple[str, Path]] = []
    try:
        for name, text in plan.write.items():
            path = live_dir / name
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
            prepared.append((tmp, path))
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(text)
                fh.flush()
                os.fsync(fh.fileno())
            os.chmod(tmp, 0o644)  # noqa: S103 - policy files are public documents
    except BaseException:  # nothing renamed yet: drop the temporary files and re-raise
        for tmp, _path in prepared:
            Path(tmp).unlink(missing_ok=True)
        raise
    for tmp, path in prepared:
        os.replace(tmp, path)
    for name in plan.remove:
        (live_dir / name).unlink(missing_ok=True)


def locate(
    problems: list[PolicyProblem], file: str, text: str
) -> list[tuple[Path_, PolicyProblem]]:
    """Each problem in ``file`` (whose text is ``text``) with the deepest YAML path on its line;
    problems elsewhere get the empty path."""
    doc, _ = parse_yaml(text, file)
    by_line: dict[int, Path_] = {}
    if doc is not None:
        for path, line in doc.lines.items():
            if len(path) >= len(by_line.get(line, ())):
                by_line[line] = path
    return [(by_line.get(p.line, ()) if p.file == file else (), p) for p in problems]


__all__ = ["Plan", "apply", "check_in_copy", "locate", "plan_for"]
