"""Run the real `rebook` processes (api, worker, dispatcher) as subprocesses in tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import httpx

from api.system.runtime import with_lower_priority

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def process_env(settings, **overrides: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update({
        "DATABASE_URL": settings.database_url,
        "PUBLIC_BASE_URL": settings.public_base_url,
        "TWILIO_AUTH_TOKEN": settings.twilio_auth_token.get_secret_value(),
        "MESSAGING_MODE": settings.messaging_mode,
        "ENVIRONMENT": "test",
        "SECRET_KEY": "test-secret-key-for-the-suite",
    })
    env.update(overrides)
    return env


class Process:
    def __init__(self, args: list[str], env: dict[str, str], log_path: Path, niceness: int = 0):
        self.log_path = log_path
        from tests.conftest import SUITE_LOG_FILES

        SUITE_LOG_FILES.append(log_path)  # scanned for personal data at the end of the run
        self._log = open(log_path, "ab")
        argv = with_lower_priority([sys.executable, "-m", "api", *args], niceness=niceness)
        self.popen = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=self._log,
                                      stderr=subprocess.STDOUT)

    def kill(self) -> None:
        """SIGKILL: no chance to clean up, as in a crash."""
        self.popen.send_signal(signal.SIGKILL)
        self.popen.wait(10)

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()
        self._log.close()


@contextmanager
def running(args: list[str], env: dict[str, str], log_path: Path, niceness: int = 0):
    process = Process(args, env, log_path, niceness)
    try:
        yield process
    finally:
        process.stop()


def wait_http(url: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise TimeoutError(f"{url} did not come up")


def wait_until(predicate, timeout: float = 30.0, interval: float = 0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise TimeoutError("condition not met in time")
