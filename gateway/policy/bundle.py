"""The policy as one canonical byte string (RFC 8785 JSON) and its SHA-256 version id.

The document holds the meaning of the policy, not its layout: comments, key order and line
breaks in the YAML files do not change the version id; any change of a rule does.
"""

from __future__ import annotations

import hashlib
from dataclasses import fields, is_dataclass
from datetime import date
from typing import Any

import rfc8785

from gateway.policy.model import Policy

BUNDLE_FORMAT = "sluis-policy-bundle-v1"


def _plain(value: Any) -> Any:
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, dict) or hasattr(value, "items"):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, frozenset | set):
        return sorted(_plain(v) for v in value)
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def to_document(policy: Policy) -> dict[str, Any]:
    """The JSON-ready document of a policy (without its own version id)."""
    return {
        "format": BUNDLE_FORMAT,
        "covenant": _plain(policy.covenant),
        "parties": _plain(policy.parties),
        "fields": _plain(policy.fields),
        "flows": _plain(policy.flows),
        "workflow": _plain(policy.workflow),
    }


def canonical_bytes(policy: Policy) -> bytes:
    return rfc8785.dumps(to_document(policy))


def version_id(policy: Policy) -> str:
    return hashlib.sha256(canonical_bytes(policy)).hexdigest()
