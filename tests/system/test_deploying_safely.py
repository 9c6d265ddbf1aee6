"""Production is safe by default: unsafe settings stop every process before it listens; safe
ones serve no sandbox, no docs, no open metrics, and readiness without connection errors."""

from __future__ import annotations

import os
import subprocess
import sys

import httpx
import pytest

from tests.processes import ROOT, free_port, running, wait_http

# Settings a real production deployment might use (random-looking, none of them real).
SAFE_PRODUCTION = {
    "ENVIRONMENT": "production",
    "MESSAGING_MODE": "twilio",
    "SECRET_KEY": "kR7vQ2mX9pL4tW8zN3bY6cF1hJ5dS0gA-eU_iO",
    "TWILIO_ACCOUNT_SID": "AC0f3c9b2e8d7a6154f0e1d2c3b4a59687",
    "TWILIO_AUTH_TOKEN": "9f8e7d6c5b4a39281706f5e4d3c2b1a0",
    "ASSISTANT_TOKEN": "tQ4wE8rT2yU6iO0pA3sD7fG1hJ5kL9zX",
    "PUBLIC_BASE_URL": "https://rebook.northshire.example.nhs.uk",
    "METRICS_TOKEN": "mZ8xC4vB2nM6qW0eR3tY7uI1oP5aS9dF",
}

UNSAFE = [
    ({"MESSAGING_MODE": None}, "MESSAGING_MODE must be set"),
    ({"SECRET_KEY": None}, "SECRET_KEY must be set"),
    ({"SECRET_KEY": "dev-secret-key-not-for-production"}, "SECRET_KEY must be set"),
    ({"SECRET_KEY": "x"}, "SECRET_KEY must be at least 32 random characters"),
    ({"SECRET_KEY": "password" * 5}, "SECRET_KEY must be at least 32 random characters"),
    ({"TWILIO_AUTH_TOKEN": None}, "TWILIO_AUTH_TOKEN"),  # the built-in sandbox token
    ({"TWILIO_AUTH_TOKEN": "test-twilio-auth-token-0123456789"[:20]}, "TWILIO_AUTH_TOKEN"),
    ({"TWILIO_ACCOUNT_SID": None}, "TWILIO_ACCOUNT_SID"),
    ({"ASSISTANT_TOKEN": None}, "ASSISTANT_TOKEN"),
    ({"PUBLIC_BASE_URL": "http://rebook.northshire.example.nhs.uk"}, "PUBLIC_BASE_URL"),
    ({"METRICS_TOKEN": "short"}, "METRICS_TOKEN"),
]


def _env(tmp_path, overrides: dict[str, str | None]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in SAFE_PRODUCTION and k not in ("REDIS_URL",)}
    env.update(SAFE_PRODUCTION, DATABASE_URL=f"sqlite:///{tmp_path / 'prod.db'}",
               RASA_URL="http://127.0.0.1:9", ACTION_SERVER_URL="http://127.0.0.1:9")
    for key, value in overrides.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


@pytest.mark.parametrize(("overrides", "named"), UNSAFE,
                         ids=[f"{next(iter(o))}={next(iter(o.values()))!s:.12}" for o, _ in UNSAFE])
def test_the_api_refuses_to_start_in_production_with_an_unsafe_setting(tmp_path, overrides, named):
    result = subprocess.run([sys.executable, "-m", "api", "serve", "--port", str(free_port())],
                            cwd=ROOT, env=_env(tmp_path, overrides), capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 2, result.stderr[-2000:]
    assert "refuses to start" in result.stderr and named in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("command", [["-m", "api", "worker"], ["-m", "api", "dispatcher"],
                                     ["-m", "api", "scheduler"], ["-m", "actions.server"]])
def test_every_other_process_refuses_too(tmp_path, command):
    result = subprocess.run([sys.executable, *command], cwd=ROOT,
                            env=_env(tmp_path, {"ASSISTANT_TOKEN": None}),
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "ASSISTANT_TOKEN" in result.stderr, result.stderr[-2000:]


@pytest.fixture(scope="module")
def production_api(tmp_path_factory):
    """`rebook serve` with safe production settings (nothing else of the stack running)."""
    tmp_path = tmp_path_factory.mktemp("production")
    port = free_port()
    env = _env(tmp_path, {})
    with running(["serve", "--port", str(port)], env, tmp_path / "api.log"):
        base = f"http://127.0.0.1:{port}"
        wait_http(f"{base}/healthz")
        yield base


@pytest.mark.parametrize("path", ["/sandbox", "/sandbox/thread?number=%2B447700900123",
                                  "/docs", "/redoc", "/openapi.json"])
def test_production_serves_no_sandbox_and_no_docs(production_api, path):
    assert httpx.get(production_api + path).status_code == 404


def test_production_sandbox_send_is_not_there(production_api):
    response = httpx.post(production_api + "/sandbox/send",
                          data={"number": "+447700900123", "body": "hello"})
    assert response.status_code in (404, 405)


def test_production_metrics_need_the_scrapers_token(production_api):
    assert httpx.get(production_api + "/metrics").status_code == 401
    wrong = {"Authorization": "Bearer not-the-token"}
    assert httpx.get(production_api + "/metrics", headers=wrong).status_code == 401
    right = {"Authorization": f"Bearer {SAFE_PRODUCTION['METRICS_TOKEN']}"}
    response = httpx.get(production_api + "/metrics", headers=right)
    assert response.status_code == 200 and "rebook_" in response.text


def test_production_readiness_names_no_connection_details(production_api):
    response = httpx.get(production_api + "/readyz")
    assert response.status_code == 503  # Rasa and the action server are not running here
    checks = {c["name"]: c for c in response.json()["checks"]}
    assert checks["rasa"] == {**checks["rasa"], "ok": False, "detail": "unavailable"}
    assert "127.0.0.1" not in response.text and "Error" not in response.text


def test_production_answers_carry_security_headers(production_api):
    headers = httpx.get(production_api + "/healthz").headers
    assert headers["strict-transport-security"].startswith("max-age=")
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert headers["referrer-policy"] == "same-origin"


def test_development_keeps_the_sandbox_docs_and_open_metrics(api_client):
    assert api_client.get("/openapi.json").status_code == 200
    assert api_client.get("/metrics").status_code == 200
    assert "strict-transport-security" not in api_client.get("/healthz").headers
    assert api_client.get("/healthz").headers["x-content-type-options"] == "nosniff"


# -- the assistant's internal services: loopback and the shared token ---------------------

ACTIONS_TOKEN = "aT9sK2dL5fG8hJ1kZ4xC7vB0nM3qW6eR"


@pytest.fixture(scope="module")
def action_server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("actions")
    port = free_port()
    env = dict(os.environ, ENVIRONMENT="test", SECRET_KEY="test-secret-key-for-the-suite",
               ASSISTANT_TOKEN=ACTIONS_TOKEN, DATABASE_URL=f"sqlite:///{tmp / 'a.db'}")
    log = open(tmp / "actions.log", "wb")
    process = subprocess.Popen([sys.executable, "-m", "actions.server", "--port", str(port)],
                               cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_http(f"http://127.0.0.1:{port}/health", timeout=60)
        yield port
    finally:
        process.terminate()
        process.wait(10)
        log.close()


ACTION_CALL = {"next_action": "action_show_status", "sender_id": "c0ffee",
               "tracker": {"sender_id": "c0ffee", "slots": {}, "events": [],
                           "latest_message": {}},
               "domain": {}}


def test_the_action_server_refuses_callers_without_the_token(action_server):
    url = f"http://127.0.0.1:{action_server}/webhook"
    assert httpx.post(url, json=ACTION_CALL).status_code == 401
    assert httpx.post(url, json=ACTION_CALL,
                      headers={"X-Assistant-Token": "guess"}).status_code == 401
    answered = httpx.post(url, json=ACTION_CALL, headers={"X-Assistant-Token": ACTIONS_TOKEN})
    assert answered.status_code != 401
    assert httpx.get(f"http://127.0.0.1:{action_server}/health").status_code == 200


def test_the_action_server_listens_on_loopback_only(action_server):
    listening = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as lines:
            for line in list(lines)[1:]:
                local, state = line.split()[1], line.split()[3]
                address, port = local.rsplit(":", 1)
                if state == "0A" and int(port, 16) == action_server:  # LISTEN
                    listening.add(address)
    assert listening == {"0100007F"}, listening  # 127.0.0.1, nothing else


def test_the_worker_presents_the_token_to_rasa():
    from api.conversations.rasa_client import RasaClient

    seen = {}

    def handler(request: httpx.Request) -> httpx.Response:
        seen.update(request.headers)
        return httpx.Response(200, json=[{"text": "hello"}])

    client = RasaClient(base_url="http://rasa.invalid", timeout=1, token="the-token")
    client._client._transport = httpx.MockTransport(handler)
    client.send(sender_id="c0ffee", text="hi")
    assert seen["authorization"] == "Bearer the-token"
