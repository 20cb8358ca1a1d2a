"""The policy as one canonical byte string (RFC 8785 JSON) and its SHA-256 version id.

The document holds the meaning of the policy, not its layout: comments, key order and line
breaks in the YAML files do not change the version id; any change of a rule does.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import fields, is_dataclass, replace
from datetime import date
from types import MappingProxyType, UnionType
from typing import Any, Union, get_args, get_origin, get_type_hints

import rfc8785

from gateway.errors import SluisError
from gateway.policy.model import Policy

BUNDLE_FORMAT = "sluis-policy-bundle-v1"


class BundleInvalid(SluisError):
    """A policy bundle that does not rebuild into exactly the policy it claims to be."""

    code = "policy-bundle-invalid"
    title = "Policy bundle invalid"
    status = 400


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


def from_document(document: Any) -> Policy:
    """Rebuild the typed policy from a bundle document (what a partner's client receives).

    The caller verified the gateway's signature over the bundle bytes first; the rebuilt policy
    is then checked to give exactly those bytes again, so nothing is lost or added on the way.
    """
    if not isinstance(document, dict) or document.get("format") != BUNDLE_FORMAT:
        raise BundleInvalid(f"The policy bundle is not in the {BUNDLE_FORMAT} format.")
    try:
        hints = get_type_hints(Policy)
        policy = Policy(
            covenant=_build(hints["covenant"], document["covenant"]),
            parties=_build(hints["parties"], document["parties"]),
            fields=_build(hints["fields"], document["fields"]),
            flows=_build(hints["flows"], document["flows"]),
            workflow=_build(hints["workflow"], document["workflow"]),
        )
    except (KeyError, TypeError, ValueError) as error:
        raise BundleInvalid(f"The policy bundle does not describe a policy ({error}).") from None
    bundle = canonical_bytes(policy)
    if bundle != rfc8785.dumps(document):
        raise BundleInvalid("The policy bundle does not rebuild to the same policy.")
    return replace(policy, version_id=hashlib.sha256(bundle).hexdigest())


def policy_from_bundle(bundle: bytes) -> Policy:
    try:
        document = json.loads(bundle)
    except (ValueError, UnicodeDecodeError):
        raise BundleInvalid("The policy bundle is not JSON.") from None
    return from_document(document)


def _build(kind: Any, value: Any) -> Any:
    origin = get_origin(kind)
    args = get_args(kind)
    if kind is Any or kind is object:
        return value
    if origin is UnionType or origin is Union:
        if value is None and type(None) in args:
            return None
        options = [a for a in args if a is not type(None)]
        return _build(options[0], value)
    if is_dataclass(kind) and isinstance(kind, type):
        if not isinstance(value, dict):
            raise TypeError(f"{kind.__name__} must be an object")
        hints = get_type_hints(kind)
        known = {f.name for f in fields(kind) if f.init}
        if set(value) - known:
            raise TypeError(f"unknown keys in {kind.__name__}: {sorted(set(value) - known)}")
        return kind(**{k: _build(hints[k], v) for k, v in value.items()})
    if origin is tuple:
        if not isinstance(value, list):
            raise TypeError("a list was expected")
        return tuple(_build(args[0], v) for v in value)
    if origin is frozenset:
        if not isinstance(value, list):
            raise TypeError("a list was expected")
        return frozenset(_build(args[0], v) for v in value)
    if origin is MappingProxyType:
        if not isinstance(value, dict):
            raise TypeError("an object was expected")
        return MappingProxyType({str(k): _build(args[1], v) for k, v in value.items()})
    if kind is date:
        return date.fromisoformat(value)
    if kind is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise TypeError("a number was expected")
        return float(value)
    if kind in (str, int, bool):
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise TypeError(f"a {kind.__name__} was expected")
        return value
    raise TypeError(f"cannot rebuild {kind!r}")
