from __future__ import annotations

import stat
from pathlib import Path

import pytest

from gateway.errors import KeyFileError
from gateway.keyfiles import read_secret, set_aside, write_secret


def test_written_secret_is_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "k" / "secret.key"
    write_secret(path, b"abc")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert read_secret(path, what="test key") == b"abc"


def test_write_secret_never_overwrites(tmp_path: Path) -> None:
    path = tmp_path / "secret.key"
    write_secret(path, b"first")
    with pytest.raises(FileExistsError):
        write_secret(path, b"second")
    assert path.read_bytes() == b"first"


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660])
def test_secret_readable_by_others_is_refused(tmp_path: Path, mode: int) -> None:
    path = tmp_path / "secret.key"
    write_secret(path, b"x")
    path.chmod(mode)
    with pytest.raises(KeyFileError, match=f"{mode:04o}.*chmod 600"):
        read_secret(path, what="test key")


def test_missing_secret_says_how_to_create_it(tmp_path: Path) -> None:
    with pytest.raises(KeyFileError, match="does not exist: run `gateway init`"):
        read_secret(tmp_path / "nope.key", what="test key")


def test_oversized_secret_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "big.key"
    write_secret(path, b"x" * 70_000)
    with pytest.raises(KeyFileError, match="too large"):
        read_secret(path, what="test key")


def test_directory_is_not_a_secret(tmp_path: Path) -> None:
    (tmp_path / "d").mkdir(mode=0o700)
    with pytest.raises(KeyFileError, match="not a regular file"):
        read_secret(tmp_path / "d", what="test key")


def test_set_aside_keeps_the_old_file(tmp_path: Path) -> None:
    path = tmp_path / "a.key"
    path.write_bytes(b"old")
    moved = set_aside(path)
    assert moved is not None
    assert moved.read_bytes() == b"old"
    assert not path.exists()
    assert set_aside(path) is None
