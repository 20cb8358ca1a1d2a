"""The gateway under real gunicorn on 127.0.0.1 (bounded: one process, 30 s at most)."""

from __future__ import annotations

import gc
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from gateway.serving import ACCESS_LOG_FORMAT, gunicorn_options
from gateway.settings import Settings


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_options_follow_settings() -> None:
    options = gunicorn_options(Settings(bind="127.0.0.1:9999", workers=3))
    assert options["bind"] == "127.0.0.1:9999"
    assert options["workers"] == 3
    assert "%(q)s" not in ACCESS_LOG_FORMAT  # never query strings in the access log


def test_one_thread_runs_sync_workers_more_run_gthread() -> None:
    options = gunicorn_options(Settings())
    assert (options["worker_class"], options["threads"]) == ("sync", 1)
    options = gunicorn_options(Settings(threads=4))
    assert (options["worker_class"], options["threads"]) == ("gthread", 4)


def test_a_new_worker_freezes_what_the_master_built() -> None:
    hook = gunicorn_options(Settings())["post_fork"]
    try:
        before = gc.get_freeze_count()
        hook(None, None)
        assert gc.get_freeze_count() > before
    finally:
        gc.unfreeze()


def test_health_through_real_gunicorn(settings: Settings, gateway_env: dict[str, str]) -> None:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLUIS_")}
    env.update(gateway_env, SLUIS_BIND=f"127.0.0.1:{port}")
    subprocess.run(
        [sys.executable, "-m", "gateway", "init"],
        env=env,
        check=True,
        timeout=60,
        capture_output=True,
    )
    log = settings.data_dir.parent / "serve.log"
    with Path(log).open("wb") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "gateway", "serve"], env=env, stdout=out, stderr=out
        )
        try:
            body = None
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and body is None:
                try:
                    with urllib.request.urlopen(  # noqa: S310 - fixed loopback URL
                        f"http://127.0.0.1:{port}/api/v1/health", timeout=2
                    ) as response:
                        assert response.status == 200
                        body = json.loads(response.read())
                except OSError:
                    time.sleep(0.2)
            assert body is not None, log.read_text()
            assert body["status"] == "ok"
        finally:
            server.terminate()
            server.wait(timeout=15)
    output = log.read_text()
    assert "GET /api/v1/health" in output
