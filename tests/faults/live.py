"""A real gateway under gunicorn on 127.0.0.1 for the fault tests: a prepared instance, a server
that can be killed and restarted, and partners that talk to it with the real client library."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO

from gateway.client.profile import Profile
from gateway.client.session import RetryPolicy, Session, urllib_transport
from gateway.client.trust import (
    Directory,
    cached_directory,
    cached_policy,
    pull_directory,
    pull_policy,
)
from gateway.crypto.keys import PartnerKeyPair
from gateway.instance import init_instance, load_instance
from gateway.policy import Policy
from gateway.services import key_directory
from gateway.services.policy_publishing import publish
from gateway.settings import Settings

START_SECONDS = 30.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def prepare(
    settings: Settings, policy: Policy, parties: Iterable[str]
) -> dict[str, PartnerKeyPair]:
    """A fresh instance with the policy published and every party's key registered."""
    init_instance(settings)
    instance = load_instance(settings)
    now = datetime.now(UTC)
    pairs = {p: PartnerKeyPair.generate(p) for p in parties}
    with instance.database.connection() as conn:
        publish(
            conn,
            policy,
            instance.signing_key,
            now=now - timedelta(hours=1),
            effective_from=now.date() - timedelta(days=1),
            published_by="fg",
            register=instance.register,
        )
        for pair in pairs.values():
            key_directory.onboard_partner(
                conn,
                policy,
                pair.public,
                now=now,
                by="admin",
                register=instance.register,
                not_before=now - timedelta(hours=1),
            )
    return pairs


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # pid (comm) state ppid ...: comm may hold spaces, so split after the last ')'.
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.append(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


@dataclass
class Server:
    """``gateway serve`` (gunicorn, 2 workers) on 127.0.0.1; output appended to ``log``."""

    env: dict[str, str]
    port: int
    log: Path
    process: subprocess.Popen[bytes] | None = None
    _out: IO[bytes] | None = None
    orphans: list[int] = field(default_factory=list)

    @classmethod
    def for_settings(cls, settings: Settings, gateway_env: dict[str, str], log: Path) -> Server:
        port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("SLUIS_")}
        env.update(gateway_env, SLUIS_BIND=f"127.0.0.1:{port}", SLUIS_WORKERS="2")
        return cls(env, port, log)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self._out = self.log.open("ab")
        self.process = subprocess.Popen(  # noqa: S603 - this interpreter, fixed arguments
            [sys.executable, "-m", "gateway", "serve"],
            env=self.env,
            stdout=self._out,
            stderr=self._out,
        )
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"gateway serve exited: {self.log.read_text()[-2000:]}")
            if len(self.workers()) >= 2 and self._answers():
                return
            time.sleep(0.05)
        raise AssertionError("gateway serve did not start within 30 s")

    def _answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
                sock.sendall(b"GET /api/v1/health HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
                return sock.recv(16).startswith(b"HTTP/1")
        except OSError:
            return False

    def workers(self) -> list[int]:
        assert self.process is not None
        return [p for p in _children(self.process.pid) if _alive(p)]

    def kill_worker(self, index: int) -> int:
        """kill -9 one worker; the master forks a new one."""
        workers = self.workers()
        victim = workers[index % len(workers)]
        os.kill(victim, signal.SIGKILL)
        return victim

    def kill_master(self) -> None:
        """kill -9 the master. Its orphaned workers finish in-flight requests and leave when they
        see their parent gone; whatever is still there after 3 s is killed as a supervisor would."""
        assert self.process is not None
        workers = self.workers()
        self.process.kill()
        self.process.wait(timeout=10)
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline and any(_alive(w) for w in workers):
            time.sleep(0.05)
        for worker in workers:
            if _alive(worker):
                os.kill(worker, signal.SIGKILL)
        self._close()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self._close()

    def _close(self) -> None:
        if self._out is not None:
            self._out.close()
            self._out = None


@dataclass
class LivePartner:
    """A partner machine: a profile folder with its state (journal, caches) and a session."""

    keys: PartnerKeyPair
    profile: Profile
    session: Session
    retries: list[str] = field(default_factory=list)

    @classmethod
    def make(
        cls,
        keys: PartnerKeyPair,
        folder: Path,
        url: str,
        gateway_public_key: bytes,
        retry: RetryPolicy | None = None,
    ) -> LivePartner:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        profile = Profile(
            folder / "sluis-profile.json",
            url,
            keys.partner,
            folder / "unused.key",
            gateway_public_key,
        )
        session = Session(
            url,
            keys,
            transport=urllib_transport(timeout=10),
            retry=retry or RetryPolicy(attempts=40, first_delay=0.05, max_delay=0.5),
        )
        partner = cls(keys, profile, session)
        session.on_retry = lambda attempt, delay, why: partner.retries.append(why)
        return partner

    def trust(self) -> tuple[Policy, Directory]:
        now = datetime.now(UTC)
        return (
            pull_policy(self.session, self.profile, now).policy,
            pull_directory(self.session, self.profile, now),
        )

    def trust_cached(self) -> tuple[Policy, Directory]:
        """The policy and directory as pulled last (no request: safe while the gateway is down)."""
        now = datetime.now(UTC)
        return (
            cached_policy(self.profile, now).policy,
            cached_directory(self.profile, now),
        )
