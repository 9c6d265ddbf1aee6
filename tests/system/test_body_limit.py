"""Every route that takes a body refuses an oversized one with 413 before parsing it: a
300 MB anonymous POST must not grow the server (it grew by ~300 MB before the limit)."""

from __future__ import annotations

import re
import socket

import pytest

from api.config import Settings
from tests.processes import free_port, process_env, running, wait_http

DECLARED = 300 * 1024 * 1024  # what the attacker claims to send
SENT = 4 * 1024 * 1024  # what we actually push before reading the answer


def _body_routes() -> list[str]:
    """Every POST/PUT/PATCH/DELETE path the app serves, ids filled in."""
    from api.main import create_app

    paths = set()
    for route in create_app().routes:
        # FastAPI 0.16x keeps included routers as one entry each, with their routes inside.
        inner = getattr(route, "effective_route_contexts", None)
        for each in (inner() if inner else [route]):
            if set(getattr(each, "methods", None) or ()) & {"POST", "PUT", "PATCH", "DELETE"}:
                paths.add(re.sub(r"\{[^}]+\}", "1", each.path))
    return sorted(paths)


def _rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        return int(next(line for line in status if line.startswith("VmRSS:")).split()[1])


def _post_oversized(port: int, path: str, *, chunked: bool) -> bytes:
    """Send headers (a huge Content-Length, or chunked), push up to SENT bytes, read the
    status line. The server may answer and close before we finish: that is the point."""
    framing = (b"Transfer-Encoding: chunked\r\n" if chunked
               else f"Content-Length: {DECLARED}\r\n".encode())
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n".encode() + framing
                     + b"Content-Type: application/x-www-form-urlencoded\r\n\r\n")
        block = b"Body=" + b"a" * (64 * 1024 - 5)
        if chunked:
            block = f"{len(block):x}\r\n".encode() + block + b"\r\n"
        try:
            for _ in range(SENT // len(block)):
                sock.sendall(block)
        except (BrokenPipeError, ConnectionResetError):
            pass  # answered and closed early
        answer = b""
        try:
            while b"\r\n" not in answer:
                chunk = sock.recv(4096)
                if not chunk:
                    break
                answer += chunk
        except ConnectionResetError:
            pass
        return answer.split(b"\r\n", 1)[0]


@pytest.fixture(scope="module")
def api_process(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("body-limit")
    settings = Settings(_env_file=None, environment="test", secret_key="test-secret-key-x",
                        database_url=f"sqlite:///{tmp / 'limit.db'}")
    port = free_port()
    env = process_env(settings)
    with running(["serve", "--port", str(port)], env, tmp / "api.log") as process:
        wait_http(f"http://127.0.0.1:{port}/healthz")
        yield port, process.popen.pid


def test_every_body_route_answers_413_without_growing(api_process):
    port, pid = api_process
    routes = _body_routes()
    assert "/twilio/messages" in routes and "/twilio/status" in routes
    assert len(routes) > 20
    before = _rss_kib(pid)
    answers = {path: _post_oversized(port, path, chunked=False) for path in routes}
    answers.update({f"{path} (chunked)": _post_oversized(port, path, chunked=True)
                    for path in ("/twilio/status", "/console/login", "/api/v1/campaigns")})
    grown_mib = (_rss_kib(pid) - before) / 1024
    wrong = {path: line for path, line in answers.items() if b" 413 " not in line + b" "}
    assert not wrong, wrong
    assert grown_mib < 20, f"server grew by {grown_mib:.1f} MiB"


def test_a_body_under_the_limit_still_reaches_the_route(api_process):
    import httpx

    port, _ = api_process
    # A form at the limit's edge is parsed and judged on its merits (a bad signature: 403).
    response = httpx.post(f"http://127.0.0.1:{port}/twilio/status",
                          data={"MessageSid": "SM" + "0" * 32, "Pad": "x" * 100_000})
    assert response.status_code == 403
