"""Sluis: a privacy-first data-exchange gateway for vroegsignalering huurschulden.

Importing this package does nothing but define names; the application is built by
:func:`gateway.app.create_app` from an explicit :class:`gateway.settings.Settings`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from gateway.app import create_app as create_app

__all__ = ["__version__", "create_app"]


def __getattr__(name: str) -> Any:
    # Lazy, so that importing the pure layers (gateway.crypto, gateway.policy) never loads Flask.
    if name == "create_app":
        from gateway.app import create_app

        return create_app
    raise AttributeError(name)
