"""Several replicas of every Rebook process on this machine, for the replica test
(tests/system/test_replicas.py) and the replica benchmarks (benchmarks/replica_kill.py,
benchmarks/replica_scaling.py).

A cluster is: a fresh PostgreSQL database (migrated, demo trust seeded), Redis (rate limits,
worker wake-ups, Rasa's tracker and lock stores), a fake Twilio REST API on loopback that
records every message it is asked to send, and N api, worker, dispatcher, Rasa and action
server processes. The workers know every Rasa server (RASA_URL, comma-separated); each Rasa
server reaches the action servers through one address, as through a Kubernetes Service
(`ServiceBalancer`). Every replica can be killed (SIGKILL), terminated (SIGTERM) and started
again.
"""

from __future__ import annotations

import itertools
import os
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from sqlalchemy import select
from sqlalchemy.engine import Engine

from api.db import make_engine
from tests.databases import create_database, drop_database
from tests.e2e.rasa_stack import (
    ASSISTANT_TOKEN,
    BOT_DIR,
    ManagedProcess,
    ensure_model,
    ensure_rasa_env,
    free_ports,
    log_tail,
    start_process,
)
from tests.fakes.fake_twilio import FakeTwilio

TWILIO_TOKEN = "replica-twilio-auth-token-0123456789"
PUBLIC_BASE_URL = "https://rebook.replicas.example"  # what Twilio signs; every api shares it
KINDS = ("rasa", "actions", "api", "worker", "dispatcher")
START_TIMEOUT_S = {"rasa": 240.0, "actions": 60.0, "api": 60.0, "worker": 60.0,
                   "dispatcher": 60.0}


class ServiceBalancer:
    """A TCP address in front of several backends, as a Kubernetes Service is in front of
    pods: each connection goes to the next backend in turn that accepts it (a pod that is
    down is no longer among the Service's endpoints). Connections are piped, not parsed."""

    def __init__(self, backends: list[tuple[str, int]]):
        self.backends = backends
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._next = itertools.count()
        self._closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._listener.getsockname()[1]}"

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        start = next(self._next)
        for i in range(len(self.backends)):
            try:
                upstream = socket.create_connection(
                    self.backends[(start + i) % len(self.backends)], timeout=2)
                break
            except OSError:
                continue
        else:
            client.close()
            return
        upstream.settimeout(None)
        threading.Thread(target=_pipe, args=(upstream, client), daemon=True).start()
        _pipe(client, upstream)

    def close(self) -> None:
        self._closed = True
        self._listener.close()


def _pipe(source: socket.socket, sink: socket.socket) -> None:
    try:
        while data := source.recv(65536):
            sink.sendall(data)
        sink.shutdown(socket.SHUT_WR)
    except OSError:
        for sock in (source, sink):  # one side died: so does the connection, as over a network
            sock.close()


@dataclass
class Replica:
    """One process of the cluster, which can be killed, terminated and started again."""

    name: str
    kind: str
    argv: list[str]
    env: dict[str, str]
    log_dir: Path
    ready_url: str | None  # answers 200 once the process is ready; None: running is ready
    niceness: int = 0
    process: ManagedProcess | None = None
    starts: int = 0

    def start(self) -> None:
        from tests.conftest import SUITE_LOG_FILES

        self.process = start_process(self.name, self.argv, log_dir=self.log_dir, env=self.env,
                                     niceness=self.niceness)
        if self.starts == 0:
            SUITE_LOG_FILES.append(self.process.log_path)  # scanned for personal data
        self.starts += 1

    def alive(self) -> bool:
        return self.process is not None and self.process.alive()

    def wait_ready(self, timeout_s: float | None = None) -> float:
        """Seconds until the process answers its readiness URL (or has run for a second)."""
        started = time.monotonic()
        deadline = started + (timeout_s or START_TIMEOUT_S[self.kind])
        while time.monotonic() < deadline:
            if not self.alive():
                raise RuntimeError(f"{self.name} exited:\n{log_tail(self.process.log_path)}")
            if self.ready_url is None:
                if time.monotonic() - started >= 1.0:
                    return time.monotonic() - started
            else:
                try:
                    if httpx.get(self.ready_url, timeout=2).status_code == 200:
                        return time.monotonic() - started
                except httpx.HTTPError:
                    pass
            time.sleep(0.25)
        raise TimeoutError(f"{self.name} not ready:\n{log_tail(self.process.log_path)}")

    def kill(self) -> None:
        """SIGKILL, as in a crash: nothing is finished or released."""
        if self.alive():
            os.killpg(self.process.popen.pid, signal.SIGKILL)
            self.process.popen.wait(10)
        self.process._log_file.close()

    def terminate(self) -> None:
        """SIGTERM, as in a rolling update: in-flight work finishes first."""
        if self.process is not None:
            self.process.stop(grace_s=30)


@dataclass
class Cluster:
    database_url: str
    redis_url: str
    engine: Engine
    twilio: FakeTwilio
    replicas: dict[str, list[Replica]]
    numbers: list[str]  # the seeded patients' mobiles, one per patient household
    log_dir: Path
    startup_s: float = 0.0
    balancer: ServiceBalancer | None = field(default=None, repr=False)

    @property
    def api_urls(self) -> list[str]:
        return [r.ready_url.removesuffix("/healthz") for r in self.replicas["api"]]

    def replica(self, kind: str, index: int) -> Replica:
        return self.replicas[kind][index]


def seed_numbers(engine: Engine, *, patients: int) -> list[str]:
    """Seed the synthetic demo trust; its patients' distinct mobile numbers that may be
    answered."""
    from sqlalchemy.orm import Session

    from api.demo import service as demo_service
    from api.patients.models import Patient

    with Session(engine) as session:
        demo_service.seed(session=session, patients=patients)
        session.commit()
        rows = session.execute(select(Patient.mobile, Patient.opted_out)
                               .where(Patient.mobile.is_not(None))).all()
    # A number someone in the household opted out from gets no replies (STOP).
    opted_out = {mobile for mobile, out in rows if out}
    return sorted({mobile for mobile, _ in rows} - opted_out)


def _environment(*, database_url: str, redis_url: str, twilio_url: str, rasa_urls: list[str],
                 actions_url: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=database_url, REDIS_URL=redis_url, PUBLIC_BASE_URL=PUBLIC_BASE_URL,
        ENVIRONMENT="test", SECRET_KEY="replica-secret-key-for-the-suite",
        MESSAGING_MODE="twilio", TWILIO_ACCOUNT_SID="AC" + "0" * 32,
        TWILIO_AUTH_TOKEN=TWILIO_TOKEN, TWILIO_API_BASE_URL=twilio_url,
        RASA_URL=",".join(rasa_urls), ACTION_SERVER_URL=actions_url,
        ASSISTANT_TOKEN=ASSISTANT_TOKEN,
        # The load is many messages a minute from each number, all day long: the per-number
        # limits that protect patients would otherwise be what is measured.
        INBOUND_RATE_PER_MINUTE="100000", DAILY_CAP_PER_NUMBER="100000",
        SEND_RATE_PER_SECOND="1000", SEND_WINDOW_START="00:00",
        SEND_WINDOW_END="23:59:59.999999",
        # Two cores also load a Rasa model while serving turns: a turn may take seconds.
        RASA_TIMEOUT_SECONDS="10",
        # A killed worker's conversations are taken over after this (production: 30 s). It
        # must outlast the longest turn (10 s, plus 2 s to find each Rasa server down), or a
        # second worker could take a turn still running and answer it again.
        WORKER_LEASE_SECONDS="16",
        RASA_TRACKER_TTL_SECONDS="3600",  # the trackers left in Redis expire soon after
    )
    return env


def _replicas(counts: dict[str, int], *, env: dict[str, str], log_dir: Path,
              worker_concurrency: int, ports: dict[str, list[int]],
              balancer_url: str) -> dict[str, list[Replica]]:
    python = sys.executable
    # No `nice` (which `rebook run` gives the queue-driven processes so acknowledgements win
    # on a laptop): replicas in a cluster each have their own CPU share.
    nice = 0
    replicas: dict[str, list[Replica]] = {kind: [] for kind in KINDS}
    for i, port in enumerate(ports["rasa"]):
        rasa_env = env | {"RASA_PORT": str(port), "RASA_INTERFACE": "127.0.0.1",
                          "ACTION_SERVER_URL": balancer_url}
        replicas["rasa"].append(Replica(
            f"rasa{i}", "rasa", [str(BOT_DIR / "run_rasa.sh")], rasa_env, log_dir,
            f"http://127.0.0.1:{port}/webhooks/rest/ready", nice))
    for i, port in enumerate(ports["actions"]):
        replicas["actions"].append(Replica(
            f"actions{i}", "actions", [python, "-m", "actions.server", "--port", str(port)],
            env, log_dir, f"http://127.0.0.1:{port}/health", nice))
    for i, port in enumerate(ports["api"]):
        replicas["api"].append(Replica(
            f"api{i}", "api", [python, "-m", "api", "serve", "--port", str(port)], env,
            log_dir, f"http://127.0.0.1:{port}/healthz"))
    for i, port in enumerate(ports["worker"]):
        replicas["worker"].append(Replica(
            f"worker{i}", "worker", [python, "-m", "api", "worker", "--concurrency",
                                     str(worker_concurrency), "--metrics-port", str(port)],
            env, log_dir, f"http://127.0.0.1:{port}/metrics", nice))
    for i in range(counts["dispatcher"]):
        replicas["dispatcher"].append(Replica(
            f"dispatcher{i}", "dispatcher", [python, "-m", "api", "dispatcher"], env, log_dir,
            None, nice))
    return replicas


def start_all(replicas: list[Replica]) -> None:
    """Start every replica at once, then wait until each is ready (Rasa loads in parallel)."""
    for replica in replicas:
        replica.start()
    with ThreadPoolExecutor(len(replicas)) as pool:
        list(pool.map(Replica.wait_ready, replicas))


def stop_all(replicas: list[Replica]) -> None:
    """SIGTERM every replica at once (Rasa takes seconds to stop)."""
    with ThreadPoolExecutor(len(replicas)) as pool:
        list(pool.map(Replica.terminate, replicas))


@contextmanager
def running_cluster(*, log_dir: Path, admin_url: str, redis_url: str, counts: dict[str, int],
                    patients: int = 120, worker_concurrency: int = 4) -> Iterator[Cluster]:
    """Every process of `counts` ({"api": 2, "rasa": 2, ...}) running and ready; all stopped
    and the database dropped afterwards."""
    started = time.monotonic()
    log_dir.mkdir(parents=True, exist_ok=True)
    ensure_rasa_env(log_dir=log_dir)
    ensure_model(log_dir=log_dir)
    database_url = create_database(admin_url, prefix="rebook_replicas")
    engine = make_engine(database_url)
    with ExitStack() as stack:
        stack.callback(drop_database, admin_url, database_url)
        stack.callback(engine.dispose)
        numbers = seed_numbers(engine, patients=patients)
        twilio = stack.enter_context(FakeTwilio())
        all_ports = iter(free_ports(sum(counts[k] for k in ("rasa", "actions", "api", "worker"))))
        ports = {k: [next(all_ports) for _ in range(counts[k])]
                 for k in ("rasa", "actions", "api", "worker")}
        balancer = ServiceBalancer([("127.0.0.1", p) for p in ports["actions"]])
        stack.callback(balancer.close)
        env = _environment(database_url=database_url, redis_url=redis_url,
                           twilio_url=twilio.base_url, actions_url=balancer.url,
                           rasa_urls=[f"http://127.0.0.1:{p}" for p in ports["rasa"]])
        replicas = _replicas(counts, env=env, log_dir=log_dir, ports=ports,
                             worker_concurrency=worker_concurrency, balancer_url=balancer.url)
        everyone = [r for kind in KINDS for r in replicas[kind]]
        stack.callback(stop_all, everyone)
        start_all(everyone)
        yield Cluster(database_url=database_url, redis_url=redis_url, engine=engine,
                      twilio=twilio, replicas=replicas, numbers=numbers, log_dir=log_dir,
                      startup_s=time.monotonic() - started, balancer=balancer)


# -- kills and restarts ----------------------------------------------------------------

FAILOVER_LOG_LINE = "Rasa server did not take the turn; trying the next"


def restart(replica: Replica, *, wait: bool = True) -> None:
    replica.start()
    if wait:
        replica.wait_ready()


def killed(replica: Replica, *, wait: bool = True) -> Callable[[], None]:
    """SIGKILL, then start again (and wait until ready)."""

    def action() -> None:
        replica.kill()
        restart(replica, wait=wait)
    return action


def terminated(replica: Replica, *, wait: bool = True) -> Callable[[], None]:
    """SIGTERM (in-flight work finishes), then start again (and wait until ready)."""

    def action() -> None:
        replica.terminate()
        restart(replica, wait=wait)
    return action


def chaos(cluster: Cluster, *, kills_at: float = 10, rolling_at: float = 40
          ) -> list[list[tuple[float, str, Callable[[], None]]]]:
    """Per kind of process, one lane: one replica killed and started again, then each
    terminated and started again in turn (a rolling update); the kinds side by side, as
    separate Deployments would be.

    Rasa's lane starts first and waits for the killed server to be back (it loads its model
    for about a minute) before terminating the other, as a rolling update would."""
    r = cluster.replica
    first = kills_at - 5
    lanes = [[(first, "kill rasa0 and start it again", killed(r("rasa", 0), wait=False)),
              (first, "rasa0 ready again", r("rasa", 0).wait_ready),
              (first, "rolling restart: rasa1", terminated(r("rasa", 1), wait=False)),
              (first, "messages go on for 10 s with rasa0 alone", lambda: time.sleep(10))]]
    for i, kind in enumerate(("api", "worker", "dispatcher", "actions")):
        lanes.append([(kills_at + 4 * i, f"kill {kind}0 and start it again", killed(r(kind, 0))),
                      (rolling_at, f"rolling restart: {kind}0", terminated(r(kind, 0))),
                      (rolling_at, f"rolling restart: {kind}1", terminated(r(kind, 1)))])
    return lanes


def failovers_logged(cluster: Cluster) -> int:
    """Turns a worker moved on from a Rasa server that did not take them (its log lines)."""
    return sum(replica.process.log_path.read_text(errors="replace").count(FAILOVER_LOG_LINE)
               for replica in cluster.replicas["worker"])
