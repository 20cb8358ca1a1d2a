"""Partners and their public keys: registration, rotation, revocation, and lookups.

Partner ids must be parties of the covenant policy. A key is usable for verifying a message
created at time T when T lies in its validity window, it is not revoked, and (if rotated) it was
rotated after T. Revocation takes effect at once, for old messages too.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime

from gateway.crypto.errors import SenderKeyRevoked, UnknownSenderKey
from gateway.crypto.keys import PublicKeys
from gateway.errors import InvalidRequest, NotFound
from gateway.policy import Policy
from gateway.register.entry import Actor, Event, operator
from gateway.register.log import Register
from gateway.store import Connection, transaction
from gateway.store import key_directory as store
from gateway.store.key_directory import KeyDirectoryConflict, KeyRecord, PartnerRecord


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def add_partner(
    conn: Connection,
    policy: Policy,
    partner_id: str,
    *,
    now: datetime,
    by: str,
    register: Register,
) -> PartnerRecord:
    party = policy.parties.get(partner_id)
    if party is None:
        raise InvalidRequest(
            f"'{partner_id}' is not a party in the covenant policy; parties: "
            f"{', '.join(sorted(policy.parties))}."
        )
    actor = operator(by)
    with transaction(conn):
        record = store.add_partner(conn, partner_id, party.name, now=_iso(now), by=by)
        register.append(
            conn, [Event("partner.added", actor, attributes={"partner": partner_id})], now=now
        )
    return record


def onboard_partner(
    conn: Connection,
    policy: Policy,
    keys: PublicKeys,
    *,
    now: datetime,
    by: str,
    register: Register,
    not_before: datetime | None = None,
) -> KeyRecord:
    """Add the partner if it is new, then register its key: the admin's onboarding step."""
    if store.get_partner(conn, keys.partner) is None:
        add_partner(conn, policy, keys.partner, now=now, by=by, register=register)
    return register_key(conn, keys, now=now, by=by, register=register, not_before=not_before)


def _key_event(kind: str, actor: Actor, record: KeyRecord, **more: str) -> Event:
    return Event(
        kind, actor, attributes={"partner": record.partner_id, "keyId": record.key_id, **more}
    )


def register_key(
    conn: Connection,
    keys: PublicKeys,
    *,
    now: datetime,
    by: str,
    register: Register,
    not_before: datetime | None = None,
    not_after: datetime | None = None,
) -> KeyRecord:
    """Register a partner's first (or an additional) active key."""
    actor = operator(by)
    record = _record(keys, now=now, by=by, not_before=not_before, not_after=not_after)
    with transaction(conn):
        store.insert_key(conn, record)
        register.append(conn, [_key_event("key.registered", actor, record)], now=now)
    return record


def rotate_key(
    conn: Connection,
    keys: PublicKeys,
    *,
    now: datetime,
    by: str,
    register: Register,
    not_after: datetime | None = None,
) -> tuple[KeyRecord, list[KeyRecord]]:
    """Register a new active key; the partner's previous active keys become ``rotated``."""
    actor = operator(by)
    record = _record(keys, now=now, by=by, not_before=now, not_after=not_after)
    with transaction(conn):
        previous = store.active_keys(conn, keys.partner)
        if not previous:
            raise NotFound(
                f"'{keys.partner}' has no active key to rotate: use `gateway key register`."
            )
        store.insert_key(conn, record)
        for old in previous:
            store.set_status(
                conn, old.key_id, "rotated", now=_iso(now), reason=f"rotated to {record.key_id}"
            )
        register.append(
            conn,
            [
                _key_event("key.rotated", actor, record, previousKeyId=old.key_id)
                for old in previous
            ],
            now=now,
        )
    return record, previous


def revoke_key(
    conn: Connection,
    key_id: str,
    *,
    now: datetime,
    reason: str,
    by: str,
    register: Register,
) -> KeyRecord:
    """Revoke at once. The free-text reason stays in the key directory; the register records
    only that it happened (free text could hold personal data)."""
    actor = operator(by)
    with transaction(conn):
        found = store.find_key(conn, key_id)
        if found is None:
            raise NotFound(f"No key {key_id} is registered.")
        if found.status == "revoked":
            raise KeyDirectoryConflict(f"Key {key_id} is already revoked.")
        store.set_status(conn, key_id, "revoked", now=_iso(now), reason=reason)
        register.append(conn, [_key_event("key.revoked", actor, found)], now=now)
    return replace(found, status="revoked", status_changed_at=_iso(now), status_reason=reason)


def _record(
    keys: PublicKeys,
    *,
    now: datetime,
    by: str,
    not_before: datetime | None,
    not_after: datetime | None,
) -> KeyRecord:
    start = not_before or now
    if not_after is not None and not_after <= start:
        raise InvalidRequest("The key's end of validity (not after) lies before its start.")
    return KeyRecord(
        key_id=keys.key_id,
        partner_id=keys.partner,
        ed25519=keys.ed25519,
        x25519=keys.x25519,
        encryption_key_id=keys.encryption_key_id,
        not_before=_iso(start),
        not_after=None if not_after is None else _iso(not_after),
        status="active",
        registered_by=by,
        registered_at=_iso(now),
        status_changed_at=None,
        status_reason=None,
    )


def usable_at(record: KeyRecord, when: datetime) -> bool:
    moment = _iso(when)
    if record.status == "revoked" or moment < record.not_before:
        return False
    if record.not_after is not None and moment > record.not_after:
        return False
    return not (
        record.status == "rotated"
        and record.status_changed_at is not None
        and moment >= record.status_changed_at
    )


@dataclass(frozen=True)
class DirectorySenderKeys:
    """The key directory as the envelope module's SenderKeys. ``records``, when given, keeps
    the lookups of one transaction (a batch of envelopes from one sender reads its key once)."""

    conn: Connection
    records: dict[str, KeyRecord | None] | None = None

    def ed25519_for(self, partner: str, key_id: str, when: datetime) -> bytes:
        if self.records is None:
            record = store.find_key(self.conn, key_id)
        elif key_id in self.records:
            record = self.records[key_id]
        else:
            record = self.records[key_id] = store.find_key(self.conn, key_id)
        if record is None or record.partner_id != partner:
            raise UnknownSenderKey(f"No key {key_id} is registered for '{partner}'.")
        if record.status == "revoked":
            raise SenderKeyRevoked(f"Key {key_id} of '{partner}' was revoked.")
        if not usable_at(record, when):
            raise SenderKeyRevoked(f"Key {key_id} of '{partner}' was not valid at {_iso(when)}.")
        return record.ed25519
