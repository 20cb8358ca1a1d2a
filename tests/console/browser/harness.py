"""A real gateway (``gateway serve``) and headless Chromium driven by Playwright.

Shared by the browser tests and ``scripts/console_screenshots.py``. The instance is made with
the gateway's own commands (``init``, ``policy publish``, ``user add`` with the password on
stdin) on a copy of ``policies/`` (the editor publishes into it); the monitor gets fictitious
cases. Three accounts: ``fien`` with every role, ``femke`` (fg only) and ``ahmed`` (admin only).
Chromium is Debian's (``/usr/bin/chromium``): Playwright never downloads a browser here.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyotp

from gateway.instance import load_instance
from gateway.settings import Settings
from tests.console.monitor_data import seed

ROOT = Path(__file__).resolve().parents[3]
POLICY_DIR = ROOT / "policies"
USERNAME = "fien"
PASSWORD = "a long enough passphrase"  # noqa: S105 - a throwaway test account
FG_USER = "femke"
ADMIN_USER = "ahmed"
#: The accounts made for the browser (fictitious names), with their roles.
USERS = {
    USERNAME: ("fg", "auditor", "admin"),
    FG_USER: ("fg",),
    ADMIN_USER: ("admin",),
}
CHROMIUM = os.environ.get("SLUIS_CHROMIUM", "/usr/bin/chromium")
AXE_JS = Path(
    os.environ.get(
        "SLUIS_AXE_JS", ROOT / "build" / "axe" / "node_modules" / "axe-core" / "axe.min.js"
    )
)
#: Flags for a closed network: no background connections, no first-run work.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
START_TIMEOUT = 30.0


def chromium_missing() -> str | None:
    """Why the browser tests cannot run here, or None."""
    if shutil.which(CHROMIUM) is None and not Path(CHROMIUM).exists():
        return f"{CHROMIUM} is not installed (make unit installs Debian's chromium)"
    try:
        import playwright.sync_api  # noqa: F401, PLC0415
    except ImportError:  # the [test] extras were not installed
        return "the playwright package is not installed (pip install -e '.[test]')"
    return None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Gateway:
    base: str
    secrets: dict[str, str]
    log: Path
    policy_dir: Path

    def code(self, username: str = USERNAME) -> str:
        return pyotp.TOTP(self.secrets[username]).now()


def _run(args: list[str], env: dict[str, str], stdin: str | None = None) -> str:
    done = subprocess.run(  # noqa: S603 - our own CLI with fixed arguments
        [sys.executable, "-m", "gateway", *args],
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return done.stdout


@contextmanager
def running_gateway(workdir: Path) -> Iterator[Gateway]:
    """Make an instance in ``workdir``, serve it on a free loopback port; stop it after."""
    port = _free_port()
    policy_dir = workdir / "policies"
    shutil.copytree(POLICY_DIR, policy_dir)
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLUIS_")}
    env.update(
        SLUIS_DATA_DIR=str(workdir / "data"),
        SLUIS_KEY_DIR=str(workdir / "keys"),
        SLUIS_POLICY_DIR=str(policy_dir),
        SLUIS_BIND=f"127.0.0.1:{port}",
        SLUIS_WORKERS="1",
    )
    _run(["init"], env)
    _run(["policy", "publish", "--by", USERNAME, "--label", "Demo covenant"], env)
    secrets: dict[str, str] = {}
    for username, roles in USERS.items():
        args = ["user", "add", username, *[a for r in roles for a in ("--role", r)]]
        out = _run([*args, "--password-stdin"], env, stdin=PASSWORD + "\n")
        found = re.search(r"TOTP secret:\s+([A-Z2-7]+)", out)
        if found is None:
            raise RuntimeError("gateway user add printed no TOTP secret")
        secrets[username] = found.group(1)
    settings = Settings(data_dir=workdir / "data", key_dir=workdir / "keys", policy_dir=policy_dir)
    instance = load_instance(settings)
    with instance.database.connection() as conn:
        seed(conn, datetime.now(UTC))
    log = workdir / "serve.log"
    with log.open("wb") as sink:
        server = subprocess.Popen(  # noqa: S603 - our own CLI
            [sys.executable, "-m", "gateway", "serve"], env=env, stdout=sink, stderr=sink
        )
        try:
            base = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + START_TIMEOUT
            while True:
                try:
                    with urllib.request.urlopen(f"{base}/api/v1/health", timeout=2):  # noqa: S310
                        break
                except OSError:  # not listening yet: try again until the deadline
                    if time.monotonic() > deadline or server.poll() is not None:
                        raise RuntimeError(log.read_text()) from None
                    time.sleep(0.2)
            yield Gateway(base, secrets, log, policy_dir)
        finally:
            server.terminate()
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:  # gunicorn did not stop: end it hard
                server.kill()
                server.wait(timeout=5)


def new_page(browser: Any, **context_options: Any) -> Any:
    """A page in a fresh context (its own cookies, so its own session) of ``browser``."""
    context = browser.new_context(
        bypass_csp=True,
        accept_downloads=True,
        viewport={"width": 1280, "height": 800},
        **context_options,
    )
    page = context.new_page()
    page.set_default_timeout(10_000)
    return page


@contextmanager
def browser_page(**context_options: Any) -> Iterator[Any]:
    """A Playwright page in Debian's headless Chromium, CSP bypassed only for axe's script.
    ``page.context.browser`` opens more contexts (other users) with :func:`new_page`."""
    from playwright.sync_api import sync_playwright  # noqa: PLC0415 - optional test extra

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield new_page(browser, **context_options)
        finally:
            browser.close()


def log_in(page: Any, gateway: Gateway, username: str = USERNAME) -> None:
    """Log in with password and the current TOTP code (each code is accepted once per user)."""
    page.goto(f"{gateway.base}/console/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.fill("#code", gateway.code(username))
    page.click("main button[type=submit]")
    page.wait_for_url(f"{gateway.base}/console/")


def axe_violations(page: Any) -> list[dict[str, Any]]:
    """axe-core's serious and critical violations on the page as it is now."""
    page.add_script_tag(path=str(AXE_JS))
    result = page.evaluate("async () => await axe.run(document)")
    return [v for v in result["violations"] if v.get("impact") in ("serious", "critical")]
