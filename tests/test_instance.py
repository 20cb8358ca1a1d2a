from __future__ import annotations

import stat

import pytest

from gateway.errors import KeyFileError, StartupError
from gateway.instance import init_instance, load_instance
from gateway.settings import Settings


def test_init_creates_owner_only_keys_and_database(settings: Settings) -> None:
    report = init_instance(settings)
    for path in (report.db_key_path, report.signing_key_path):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(settings.key_dir.stat().st_mode) == 0o700
    assert report.database_path.exists()
    assert len(report.signing_fingerprint.split()) == 6
    instance = load_instance(settings)
    assert instance.signing_key.fingerprint == report.signing_fingerprint


def test_init_refuses_to_overwrite_keys(settings: Settings) -> None:
    init_instance(settings)
    before = settings.db_key_path.read_bytes()
    with pytest.raises(KeyFileError, match="already exists.*--force"):
        init_instance(settings)
    assert settings.db_key_path.read_bytes() == before


def test_init_force_sets_old_files_aside(settings: Settings) -> None:
    init_instance(settings)
    old_key = settings.db_key_path.read_bytes()
    report = init_instance(settings, force=True)
    assert settings.db_key_path.read_bytes() != old_key
    kept = [p for p in report.set_aside if p.name.startswith("db.key.replaced-")]
    assert kept
    assert kept[0].read_bytes() == old_key
    load_instance(settings)


def test_missing_database_is_a_startup_error(settings: Settings) -> None:
    init_instance(settings)
    settings.database_path.unlink()
    with pytest.raises(StartupError, match="does not exist: run `gateway init`"):
        load_instance(settings)


def test_replaced_signing_key_is_refused(settings: Settings) -> None:
    init_instance(settings)
    settings.signing_key_path.chmod(0o600)
    settings.signing_key_path.unlink()
    settings.signing_key_path.write_text("11" * 32 + "\n")
    settings.signing_key_path.chmod(0o600)
    with pytest.raises(KeyFileError, match="not the key this instance was created with"):
        load_instance(settings)


def test_garbled_signing_key_is_refused(settings: Settings) -> None:
    init_instance(settings)
    settings.signing_key_path.write_text("not hex\n")
    with pytest.raises(KeyFileError, match="not a Sluis signing key"):
        load_instance(settings)
