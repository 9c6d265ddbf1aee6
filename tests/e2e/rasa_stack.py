"""Start the real Rasa stack (trained model, action server, Rasa server) for tests and benchmarks.

The Rasa server runs in its own Python 3.10 environment (bot/rasa_env.sh), so it is always a
subprocess reached over HTTP, exactly as in production. Typical use:

    with start_stack(log_dir=tmp_dir) as stack:
        replies = stack.send(sender="abc123", text="hiya")

Each process gets a free loopback port and writes its log to `log_dir`; when something does
not come up, the error carries the tail of the relevant log.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import httpx

from api.system.runtime import with_lower_priority

REPO_ROOT = Path(__file__).resolve().parents[2]
BOT_DIR = REPO_ROOT / "bot"

# Worst cases on a 2-core machine: building the Rasa env (a few minutes, once per machine),
# training (under a minute), loading the model (~20-50 s).
ENV_AND_MODEL_TIMEOUT_S = 900.0
RASA_START_TIMEOUT_S = 180.0
ACTION_SERVER_START_TIMEOUT_S = 60.0


class StackError(RuntimeError):
    """A part of the Rasa stack could not be built or started."""


def free_ports(count: int) -> list[int]:
    """`count` distinct TCP ports on 127.0.0.1 that nothing listens on right now."""
    sockets = [socket.socket(socket.AF_INET, socket.SOCK_STREAM) for _ in range(count)]
    try:
        for sock in sockets:  # all bound at once, so the kernel cannot hand out one twice
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def log_tail(path: Path, *, lines: int = 40) -> str:
    """The last lines of a log file, for error messages."""
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except FileNotFoundError:
        return "(no log)"


def _run_script(script: Path, *, env: Mapping[str, str] | None, log_path: Path) -> str:
    with log_path.open("ab") as log:
        result = subprocess.run(
            [str(script)],
            cwd=REPO_ROOT,
            env=dict(env) if env is not None else None,
            stdout=subprocess.PIPE,
            stderr=log,
            timeout=ENV_AND_MODEL_TIMEOUT_S,
            check=False,
        )
    if result.returncode != 0:
        raise StackError(
            f"{script.relative_to(REPO_ROOT)} failed (exit {result.returncode}):\n"
            f"{log_tail(log_path)}"
        )
    return result.stdout.decode().strip().splitlines()[-1]


def ensure_rasa_env(*, log_dir: Path, env: Mapping[str, str] | None = None) -> Path:
    """Build or reuse the cached Rasa environment; returns its directory."""
    return Path(_run_script(BOT_DIR / "rasa_env.sh", env=env, log_path=log_dir / "rasa_env.log"))


def ensure_model(*, log_dir: Path, env: Mapping[str, str] | None = None) -> Path:
    """Train the model unless the cache has one for the current training data; returns it."""
    return Path(_run_script(BOT_DIR / "train.sh", env=env, log_path=log_dir / "train.log"))


@dataclass
class ManagedProcess:
    """A server subprocess in its own process group, with its log file."""

    name: str
    popen: subprocess.Popen[bytes]
    log_path: Path
    _log_file: IO[bytes] = field(repr=False)

    def alive(self) -> bool:
        return self.popen.poll() is None

    def stop(self, *, grace_s: float = 15.0) -> None:
        """SIGTERM the process group, then SIGKILL whatever is left after `grace_s`."""
        if self.alive():
            try:
                os.killpg(self.popen.pid, signal.SIGTERM)
                self.popen.wait(timeout=grace_s)
            except subprocess.TimeoutExpired:
                os.killpg(self.popen.pid, signal.SIGKILL)
                self.popen.wait(timeout=grace_s)
            except ProcessLookupError:
                pass
        self._log_file.close()


def start_process(
    name: str, argv: list[str], *, log_dir: Path, env: Mapping[str, str], niceness: int = 0
) -> ManagedProcess:
    """Start `argv` from the repo root with stdout+stderr going to `<log_dir>/<name>.log`."""
    log_path = log_dir / f"{name}.log"
    log_file = log_path.open("ab")
    popen = subprocess.Popen(
        with_lower_priority(argv, niceness=niceness),
        cwd=REPO_ROOT,
        env=dict(env),
        stdin=subprocess.DEVNULL,
        stdout=log_file,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # own process group: stop() reaches any children too
    )
    return ManagedProcess(name=name, popen=popen, log_path=log_path, _log_file=log_file)


def _wait_until(process: ManagedProcess, ready: Any, *, timeout_s: float, what: str) -> float:
    """Poll `ready()` until it returns True; returns the seconds it took."""
    started = time.monotonic()
    while True:
        if not process.alive():
            raise StackError(
                f"{process.name} exited with {process.popen.returncode} before {what}:\n"
                f"{log_tail(process.log_path)}"
            )
        try:
            if ready():
                return time.monotonic() - started
        except httpx.HTTPError:
            pass
        if time.monotonic() - started > timeout_s:
            raise StackError(
                f"{process.name}: no {what} after {timeout_s:.0f} s:\n{log_tail(process.log_path)}"
            )
        time.sleep(0.5)


# The shared token the worker, Rasa and the action server use (bot/channels.py,
# actions/server.py): the test stacks run with one, as production must.
ASSISTANT_TOKEN = "e2e-assistant-token-7Qv2xK9pLm4RtY8wZ3nB"


def _with_token(env: Mapping[str, str] | None) -> dict[str, str]:
    child = dict(env if env is not None else os.environ)
    child.setdefault("ASSISTANT_TOKEN", ASSISTANT_TOKEN)
    return child


def start_action_server(
    *, port: int, log_dir: Path, env: Mapping[str, str] | None = None, niceness: int = 0
) -> ManagedProcess:
    """The rasa-sdk action server serving `actions/`, with the app's Python."""
    return start_process(
        "actions",
        [sys.executable, "-m", "actions.server", "--port", str(port)],
        log_dir=log_dir,
        env=_with_token(env),
        niceness=niceness,
    )


def wait_for_action_server(process: ManagedProcess, *, url: str) -> float:
    """Wait until GET /health answers ok; returns the seconds it took."""

    def ready() -> bool:
        return httpx.get(f"{url}/health", timeout=2).status_code == 200

    return _wait_until(
        process, ready, timeout_s=ACTION_SERVER_START_TIMEOUT_S, what="healthy action server"
    )


def start_rasa_server(
    *,
    port: int,
    action_server_url: str,
    log_dir: Path,
    env: Mapping[str, str] | None = None,
    redis_url: str | None = None,
    niceness: int = 0,
) -> ManagedProcess:
    """The Rasa server through bot/run_rasa.sh (the production start script).

    In-memory tracker and lock stores unless `redis_url` is given: a REDIS_URL inherited from
    the caller's environment is dropped, so tests do not share state by accident.
    """
    child_env = _with_token(env)
    child_env.pop("REDIS_URL", None)
    if redis_url:
        child_env["REDIS_URL"] = redis_url
    child_env.update(
        RASA_PORT=str(port),
        RASA_INTERFACE="127.0.0.1",
        ACTION_SERVER_URL=action_server_url,
    )
    return start_process("rasa", [str(BOT_DIR / "run_rasa.sh")], log_dir=log_dir, env=child_env,
                         niceness=niceness)


def wait_for_rasa(process: ManagedProcess, *, url: str) -> float:
    """Wait until the REST channel reports a loaded model; returns the seconds it took."""

    def ready() -> bool:
        return httpx.get(f"{url}/webhooks/rest/ready", timeout=2).status_code == 200

    return _wait_until(process, ready, timeout_s=RASA_START_TIMEOUT_S, what="loaded model")


@dataclass
class RasaStack:
    """A running action server + Rasa server pair."""

    rasa_url: str
    action_server_url: str
    rasa: ManagedProcess
    actions: ManagedProcess
    model: Path
    rasa_start_s: float
    log_dir: Path
    _client: httpx.Client = field(repr=False)

    def send(self, *, sender: str, text: str, timeout_s: float = 30.0) -> list[dict[str, Any]]:
        """One turn through Rasa's REST channel, as the worker sends it; the bot's replies."""
        response = self._client.post(
            f"{self.rasa_url}/webhooks/rest/webhook",
            json={"sender": sender, "message": text},
            headers={"Authorization": f"Bearer {ASSISTANT_TOKEN}"},
            timeout=timeout_s,
        )
        response.raise_for_status()
        return response.json()

    def stop(self) -> None:
        self._client.close()
        for process in (self.rasa, self.actions):
            process.stop()


@contextmanager
def start_stack(
    *,
    log_dir: Path,
    env: Mapping[str, str] | None = None,
    redis_url: str | None = None,
    niceness: int = 0,
) -> Iterator[RasaStack]:
    """Env + model (cached), then action server and Rasa server on free ports; stops both.

    `env` is the environment of both servers (default: this process's), e.g. to set
    TRUST_NAME for the actions; `niceness` lowers their CPU priority as `rebook run` does.
    """
    log_dir.mkdir(parents=True, exist_ok=True)
    base_env = dict(env if env is not None else os.environ)
    ensure_rasa_env(log_dir=log_dir, env=base_env)
    model = ensure_model(log_dir=log_dir, env=base_env)

    actions_port, rasa_port = free_ports(2)
    action_server_url = f"http://127.0.0.1:{actions_port}"
    rasa_url = f"http://127.0.0.1:{rasa_port}"
    actions = start_action_server(port=actions_port, log_dir=log_dir, env=base_env,
                                  niceness=niceness)
    rasa: ManagedProcess | None = None
    try:
        # Rasa loads its model while the action server starts: both in parallel.
        rasa = start_rasa_server(
            port=rasa_port,
            action_server_url=action_server_url,
            log_dir=log_dir,
            env=base_env,
            redis_url=redis_url,
            niceness=niceness,
        )
        wait_for_action_server(actions, url=action_server_url)
        rasa_start_s = wait_for_rasa(rasa, url=rasa_url)
        stack = RasaStack(
            rasa_url=rasa_url,
            action_server_url=action_server_url,
            rasa=rasa,
            actions=actions,
            model=model,
            rasa_start_s=rasa_start_s,
            log_dir=log_dir,
            _client=httpx.Client(),
        )
    except BaseException:
        for process in (rasa, actions):
            if process is not None:
                process.stop()
        raise
    try:
        yield stack
    finally:
        stack.stop()
