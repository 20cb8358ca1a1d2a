"""Strict YAML: safe loading only, no anchors or aliases, standard tags, no duplicate keys.

:func:`load_yaml` returns the plain data and a map from each path (a tuple of keys and list
indexes) to the line it starts on, so every later error can name its file and line.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from gateway.policy.errors import PolicyProblem

MAX_POLICY_FILE_BYTES = 256 * 1024
MAX_NODES = 20_000

Path_ = tuple[str | int, ...]

_ALLOWED_TAGS = {
    "tag:yaml.org,2002:" + t
    for t in ("str", "int", "bool", "float", "null", "seq", "map", "timestamp")
}


class _YamlRefused(Exception):
    """A YAML construct Sluis refuses, with the line it is on (internal to this module)."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses anchors and aliases before anything is built."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        event: Any = self.peek_event()  # type: ignore[no-untyped-call]
        line = event.start_mark.line + 1 if event.start_mark is not None else 1
        if isinstance(event, yaml.AliasEvent):
            raise _YamlRefused(line, "aliases (*name) are not allowed in policy files")
        if getattr(event, "anchor", None):
            raise _YamlRefused(line, "anchors (&name) are not allowed in policy files")
        return super().compose_node(parent, index)


@dataclass(frozen=True)
class YamlDocument:
    """A loaded policy file: its data and where each path starts."""

    file: str
    data: Any
    lines: dict[Path_, int]

    def line_of(self, path: Path_) -> int:
        """The line of ``path`` or of its nearest ancestor that has one."""
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return self.lines.get((), 1)


def _convert(
    loader: _StrictLoader, node: yaml.Node, path: Path_, lines: dict[Path_, int], counter: list[int]
) -> Any:
    counter[0] += 1
    if counter[0] > MAX_NODES:
        raise _YamlRefused(node.start_mark.line + 1, f"more than {MAX_NODES} YAML nodes")
    lines.setdefault(path, node.start_mark.line + 1)
    if node.tag not in _ALLOWED_TAGS:
        raise _YamlRefused(node.start_mark.line + 1, f"the YAML tag {node.tag} is not allowed")
    if isinstance(node, yaml.MappingNode):
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag != _str_tag():
                raise _YamlRefused(key_node.start_mark.line + 1, "keys must be plain text")
            key = str(key_node.value)
            if key in result:
                raise _YamlRefused(key_node.start_mark.line + 1, f"duplicate key '{key}'")
            lines[(*path, key)] = key_node.start_mark.line + 1
            result[key] = _convert(loader, value_node, (*path, key), lines, counter)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [
            _convert(loader, item, (*path, i), lines, counter) for i, item in enumerate(node.value)
        ]
    return loader.construct_object(node, deep=True)


def _str_tag() -> str:
    return "tag:yaml.org,2002:str"


def parse_yaml(text: str, file: str) -> tuple[YamlDocument | None, list[PolicyProblem]]:
    """Parse one YAML document strictly; return it, or the problems that stopped it."""
    try:  # the reader checks every character as the loader is made: inside the try
        loader = _StrictLoader(text)
    except yaml.YAMLError as error:
        return None, [PolicyProblem(file, 1, f"not valid YAML: {error}")]
    try:
        node = loader.get_single_node()
        if node is None:
            return YamlDocument(file, {}, {(): 1}), []
        lines: dict[Path_, int] = {}
        data = _convert(loader, node, (), lines, [0])
        return YamlDocument(file, data, lines), []
    except _YamlRefused as refused:
        return None, [PolicyProblem(file, refused.line, refused.message)]
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark is not None else 1
        return None, [PolicyProblem(file, line, f"not valid YAML: {error.problem}")]
    except yaml.YAMLError as error:  # unmarked errors (e.g. reader errors on bad bytes)
        return None, [PolicyProblem(file, 1, f"not valid YAML: {error}")]
    finally:
        loader.dispose()


def load_yaml(path: Path, display: str) -> tuple[YamlDocument | None, list[PolicyProblem]]:
    """Read and parse ``path``, refusing files over the size cap before parsing."""
    size = path.stat().st_size
    if size > MAX_POLICY_FILE_BYTES:
        return None, [
            PolicyProblem(display, 1, f"file is {size} bytes; the limit is {MAX_POLICY_FILE_BYTES}")
        ]
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        return None, [PolicyProblem(display, 1, "file is not UTF-8 text")]
    return parse_yaml(text, display)
