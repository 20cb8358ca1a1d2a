"""HTTP Message Signatures (RFC 9421) with Content-Digest (RFC 9530) for partner API requests.

A partner signs every request with its registered Ed25519 key. The signature covers a fixed set
of components, ``("@method" "@authority" "@path" "@query" "content-digest")``, with the
parameters ``created``, ``keyid``, ``nonce``, ``alg="ed25519"`` and ``tag="sluis"``. The key id
is the compact fingerprint of the partner's Ed25519 key (see :mod:`gateway.crypto.fingerprint`).

The verifier is strict: it bounds header sizes before parsing, parses the Structured Fields
(RFC 9651) with ``http_sf``, requires exactly one signature tagged ``sluis``, refuses unknown
parameters and derived components, enforces the time window, recomputes the Content-Digest of
the body itself, rebuilds the signature base per RFC 9421 section 2.5 and verifies Ed25519.
Every refusal is a :class:`~gateway.crypto.errors.RequestSignatureError` subclass; the nonce
replay check belongs to the caller, who holds the store.

Pure: no Flask, no database.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple, NoReturn, TypeVar

import http_sf
from http_sf.parameters import ser_params
from http_sf.types import BareItemType

from gateway.crypto.errors import (
    AlgorithmNotAllowed,
    ComponentNotAllowed,
    ContentDigestAlgorithm,
    ContentDigestMalformed,
    ContentDigestMismatch,
    ContentDigestMissing,
    CoverageIncomplete,
    CoveredHeaderMissing,
    KeyIdMismatch,
    NonceInvalid,
    RequestComponentInvalid,
    RequestSignatureError,
    RequestSignatureInvalid,
    SignatureAmbiguous,
    SignatureExpired,
    SignatureFromFuture,
    SignatureHeaderMalformed,
    SignatureHeaderMissing,
    SignatureHeaderTooLarge,
    SignatureInvalid,
    SignatureParameterInvalid,
    SignatureParameterMissing,
    SluisSignatureMissing,
    UnknownKeyId,
)
from gateway.crypto.fingerprint import fingerprint
from gateway.crypto.keys import PartnerKeyPair
from gateway.crypto.signing import PUBLIC_KEY_BYTES, SIGNATURE_BYTES, SigningKey, verify_signature

LABEL = "sig1"
TAG = "sluis"
ALGORITHM = "ed25519"
COVERED_COMPONENTS: tuple[str, ...] = (
    "@method",
    "@authority",
    "@path",
    "@query",
    "content-digest",
)
SUPPORTED_DERIVED = frozenset({"@method", "@authority", "@path", "@query"})
SIGNATURE_PARAMETERS = frozenset({"created", "expires", "keyid", "nonce", "alg", "tag"})
MAX_HEADER_BYTES = 4 * 1024
NONCE_MIN, NONCE_MAX = 16, 64

_DIGESTS: dict[str, Callable[[bytes], bytes]] = {
    "sha-256": lambda body: hashlib.sha256(body).digest(),
    "sha-512": lambda body: hashlib.sha512(body).digest(),
}
_T = TypeVar("_T", int, str)
_NONCE = re.compile(r"[A-Za-z0-9_-]+\Z")
_FIELD_NAME = re.compile(r"[a-z0-9!#$%&'*+.^_`|~-]+\Z")  # RFC 9110 token, lower case
_PRINTABLE = re.compile(r"[\x20-\x7e]*\Z")
_FIELD_VALUE = re.compile(r"[\x20-\x7e\t]*\Z")


# --- Request parts ------------------------------------------------------------------------------


class Headers(Mapping[str, str]):
    """An immutable, case-insensitive header mapping; repeated names are joined with ", "."""

    __slots__ = ("_items",)

    def __init__(self, headers: Mapping[str, str] | None = None) -> None:
        items: dict[str, str] = {}
        for name, value in (headers or {}).items():
            key = name.lower()
            items[key] = f"{items[key]}, {value}" if key in items else value
        self._items = items

    def __getitem__(self, name: str) -> str:
        return self._items[name.lower()]

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __hash__(self) -> int:
        return hash(tuple(sorted(self._items.items())))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Mapping):
            return self._items == {str(k).lower(): v for k, v in other.items()}
        return NotImplemented

    def __repr__(self) -> str:
        return f"Headers({self._items!r})"


@dataclass(frozen=True)
class RequestParts:
    """What a signature covers, as the server received it (or the client will send it).

    ``authority`` is ``host[:port]`` (lower-cased here); ``path`` is the raw, still
    percent-encoded path; ``query`` is the raw query without its ``?`` (empty if none).
    ``headers`` needs only the signature headers and the covered ones, by any case.
    """

    method: str
    authority: str
    path: str
    query: str = ""
    headers: Mapping[str, str] = field(default_factory=Headers)
    body: bytes = b""

    def __post_init__(self) -> None:
        object.__setattr__(self, "authority", self.authority.lower())
        if not isinstance(self.headers, Headers):
            object.__setattr__(self, "headers", Headers(self.headers))

    def with_headers(self, extra: Mapping[str, str]) -> RequestParts:
        """A copy with ``extra`` headers set (replacing same-named ones)."""
        replaced = {name.lower() for name in extra}
        merged = {k: v for k, v in self.headers.items() if k not in replaced}
        merged.update(extra)
        return RequestParts(
            self.method, self.authority, self.path, self.query, Headers(merged), self.body
        )


# --- Content-Digest (RFC 9530) ------------------------------------------------------------------


def content_digest(body: bytes) -> str:
    """The ``Content-Digest`` header value for ``body``: ``sha-256=:<base64>:``."""
    return http_sf.ser({"sha-256": _DIGESTS["sha-256"](body)})


def check_content_digest(header: str | None, body: bytes) -> None:
    """Recompute the digest of ``body`` and compare it with the ``Content-Digest`` header.

    Every algorithm in the header must be sha-256 or sha-512 and every digest must match.
    """
    if header is None:
        raise ContentDigestMissing("The request has no Content-Digest header.")
    parsed = _parse_dictionary(
        header,
        "Content-Digest",
        limit=MAX_HEADER_BYTES,
        malformed=ContentDigestMalformed(
            "The Content-Digest header is not a dictionary of byte sequences."
        ),
    )
    if not parsed:
        raise ContentDigestMalformed("The Content-Digest header names no digest.")
    checked: list[tuple[bytes, bytes]] = []
    for algorithm, member in parsed.items():
        if algorithm not in _DIGESTS:
            raise ContentDigestAlgorithm(
                "The Content-Digest uses an algorithm other than sha-256 or sha-512."
            )
        value, params = _item(member)
        if not isinstance(value, bytes) or params:
            raise ContentDigestMalformed("The Content-Digest value is not a bare byte sequence.")
        checked.append((_DIGESTS[algorithm](body), value))
    for expected, given in checked:
        if not hmac.compare_digest(expected, given):
            raise ContentDigestMismatch("The Content-Digest does not match the request body.")


# --- Signature base (RFC 9421 section 2.5) ------------------------------------------------------


SignatureParams = Mapping[str, int | str]


def signature_base(
    parts: RequestParts, covered: Sequence[str], parameters: SignatureParams
) -> bytes:
    """The exact bytes that are signed: one line per covered component, then the parameters.

    Supports the derived components ``@method``, ``@authority``, ``@path`` and ``@query`` and
    plain header fields without component parameters.
    """
    lines = [f"{_component_id(name)}: {_component_value(parts, name)}" for name in covered]
    lines.append(f'"@signature-params": {_serialise_params(covered, parameters)}')
    return "\n".join(lines).encode("ascii")


@functools.lru_cache(maxsize=256)
def _component_id(name: str) -> str:
    """The serialised component identifier; memoised, as the same few names recur."""
    return http_sf.ser(name)


def _inner_list(covered: Sequence[str], parameters: SignatureParams) -> http_sf.InnerListType:
    params: dict[str, BareItemType] = dict(parameters)
    return ([(name, {}) for name in covered], params)


def _serialise_params(covered: Sequence[str], parameters: SignatureParams) -> str:
    """The inner list ``(<ids>);<params>`` (RFC 9651 section 4.1.1.1) from http_sf's parts.

    Equal to ``http_sf.ser([_inner_list(covered, parameters)])`` (a test pins this), but
    reuses the memoised identifiers instead of serialising five names on every request.
    """
    params: dict[str, BareItemType] = dict(parameters)
    return f"({' '.join(_component_id(name) for name in covered)}){ser_params(params)}"


def _component_value(parts: RequestParts, name: str) -> str:
    if name.startswith("@"):
        if name == "@method":
            value = parts.method
        elif name == "@authority":
            value = parts.authority
        elif name == "@path":
            value = parts.path or "/"
            if not value.startswith("/"):
                raise RequestComponentInvalid("The request path does not start with a slash.")
        elif name == "@query":
            value = f"?{parts.query}"
        else:
            raise ComponentNotAllowed("The signature covers a derived component Sluis refuses.")
        if not value or not _PRINTABLE.match(value) or value != value.strip(" "):
            raise RequestComponentInvalid(
                "A covered request component is empty or not printable ASCII."
            )
        return value
    if not _FIELD_NAME.match(name):
        raise ComponentNotAllowed("The signature covers a component that is not a field name.")
    raw = parts.headers.get(name)
    if raw is None:
        raise CoveredHeaderMissing("The signature covers a header field the request lacks.")
    value = raw.strip(" \t")
    if not _FIELD_VALUE.match(value):
        raise RequestComponentInvalid("A covered header field is not printable ASCII.")
    return value


# --- Signing ------------------------------------------------------------------------------------


def sign_request(
    parts: RequestParts,
    key: SigningKey | PartnerKeyPair,
    key_id: str,
    created: int,
    nonce: str,
) -> dict[str, str]:
    """Sign a request: return the ``Content-Digest``, ``Signature-Input`` and ``Signature``.

    ``key_id`` is the compact fingerprint of the key (``PublicKeys.key_id``); ``nonce`` is
    16 to 64 random base64url characters, never reused.
    """
    signer = key.signing_key if isinstance(key, PartnerKeyPair) else key
    _check_nonce(nonce)
    digest = content_digest(parts.body)
    signed = parts.with_headers({"content-digest": digest})
    parameters: dict[str, int | str] = {
        "created": created,
        "keyid": key_id,
        "nonce": nonce,
        "alg": ALGORITHM,
        "tag": TAG,
    }
    base = signature_base(signed, COVERED_COMPONENTS, parameters)
    return {
        "Content-Digest": digest,
        "Signature-Input": http_sf.ser({LABEL: _inner_list(COVERED_COMPONENTS, parameters)}),
        "Signature": http_sf.ser({LABEL: signer.sign(base)}),
    }


# --- Verification -------------------------------------------------------------------------------


class ResolvedKey(NamedTuple):
    """What the key directory knows of a key id: its partner and its Ed25519 public key."""

    partner_id: str
    key_id: str
    public_key: bytes


class VerifiedRequest(NamedTuple):
    """A request whose signature verified; the caller still checks the nonce for replay."""

    partner_id: str
    key_id: str
    created: int
    nonce: str


@dataclass(frozen=True)
class SignaturePolicy:
    """What the verifier demands. Times are whole seconds (Unix time)."""

    max_age: int = 300
    max_skew: int = 30
    required_components: tuple[str, ...] = COVERED_COMPONENTS
    tag: str = TAG
    alg: str = ALGORITHM
    max_header_bytes: int = MAX_HEADER_BYTES

    def __post_init__(self) -> None:
        if "content-digest" not in self.required_components:
            raise ValueError("A signature policy must require content-digest.")
        if not set(self.required_components) >= SUPPORTED_DERIVED:
            raise ValueError("A signature policy must require every supported derived component.")
        if self.max_age <= 0 or self.max_skew < 0 or self.max_header_bytes <= 0:
            raise ValueError("Signature policy limits must be positive.")
        if self.alg != ALGORITHM:
            raise ValueError("Sluis request signatures use ed25519 only.")


def verify_request(
    parts: RequestParts,
    *,
    resolve_key: Callable[[str], ResolvedKey],
    policy: SignaturePolicy,
    now: int,
) -> VerifiedRequest:
    """Verify the Sluis signature on a request, or raise a RequestSignatureError subclass.

    ``resolve_key`` returns the registered key for a key id, or raises ``LookupError`` (or a
    RequestSignatureError of its own, e.g. for a revoked key) when there is none.
    """
    limit = policy.max_header_bytes
    inputs = _parse_dictionary(
        _required_header(parts, "Signature-Input"),
        "Signature-Input",
        limit=limit,
        malformed=SignatureHeaderMalformed(
            "The Signature-Input header is not a structured field dictionary."
        ),
    )
    raw_signatures = _required_header(parts, "Signature")
    signatures = _parse_dictionary(
        raw_signatures,
        "Signature",
        limit=limit,
        malformed=SignatureHeaderMalformed(
            "The Signature header is not a structured field dictionary."
        ),
    )
    label, covered, parameters = _select(inputs, policy.tag)
    signature = _signature_bytes(signatures, label, raw_signatures)
    _check_components(covered, policy)
    created, key_id, nonce = _check_parameters(parameters, policy, now)
    resolved = _resolve(resolve_key, key_id)
    check_content_digest(parts.headers.get("content-digest"), parts.body)
    base = signature_base(parts, covered, parameters)
    try:
        verify_signature(resolved.public_key, base, signature)
    except SignatureInvalid:  # translate into the request-signature family (401)
        raise RequestSignatureInvalid("The request signature does not verify.") from None
    return VerifiedRequest(resolved.partner_id, resolved.key_id, created, nonce)


def _required_header(parts: RequestParts, name: str) -> str:
    value = parts.headers.get(name)
    if value is None:
        raise SignatureHeaderMissing(f"The request has no {name} header.")
    return value


def _parse_dictionary(
    text: str, name: str, *, limit: int, malformed: RequestSignatureError
) -> http_sf.DictionaryType:
    """Bound, then parse a Structured Field dictionary, refusing repeated keys."""
    if len(text) > limit:
        raise SignatureHeaderTooLarge(f"The {name} header is longer than {limit} bytes.")

    def refuse_duplicate(_key: str, context: str) -> NoReturn:
        if isinstance(malformed, ContentDigestMalformed):
            raise ContentDigestMalformed("The Content-Digest header repeats a key.")
        if context == "dictionary":
            raise SignatureAmbiguous(f"The {name} header repeats a label.")
        raise SignatureParameterInvalid(f"The {name} header repeats a parameter.")

    try:
        data = text.encode("ascii")
    except UnicodeEncodeError:  # HTTP field values outside ASCII are never a valid SF
        raise malformed from None
    try:
        parsed = http_sf.parse(data, tltype="dictionary", on_duplicate_key=refuse_duplicate)
    except http_sf.StructuredFieldError:  # any syntax error: one typed refusal
        raise malformed from None
    if not isinstance(parsed, dict):  # pragma: no cover - tltype="dictionary" returns a dict
        raise malformed
    return parsed


def _item(member: object) -> tuple[object, Mapping[str, object]]:
    """Split a dictionary member into (value, params); inner lists give (list, params)."""
    if isinstance(member, tuple) and len(member) == 2 and isinstance(member[1], dict):
        return member[0], member[1]
    return member, {}


def _select(
    inputs: http_sf.DictionaryType, tag: str
) -> tuple[str, list[str], dict[str, int | str]]:
    """The one Signature-Input member tagged ``tag``: its label, components and parameters."""
    chosen = []
    for label, member in inputs.items():
        _, params = _item(member)
        value = params.get("tag")
        if type(value) is str and value == tag:
            chosen.append((label, member))
    if not chosen:
        raise SluisSignatureMissing(f'The request carries no signature with tag "{tag}".')
    if len(chosen) > 1:
        raise SignatureAmbiguous(f'The request carries more than one signature with tag "{tag}".')
    label, member = chosen[0]
    items, params = _item(member)
    if not isinstance(items, list):
        raise SignatureHeaderMalformed("The Signature-Input member is not an inner list.")
    covered: list[str] = []
    for entry in items:
        name, component_params = _item(entry)
        if type(name) is not str:
            raise SignatureHeaderMalformed("A covered component is not a string.")
        if component_params:
            raise ComponentNotAllowed(
                "The signature uses component parameters, which Sluis refuses."
            )
        covered.append(name)
    parameters: dict[str, int | str] = {}
    for key, value in params.items():
        if type(value) is not int and type(value) is not str:
            raise SignatureParameterInvalid(
                "A signature parameter is neither an integer nor a string."
            )
        parameters[key] = value
    return label, covered, parameters


def _signature_bytes(signatures: http_sf.DictionaryType, label: str, raw: str) -> bytes:
    if label not in signatures:
        raise SignatureHeaderMissing("The Signature header has no entry for the Sluis signature.")
    value, params = _item(signatures[label])
    if not isinstance(value, bytes) or params:
        raise SignatureHeaderMalformed("The Sluis signature is not a bare byte sequence.")
    if len(value) != SIGNATURE_BYTES:
        raise RequestSignatureInvalid("The request signature is not 64 bytes.")
    # http_sf tolerates missing padding and stray low bits; a signature has one spelling only.
    canonical = f"{label}=:{base64.b64encode(value).decode('ascii')}:"
    if not _is_member(raw, canonical):
        raise SignatureHeaderMalformed("The Sluis signature is not canonical base64.")
    return value


def _is_member(raw: str, member: str) -> bool:
    """Whether ``member`` stands in ``raw`` as a whole dictionary member: only spaces or tabs
    between it and the start or a comma before, and the end or a comma after.

    Plain string scanning: a regular expression built around each request's signature was
    compiled anew every time (about 80 us a request)."""
    start = raw.find(member)
    while start >= 0:
        end = start + len(member)
        before = raw[:start].rstrip(" \t")
        after = raw[end:].lstrip(" \t")
        if (not before or before[-1] == ",") and (not after or after[0] == ","):
            return True
        start = raw.find(member, start + 1)
    return False


def _check_components(covered: Sequence[str], policy: SignaturePolicy) -> None:
    if len(set(covered)) != len(covered):
        raise ComponentNotAllowed("The Signature-Input covers a component twice.")
    for name in covered:
        if name.startswith("@") and name not in policy.required_components:
            raise ComponentNotAllowed(
                "The Signature-Input covers a derived component Sluis refuses."
            )
        if not name.startswith("@") and not _FIELD_NAME.match(name):
            raise ComponentNotAllowed(
                "The Signature-Input covers a component that is not a field name."
            )
    if "content-digest" not in covered:
        raise CoverageIncomplete("The Signature-Input does not cover content-digest.")
    for name in policy.required_components:
        if name not in covered:
            raise CoverageIncomplete(f"The Signature-Input does not cover {name}.")


def _check_parameters(
    parameters: Mapping[str, int | str], policy: SignaturePolicy, now: int
) -> tuple[int, str, str]:
    if not set(parameters) <= SIGNATURE_PARAMETERS:
        raise SignatureParameterInvalid("The Signature-Input carries an unknown parameter.")
    created = _param(parameters, "created", int)
    key_id = _param(parameters, "keyid", str)
    nonce = _param(parameters, "nonce", str)
    _check_nonce(nonce)
    if "alg" in parameters and parameters["alg"] != policy.alg:
        raise AlgorithmNotAllowed(f"The signature algorithm is not {policy.alg}.")
    if now - created > policy.max_age:
        raise SignatureExpired(f"The signature was created more than {policy.max_age} seconds ago.")
    if created - now > policy.max_skew:
        raise SignatureFromFuture(
            f"The signature was created more than {policy.max_skew} seconds in the future."
        )
    if "expires" in parameters:
        expires = _param(parameters, "expires", int)
        if expires < created:
            raise SignatureParameterInvalid("The signature expires before it was created.")
        if now > expires:
            raise SignatureExpired("The signature is past its expires time.")
    return created, key_id, nonce


def _param(parameters: Mapping[str, int | str], name: str, kind: type[_T]) -> _T:
    if name not in parameters:
        raise SignatureParameterMissing(f"The Signature-Input has no {name} parameter.")
    value = parameters[name]
    if type(value) is not kind:
        raise SignatureParameterInvalid(f"The {name} parameter has the wrong type.")
    return value


def _check_nonce(nonce: str) -> None:
    if not NONCE_MIN <= len(nonce) <= NONCE_MAX or not _NONCE.match(nonce):
        raise NonceInvalid(f"The nonce is not {NONCE_MIN} to {NONCE_MAX} base64url characters.")


def _resolve(resolve_key: Callable[[str], ResolvedKey], key_id: str) -> ResolvedKey:
    try:
        resolved = resolve_key(key_id)
    except LookupError:  # the directory's way of saying "no such key": a refusal, not a fault
        raise UnknownKeyId("The key id is not registered for any partner.") from None
    if resolved.key_id != key_id or len(resolved.public_key) != PUBLIC_KEY_BYTES:
        raise KeyIdMismatch("The key id does not match the key registered for it.")
    if not hmac.compare_digest(_key_id_of(resolved.public_key), key_id):
        raise KeyIdMismatch("The key id does not match the key registered for it.")
    return resolved


@functools.lru_cache(maxsize=1024)
def _key_id_of(public_key: bytes) -> str:
    """The compact fingerprint of a registered key; memoised, as the directory is small."""
    return fingerprint("ed25519", public_key, compact=True)
