"""The register's entry encoder as it was before the cached fast path: the reference that
``tests/register/test_entry.py`` pins :func:`gateway.register.entry.encode_entry` to, byte for
byte and error for error. Kept verbatim; do not optimise it."""

from __future__ import annotations

from gateway.register.entry import (
    _EPOCH,
    _PSEUDONYM,
    _STAMP,
    EVENT_TYPES,
    Event,
    EventInvalid,
    RecipientFields,
)


def _q(text: str) -> str:
    return f'"{text}"'


def reference_entry(
    event: Event, *, seq: int, time: str, epoch: str | None, pseudonyms: tuple[str, ...]
) -> bytes:
    """One entry's canonical bytes, every rule checked on every call, nothing cached."""
    event.check()
    if not _STAMP.match(time) or (epoch is not None and not _EPOCH.match(epoch)):
        raise EventInvalid("An entry's time and epoch are ISO 8601 UTC and YYYY-MM.")
    if any(not _PSEUDONYM.match(p) for p in pseudonyms):
        raise EventInvalid("A subject pseudonym is 32 hexadecimal digits.")
    # Keys in RFC 8785 order (UTF-16 code units; all ASCII here, so plain sorted order).
    parts = [f'"actor":{{"id":"{event.actor.id}","kind":"{event.actor.kind}"}}']
    if event.attributes:
        attrs = ",".join(
            f'"{key}":{_q(value) if isinstance(value, str) else int(value)}'
            for key, value in sorted(event.attributes.items())
        )
        parts.append(f'"attributes":{{{attrs}}}')
    if event.case is not None:
        parts.append(f'"case":"{event.case}"')
    if event.envelope_hash is not None:
        parts.append(f'"envelopeHash":"{event.envelope_hash}"')
    if pseudonyms:
        parts.append(f'"epoch":"{epoch}"')
    if event.flow is not None:
        parts.append(f'"flow":"{event.flow}"')
    if event.message_id is not None:
        parts.append(f'"messageId":"{event.message_id}"')
    parts.append(f'"outcome":"{event.outcome}"')
    if event.policy_version is not None:
        parts.append(f'"policyVersion":"{event.policy_version}"')
    if event.reason is not None:
        parts.append(f'"reason":"{event.reason}"')
    if event.recipients:
        parts.append(f'"recipients":[{",".join(_recipient(r) for r in event.recipients)}]')
    if event.sender is not None:
        parts.append(f'"sender":"{event.sender}"')
    parts.append(f'"seq":{int(seq)}')
    parts.append(f'"stream":"{EVENT_TYPES[event.type][0]}"')
    count = event.subject_count if event.subject_count is not None else len(event.subjects)
    if count:
        parts.append(f'"subjectCount":{int(count)}')
    if pseudonyms:
        parts.append(f'"subjects":[{",".join(_q(p) for p in pseudonyms)}]')
    parts.append(f'"time":"{time}"')
    parts.append(f'"type":"{event.type}"')
    return ("{" + ",".join(parts) + "}").encode()


def _recipient(r: RecipientFields) -> str:
    fields = ",".join(_q(f) for f in r.fields)
    basis = f',"legalBasis":"{r.legal_basis}"' if r.legal_basis else ""
    return f'{{"fields":[{fields}]{basis},"party":"{r.party}","role":"{r.role}"}}'
