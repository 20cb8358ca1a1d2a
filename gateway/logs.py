"""Logging: plain lines to stderr. Sluis never logs field values or personal data."""

from __future__ import annotations

import logging

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def configure_logging(level: int) -> None:
    logging.basicConfig(level=level, format=FORMAT)
