"""Running the app under gunicorn from inside the ``gateway serve`` command.

The app is built once in the master (``preload_app``) after every start-up check passed; the
workers fork from it and each opens its own database connections per request.
"""

from __future__ import annotations

import gc
from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication

from gateway.settings import Settings

# No query strings in the access log (%(U)s is the path only): nothing personal leaves in logs.
ACCESS_LOG_FORMAT = '%(h)s "%(m)s %(U)s" %(s)s %(B)s %(M)sms'


def _freeze_start_up_objects(_server: object, _worker: object) -> None:
    """gunicorn's ``post_fork`` hook: move everything the master built (app, policy, schemas,
    imported modules) out of the garbage collector's reach in the new worker. A batch of 500
    envelopes allocates enough objects to trigger full collections, and each one walked all
    of those long-lived objects again (batch submission 6,275-6,299 to 6,625-6,788
    envelopes/s). Nothing is lost: frozen objects are the ones that live as long as the
    worker; objects created later are collected as before."""
    gc.freeze()


def gunicorn_options(settings: Settings) -> dict[str, Any]:
    return {
        "bind": settings.bind,
        "workers": settings.workers,
        # One thread (the default): sync workers. Each takes the next connection from the shared
        # listen queue only when it is free, so requests go to an idle worker and never queue
        # behind another request's GIL in a busy one (docs/DEPLOY.md, Workers).
        "worker_class": "sync" if settings.threads == 1 else "gthread",
        "threads": settings.threads,
        "preload_app": True,
        "timeout": 30,
        "graceful_timeout": 10,
        "accesslog": "-",
        "access_log_format": ACCESS_LOG_FORMAT,
        "errorlog": "-",
        "loglevel": settings.log_level.lower(),
        "limit_request_line": 8190,
        "limit_request_fields": 100,
        "proc_name": "sluis-gateway",
        # gunicorn >= 24 opens a runtime control socket in the user's home by default; the
        # gateway is managed by its process supervisor, so none is opened.
        "control_socket_disable": True,
        "post_fork": _freeze_start_up_objects,
    }


class GatewayServer(BaseApplication):  # type: ignore[misc]  # gunicorn ships no type hints
    def __init__(self, app: Flask, settings: Settings) -> None:
        self._app = app
        self._options = gunicorn_options(settings)
        super().__init__()

    def load_config(self) -> None:
        for key, value in self._options.items():
            if key in self.cfg.settings:  # older gunicorn lacks newer settings
                self.cfg.set(key, value)

    def load(self) -> Flask:
        return self._app
