"""Epoch keys: 0600 files, one per month, destroyed when the retention ends."""

from __future__ import annotations

import stat
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.errors import KeyFileError
from gateway.register.epochs import EpochKeyring, add_months, epoch_end, epoch_of, pseudonym


def test_keys_are_created_owner_only_and_reused(tmp_path: Path) -> None:
    ring = EpochKeyring(tmp_path)
    first = ring.key("2026-11", create=True)
    assert first is not None
    mode = stat.S_IMODE(ring.path("2026-11").stat().st_mode)
    assert mode == 0o600
    assert EpochKeyring(tmp_path).key("2026-11", create=False) == first


def test_pseudonyms_depend_on_key_and_subject() -> None:
    assert pseudonym(b"k" * 32, "a") != pseudonym(b"j" * 32, "a")
    assert pseudonym(b"k" * 32, "a") != pseudonym(b"k" * 32, "b")
    assert len(pseudonym(b"k" * 32, "a")) == 32


def test_loose_epoch_key_is_refused(tmp_path: Path) -> None:
    ring = EpochKeyring(tmp_path)
    ring.key("2026-11", create=True)
    ring.path("2026-11").chmod(0o644)
    with pytest.raises(KeyFileError, match="chmod 600"):
        EpochKeyring(tmp_path).key("2026-11", create=False)


def test_garbled_epoch_key_is_refused(tmp_path: Path) -> None:
    ring = EpochKeyring(tmp_path)
    ring.folder.mkdir(parents=True)
    ring.path("2026-11").write_text("not a key")
    ring.path("2026-11").chmod(0o600)
    with pytest.raises(KeyFileError, match="64 hexadecimal"):
        ring.key("2026-11", create=False)


def test_expiry_follows_month_end_plus_retention(tmp_path: Path) -> None:
    ring = EpochKeyring(tmp_path)
    for epoch in ("2026-10", "2026-11", "2026-12"):
        ring.key(epoch, create=True)
    assert ring.expired(date(2027, 12, 1), 12) == ["2026-10", "2026-11"]
    assert ring.destroy("2026-10") is True
    assert ring.destroy("2026-10") is False
    assert ring.key("2026-10", create=False) is None
    assert ring.epochs() == ["2026-11", "2026-12"]


def test_epoch_names_are_checked_before_they_become_paths(tmp_path: Path) -> None:
    with pytest.raises(KeyFileError):
        EpochKeyring(tmp_path).path("../../etc")


def test_month_arithmetic() -> None:
    assert epoch_of(datetime(2026, 12, 31, 23, 59, tzinfo=UTC)) == "2026-12"
    assert epoch_end("2026-12") == date(2027, 1, 1)
    assert add_months(date(2026, 11, 1), 84) == date(2033, 11, 1)


def test_keyring_pseudonyms_are_the_keyed_hash_and_forget_a_destroyed_key(tmp_path: Path) -> None:
    ring = EpochKeyring(tmp_path)
    subjects = ("contract-1", "contract-1", "huurder-é", "x" * 300)
    first = ring.pseudonyms("2026-11", subjects)
    key = ring.key("2026-11", create=False)
    assert key is not None
    assert first == tuple(pseudonym(key, s) for s in subjects)
    assert ring.pseudonyms("2026-11", subjects) == first  # the keyed state is reused, not spent
    assert ring.destroy("2026-11")
    again = ring.pseudonyms("2026-11", subjects[:1])  # a new key for the month
    assert again != first[:1]
    assert again == (pseudonym(ring.key("2026-11", create=False) or b"", subjects[0]),)


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batch=st.lists(st.lists(st.text(max_size=40), max_size=4).map(tuple), max_size=12))
def test_batch_pseudonyms_equal_the_keyed_hash_of_each_subject(
    tmp_path: Path, batch: list[tuple[str, ...]]
) -> None:
    ring = EpochKeyring(tmp_path)
    names = ring.pseudonyms_of_batch("2026-11", batch)
    key = ring.key("2026-11", create=False)
    if not any(batch):  # no subject: the key is neither read nor created
        assert names == [()] * len(batch)
        return
    assert key is not None
    assert names == [tuple(pseudonym(key, s) for s in subjects) for subjects in batch]
    assert names == [ring.pseudonyms("2026-11", subjects) for subjects in batch]


def test_a_batch_without_subjects_creates_no_epoch_key(tmp_path: Path) -> None:
    ring = EpochKeyring(tmp_path)
    assert ring.pseudonyms_of_batch("2026-11", [(), ()]) == [(), ()]
    assert not ring.path("2026-11").exists()
