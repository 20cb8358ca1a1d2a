"""The key directory: partners from the covenant, rotation keeps old keys, revocation is at once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from gateway.crypto.envelope import open_envelope
from gateway.crypto.errors import SenderKeyRevoked, UnknownSenderKey
from gateway.crypto.keys import PartnerKeyPair
from gateway.errors import InvalidRequest, NotFound
from gateway.instance import Instance
from gateway.policy import Policy
from gateway.services import key_directory as directory
from gateway.store import key_directory as store
from gateway.store.key_directory import KeyDirectoryConflict
from tests.crypto.factories import INTAKE, signal_envelope

T0 = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)


def test_only_covenant_parties_can_be_added(instance: Instance, weert: Policy) -> None:
    with instance.database.connection() as conn:
        record = directory.add_partner(
            conn, weert, "wonen-limburg", now=T0, by="admin", register=instance.register
        )
        assert record.name == "Wonen Limburg"
        with pytest.raises(InvalidRequest, match="not a party"):
            directory.add_partner(
                conn, weert, "mallory-bv", now=T0, by="admin", register=instance.register
            )
        with pytest.raises(KeyDirectoryConflict):
            directory.add_partner(
                conn, weert, "wonen-limburg", now=T0, by="admin", register=instance.register
            )


def test_key_needs_a_registered_partner(instance: Instance) -> None:
    with instance.database.connection() as conn, pytest.raises(NotFound, match="partner add"):
        directory.register_key(
            conn,
            PartnerKeyPair.generate("st-joseph").public,
            now=T0,
            by="admin",
            register=instance.register,
        )


def test_rotation_keeps_old_key_for_old_messages(instance: Instance, weert: Policy) -> None:
    old = PartnerKeyPair.generate("wonen-limburg")
    new = PartnerKeyPair.generate("wonen-limburg")
    with instance.database.connection() as conn:
        directory.add_partner(
            conn, weert, "wonen-limburg", now=T0, by="admin", register=instance.register
        )
        directory.register_key(conn, old.public, now=T0, by="admin", register=instance.register)
        rotated_at = T0 + timedelta(days=10)
        record, previous = directory.rotate_key(
            conn, new.public, now=rotated_at, by="admin", register=instance.register
        )
        assert [p.key_id for p in previous] == [old.public.key_id]
        assert store.find_key(conn, old.public.key_id).status == "rotated"  # type: ignore[union-attr]
        keys = directory.DirectorySenderKeys(conn)
        assert (
            keys.ed25519_for("wonen-limburg", old.public.key_id, T0 + timedelta(days=1))
            == old.public.ed25519
        )
        with pytest.raises(SenderKeyRevoked, match="not valid"):
            keys.ed25519_for("wonen-limburg", old.public.key_id, rotated_at + timedelta(hours=1))
        assert keys.ed25519_for("wonen-limburg", record.key_id, rotated_at) == new.public.ed25519


def test_revoked_key_is_refused_at_once_even_for_old_messages(
    instance: Instance, weert: Policy
) -> None:
    from tests.crypto.factories import LANDLORD

    envelope = signal_envelope()
    with instance.database.connection() as conn:
        directory.add_partner(
            conn, weert, LANDLORD.partner, now=T0, by="admin", register=instance.register
        )
        directory.register_key(
            conn, LANDLORD.public, now=T0, by="admin", register=instance.register
        )
        keys = directory.DirectorySenderKeys(conn)
        assert open_envelope(envelope, INTAKE, keys).fields
        directory.revoke_key(
            conn,
            LANDLORD.public.key_id,
            now=T0 + timedelta(days=40),
            reason="laptop stolen",
            by="admin",
            register=instance.register,
        )
        with pytest.raises(SenderKeyRevoked):
            open_envelope(envelope, INTAKE, keys)
        with pytest.raises(KeyDirectoryConflict):
            directory.revoke_key(
                conn,
                LANDLORD.public.key_id,
                now=T0,
                reason="again",
                by="admin",
                register=instance.register,
            )


def test_key_of_another_partner_is_unknown(instance: Instance, weert: Policy) -> None:
    pair = PartnerKeyPair.generate("st-joseph")
    with instance.database.connection() as conn:
        directory.add_partner(
            conn, weert, "st-joseph", now=T0, by="admin", register=instance.register
        )
        directory.register_key(conn, pair.public, now=T0, by="admin", register=instance.register)
        with pytest.raises(UnknownSenderKey):
            directory.DirectorySenderKeys(conn).ed25519_for("wonen-limburg", pair.public.key_id, T0)


def test_validity_window(instance: Instance, weert: Policy) -> None:
    pair = PartnerKeyPair.generate("st-joseph")
    with instance.database.connection() as conn:
        directory.add_partner(
            conn, weert, "st-joseph", now=T0, by="admin", register=instance.register
        )
        with pytest.raises(InvalidRequest):
            directory.register_key(
                conn,
                pair.public,
                now=T0,
                by="admin",
                register=instance.register,
                not_after=T0 - timedelta(days=1),
            )
        directory.register_key(
            conn,
            pair.public,
            now=T0,
            by="admin",
            register=instance.register,
            not_after=T0 + timedelta(days=30),
        )
        keys = directory.DirectorySenderKeys(conn)
        keys.ed25519_for("st-joseph", pair.public.key_id, T0 + timedelta(days=29))
        with pytest.raises(SenderKeyRevoked):
            keys.ed25519_for("st-joseph", pair.public.key_id, T0 + timedelta(days=31))
        with pytest.raises(SenderKeyRevoked):
            keys.ed25519_for("st-joseph", pair.public.key_id, T0 - timedelta(days=1))
        with pytest.raises(NotFound):
            directory.rotate_key(
                conn,
                PartnerKeyPair.generate("amw-midden-limburg").public,
                now=T0,
                by="a",
                register=instance.register,
            )
        with pytest.raises(NotFound):
            directory.revoke_key(
                conn, "a" * 24, now=T0, reason="x", by="admin", register=instance.register
            )


def test_onboarding_adds_a_new_partner_once_and_registers_each_key(
    instance: Instance, weert: Policy
) -> None:
    first, second = PartnerKeyPair.generate("st-joseph"), PartnerKeyPair.generate("st-joseph")
    with instance.database.connection() as conn:
        for pair in (first, second):
            directory.onboard_partner(
                conn, weert, pair.public, now=T0, by="admin", register=instance.register
            )
        keys = store.active_keys(conn, "st-joseph")
    assert {k.key_id for k in keys} == {first.public.key_id, second.public.key_id}
