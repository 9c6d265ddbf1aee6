"""The log scan: it recognises encoded numbers, and the real processes' logs pass it.

The api and the action server run as the subprocesses production runs; their captured output
is scanned here and, like every process log of the suite, again at the end of the run. The
Rasa server's own output is scanned by the rasa-marked e2e tests (tests/e2e), which start it.
"""

from __future__ import annotations

import json
import os

import httpx
import pytest

from api.schema import upgrade
from tests.e2e.rasa_stack import (
    ASSISTANT_TOKEN,
    free_ports,
    start_action_server,
    wait_for_action_server,
)
from tests.log_scan import find_personal_data
from tests.processes import free_port, running, wait_http

MOBILE = "+447700900123"


@pytest.mark.parametrize("line", [
    "GET /sandbox/messages?to=%2B447700900123 HTTP/1.1",
    "GET /sandbox/thread?address=whatsapp%3A%2B447700900123",
    "redirect to /x?next=%2Fsandbox%3Fto%3Dwhatsapp%253A%252B447700900123",
    "number 447700900123 failed",
    "number 00447700900123 failed",
    "to=%2B44+7700+900123",
    "national 07700%20900123",
    "nhs 999%20123%204567",
])
def test_the_scan_recognises_encoded_and_bare_numbers(tmp_path, line):
    log = tmp_path / "x.log"
    log.write_text(f"{line}\n")
    assert find_personal_data([log])


def test_the_scan_passes_addresses_and_ports(tmp_path):
    log = tmp_path / "x.log"
    log.write_text('127.0.0.1:54321 - "GET /healthz HTTP/1.1" 200\nport 7700 up 900 ms\n')
    assert find_personal_data([log]) == []


@pytest.fixture
def sqlite_env(tmp_path):
    url = f"sqlite:///{tmp_path / 'scan.db'}"
    upgrade(database_url=url)
    return dict(os.environ, DATABASE_URL=url, ENVIRONMENT="test", MESSAGING_MODE="sandbox",
                SECRET_KEY="test-secret-key-for-the-suite", LOG_LEVEL="INFO", LOG_JSON="true")


def test_the_api_access_log_keeps_the_client_address_and_drops_encoded_numbers(sqlite_env,
                                                                              tmp_path):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = tmp_path / "api.log"
    with running(["serve", "--port", str(port)], sqlite_env | {"PUBLIC_BASE_URL": base}, log):
        wait_http(f"{base}/healthz")
        with httpx.Client(base_url=base, timeout=10) as client:
            client.get("/sandbox/messages", params={"to": MOBILE})
            client.get("/sandbox/messages", params={"to": f"whatsapp:{MOBILE}"})
            client.get("/healthz?n=447700900123&dob=1958-07-03&nhs=9991234567")
    lines = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    access = [line["message"] for line in lines if line["logger"] == "uvicorn.access"]
    assert len(access) >= 4, access
    assert all(message.startswith("127.0.0.1:") for message in access), access
    assert any("/sandbox/messages?to=[redacted]" in message for message in access), access
    assert find_personal_data([log]) == []


def test_the_action_server_logs_redacted_json(sqlite_env, tmp_path):
    (port,) = free_ports(1)
    url = f"http://127.0.0.1:{port}"
    server = start_action_server(port=port, log_dir=tmp_path, env=sqlite_env)
    from tests.conftest import SUITE_LOG_FILES

    SUITE_LOG_FILES.append(server.log_path)
    try:
        wait_for_action_server(server, url=url)
        # An unknown action is logged at ERROR with its name: a name carrying personal data
        # stands for any exception text an action might raise.
        response = httpx.post(f"{url}/webhook", timeout=10,
                              headers={"X-Assistant-Token": ASSISTANT_TOKEN}, json={
            "next_action": f"action_for whatsapp:{MOBILE} born 3/7/1958 nhs 999 123 4567",
            "sender_id": "abc", "tracker": {"sender_id": "abc"}, "domain": {},
            "version": "3.6.21"})
        assert response.status_code == 404
    finally:
        server.stop()
    text = server.log_path.read_text()
    records = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    unknown = [r for r in records if "No registered action" in r["message"]]
    assert unknown and unknown[0]["level"] == "ERROR", text[-2000:]
    assert "[redacted]" in unknown[0]["message"]
    assert find_personal_data([server.log_path]) == []
