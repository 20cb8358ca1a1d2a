from __future__ import annotations

import re
from pathlib import Path

import pytest

from gateway.errors import ConfigError
from gateway.settings import SETTINGS_DOC, Settings

ROOT = Path(__file__).resolve().parent.parent


def test_defaults_are_the_documented_ones() -> None:
    s = Settings()
    assert s.bind == "127.0.0.1:8000"
    assert s.workers == 2
    assert s.threads == 1
    assert s.database_path == Path("var/data/sluis.db")
    assert s.db_key_path == Path("keys/db.key")


def test_from_env_reads_every_setting(tmp_path: Path) -> None:
    s = Settings.from_env(
        {
            "SLUIS_DATA_DIR": str(tmp_path),
            "SLUIS_DB_PATH": str(tmp_path / "x.db"),
            "SLUIS_KEY_DIR": str(tmp_path / "k"),
            "SLUIS_POLICY_DIR": str(tmp_path / "p"),
            "SLUIS_BIND": "127.0.0.1:9001",
            "SLUIS_WORKERS": "3",
            "SLUIS_THREADS": "4",
            "SLUIS_MAX_REQUEST_BYTES": "2048",
            "SLUIS_LOG_LEVEL": "debug",
            "PATH": "/usr/bin",
        }
    )
    assert s.database_path == tmp_path / "x.db"
    assert s.key_dir == tmp_path / "k"
    assert (s.bind, s.workers, s.threads, s.max_request_bytes, s.log_level) == (
        "127.0.0.1:9001",
        3,
        4,
        2048,
        "DEBUG",
    )


def test_settings_are_frozen() -> None:
    s = Settings()
    with pytest.raises(AttributeError):
        s.workers = 3  # type: ignore[misc]


@pytest.mark.parametrize(
    ("env", "names"),
    [
        ({"SLUIS_BIND": "localhost"}, "SLUIS_BIND"),
        ({"SLUIS_BIND": "127.0.0.1:70000"}, "SLUIS_BIND"),
        ({"SLUIS_WORKERS": "0"}, "SLUIS_WORKERS"),
        ({"SLUIS_WORKERS": "two"}, "SLUIS_WORKERS"),
        ({"SLUIS_THREADS": "0"}, "SLUIS_THREADS"),
        ({"SLUIS_THREADS": "17"}, "SLUIS_THREADS"),
        ({"SLUIS_MAX_REQUEST_BYTES": "10"}, "SLUIS_MAX_REQUEST_BYTES"),
        ({"SLUIS_LOG_LEVEL": "chatty"}, "SLUIS_LOG_LEVEL"),
        ({"SLUIS_DATABASE": "x"}, "SLUIS_DATABASE"),
        ({"SLUIS_API_CONTACT_NAME": " "}, "SLUIS_API_CONTACT_NAME"),
        ({"SLUIS_API_CONTACT_EMAIL": "nobody"}, "SLUIS_API_CONTACT_EMAIL"),
        ({"SLUIS_API_CONTACT_URL": "ftp://example.org"}, "SLUIS_API_CONTACT_URL"),
    ],
)
def test_bad_setting_names_the_variable(env: dict[str, str], names: str) -> None:
    with pytest.raises(ConfigError, match=names):
        Settings.from_env(env)


def test_every_setting_is_documented_in_readme() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    documented = set(re.findall(r"`(SLUIS_[A-Z_]+)`", section))
    assert documented == set(SETTINGS_DOC)


def test_every_settings_field_has_an_environment_variable() -> None:
    fields = set(Settings.__dataclass_fields__)
    assert {attr for attr, _doc, _default in SETTINGS_DOC.values()} == fields


def test_api_contact_comes_from_the_environment() -> None:
    s = Settings.from_env(
        {
            "SLUIS_API_CONTACT_NAME": "Team Sluis Weert",
            "SLUIS_API_CONTACT_EMAIL": "sluis@weert.example",
            "SLUIS_API_CONTACT_URL": "https://weert.example/sluis",
        }
    )
    assert (s.api_contact_name, s.api_contact_email, s.api_contact_url) == (
        "Team Sluis Weert",
        "sluis@weert.example",
        "https://weert.example/sluis",
    )
