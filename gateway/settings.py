"""The gateway's configuration: one frozen, typed, validated object.

Settings are read from environment variables (``Settings.from_env``) or built directly in tests.
Every setting is listed in :data:`SETTINGS_DOC`; a test checks that README.md documents each one.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from gateway.errors import ConfigError

PREFIX = "SLUIS_"

#: Environment variable -> (settings attribute, one-line description, default shown to users).
SETTINGS_DOC: dict[str, tuple[str, str, str]] = {
    "SLUIS_DATA_DIR": ("data_dir", "Folder for the database and other state.", "var/data"),
    "SLUIS_DB_PATH": ("db_path", "The SQLCipher database file.", "$SLUIS_DATA_DIR/sluis.db"),
    "SLUIS_KEY_DIR": ("key_dir", "Folder holding the gateway's key files (0700).", "keys"),
    "SLUIS_POLICY_DIR": ("policy_dir", "Folder holding the covenant policy files.", "policies"),
    "SLUIS_BIND": ("bind", "Address and port gunicorn listens on.", "127.0.0.1:8000"),
    "SLUIS_WORKERS": ("workers", "Number of gunicorn worker processes (1-64).", "2"),
    "SLUIS_THREADS": (
        "threads",
        "Threads per worker (1-16): 1 runs gunicorn's sync workers, each request to whichever "
        "worker is free; more runs gthread workers (see docs/DEPLOY.md, Workers).",
        "1",
    ),
    "SLUIS_MAX_REQUEST_BYTES": (
        "max_request_bytes",
        "Largest request body accepted; larger ones get 413.",
        "10485760",
    ),
    "SLUIS_LOG_LEVEL": ("log_level", "DEBUG, INFO, WARNING or ERROR.", "INFO"),
    "SLUIS_SIGNATURE_MAX_AGE": (
        "signature_max_age",
        "Seconds a signed request stays valid after its `created` time (10-3600).",
        "300",
    ),
    "SLUIS_SIGNATURE_MAX_SKEW": (
        "signature_max_skew",
        "Seconds a request's `created` time may lie in the future (clock skew, 0-300).",
        "30",
    ),
    "SLUIS_BATCH_MAX_ENVELOPES": (
        "batch_max_envelopes",
        "Most envelopes in one submitted batch (1-5000).",
        "500",
    ),
    "SLUIS_CHECKPOINT_MINUTES": (
        "checkpoint_minutes",
        "Minutes between register checkpoints the scheduler signs when the log grew (1-1440).",
        "10",
    ),
    "SLUIS_KEY_EXPIRY_WARNING_DAYS": (
        "key_expiry_warning_days",
        "Days before a partner key's end of validity that the scheduler warns (1-365).",
        "30",
    ),
    "SLUIS_SCHEDULER_STALE_MINUTES": (
        "scheduler_stale_minutes",
        "Minutes without a heartbeat after which another scheduler may take the lock (2-1440).",
        "5",
    ),
    "SLUIS_CONSOLE_IDLE_MINUTES": (
        "console_idle_minutes",
        "Minutes without a request after which a console session ends (5-480).",
        "30",
    ),
    "SLUIS_CONSOLE_MAX_FAILURES": (
        "console_max_failures",
        "Failed console logins in a row that lock an account (3-20).",
        "5",
    ),
    "SLUIS_CONSOLE_LOCKOUT_MINUTES": (
        "console_lockout_minutes",
        "Minutes a locked console account or client address stays locked (1-1440).",
        "15",
    ),
    "SLUIS_API_CONTACT_NAME": (
        "api_contact_name",
        "Contact name in the OpenAPI document (`info.contact`).",
        "Sluis gateway beheer",
    ),
    "SLUIS_API_CONTACT_EMAIL": (
        "api_contact_email",
        "Contact e-mail address in the OpenAPI document.",
        "sluis-beheer@example.org",
    ),
    "SLUIS_API_CONTACT_URL": (
        "api_contact_url",
        "Contact web page (http or https) in the OpenAPI document.",
        "https://example.org/sluis",
    ),
}

_BIND_RE = re.compile(r"^(?P<host>[A-Za-z0-9.\-]+|\[[0-9A-Fa-f:]+\]):(?P<port>[0-9]{1,5})\Z")
_LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+\Z")
_URL_RE = re.compile(r"^https?://[^\s/]+\S*\Z")


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything the gateway needs to know about where it runs."""

    data_dir: Path = Path("var/data")
    db_path: Path | None = None
    key_dir: Path = Path("keys")
    policy_dir: Path = Path("policies")
    bind: str = "127.0.0.1:8000"
    workers: int = 2
    threads: int = 1
    max_request_bytes: int = 10 * 1024 * 1024
    log_level: str = "INFO"
    signature_max_age: int = 300
    signature_max_skew: int = 30
    batch_max_envelopes: int = 500
    checkpoint_minutes: int = 10
    key_expiry_warning_days: int = 30
    scheduler_stale_minutes: int = 5
    console_idle_minutes: int = 30
    console_max_failures: int = 5
    console_lockout_minutes: int = 15
    api_contact_name: str = "Sluis gateway beheer"
    api_contact_email: str = "sluis-beheer@example.org"
    api_contact_url: str = "https://example.org/sluis"

    def __post_init__(self) -> None:
        if not _BIND_RE.match(self.bind):
            raise ConfigError(
                f"SLUIS_BIND is {self.bind!r}; it must be HOST:PORT, for example 127.0.0.1:8000."
            )
        port = int(self.bind.rsplit(":", 1)[1])
        if not 1 <= port <= 65535:
            raise ConfigError(f"SLUIS_BIND port {port} is outside 1-65535.")
        if not 1 <= self.workers <= 64:
            raise ConfigError(f"SLUIS_WORKERS is {self.workers}; it must be between 1 and 64.")
        if not 1 <= self.threads <= 16:
            raise ConfigError(f"SLUIS_THREADS is {self.threads}; it must be between 1 and 16.")
        if not 1024 <= self.max_request_bytes <= 1024**3:
            raise ConfigError(
                f"SLUIS_MAX_REQUEST_BYTES is {self.max_request_bytes}; "
                "it must be between 1024 and 1073741824."
            )
        for name, value, low, high in (
            ("SLUIS_SIGNATURE_MAX_AGE", self.signature_max_age, 10, 3600),
            ("SLUIS_SIGNATURE_MAX_SKEW", self.signature_max_skew, 0, 300),
            ("SLUIS_BATCH_MAX_ENVELOPES", self.batch_max_envelopes, 1, 5000),
            ("SLUIS_CHECKPOINT_MINUTES", self.checkpoint_minutes, 1, 1440),
            ("SLUIS_KEY_EXPIRY_WARNING_DAYS", self.key_expiry_warning_days, 1, 365),
            ("SLUIS_SCHEDULER_STALE_MINUTES", self.scheduler_stale_minutes, 2, 1440),
            ("SLUIS_CONSOLE_IDLE_MINUTES", self.console_idle_minutes, 5, 480),
            ("SLUIS_CONSOLE_MAX_FAILURES", self.console_max_failures, 3, 20),
            ("SLUIS_CONSOLE_LOCKOUT_MINUTES", self.console_lockout_minutes, 1, 1440),
        ):
            if not low <= value <= high:
                raise ConfigError(f"{name} is {value}; it must be between {low} and {high}.")
        if self.log_level not in _LOG_LEVELS:
            raise ConfigError(
                f"SLUIS_LOG_LEVEL is {self.log_level!r}; "
                f"it must be one of {', '.join(_LOG_LEVELS)}."
            )
        if not self.api_contact_name.strip():
            raise ConfigError("SLUIS_API_CONTACT_NAME is empty; give the team partners can reach.")
        if not _EMAIL_RE.match(self.api_contact_email):
            raise ConfigError(
                f"SLUIS_API_CONTACT_EMAIL is {self.api_contact_email!r}; "
                "it must be an e-mail address."
            )
        if not _URL_RE.match(self.api_contact_url):
            raise ConfigError(
                f"SLUIS_API_CONTACT_URL is {self.api_contact_url!r}; "
                "it must be an http:// or https:// URL."
            )

    @property
    def database_path(self) -> Path:
        """The database file: ``db_path`` if set, else ``data_dir/sluis.db``."""
        return self.db_path if self.db_path is not None else self.data_dir / "sluis.db"

    @property
    def db_key_path(self) -> Path:
        return self.key_dir / "db.key"

    @property
    def signing_key_path(self) -> Path:
        return self.key_dir / "gateway-signing.key"

    @property
    def signing_public_key_path(self) -> Path:
        return self.key_dir / "gateway-signing.pub"

    @property
    def console_secret_path(self) -> Path:
        """The key that signs the console's session cookie."""
        return self.key_dir / "console-session.key"

    @property
    def log_level_number(self) -> int:
        return int(logging.getLevelName(self.log_level))

    def with_changes(self, **changes: Any) -> Settings:
        return replace(self, **changes)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Build settings from ``SLUIS_*`` variables; unknown ``SLUIS_*`` names are an error."""
        env = os.environ if environ is None else environ
        unknown = sorted(k for k in env if k.startswith(PREFIX) and k not in SETTINGS_DOC)
        if unknown:
            raise ConfigError(
                f"Unknown setting {unknown[0]}: the settings are "
                f"{', '.join(SETTINGS_DOC)} (see README, Configuration)."
            )
        values: dict[str, Any] = {}
        for name, (attr, _doc, _default) in SETTINGS_DOC.items():
            raw = env.get(name)
            if raw is None or raw == "":
                continue
            if attr in ("data_dir", "db_path", "key_dir", "policy_dir"):
                values[attr] = Path(raw)
            elif attr in (
                "workers",
                "threads",
                "max_request_bytes",
                "signature_max_age",
                "signature_max_skew",
                "batch_max_envelopes",
                "checkpoint_minutes",
                "key_expiry_warning_days",
                "scheduler_stale_minutes",
                "console_idle_minutes",
                "console_max_failures",
                "console_lockout_minutes",
            ):
                try:
                    values[attr] = int(raw)
                except ValueError:
                    raise ConfigError(f"{name} is {raw!r}; it must be a whole number.") from None
            elif attr == "log_level":
                values[attr] = raw.upper()
            else:
                values[attr] = raw
        return cls(**values)
