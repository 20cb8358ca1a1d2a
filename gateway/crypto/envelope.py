"""The Sluis envelope, version 1: a clear header plus, per recipient, a sealed projection.

Construction (docs/ENVELOPE.md has the full specification and the reasoning):

- Each recipient's projection (its fields only) is encrypted with a libsodium sealed box to that
  recipient's X25519 key: a fresh ephemeral X25519 key, nonce = BLAKE2b-192(epk || rpk),
  XSalsa20-Poly1305. The plaintext binds the SHA-256 of the canonical header, the recipient id
  and the recipient key id, so a ciphertext cannot be moved to another header or recipient.
- The sender signs, with Ed25519, a context string and the canonical JSON of the header together
  with the SHA-256 of every ciphertext. The gateway can verify the sender without decrypting.

``open_envelope`` returns fields only after every check passed; every failure raises its own
subclass of :class:`EnvelopeError`.
"""

from __future__ import annotations

import binascii
import hashlib
import json
import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property, lru_cache
from json.encoder import encode_basestring
from typing import Any, Protocol, TypeVar

import nacl.bindings
import nacl.exceptions
import nacl.public
from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema

from gateway.crypto.canonical import MAX_SAFE_INTEGER, canonical_json, check_fields
from gateway.crypto.encoding import b64u_decode, b64u_decode_ascii, b64u_encode
from gateway.crypto.errors import (
    BindingMismatch,
    DecryptionFailed,
    EnvelopeMalformed,
    EnvelopeTooLarge,
    ManifestMismatch,
    NotARecipient,
    SenderKeyRevoked,
    UnknownSenderKey,
    UnsupportedVersion,
)
from gateway.crypto.fingerprint import fingerprint
from gateway.crypto.keys import PartnerKeyPair, PublicKeys
from gateway.crypto.signing import verify_signature

_STANDARD_TO_URL = bytes.maketrans(b"+/", b"-_")

VERSION = 1
SIGNATURE_CONTEXT = b"sluis-envelope-v1\x00"
MAX_ENVELOPE_BYTES = 1024 * 1024
MAX_RECIPIENTS = 16
MAX_FIELDS = 200
MAX_ROUTING = 16
MESSAGE_ID_BYTES = 16
SEALED_OVERHEAD = 32 + 16  # ephemeral public key + Poly1305 tag

_SLUG = validate.Regexp(r"^[a-z][a-z0-9-]{0,62}\Z")
_FIELD = re.compile(r"[a-z][a-z0-9_]{0,62}")
#: Field names one per line: one regex call for a whole manifest (see ``_field_names_ok``).
_FIELD_LINES = re.compile(r"(?:[a-z][a-z0-9_]{0,62}\n)+")
_KEY_ID = validate.Regexp(r"^[a-z2-7]{24}\Z")
_REF = validate.Regexp(r"^[A-Za-z0-9_-]{8,86}\Z")
_CREATED = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z")


_D = TypeVar("_D")


def _made(cls: type[_D], values: dict[str, Any]) -> _D:
    """``cls(**values)`` for one of this module's frozen dataclasses (no ``__post_init__``),
    with every field given: the instance dict filled at once instead of one
    ``object.__setattr__`` per field, which costs more than a microsecond per header on the
    hot path. A test compares the result with the constructor's."""
    made = object.__new__(cls)
    made.__dict__.update(values)
    return made


class SenderKeys(Protocol):
    """Where an opener finds the sender's Ed25519 key; raises UnknownSenderKey/SenderKeyRevoked."""

    def ed25519_for(self, partner: str, key_id: str, when: datetime) -> bytes: ...


@dataclass(frozen=True)
class RecipientEntry:
    partner: str
    key_id: str  # compact fingerprint of the X25519 key the projection is sealed to
    fields: tuple[str, ...]  # sorted field names: the manifest

    def to_json(self) -> dict[str, Any]:
        return {"id": self.partner, "key": self.key_id, "fields": list(self.fields)}


@dataclass(frozen=True)
class Header:
    message_id: str
    flow: str
    policy_version: str
    sender: str
    sender_key_id: str
    created: str
    recipients: tuple[RecipientEntry, ...]
    case_ref: str | None = None
    subject_ref: str | None = None
    routing: Mapping[str, str | bool | int] = field(default_factory=dict)
    version: int = VERSION

    def to_json(self) -> dict[str, Any]:
        return {
            "v": self.version,
            "id": self.message_id,
            "flow": self.flow,
            "policy": self.policy_version,
            "sender": self.sender,
            "sender_key": self.sender_key_id,
            "created": self.created,
            "case": self.case_ref,
            "subject": self.subject_ref,
            "routing": dict(self.routing),
            "recipients": [r.to_json() for r in self.recipients],
        }

    @cached_property
    def canonical_bytes(self) -> bytes:
        """RFC 8785 bytes of the header (computed once per header object)."""
        return canonical_json(self.to_json())

    def canonical(self) -> bytes:
        return self.canonical_bytes

    def recipient(self, partner: str) -> RecipientEntry | None:
        for entry in self.recipients:
            if entry.partner == partner:
                return entry
        return None

    def created_at(self) -> datetime:
        return self._created_at

    @cached_property
    def _created_at(self) -> datetime:
        """The time ``created`` names (kept from validation, which parses it anyway)."""
        return datetime.fromisoformat(self.created[:-1]).replace(tzinfo=UTC)


@dataclass(frozen=True)
class Envelope:
    header: Header
    payloads: Mapping[str, bytes]  # recipient partner id -> sealed box
    signature: bytes

    def to_json(self) -> dict[str, Any]:
        return {
            "header": self.header.to_json(),
            "payloads": {k: b64u_encode(v) for k, v in sorted(self.payloads.items())},
            "signature": b64u_encode(self.signature),
        }

    def to_bytes(self) -> bytes:
        """The canonical wire form (RFC 8785 JSON)."""
        return self.wire_bytes

    @cached_property
    def wire_bytes(self) -> bytes:
        return canonical_json(self.to_json())

    @property
    def digest(self) -> bytes:
        """SHA-256 of the canonical envelope: the hash the register records."""
        return hashlib.sha256(self.to_bytes()).digest()


@dataclass(frozen=True)
class Opened:
    header: Header
    fields: Mapping[str, Any]


def envelope_hash(envelope: Envelope) -> bytes:
    return envelope.digest


def _signed_bytes(header: Header, payloads: Mapping[str, bytes]) -> bytes:
    """Context || RFC 8785 of {"header": header, "payloads": {id: b64u(sha256(box))}}.

    Built by concatenation: "header" sorts before "payloads", so this equals canonical_json of
    that object (a test checks it) without encoding the header a second time. The recipient ids
    and base64url need no escaping, so sorting and quoting is their whole canonical form."""
    hashes = [b'"%s":"%s"' % (k.encode(), _b64u_sha256(payloads[k])) for k in sorted(payloads)]
    return b"".join(
        (
            SIGNATURE_CONTEXT,
            b'{"header":',
            header.canonical_bytes,
            b',"payloads":{',
            b",".join(hashes),
            b"}}",
        )
    )


def _b64u_sha256(data: bytes) -> bytes:
    """b64u(SHA-256(data)) as ASCII bytes: 32 bytes make 43 characters and one '=' to drop."""
    digest = hashlib.sha256(data).digest()
    return binascii.b2a_base64(digest, newline=False)[:-1].translate(_STANDARD_TO_URL)


def _flat_object(items: Mapping[str, str]) -> bytes:
    """RFC 8785 bytes of a flat object whose keys are recipient ids and whose values are
    base64url: neither needs escaping, so sorting and quoting is the whole canonical form
    (a test compares it with ``canonical_json``)."""
    return ("{" + ",".join(f'"{k}":"{items[k]}"' for k in sorted(items)) + "}").encode("ascii")


def _header_hash(header: Header) -> str:
    return _b64u_sha256(header.canonical_bytes).decode("ascii")


def _seal_box(recipient: bytes, plaintext: bytes, ephemeral: nacl.public.PrivateKey) -> bytes:
    """libsodium's crypto_box_seal, with the ephemeral key given (for test vectors)."""
    epk = bytes(ephemeral.public_key)
    nonce = hashlib.blake2b(epk + recipient, digest_size=24).digest()
    box = nacl.public.Box(ephemeral, nacl.public.PublicKey(recipient))
    return epk + bytes(box.encrypt(plaintext, nonce).ciphertext)


def _sealed_box(recipient: bytes, plaintext: bytes) -> bytes:
    """libsodium's crypto_box_seal itself (fresh ephemeral key, same nonce rule), all in C."""
    return bytes(nacl.bindings.crypto_box_seal(plaintext, recipient))


def new_message_id() -> str:
    """16 random bytes, base64url; never starting with '-' or '_', so an id typed on a command
    line is never taken for an option (the wire format itself allows both)."""
    while True:
        candidate = b64u_encode(secrets.token_bytes(MESSAGE_ID_BYTES))
        if candidate[0].isalnum():
            return candidate


def seal(
    sender: PartnerKeyPair,
    *,
    flow: str,
    policy_version: str,
    projections: Mapping[str, tuple[PublicKeys, Mapping[str, Any]]],
    created: datetime,
    case_ref: str | None = None,
    subject_ref: str | None = None,
    routing: Mapping[str, str | bool | int] | None = None,
    message_id: str | None = None,
    ephemeral: Callable[[], nacl.public.PrivateKey] | None = None,
) -> Envelope:
    """Seal one projection per recipient and sign; ``projections`` maps recipient id to
    (its public keys, its fields). ``message_id`` and ``ephemeral`` exist for test vectors."""
    entries = []
    for partner, (keys, values) in sorted(projections.items()):
        if keys.partner != partner:
            raise EnvelopeMalformed(f"The keys given for '{partner}' belong to '{keys.partner}'.")
        check_fields(dict(values))
        entries.append(RecipientEntry(partner, keys.encryption_key_id, tuple(sorted(values))))
    header = Header(
        message_id=message_id or new_message_id(),
        flow=flow,
        policy_version=policy_version,
        sender=sender.partner,
        sender_key_id=sender.public.key_id,
        created=_created_text(created),
        recipients=tuple(entries),
        case_ref=case_ref,
        subject_ref=subject_ref,
        routing=dict(routing or {}),
    )
    _validate_header(header.to_json())  # a sender never emits what a verifier would refuse
    header.__dict__["canonical_bytes"] = _validated_header_bytes(header)
    bound = _header_hash(header)
    payloads: dict[str, bytes] = {}
    for entry in entries:
        keys, values = projections[entry.partner]
        plaintext = canonical_json(
            {
                "binding": {"header": bound, "recipient": entry.partner, "key": entry.key_id},
                "fields": dict(values),
            }
        )
        payloads[entry.partner] = (
            _sealed_box(keys.x25519, plaintext)
            if ephemeral is None
            else _seal_box(keys.x25519, plaintext, ephemeral())
        )
    signature = sender.signing_key.sign(_signed_bytes(header, payloads))
    envelope = Envelope(header, payloads, signature)
    if _wire_size(envelope) > MAX_ENVELOPE_BYTES:
        raise EnvelopeTooLarge(f"The sealed envelope exceeds {MAX_ENVELOPE_BYTES} bytes.")
    return envelope


def _created_text(created: datetime) -> str:
    """``created`` in UTC as ``YYYY-MM-DDTHH:MM:SSZ``: ``strftime("%Y-%m-%dT%H:%M:%SZ")``, by
    isoformat (a third of the time) where the two agree: strftime writes years before 1000
    with fewer digits (which validation then refuses)."""
    moment = created.astimezone(UTC)
    if moment.year < 1000:
        return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    return moment.isoformat(timespec="seconds")[:19] + "Z"


def _b64u_length(size: int) -> int:
    return (size * 4 + 2) // 3  # unpadded base64url


def _wire_size(envelope: Envelope) -> int:
    """The length of ``to_bytes()`` without building it (checked against it by a test)."""
    payloads = sum(
        len(partner) + _b64u_length(len(box)) + 6 for partner, box in envelope.payloads.items()
    )
    return (
        len(b'{"header":,"payloads":{},"signature":""}')
        + len(envelope.header.canonical_bytes)
        + max(payloads - 1, 0)
        + _b64u_length(len(envelope.signature))
    )


def _validated_header_bytes(header: Header) -> bytes:
    """RFC 8785 bytes of a header that passed ``_validate_header``.

    Every text in such a header matches a pattern of JSON-safe characters, so sorting the keys
    and quoting is the whole canonical form; routing values (free text) go through
    ``canonical_json``. A property test compares it with ``canonical_json(header.to_json())``.
    """

    def text(value: str | None) -> str:
        return "null" if value is None else f'"{value}"'

    recipients = ",".join(
        '{"fields":[' + ",".join(f'"{f}"' for f in r.fields) + f'],"id":"{r.partner}",'
        f'"key":"{r.key_id}"}}'
        for r in header.recipients
    )
    routing = _routing_text(header.routing)
    return (
        f'{{"case":{text(header.case_ref)},"created":"{header.created}","flow":"{header.flow}",'
        f'"id":"{header.message_id}","policy":"{header.policy_version}",'
        f'"recipients":[{recipients}],"routing":{routing},"sender":"{header.sender}",'
        f'"sender_key":"{header.sender_key_id}","subject":{text(header.subject_ref)},'
        f'"v":{int(header.version)}}}'
    ).encode()


def _routing_text(routing: Mapping[str, Any]) -> str:
    """RFC 8785 text of validated routing attributes: their names need no escaping, and a text
    value is encoded by the same C function ``json.dumps`` uses (``ensure_ascii=False``)."""
    parts = []
    for key in sorted(routing):
        value = routing[key]
        kind = type(value)
        if kind is bool:
            parts.append(f'"{key}":{"true" if value else "false"}')
        elif kind is int:
            parts.append(f'"{key}":{int.__repr__(value)}')
        elif kind is str:
            parts.append(f'"{key}":{encode_basestring(value)}')
        else:
            return canonical_json(dict(routing)).decode("utf-8")
    return "{" + ",".join(parts) + "}"


# --- parsing ----------------------------------------------------------------------------------


class RecipientSchema(Schema):
    class Meta:
        unknown = RAISE

    id = fields.String(required=True, validate=_SLUG)
    key = fields.String(required=True, validate=_KEY_ID)
    fields_ = fields.List(
        fields.String(validate=validate.Regexp(r"^[a-z][a-z0-9_]{0,62}\Z")),
        data_key="fields",
        required=True,
        validate=validate.Length(1, MAX_FIELDS),
    )


class HeaderSchema(Schema):
    """The header's schema, documented form; ``_validate_header`` is its fast twin."""

    class Meta:
        unknown = RAISE

    v = fields.Integer(required=True, strict=True)
    id = fields.String(required=True, validate=validate.Regexp(r"^[A-Za-z0-9_-]{22}\Z"))
    flow = fields.String(required=True, validate=_SLUG)
    policy = fields.String(required=True, validate=validate.Regexp(r"^[0-9a-f]{64}\Z"))
    sender = fields.String(required=True, validate=_SLUG)
    sender_key = fields.String(required=True, validate=_KEY_ID)
    created = fields.String(
        required=True,
        validate=[
            validate.Regexp(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z\Z"),
            lambda text: _real_time(text) or _raise("not a real UTC time"),
        ],
    )
    case = fields.String(required=True, allow_none=True, validate=_REF)
    subject = fields.String(required=True, allow_none=True, validate=_REF)
    routing = fields.Dict(
        keys=fields.String(validate=validate.Regexp(r"^[a-z][a-z0-9_]{0,62}\Z")),
        values=fields.Raw(),
        required=True,
        validate=validate.Length(max=MAX_ROUTING),
    )
    recipients = fields.List(
        fields.Nested(RecipientSchema), required=True, validate=validate.Length(1, MAX_RECIPIENTS)
    )

    @validates_schema
    def _rules(self, data: dict[str, Any], **_: Any) -> None:
        ids = [r["id"] for r in data.get("recipients", [])]
        if ids != sorted(set(ids)):
            raise ValidationError("recipients must be sorted by id, each once", "recipients")
        for r in data.get("recipients", []):
            if r["fields_"] != sorted(set(r["fields_"])):
                raise ValidationError("fields must be sorted, each once", "recipients")
        for value in data.get("routing", {}).values():
            if isinstance(value, bool):
                continue
            if isinstance(value, int):
                if abs(value) > MAX_SAFE_INTEGER:
                    raise ValidationError("routing numbers are within +-2**53", "routing")
                continue
            if not isinstance(value, str) or len(value) > 200 or not _encodable(value):
                raise ValidationError(
                    "routing values are short text, whole numbers or booleans", "routing"
                )


_HEADER_KEYS = frozenset(
    {
        "v",
        "id",
        "flow",
        "policy",
        "sender",
        "sender_key",
        "created",
        "case",
        "subject",
        "routing",
        "recipients",
    }
)
_RE_ID = re.compile(r"[A-Za-z0-9_-]{22}")
_RE_SLUG = re.compile(r"[a-z][a-z0-9-]{0,62}")
_RE_POLICY = re.compile(r"[0-9a-f]{64}")
_RE_KEY_ID = re.compile(r"[a-z2-7]{24}")
_RE_REF = re.compile(r"[A-Za-z0-9_-]{8,86}")


def _real_time(text: str) -> bool:
    """The regex admits hour 99 or 30 February; the calendar decides."""
    try:
        datetime.fromisoformat(text[:-1])
    except ValueError:
        return False
    return True


def _raise(message: str) -> bool:
    raise ValidationError(message)


def _created(doc: dict[str, Any]) -> str:
    text = _text(doc, "created", _CREATED)
    if not _real_time(text):
        raise _bad("'created' is not a real UTC time")
    return text


def _moment(created: str) -> datetime | None:
    """The UTC time of a ``created`` text that matched ``_CREATED``, or None if the calendar
    has no such time (as ``_real_time``: Python reads the final "Z" as UTC)."""
    try:
        return datetime.fromisoformat(created)
    except ValueError:  # hour 99, 30 February: not a real time
        return None


def _bad(what: str) -> EnvelopeMalformed:
    return EnvelopeMalformed(f"The envelope header is not valid: {what}.")


def _text(doc: dict[str, Any], key: str, pattern: re.Pattern[str]) -> str:
    value = doc[key]
    if not isinstance(value, str) or pattern.fullmatch(value) is None:
        raise _bad(f"'{key}' has the wrong form")
    return value


def _optional_ref(doc: dict[str, Any], key: str) -> str | None:
    return None if doc[key] is None else _text(doc, key, _RE_REF)


def _routing(value: Any) -> dict[str, str | bool | int]:
    if not isinstance(value, dict) or len(value) > MAX_ROUTING:
        raise _bad(f"'routing' is an object of at most {MAX_ROUTING} attributes")
    for key, item in value.items():
        if not isinstance(key, str) or _FIELD.fullmatch(key) is None:
            raise _bad(f"routing attribute '{key}' has the wrong form")
        if isinstance(item, bool):
            continue
        if isinstance(item, int):
            if abs(item) > MAX_SAFE_INTEGER:
                raise _bad(f"routing attribute '{key}' is out of range")
        elif not isinstance(item, str) or len(item) > 200 or not _encodable(item):
            raise _bad("routing values are short text, whole numbers or booleans")
    return value


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _field_names_ok(names: list[Any]) -> bool:
    if not all(type(n) is str for n in names):
        return False
    joined = "\n".join(names) + "\n"
    # A name with a newline inside would split into two lines: the count rules that out.
    return joined.count("\n") == len(names) and _FIELD_LINES.fullmatch(joined) is not None


def _recipients(value: Any) -> tuple[RecipientEntry, ...]:
    if not isinstance(value, list) or not 1 <= len(value) <= MAX_RECIPIENTS:
        raise _bad(f"'recipients' is a list of 1 to {MAX_RECIPIENTS}")
    entries = [_plain_recipient(item) or _recipient(item) for item in value]
    ids = [e.partner for e in entries]
    if ids != sorted(set(ids)):
        raise _bad("recipients must be sorted by id, each once")
    return tuple(entries)


def _recipient(item: Any) -> RecipientEntry:
    """One recipient object, checked one rule at a time: the first broken rule is the error."""
    if not isinstance(item, dict) or set(item) != {"id", "key", "fields"}:
        raise _bad("each recipient has exactly: id, key, fields")
    names = item["fields"]
    if (
        not isinstance(names, list)
        or not 1 <= len(names) <= MAX_FIELDS
        or not _field_names_ok(names)
    ):
        raise _bad(f"a recipient's fields are 1 to {MAX_FIELDS} field names")
    if names != sorted(set(names)):
        raise _bad("fields must be sorted, each once")
    return RecipientEntry(_text(item, "id", _RE_SLUG), _text(item, "key", _RE_KEY_ID), tuple(names))


_RECIPIENT_KEYS = frozenset({"id", "key", "fields"})
_STR = frozenset({str})
#: A recipient's id, key id and field names, one per line.
_RECIPIENT_LINES = re.compile(r"[a-z][a-z0-9-]{0,62}\n[a-z2-7]{24}(?:\n[a-z][a-z0-9_]{0,62})+")


def _plain_recipient(item: Any) -> RecipientEntry | None:
    """``_recipient`` for a recipient that keeps every rule (exact str and list types), with
    one pattern match for all its texts; None sends anything else to ``_recipient``."""
    if type(item) is not dict or item.keys() != _RECIPIENT_KEYS:
        return None
    partner, key, names = item["id"], item["key"], item["fields"]
    if (
        type(partner) is not str
        or type(key) is not str
        or type(names) is not list
        or not 1 <= len(names) <= MAX_FIELDS
        or not _STR.issuperset(map(type, names))
    ):
        return None
    lines = "\n".join((partner, key, *names))
    # A newline inside a text would add a line: the count rules that out.
    if lines.count("\n") != len(names) + 1 or _RECIPIENT_LINES.fullmatch(lines) is None:
        return None
    if names != sorted(set(names)):
        return None
    return RecipientEntry(partner, key, tuple(names))


def _validate_header(doc: Any) -> Header:
    """Strict header validation on the hot path. Accepts exactly what ``HeaderSchema`` accepts
    (a differential property test pins this); hand-written because loading the marshmallow
    schema costs several times the whole cryptographic floor of opening an envelope."""
    if not isinstance(doc, dict):
        raise _bad("it is not an object")
    version = doc.get("v")
    if type(version) is int and version != VERSION:
        raise UnsupportedVersion(f"Envelope version {version} is not supported (only {VERSION}).")
    if doc.keys() != _HEADER_KEYS:
        unknown = sorted(set(doc) - _HEADER_KEYS)
        missing = sorted(_HEADER_KEYS - set(doc))
        raise _bad(f"unknown keys {unknown}" if unknown else f"missing keys {missing}")
    if type(version) is not int:
        raise _bad("'v' must be a whole number")
    texts = (
        doc["id"],
        doc["flow"],
        doc["policy"],
        doc["sender"],
        doc["sender_key"],
        doc["created"],
    )
    try:
        lines = "\n".join(texts)
    except TypeError:  # not all text: the field-by-field checks say which
        lines = ""
    if _FIXED_LINES.fullmatch(lines) is None:
        return _header_field_by_field(doc, version)
    moment = _moment(texts[5])
    if moment is None:
        raise _bad("'created' is not a real UTC time")
    header = Header(
        version=version,
        message_id=texts[0],
        flow=texts[1],
        policy_version=texts[2],
        sender=texts[3],
        sender_key_id=texts[4],
        created=texts[5],
        case_ref=_optional_ref(doc, "case"),
        subject_ref=_optional_ref(doc, "subject"),
        routing=_routing(doc["routing"]),
        recipients=_recipients(doc["recipients"]),
    )
    header.__dict__["_created_at"] = moment
    return header


#: id, flow, policy, sender, sender_key and created, one per line. No pattern admits a newline,
#: so a newline inside a text fails the match (each line is exactly one text).
_FIXED_LINES = re.compile(
    r"[A-Za-z0-9_-]{22}\n[a-z][a-z0-9-]{0,62}\n[0-9a-f]{64}\n[a-z][a-z0-9-]{0,62}\n"
    r"[a-z2-7]{24}\n[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z"
)


def _header_field_by_field(doc: dict[str, Any], version: int) -> Header:
    """The header's texts checked one at a time, in order: the first broken rule is the error."""
    return Header(
        version=version,
        message_id=_text(doc, "id", _RE_ID),
        flow=_text(doc, "flow", _RE_SLUG),
        policy_version=_text(doc, "policy", _RE_POLICY),
        sender=_text(doc, "sender", _RE_SLUG),
        sender_key_id=_text(doc, "sender_key", _RE_KEY_ID),
        created=_created(doc),
        case_ref=_optional_ref(doc, "case"),
        subject_ref=_optional_ref(doc, "subject"),
        routing=_routing(doc["routing"]),
        recipients=_recipients(doc["recipients"]),
    )


def _first(messages: Any, path: str = "") -> str:
    if isinstance(messages, dict):
        key, value = next(iter(messages.items()))
        return _first(value, f"{path}.{key}" if path else str(key))
    if isinstance(messages, list) and messages:
        return _first(messages[0], path)
    return f"{path}: {messages}"


def _reject_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise EnvelopeMalformed(f"The envelope repeats the key '{key}'.")
        result[key] = value
    return result


def envelope_from_json(doc: Any) -> Envelope:
    """Validate a decoded envelope object (as embedded in an API batch).

    Its canonical bytes (``to_bytes``, hashed for the register) are written from the validated
    parts as they are checked: every text in them needs no escaping except routing values."""
    if not isinstance(doc, dict) or doc.keys() != {"header", "payloads", "signature"}:
        raise EnvelopeMalformed("An envelope has exactly: header, payloads, signature.")
    header = _validate_header(doc["header"])
    raw_payloads = doc["payloads"]
    if not isinstance(raw_payloads, dict) or sorted(raw_payloads) != [
        r.partner for r in header.recipients
    ]:
        raise EnvelopeMalformed("The envelope must carry exactly one payload per listed recipient.")
    payloads: dict[str, bytes] = {}
    for partner, text in raw_payloads.items():
        sealed = _b64u(text, f"payload for '{partner}'")
        if len(sealed) < SEALED_OVERHEAD + 2:
            raise EnvelopeMalformed(f"The payload for '{partner}' is too short to be sealed.")
        payloads[partner] = sealed
    signature = _b64u(doc["signature"], "signature")
    if len(signature) != 64:
        raise EnvelopeMalformed("The signature is not 64 bytes.")
    header_bytes = _validated_header_bytes(header)
    header.__dict__["canonical_bytes"] = header_bytes
    # Each text was just decoded as canonical base64url, so it is its own canonical form.
    wire = (b'{"header":', header_bytes, b',"payloads":', _flat_object(raw_payloads))
    return _made(
        Envelope,
        {
            "header": header,
            "payloads": payloads,
            "signature": signature,
            "wire_bytes": b"".join((*wire, b',"signature":"', doc["signature"].encode(), b'"}')),
        },
    )


def _b64u(text: Any, what: str) -> bytes:
    """``b64u_decode(text, what=what)``, through the bytes decoder where it can (the two are
    pinned together); the text decoder names any refusal."""
    if type(text) is str and text.isascii():
        data = b64u_decode_ascii(text.encode("ascii"))
        if data is not None:
            return data
    return b64u_decode(text, what=what)


def parse_envelope(data: bytes, *, max_bytes: int = MAX_ENVELOPE_BYTES) -> Envelope:
    """Parse wire bytes: size first, then JSON, structure, and the exact canonical form.

    Requiring the canonical form (the bytes equal RFC 8785 of what they parse to) also refuses
    duplicate keys, whitespace and any other second spelling of the same envelope. The wire
    form is taken apart as bytes first (``_canonical_envelope``); whatever that does not
    accept goes to the reference (``_parse_reference``), which decides and names the error."""
    return _canonical_envelope(data, max_bytes) or _parse_reference(data, max_bytes)


_HEADER_OPEN = b'{"header":'
_PAYLOADS_OPEN = b',"payloads":{'
_SIGNATURE_OPEN = b'},"signature":"'
_SIGNATURE_TEXT = 86  # b64u of 64 bytes
_TAIL = len(_SIGNATURE_OPEN) + _SIGNATURE_TEXT + len(b'"}')
_JSON = json.JSONDecoder()


def _canonical_envelope(data: bytes, max_bytes: int) -> Envelope | None:
    """An envelope in its canonical wire form, taken apart as bytes; None for anything else.

    The canonical form is ``{"header":H,"payloads":{"r1":"p1",...},"signature":"s"}``: H must
    be the canonical text of a valid header (``_canonical_header``), each payload text the next
    listed recipient's and canonical base64url of a long enough box, s canonical base64url of
    64 bytes. Then ``data`` is exactly the canonical JSON of a valid envelope with these values,
    which the reference parses to this same envelope (differential property tests pin this):
    so this only ever accepts what the reference accepts, and every refusal is left to it."""
    size = len(data)
    tail = size - _TAIL
    if (
        type(data) is not bytes
        or size > max_bytes
        or not data.startswith(_HEADER_OPEN)
        or not data.endswith(b'"}')
        or data[tail : tail + len(_SIGNATURE_OPEN)] != _SIGNATURE_OPEN
    ):
        return None
    at = data.rfind(_PAYLOADS_OPEN, len(_HEADER_OPEN), tail)
    if at < 0:
        return None
    header_bytes = data[len(_HEADER_OPEN) : at]
    try:
        header = _canonical_header(header_bytes.decode("utf-8"))
    except UnicodeDecodeError:  # not UTF-8: the reference decides and names it
        return None
    if header is None:
        return None
    # The payloads: '"id":"text"' for each listed recipient in order, comma-separated.
    payloads: dict[str, bytes] = {}
    at += len(_PAYLOADS_OPEN) - 1
    for recipient in header.recipients:
        opening = b'%s"%s":"' % (b"," if payloads else b"{", recipient.partner.encode())
        if not data.startswith(opening, at):
            return None
        start = at + len(opening)
        at = data.find(b'"', start, tail)
        sealed = b64u_decode_ascii(data[start:at]) if at > 0 else None
        if sealed is None or len(sealed) < SEALED_OVERHEAD + 2:
            return None
        payloads[recipient.partner] = sealed
        at += 1
    if at != tail:
        return None
    signature = b64u_decode_ascii(data[tail + len(_SIGNATURE_OPEN) : -2])
    if signature is None or len(signature) != 64:
        return None
    header.__dict__["canonical_bytes"] = header_bytes
    return _made(
        Envelope,
        {"header": header, "payloads": payloads, "signature": signature, "wire_bytes": data},
    )


_REF_TEXT = r'(null|"[A-Za-z0-9_-]{8,86}")'
#: The inside of a recipient object's canonical text (checked per distinct text, below).
_RECIPIENT_INSIDE = re.compile(
    r'"fields":\["[a-z][a-z0-9_]{0,62}"(?:,"[a-z][a-z0-9_]{0,62}")*\],'
    r'"id":"[a-z][a-z0-9-]{0,62}","key":"[a-z2-7]{24}"'
)
#: A header's canonical text: the keys in order, every text with the pattern of its key (as in
#: ``_validate_header``), written without escapes as none of these patterns needs one. The
#: recipients are brace-delimited objects here, each checked by ``_recipient_text``; the
#: routing object is left to JSON (its text values are free).
_HEADER_TEXT = re.compile(
    r'\{"case":' + _REF_TEXT + r","
    r'"created":"([0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z)",'
    r'"flow":"([a-z][a-z0-9-]{0,62})",'
    r'"id":"([A-Za-z0-9_-]{22})",'
    r'"policy":"([0-9a-f]{64})",'
    r'"recipients":\[(\{[^{}]*\}(?:,\{[^{}]*\})*)\],'
    r'"routing":(\{.*\}),'
    r'"sender":"([a-z][a-z0-9-]{0,62})",'
    r'"sender_key":"([a-z2-7]{24})",'
    r'"subject":' + _REF_TEXT + r","
    r'"v":1\}',
    re.DOTALL,
)


def _canonical_header(text: str) -> Header | None:
    """The header whose RFC 8785 text is ``text``, or None when ``text`` is anything else.

    ``_HEADER_TEXT`` checks the layout and every pattern in one match; then the rules a pattern
    cannot say: a real time, routing attributes as ``_routing`` wants them and written
    canonically, counts, and field names and recipients sorted and each once. Accepts exactly
    the texts ``_validated_header_bytes`` writes for headers ``_validate_header`` accepts (a
    differential property test pins it against parsing, validating and re-encoding)."""
    match = _HEADER_TEXT.fullmatch(text)
    if match is None:
        return None
    case, created, flow, message_id, policy, recipients, routing_text, sender, key, subject = (
        match.groups()
    )
    moment = _moment(created)
    if moment is None:
        return None
    # The texts below are remembered per text; one longer than any valid text goes to the
    # reference, so a hostile peer cannot make the caches hold large refused texts.
    if len(routing_text) > _REMEMBERED_TEXT:
        return None
    routing = _canonical_routing(routing_text)
    if routing is None:
        return None
    entries = []
    chunks = recipients[1:-1].split("},{")  # no pattern in a recipient admits a brace
    if len(chunks) > MAX_RECIPIENTS:
        return None
    for chunk in chunks:
        if len(chunk) > _REMEMBERED_TEXT:
            return None
        entry = _recipient_text(chunk)
        if entry is None:
            return None
        entries.append(entry)
    ids = [e.partner for e in entries]
    if ids != sorted(set(ids)):
        return None
    return _made(
        Header,
        {
            "message_id": message_id,
            "flow": flow,
            "policy_version": policy,
            "sender": sender,
            "sender_key_id": key,
            "created": created,
            "recipients": tuple(entries),
            "case_ref": None if case == "null" else case[1:-1],
            "subject_ref": None if subject == "null" else subject[1:-1],
            "routing": dict(routing),  # a copy: the remembered one stays as it was
            "version": VERSION,
            "_created_at": moment,
        },
    )


# Characters: above the longest valid routing text (16 attributes, values of 200 characters
# escaped as \uXXXX) and recipient text (200 field names): 256 entries stay a few MB.
_REMEMBERED_TEXT = 32_768


@lru_cache(maxsize=256)
def _canonical_routing(text: str) -> dict[str, str | bool | int] | None:
    """The routing attributes whose canonical text is ``text`` (valid as ``_routing`` wants
    them), or None. Remembered per text, like ``_recipient_text``: a flow's routing attributes
    take few values (``{"priority":true}``); callers get a copy of the dict."""
    try:
        routing, end = _JSON.raw_decode(text)
        _routing(routing)
    except (ValueError, RecursionError, EnvelopeMalformed):  # the reference decides
        return None
    if end != len(text) or _routing_text(routing) != text:
        return None
    return routing  # type: ignore[no-any-return]


@lru_cache(maxsize=256)
def _recipient_text(inner: str) -> RecipientEntry | None:
    """The recipient whose canonical text is ``{inner}``, or None if it is not one (wrong form,
    field names too many, unsorted or repeated). Remembered per text: every envelope of a flow
    to the same recipient key carries the same manifest, so a gateway or a client sees the same
    few texts again and again (and a RecipientEntry is immutable)."""
    if _RECIPIENT_INSIDE.fullmatch(inner) is None:
        return None
    # '"fields":["a","b"],"id":"x","key":"y"' split at its quotes: the names are every other
    # part from the fourth, then come '],', 'id', ':', x, ',', 'key', ':', y and ''.
    parts = inner.split('"')
    names = parts[3:-9:2]
    if len(names) > MAX_FIELDS or names != sorted(set(names)):
        return None
    return RecipientEntry(parts[-6], parts[-2], tuple(names))


def _parse_reference(data: bytes, max_bytes: int) -> Envelope:
    """``parse_envelope`` the plain way: parse all of it, validate, re-encode and compare."""
    if len(data) > max_bytes:
        raise EnvelopeTooLarge(f"The envelope is {len(data)} bytes; the limit is {max_bytes}.")
    try:
        doc = json.loads(data, parse_float=_no_float, parse_constant=_no_float)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise EnvelopeMalformed("The envelope is not valid JSON.") from None
    envelope = envelope_from_json(doc)
    if envelope.wire_bytes != data:  # the canonical bytes of what was parsed
        raise EnvelopeMalformed("The envelope is not in canonical form (RFC 8785).")
    return envelope


def _no_float(text: str) -> Any:
    raise EnvelopeMalformed("Envelopes carry no fractional numbers; amounts are text.")


def verify_sender(envelope: Envelope, ed25519_public_key: bytes) -> None:
    """Raise SignatureInvalid unless the sender's key signed this header and these payloads."""
    if _ed25519_key_id(ed25519_public_key) != envelope.header.sender_key_id:
        raise NotARecipient("The given key is not the key the envelope names as the sender's.")
    verify_signature(
        ed25519_public_key, _signed_bytes(envelope.header, envelope.payloads), envelope.signature
    )


@lru_cache(maxsize=1024)
def _ed25519_key_id(public_key: bytes) -> str:
    """The key id of a sender key; memoised, as a directory holds few keys (a pure function of
    immutable bytes, so the remembered answer is always the answer)."""
    return fingerprint("ed25519", public_key, compact=True)


def open_envelope(
    data: bytes | Envelope, recipient: PartnerKeyPair, sender_keys: SenderKeys
) -> Opened:
    """Verify everything, then decrypt this recipient's projection. Raises on any failure."""
    envelope = data if isinstance(data, Envelope) else parse_envelope(data)
    header = envelope.header
    sender_key = sender_keys.ed25519_for(header.sender, header.sender_key_id, header.created_at())
    verify_sender(envelope, sender_key)
    entry = header.recipient(recipient.partner)
    if entry is None:
        raise NotARecipient(f"'{recipient.partner}' is not a recipient of this envelope.")
    if entry.key_id != recipient.public.encryption_key_id:
        raise NotARecipient("The envelope was sealed to another key of this recipient.")
    try:
        plaintext = nacl.bindings.crypto_box_seal_open(
            envelope.payloads[recipient.partner],
            recipient.public.x25519,
            bytes(recipient.box_private_key()),
        )
    except (nacl.exceptions.CryptoError, ValueError):
        raise DecryptionFailed("The payload does not decrypt with this recipient's key.") from None
    bound = _b64u_sha256(header.canonical_bytes)
    values = _canonical_projection(plaintext, bound, entry)
    if values is None:
        values = _projection(plaintext, bound.decode("ascii"), entry)
    return _made(Opened, {"header": header, "fields": values})


def _projection(plaintext: bytes, bound: str, entry: RecipientEntry) -> dict[str, Any]:
    """Steps 6 and 7 on a decrypted projection, in any JSON spelling: the reference."""
    try:
        inner = json.loads(
            plaintext,
            object_pairs_hook=_reject_duplicates,
            parse_float=_no_float,
            parse_constant=_no_float,
        )
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise BindingMismatch("The decrypted payload is not valid JSON.") from None
    if not isinstance(inner, dict) or set(inner) != {"binding", "fields"}:
        raise BindingMismatch("The decrypted payload lacks its binding.")
    expected = {"header": bound, "recipient": entry.partner, "key": entry.key_id}
    if inner["binding"] != expected:
        raise BindingMismatch("The payload is bound to another header or recipient.")
    values = inner["fields"]
    if not isinstance(values, dict) or tuple(sorted(values)) != entry.fields:
        raise ManifestMismatch("The decrypted fields differ from the header's manifest.")
    check_fields(values)
    return values


@lru_cache(maxsize=256)
def _binding_tail(key_id: str, partner: str) -> bytes | None:
    """The canonical bytes of a binding after its header hash, for this recipient and key (None
    if they cannot be UTF-8). Remembered: a recipient opens with the same few keys."""
    text = (
        f',"key":{encode_basestring(key_id)},"recipient":{encode_basestring(partner)}}},"fields":'
    )
    try:
        return ('"' + text).encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate: no canonical bytes, the reference decides
        return None


#: Decodes every JSON object to the tuple of its (key, value) pairs, all in C: a repeated key
#: stays visible (a dict would keep only the last).
_PAIRS = json.JSONDecoder(object_pairs_hook=tuple)


def _canonical_projection(
    plaintext: bytes, bound: bytes, entry: RecipientEntry
) -> dict[str, Any] | None:
    """The fields of a projection in its canonical spelling (what ``seal`` writes), or None.

    Only ever accepts what ``_projection`` accepts, with the same result; anything else (another
    spelling, or any fault) returns None and ``_projection`` decides, so every refusal and its
    error are the reference's. The binding is compared as bytes: the plaintext must start with
    the canonical JSON of the expected binding. The fields object's keys, in the order written,
    must be the manifest (sorted, each once), which also rules out repeated keys. ``bound`` is
    the header hash in base64url (nothing to escape)."""
    tail = _binding_tail(entry.key_id, entry.partner)
    if tail is None:
        return None
    head = b'{"binding":{"header":"' + bound + tail
    try:
        if not plaintext.startswith(head) or plaintext[-1:] != b"}":
            return None
        text = plaintext[len(head) : -1].decode("utf-8")
        pairs, end = _PAIRS.raw_decode(text)
    except (ValueError, RecursionError):  # not canonical, or not JSON: the reference decides
        return None
    if end != len(text) or type(pairs) is not tuple:
        return None
    values = dict(pairs)
    if len(values) != len(pairs) or tuple(values) != entry.fields:
        return None
    try:
        check_fields(values)
    except EnvelopeMalformed:  # the reference raises it, in its own order of checks
        return None
    return values


@dataclass(frozen=True)
class TrustedSenderKeys:
    """A fixed set of trusted sender keys: ``{(partner, key_id): ed25519}`` minus revoked ids."""

    keys: Mapping[tuple[str, str], bytes]
    revoked: frozenset[str] = frozenset()

    def ed25519_for(self, partner: str, key_id: str, when: datetime) -> bytes:
        if key_id in self.revoked:
            raise SenderKeyRevoked(f"The key {key_id} of '{partner}' is revoked.")
        found = self.keys.get((partner, key_id))
        if found is None:
            raise UnknownSenderKey(f"No key {key_id} is known for '{partner}'.")
        return found

    @classmethod
    def of(cls, *public: PublicKeys) -> TrustedSenderKeys:
        return cls({(p.partner, p.key_id): p.ed25519 for p in public})
