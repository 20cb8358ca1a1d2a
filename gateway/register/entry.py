"""Register events and their canonical entry bytes. Pure.

An :class:`Event` is what a service reports (who, to whom, which flow, which field names, which
subjects); the register turns it into an *entry*: the event plus sequence number, time, stream
and the subjects' epoch pseudonyms, as canonical JSON (RFC 8785 for this restricted value set).
Entries hold names and references, never a field value: there is no place for one.

Two streams, after the "Logboek Dataverwerkingen" rule that processing log lines carry no user
identities: ``processing`` (transfers, deliveries, cases, subject-access queries) and
``administration`` (policy, partners and keys, users, exports, checkpoints).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from operator import attrgetter
from types import MappingProxyType
from typing import Any

from gateway.errors import InvalidRequest, SluisError

PROCESSING = "processing"
ADMINISTRATION = "administration"
STREAMS = (PROCESSING, ADMINISTRATION)

#: Every event type, the stream it belongs to, and what it records (docs/REGISTER.md lists them).
_EVENT_TYPES_EN: Mapping[str, tuple[str, str]] = MappingProxyType(
    {
        "transfer.accepted": (PROCESSING, "An envelope passed the policy check and was stored."),
        "transfer.refused": (PROCESSING, "An envelope was refused; the reason code says why."),
        "envelope.delivered": (PROCESSING, "A recipient fetched its sealed envelope."),
        "envelope.acknowledged": (PROCESSING, "A recipient confirmed it opened the envelope."),
        "envelope.mismatch-reported": (
            PROCESSING,
            "A recipient opened an envelope whose content did not match its header.",
        ),
        "envelope.expired": (PROCESSING, "An envelope was not fetched in time and expired."),
        "envelope.purged": (PROCESSING, "A sealed envelope was deleted after its grace period."),
        "case.opened": (PROCESSING, "A signal opened a case."),
        "case.moved": (PROCESSING, "An accepted flow moved a case to another state."),
        "case.closed": (PROCESSING, "A case was closed."),
        "case.purged": (PROCESSING, "A closed case and its routing data were deleted."),
        "notice.raised": (
            PROCESSING,
            "A scheduled check warned a partner and the console (overdue case, expired "
            "envelope, missing monthly delivery).",
        ),
        "subject-access.queried": (PROCESSING, "Events about one data subject were looked up."),
        "epoch-key.destroyed": (
            PROCESSING,
            "The pseudonym key of a period was destroyed; its pseudonyms became unlinkable.",
        ),
        "policy.published": (ADMINISTRATION, "A policy version was signed and published."),
        "partner.added": (ADMINISTRATION, "A partner joined the key directory."),
        "key.registered": (ADMINISTRATION, "A partner's public key was registered."),
        "key.rotated": (ADMINISTRATION, "A partner's key was replaced by a new one."),
        "key.revoked": (ADMINISTRATION, "A partner's key was revoked."),
        "key.expiring": (ADMINISTRATION, "A partner was warned that its key expires soon."),
        "user.login": (ADMINISTRATION, "A console user logged in."),
        "user.login-failed": (ADMINISTRATION, "A console login failed."),
        "user.role-changed": (ADMINISTRATION, "A console user's roles changed."),
        "user.reset": (
            ADMINISTRATION,
            "A console user's password and second factor were replaced by an operator.",
        ),
        "user.logout": (ADMINISTRATION, "A console user logged out."),
        "export.made": (ADMINISTRATION, "A register export for the AP was written."),
        "checkpoint.signed": (ADMINISTRATION, "The gateway signed a register checkpoint."),
    }
)

_EVENT_LABELS_NL: Mapping[str, str] = MappingProxyType(
    {
        "transfer.accepted": "Een envelop doorstond de beleidscontrole en is opgeslagen.",
        "transfer.refused": "Een envelop is geweigerd; de redencode zegt waarom.",
        "envelope.delivered": "Een ontvanger heeft zijn verzegelde envelop opgehaald.",
        "envelope.acknowledged": "Een ontvanger bevestigde dat hij de envelop heeft geopend.",
        "envelope.mismatch-reported": (
            "Een ontvanger opende een envelop waarvan de inhoud niet bij de kop paste."
        ),
        "envelope.expired": "Een envelop is niet op tijd opgehaald en vervallen.",
        "envelope.purged": "Een verzegelde envelop is na de bewaartermijn verwijderd.",
        "case.opened": "Een signaal opende een casus.",
        "case.moved": "Een geaccepteerde stroom zette een casus in een andere status.",
        "case.closed": "Een casus is afgesloten.",
        "case.purged": "Een afgesloten casus en zijn routeringsgegevens zijn verwijderd.",
        "notice.raised": (
            "Een geplande controle waarschuwde een partner en de console (casus over de "
            "termijn, vervallen envelop, ontbrekende maandlevering)."
        ),
        "subject-access.queried": (
            "Gebeurtenissen over één betrokkene zijn opgevraagd (inzageverzoek)."
        ),
        "epoch-key.destroyed": (
            "De pseudoniemsleutel van een periode is vernietigd; de pseudoniemen zijn niet "
            "meer te koppelen."
        ),
        "policy.published": "Een beleidsversie is ondertekend en gepubliceerd.",
        "partner.added": "Een partner is aan de sleutelmap toegevoegd.",
        "key.registered": "Een publieke sleutel van een partner is geregistreerd.",
        "key.rotated": "Een sleutel van een partner is door een nieuwe vervangen.",
        "key.revoked": "Een sleutel van een partner is ingetrokken.",
        "key.expiring": "Een partner is gewaarschuwd dat zijn sleutel binnenkort verloopt.",
        "user.login": "Een gebruiker van de console logde in.",
        "user.login-failed": "Een inlogpoging op de console mislukte.",
        "user.role-changed": "De rollen van een consolegebruiker zijn gewijzigd.",
        "user.reset": (
            "Wachtwoord en tweede factor van een consolegebruiker zijn door een beheerder "
            "vervangen."
        ),
        "user.logout": "Een gebruiker van de console logde uit.",
        "export.made": "Een export van het register voor de AP is gemaakt.",
        "checkpoint.signed": "De gateway ondertekende een checkpoint van het register.",
    }
)

#: Every event type: (stream, English meaning, Dutch meaning).
EVENT_TYPES: Mapping[str, tuple[str, str, str]] = MappingProxyType(
    {k: (stream, en, _EVENT_LABELS_NL[k]) for k, (stream, en) in _EVENT_TYPES_EN.items()}
)

#: The stream of each event type.
STREAM_OF: Mapping[str, str] = MappingProxyType({k: v[0] for k, v in EVENT_TYPES.items()})

ACTOR_KINDS = ("partner", "user", "gateway", "operator")
OUTCOMES = ("success", "refused", "error")

#: Attribute keys an event may carry: references and counts, never values.
ATTRIBUTE_KEYS = frozenset(
    {
        "account",  # the console account a user.* event is about (staff, not a data subject)
        "checkpointSize",
        "checkpointRoot",
        "count",
        "daysOverdue",
        "dueDate",
        "effectiveFrom",
        "epoch",
        "exportFrom",
        "exportTo",
        "exportSize",
        "fromState",
        "keyId",
        "matches",
        "notice",
        "partner",
        "previousKeyId",
        "priority",
        "roles",
        "state",
        "toState",
    }
)

_TOKEN = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9_.:@/+=-]{0,199}\Z")
_TOKENS = re.compile(r"(?:[A-Za-z0-9_-][A-Za-z0-9_.:@/+=-]{0,199}\n)+\Z")
#: Short human text (a legal basis): only characters JSON writes unescaped, no outer spaces.
_LABEL_CHAR = r'[^"\\\x00-\x1f\x7f\ud800-\udfff]'
_LABEL = re.compile(rf"(?!\s){_LABEL_CHAR}(?:{_LABEL_CHAR}{{0,198}}(?<!\s))?\Z")
_STAMP = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z\Z")
_EPOCH = re.compile(r"[0-9]{4}-[0-9]{2}\Z")
_PSEUDONYM = re.compile(r"[0-9a-f]{32}\Z")
_PSEUDONYMS = re.compile(r"(?:[0-9a-f]{32}\n)+\Z")
_HEX64 = re.compile(r"[0-9a-f]{64}\Z")
MAX_RECIPIENTS = 32
MAX_FIELDS = 128
MAX_SUBJECTS = 1000
MAX_SAFE_INTEGER = 2**53 - 1


class EventInvalid(SluisError):
    """A service built an event the register cannot record (a programming error)."""

    code = "register-event-invalid"
    title = "Register event invalid"
    status = 500


@dataclass(frozen=True)
class Actor:
    """Who acted: a partner (its id), a console user (administration stream only), the gateway
    itself, or an operator at the command line."""

    kind: str
    id: str

    def as_json(self) -> dict[str, str]:
        return {"kind": self.kind, "id": self.id}


GATEWAY = Actor("gateway", "sluis")


def is_token(text: str) -> bool:
    """True when ``text`` may stand in an entry as an id or name."""
    return _TOKEN.match(text) is not None


def operator(name: str) -> Actor:
    """The actor for a command-line operator; refuses names that are not short tokens."""
    if not _TOKEN.match(name):
        raise InvalidRequest(
            f"{name[:40]!r} is not a usable operator name: use letters, digits and "
            "'.-_@' without spaces (for example gateway-admin)."
        )
    return Actor("operator", name)


@dataclass(frozen=True)
class RecipientFields:
    """One recipient of a transfer: its party id, the role it receives in, the field *names* it
    received, and pointers to purpose and legal basis in the policy version."""

    party: str
    role: str
    fields: tuple[str, ...]
    legal_basis: str = ""

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"party": self.party, "role": self.role, "fields": list(self.fields)}
        if self.legal_basis:
            out["legalBasis"] = self.legal_basis
        return out


@dataclass(frozen=True)
class Event:
    type: str
    actor: Actor
    outcome: str = "success"
    reason: str | None = None
    flow: str | None = None
    sender: str | None = None
    recipients: tuple[RecipientFields, ...] = ()
    subjects: tuple[str, ...] = ()  # subject references; stored only as epoch pseudonyms
    subject_count: int | None = None
    case: str | None = None
    policy_version: str | None = None
    envelope_hash: str | None = None
    message_id: str | None = None
    attributes: Mapping[str, str | int] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def stream(self) -> str:
        return EVENT_TYPES[self.type][0]

    def check(self) -> None:
        """Raise :class:`EventInvalid` naming the first rule the event breaks."""
        if self.type not in EVENT_TYPES:
            raise EventInvalid(f"'{self.type}' is not a register event type.")
        if self.actor.kind not in ACTOR_KINDS or not _TOKEN.match(self.actor.id):
            raise EventInvalid(f"The actor of a {self.type} event is not a known kind and id.")
        if self.actor.kind == "user" and self.stream == PROCESSING:
            raise EventInvalid("Processing events carry no user identity (Logboek rule).")
        if self.outcome not in OUTCOMES:
            raise EventInvalid(f"'{self.outcome}' is not an outcome ({', '.join(OUTCOMES)}).")
        tokens = [self.actor.id]
        tokens.extend(
            v
            for v in (self.reason, self.flow, self.sender, self.case, self.message_id)
            if v is not None
        )
        for recipient in self.recipients:
            if len(recipient.fields) > MAX_FIELDS:
                raise EventInvalid(f"A recipient of a {self.type} event has too many fields.")
            tokens.append(recipient.party)
            tokens.append(recipient.role)
            tokens.extend(recipient.fields)
            if recipient.legal_basis and not _LABEL.match(recipient.legal_basis):
                raise EventInvalid(f"The legal basis of a {self.type} event is not a short label.")
        tokens.extend(v for v in self.attributes.values() if isinstance(v, str))
        joined = "\n".join(tokens) + "\n"
        # One match for all tokens; the count refuses a token that itself holds a line break.
        if not _TOKENS.match(joined) or joined.count("\n") != len(tokens):
            bad = next(t for t in tokens if not _TOKEN.match(t))
            raise EventInvalid(f"{bad[:40]!r} in a {self.type} event is not a short token.")
        for name in ("policy_version", "envelope_hash"):
            value = getattr(self, name)
            if value is not None and not _HEX64.match(value):
                raise EventInvalid(f"The {name} of a {self.type} event is not 64 hex digits.")
        if len(self.recipients) > MAX_RECIPIENTS or len(self.subjects) > MAX_SUBJECTS:
            raise EventInvalid(f"A {self.type} event names too many recipients or subjects.")
        for key, value in self.attributes.items():
            if key not in ATTRIBUTE_KEYS:
                raise EventInvalid(f"'{key}' is not a register attribute.")
            if type(value) is int and not 0 <= value <= MAX_SAFE_INTEGER:
                raise EventInvalid(f"The attribute '{key}' is not a count or size.")
            if type(value) not in (int, str):
                raise EventInvalid(f"The attribute '{key}' is neither text nor a whole number.")
        if self.subject_count is not None and not 0 <= self.subject_count <= MAX_SAFE_INTEGER:
            raise EventInvalid("A subject count is a whole number from 0.")


def iso_time(moment: datetime) -> str:
    """UTC, milliseconds, ``Z``: sortable as text."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _q(text: str) -> str:
    return f'"{text}"'


#: The parts of an event that repeat from event to event (type, actor, recipients), checked
#: once and kept as ready JSON fragments. Bounded: cleared when it grows past this many.
_HEAD_CACHE_MAX = 4096
_heads: dict[tuple[str, Actor, tuple[RecipientFields, ...]], tuple[str, str, str]] = {}
_checked_times: dict[tuple[str, str | None], str] = {}
_policy_versions: set[str] = set()


def _head(event: Event) -> tuple[str, str, str] | None:
    """(actor, recipients, stream and type) fragments of ``event``, or None when that part of the
    event breaks a rule of :meth:`Event.check` (which then names it)."""
    key = (event.type, event.actor, event.recipients)
    try:
        return _heads[key]
    except KeyError:
        pass  # first time this head is seen: check it below
    except TypeError:  # an unhashable part (a list where a tuple belongs): not cached
        return None
    kind = EVENT_TYPES.get(event.type)
    actor = event.actor
    if (
        kind is None
        or actor.kind not in ACTOR_KINDS
        or not _TOKEN.match(actor.id)
        or (actor.kind == "user" and kind[0] == PROCESSING)
        or len(event.recipients) > MAX_RECIPIENTS
    ):
        return None
    for r in event.recipients:
        if (
            len(r.fields) > MAX_FIELDS
            or not _TOKEN.match(r.party)
            or not _TOKEN.match(r.role)
            or not all(_TOKEN.match(f) for f in r.fields)
            or (r.legal_basis and not _LABEL.match(r.legal_basis))
        ):
            return None
    recipients = (
        f',"recipients":[{",".join(_recipient(r) for r in event.recipients)}]'
        if event.recipients
        else ""
    )
    found = (
        f'{{"actor":{{"id":"{actor.id}","kind":"{actor.kind}"}}',
        recipients,
        f',"stream":"{kind[0]}"',
    )
    if len(_heads) >= _HEAD_CACHE_MAX:
        _heads.clear()
    _heads[key] = found
    return found


def _rest_is_valid(event: Event) -> bool:
    """The rules of :meth:`Event.check` for the parts that change from event to event."""
    if event.outcome not in OUTCOMES or len(event.subjects) > MAX_SUBJECTS:
        return False
    tokens = [
        v
        for v in (event.reason, event.flow, event.sender, event.case, event.message_id)
        if v is not None
    ]
    attributes = event.attributes
    if attributes:
        tokens.extend(v for v in attributes.values() if isinstance(v, str))
    if tokens:
        joined = "\n".join(tokens) + "\n"
        if not _TOKENS.match(joined) or joined.count("\n") != len(tokens):
            return False
    policy = event.policy_version
    if policy is not None and policy not in _policy_versions:  # one per publication
        if not _HEX64.match(policy):
            return False
        if len(_policy_versions) >= _HEAD_CACHE_MAX:
            _policy_versions.clear()
        _policy_versions.add(policy)
    if event.envelope_hash is not None and not _HEX64.match(event.envelope_hash):
        return False
    for name, attribute in attributes.items():
        if name not in ATTRIBUTE_KEYS or type(attribute) not in (int, str):
            return False
        if type(attribute) is int and not 0 <= attribute <= MAX_SAFE_INTEGER:
            return False
    count = event.subject_count
    return count is None or 0 <= count <= MAX_SAFE_INTEGER


def _time_part(time: str, epoch: str | None) -> str:
    """The checked ``"time"`` fragment (a batch shares one time and epoch: checked once)."""
    found = _checked_times.get((time, epoch))
    if found is None:
        if not _STAMP.match(time) or (epoch is not None and not _EPOCH.match(epoch)):
            raise EventInvalid("An entry's time and epoch are ISO 8601 UTC and YYYY-MM.")
        if len(_checked_times) >= _HEAD_CACHE_MAX:
            _checked_times.clear()
        found = _checked_times[(time, epoch)] = f',"time":"{time}","type":"'
    return found


def encode_entry(
    event: Event, *, seq: int, time: str, epoch: str | None, pseudonyms: tuple[str, ...]
) -> bytes:
    """The canonical bytes of one entry: RFC 8785 (sorted keys, no spaces, UTF-8).

    Built by hand because it is the register's hot path: after the checks of
    :meth:`Event.check` every text in an event is a token or label that JSON writes unescaped,
    so quoting is enough. The parts that repeat (actor, recipients, stream) are checked once
    and kept as fragments. Tests pin the result to ``json.dumps(sort_keys=True)``, to the
    ``rfc8785`` package, and byte for byte (errors included) to the straightforward encoder in
    ``tests/register/entry_reference.py``.
    """
    head = _head(event)
    if head is None or not _rest_is_valid(event):
        event.check()  # names the rule the event breaks
        raise EventInvalid(f"A {event.type} event breaks a register rule.")  # pragma: no cover
    time_part = _time_part(time, epoch)
    if pseudonyms:
        joined = "\n".join(pseudonyms) + "\n"
        if not _PSEUDONYMS.match(joined) or len(joined) != 33 * len(pseudonyms):
            raise EventInvalid("A subject pseudonym is 32 hexadecimal digits.")
    # Keys in RFC 8785 order (UTF-16 code units; all ASCII here, so plain sorted order).
    actor, recipients, stream = head
    parts = [actor]
    if event.attributes:
        attrs = ",".join(
            f'"{key}":{_q(value) if isinstance(value, str) else int(value)}'
            for key, value in sorted(event.attributes.items())
        )
        parts.append(f',"attributes":{{{attrs}}}')
    if event.case is not None:
        parts.append(f',"case":"{event.case}"')
    if event.envelope_hash is not None:
        parts.append(f',"envelopeHash":"{event.envelope_hash}"')
    if pseudonyms:
        parts.append(f',"epoch":"{epoch}"')
    if event.flow is not None:
        parts.append(f',"flow":"{event.flow}"')
    if event.message_id is not None:
        parts.append(f',"messageId":"{event.message_id}"')
    parts.append(f',"outcome":"{event.outcome}"')
    if event.policy_version is not None:
        parts.append(f',"policyVersion":"{event.policy_version}"')
    if event.reason is not None:
        parts.append(f',"reason":"{event.reason}"')
    parts.append(recipients)
    if event.sender is not None:
        parts.append(f',"sender":"{event.sender}"')
    parts.append(f',"seq":{int(seq)}')
    parts.append(stream)
    count = event.subject_count if event.subject_count is not None else len(event.subjects)
    if count:
        parts.append(f',"subjectCount":{int(count)}')
    if pseudonyms:
        parts.append(',"subjects":["' + '","'.join(pseudonyms) + '"]')
    parts.append(time_part)
    parts.append(event.type)
    parts.append('"}')
    return "".join(parts).encode()


_HEX64S = re.compile(r"(?:[0-9a-f]{64}\n)+\Z")
_OUTCOME_SET = frozenset(OUTCOMES)
_texts = attrgetter("reason", "flow", "sender", "case", "message_id")
# Key fragments of the batch encoder (an f-string expression holds no backslash in 3.11).
_CASE, _ENVELOPE, _FLOW = ',"case":"', ',"envelopeHash":"', ',"flow":"'
_MESSAGE, _OUTCOME, _POLICY = ',"messageId":"', ',"outcome":"', ',"policyVersion":"'
_REASON, _SENDER = ',"reason":"', ',"sender":"'
_COUNT, _SUBJECTS, _BETWEEN, _LAST = ',"subjectCount":', ',"subjects":["', '","', '"]'
_QUOTE = '"'


def _batch_is_valid(
    events: Sequence[Event], heads: list[tuple[str, str, str] | None], names: list[str]
) -> bool:
    """True only when every event passes :func:`_head` and :func:`_rest_is_valid` and every
    pseudonym is 32 hex digits: each rule checked once over the whole batch (one regular
    expression over all tokens, one over all envelope hashes, one over all pseudonyms)."""
    if None in heads:
        return False
    try:
        if not {e.outcome for e in events} <= _OUTCOME_SET:
            return False
        if max(len(e.subjects) for e in events) > MAX_SUBJECTS:
            return False
        tokens = [v for texts in map(_texts, events) for v in texts if v is not None]
        if tokens:
            joined = "\n".join(tokens) + "\n"
            if not _TOKENS.match(joined) or joined.count("\n") != len(tokens):
                return False
        hashes = [e.envelope_hash for e in events if e.envelope_hash is not None]
        if hashes:
            joined = "\n".join(hashes) + "\n"
            if not _HEX64S.match(joined) or len(joined) != 65 * len(hashes):
                return False
        for policy in {e.policy_version for e in events} - _policy_versions - {None}:
            if not _HEX64.match(policy):  # type: ignore[arg-type]  # None was taken out
                return False
        for e in events:
            count = e.subject_count
            if (count is not None and not 0 <= count <= MAX_SAFE_INTEGER) or (
                e.attributes and not _rest_is_valid(e)
            ):
                return False
    except TypeError:  # a value of the wrong type (unhashable, not text): the slow path names it
        return False
    if names:
        joined = "\n".join(names) + "\n"
        if not _PSEUDONYMS.match(joined) or len(joined) != 33 * len(names):
            return False
    return True


def encode_entries(
    events: Sequence[Event],
    *,
    first_seq: int,
    time: str,
    epoch: str | None,
    pseudonyms: Sequence[tuple[str, ...]],
) -> list[bytes]:
    """:func:`encode_entry` of each event of a batch, from sequence number ``first_seq`` on,
    with the same bytes and, when an event breaks a rule, the same error for the first such
    event. The batch is checked as a whole (:func:`_batch_is_valid`) and each entry is then
    written by one f-string; a batch that fails a check is encoded event by event, which
    raises the error :func:`encode_entry` names."""
    if len(pseudonyms) != len(events):
        raise ValueError("A batch needs one tuple of pseudonyms per event.")
    heads: list[tuple[str, str, str] | None] = []
    last: tuple[object, ...] = ()
    head = None
    for e in events:  # a batch's events mostly share one head: compare with the last one
        key = (e.type, e.actor, e.recipients)
        if key != last:
            head, last = _head(e), key
        heads.append(head)
    names = [p for found in pseudonyms for p in found]
    seqs = range(first_seq, first_seq + len(events))
    if not events or not _batch_is_valid(events, heads, names):
        return [
            encode_entry(e, seq=seq, time=time, epoch=epoch, pseudonyms=found)
            for e, seq, found in zip(events, seqs, pseudonyms, strict=True)
        ]
    time_part = _time_part(time, epoch)
    epoch_part = f',"epoch":"{epoch}"'
    policies = {e.policy_version for e in events} - {None}
    if len(_policy_versions) + len(policies) > _HEAD_CACHE_MAX:
        _policy_versions.clear()
    _policy_versions.update(policies)  # type: ignore[arg-type]  # None was taken out
    out: list[bytes] = []
    for e, seq, head, found in zip(events, seqs, heads, pseudonyms, strict=True):
        if e.attributes:  # rare (administration events): the general encoder
            out.append(encode_entry(e, seq=seq, time=time, epoch=epoch, pseudonyms=found))
            continue
        actor, recipients, stream = head  # type: ignore[misc]  # no None: checked above
        case, envelope, flow, message = e.case, e.envelope_hash, e.flow, e.message_id
        policy, reason, sender = e.policy_version, e.reason, e.sender
        count = e.subject_count if e.subject_count is not None else len(e.subjects)
        out.append(
            (
                f"{actor}"
                f"{'' if case is None else _CASE + case + _QUOTE}"
                f"{'' if envelope is None else _ENVELOPE + envelope + _QUOTE}"
                f"{epoch_part if found else ''}"
                f"{'' if flow is None else _FLOW + flow + _QUOTE}"
                f"{'' if message is None else _MESSAGE + message + _QUOTE}"
                f"{_OUTCOME}{e.outcome}{_QUOTE}"
                f"{'' if policy is None else _POLICY + policy + _QUOTE}"
                f"{'' if reason is None else _REASON + reason + _QUOTE}"
                f"{recipients}"
                f"{'' if sender is None else _SENDER + sender + _QUOTE}"
                f',"seq":{int(seq)}{stream}'
                f"{_COUNT + str(int(count)) if count else ''}"
                f"{_SUBJECTS + _BETWEEN.join(found) + _LAST if found else ''}"
                f'{time_part}{e.type}"}}'
            ).encode()
        )
    return out


def _recipient(r: RecipientFields) -> str:
    fields = ",".join(_q(f) for f in r.fields)
    basis = f',"legalBasis":"{r.legal_basis}"' if r.legal_basis else ""
    return f'{{"fields":[{fields}]{basis},"party":"{r.party}","role":"{r.role}"}}'


def decode_entry(data: bytes) -> dict[str, Any]:
    """Parse entry bytes (from the store or an export); raise EventInvalid if not an entry."""
    try:
        value = json.loads(data)
    except (UnicodeDecodeError, ValueError):
        raise EventInvalid("A register entry is not valid JSON.") from None
    if not isinstance(value, dict) or not isinstance(value.get("seq"), int):
        raise EventInvalid("A register entry is an object with a sequence number.")
    return value
