"""Each worker runs the latest published policy: a cheap check before every request.

The latest publication's version id is one indexed query. When it differs from the policy this
worker loaded, the worker reloads ``SLUIS_POLICY_DIR`` and switches only when the files give
exactly that version (a publication writes the files right after it commits). A failed reload
is retried after :data:`RETRY_SECONDS`, so a folder that does not match costs no more than one
load per interval.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

from flask import Flask, current_app

from gateway.api.exchange import POLICY_KEY
from gateway.policy import Policy, PolicyInvalid, load_policy
from gateway.store import policy_versions
from gateway.web import current_instance, request_connection

log = logging.getLogger(__name__)
STATE_KEY = "sluis.policy-reload"
RETRY_SECONDS = 5.0


@dataclass
class _State:
    lock: threading.Lock
    tried: str | None = None
    tried_at: float = 0.0


def install(app: Flask) -> None:
    app.extensions[STATE_KEY] = _State(threading.Lock())
    app.before_request(check_policy)


def replace_policy(app: Flask, policy: Policy) -> None:
    """Run ``policy`` from now on in this process (after a publication here)."""
    app.extensions[POLICY_KEY] = policy


def check_policy() -> None:
    running: Policy = current_app.extensions[POLICY_KEY]
    latest = policy_versions.latest_published_id(request_connection())
    if latest is None or latest == running.version_id:
        return
    state: _State = current_app.extensions[STATE_KEY]
    with state.lock:
        running = current_app.extensions[POLICY_KEY]
        if latest == running.version_id:
            return
        if state.tried == latest and time.monotonic() - state.tried_at < RETRY_SECONDS:
            return
        state.tried, state.tried_at = latest, time.monotonic()
        try:
            fresh = load_policy(current_instance().settings.policy_dir)
        except PolicyInvalid as invalid:  # keep the running policy; say so once per interval
            log.warning(
                "published policy %s not loaded: %s problem(s) in the policy folder",
                latest[:12],
                len(invalid.problems),
            )
            return
        if fresh.version_id != latest:
            log.warning(
                "policy folder holds %s, not the published %s: keeping %s",
                fresh.version_id[:12],
                latest[:12],
                running.version_id[:12],
            )
            return
        replace_policy(current_app._get_current_object(), fresh)  # type: ignore[attr-defined]
        log.info("policy %s loaded (was %s)", latest[:12], running.version_id[:12])
