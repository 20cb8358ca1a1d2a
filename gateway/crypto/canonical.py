"""Canonical JSON (RFC 8785) for the restricted values envelopes carry.

Envelope headers hold only strings, integers within +-2**53, booleans, null, lists and objects
with ASCII keys: no floats. For exactly these values RFC 8785 (JCS) output is identical to
``json.dumps(sort_keys=True, separators=(",", ":"), ensure_ascii=False)``: keys sort the same
(ASCII), integers print the same, and both escape the same characters in strings. That encoder
runs in C and is five times faster than the pure-Python ``rfc8785`` package on a header, which
matters because sealing and opening are measured against the raw crypto floor. A property test
checks the equivalence against ``rfc8785`` itself; :func:`check_restricted` enforces the value
rules so the equivalence always holds.
"""

from __future__ import annotations

import json
from typing import Any

from gateway.crypto.errors import EnvelopeMalformed

MAX_SAFE_INTEGER = 2**53 - 1
MAX_DEPTH = 8


def check_restricted(value: Any, depth: int = 0) -> None:
    """Raise EnvelopeMalformed unless ``value`` uses only the restricted JSON values."""
    if depth > MAX_DEPTH:
        raise EnvelopeMalformed("The envelope nests too deeply.")
    if value is None or isinstance(value, bool):
        return
    if isinstance(value, int):
        if abs(value) > MAX_SAFE_INTEGER:
            raise EnvelopeMalformed("An integer in the envelope is outside +-2**53.")
        return
    if isinstance(value, str):
        _check_text(value)
        return
    if isinstance(value, list):
        for item in value:
            check_restricted(item, depth + 1)
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str) or not key.isascii():
                raise EnvelopeMalformed("Envelope keys must be ASCII text.")
            check_restricted(item, depth + 1)
        return
    raise EnvelopeMalformed(
        f"The envelope holds a {type(value).__name__}; only text, whole "
        "numbers, true/false, null, lists and objects are allowed."
    )


def _check_text(text: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise EnvelopeMalformed("Text in the envelope is not valid Unicode.") from None


#: What ``json.dumps(value, sort_keys=True, ...)`` builds on every call, built once: dumps
#: with any non-default option makes a new JSONEncoder each time. ``encode`` keeps no state.
_ENCODER = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
)


def canonical_json(value: Any) -> bytes:
    """RFC 8785 bytes of a restricted value (call :func:`check_restricted` on untrusted input)."""
    return _ENCODER.encode(value).encode("utf-8")


def check_fields(values: Any) -> None:
    """Raise EnvelopeMalformed unless ``values`` is a flat projection: ASCII field names mapped
    to text, whole numbers within +-2**53, booleans or null (what the data dictionary defines)."""
    if not isinstance(values, dict):
        raise EnvelopeMalformed("A projection is an object of field names to values.")
    for key, value in values.items():
        if type(key) is not str or not key.isascii():
            raise EnvelopeMalformed("Field names in a projection are ASCII text.")
        kind = type(value)
        if kind is str:
            _check_text(value)
        elif kind is int:
            if abs(value) > MAX_SAFE_INTEGER:
                raise EnvelopeMalformed(f"The value of '{key}' is outside +-2**53.")
        elif kind is not bool and value is not None:
            raise EnvelopeMalformed(
                f"The value of '{key}' is a {kind.__name__}; field values are text, whole "
                'numbers, true/false or empty (amounts are text such as "1424.90").'
            )
