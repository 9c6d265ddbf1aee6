"""/healthz, /readyz and /metrics."""

import httpx
import pytest
from fastapi.testclient import TestClient

from api.config import get_settings
from api.main import create_app


@pytest.fixture
def client(monkeypatch, tmp_path):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'health.db'}")
    monkeypatch.setenv("RASA_URL", "http://127.0.0.1:9")  # nothing listens on port 9
    monkeypatch.setenv("ACTION_SERVER_URL", "http://127.0.0.1:9")
    get_settings.cache_clear()
    from api import db

    db.get_engine.cache_clear()
    db.get_sessionmaker.cache_clear()
    yield TestClient(create_app())
    get_settings.cache_clear()
    db.get_engine.cache_clear()
    db.get_sessionmaker.cache_clear()


def test_healthz(client):
    assert client.get("/healthz").json() == {"status": "ok"}


def test_readyz_reports_each_dependency_and_fails_when_rasa_is_down(client):
    response = client.get("/readyz")
    assert response.status_code == 503
    checks = {c["name"]: c for c in response.json()["checks"]}
    assert checks["database"]["ok"] is True
    assert checks["rasa"]["ok"] is False
    assert checks["action_server"]["ok"] is False
    assert "redis" not in checks  # not configured


def test_readyz_checks_redis_when_configured(client, monkeypatch):
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:1/0")
    get_settings.cache_clear()
    checks = {c["name"]: c for c in client.get("/readyz").json()["checks"]}
    assert checks["redis"]["ok"] is False


def test_readyz_is_ready_when_everything_answers(client, monkeypatch):
    from api.system import service

    def fake_get(url, timeout):
        request = httpx.Request("GET", url)
        if url.endswith("/webhooks/rest/ready"):
            return httpx.Response(200, json={"status": "ready"}, request=request)
        return httpx.Response(200, json={"status": "ok"}, request=request)

    monkeypatch.setattr(service.httpx, "get", fake_get)
    response = client.get("/readyz")
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "ready"


def test_database_readiness_ignores_rasa_and_the_action_server(client):
    # Rasa and the action server are down (port 9): the api still takes the webhook.
    response = client.get("/readyz/database")
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "ready"
    assert [c["name"] for c in response.json()["checks"]] == ["database"]


def _unreachable_database(monkeypatch):
    # Nothing listens on port 1: the connection is refused at once.
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://rebook@127.0.0.1:1/rebook")
    get_settings.cache_clear()
    from api import db

    db.get_engine.cache_clear()


def test_database_readiness_fails_when_the_database_does_not_answer(client, monkeypatch):
    _unreachable_database(monkeypatch)
    response = client.get("/readyz/database")
    assert response.status_code == 503
    (check,) = response.json()["checks"]
    assert check["name"] == "database" and check["ok"] is False
    assert "OperationalError" in check["detail"]  # outside production: what failed


def test_production_database_readiness_names_no_connection_details(client, monkeypatch):
    from tests.system.test_deploying_safely import SAFE_PRODUCTION

    for name, value in SAFE_PRODUCTION.items():
        monkeypatch.setenv(name, value)
    _unreachable_database(monkeypatch)
    response = TestClient(create_app()).get("/readyz/database")
    assert response.status_code == 503
    assert response.json()["checks"][0]["detail"] == "unavailable"
    assert "127.0.0.1" not in response.text and "Error" not in response.text


def test_readyz_checks_every_rasa_server_and_is_ready_while_one_answers(client, monkeypatch):
    from api.system import service

    monkeypatch.setenv("RASA_URL", "http://rasa-a:5005, http://rasa-b:5005/")
    get_settings.cache_clear()
    up = {"http://rasa-a:5005"}

    def fake_get(url, timeout):
        request = httpx.Request("GET", url)
        if url.endswith("/webhooks/rest/ready") and url.split("/webhooks")[0] not in up:
            raise httpx.ConnectError("refused", request=request)
        return httpx.Response(200, json={"status": "ok"}, request=request)

    monkeypatch.setattr(service.httpx, "get", fake_get)
    rasa = {c["name"]: c for c in client.get("/readyz").json()["checks"]}["rasa"]
    assert rasa["ok"] is True
    assert rasa["detail"] == "model loaded on 1 of 2; http://rasa-b:5005: ConnectError"
    up.clear()
    rasa = {c["name"]: c for c in client.get("/readyz").json()["checks"]}["rasa"]
    assert rasa["ok"] is False and "rasa-a" in rasa["detail"] and "rasa-b" in rasa["detail"]


def test_metrics_are_prometheus_text(client):
    from prometheus_client.parser import text_string_to_metric_families

    body = client.get("/metrics").text
    assert any(family.name for family in text_string_to_metric_families(body))


def test_metrics_carry_webhook_latency_and_queue_depths(live_client):
    from prometheus_client.parser import text_string_to_metric_families

    from tests.twilio_helpers import inbound_form, post_signed

    post_signed(live_client, inbound_form(from_="+447700900800", body="hi"))
    families = {f.name: f for f in text_string_to_metric_families(live_client.get("/metrics").text)}
    latency = families["rebook_http_request_seconds"]
    routes = {s.labels.get("route") for s in latency.samples}
    assert "/twilio/messages" in routes
    pending = families["rebook_inbound_pending"].samples[0].value
    assert pending == 1
    assert "rebook_outbox_lag_seconds" in families


def test_metrics_carry_dispatcher_and_handover_sla_figures(live_client, live_session_factory,
                                                          live_settings):
    from datetime import timedelta

    from prometheus_client.parser import text_string_to_metric_families

    from api.db import utcnow
    from api.handover.models import Handover, HandoverReason, Urgency
    from api.messaging import outbox
    from api.messaging.models import Channel, MessageStatus

    with live_session_factory() as session:
        sent = outbox.queue_message(session=session, settings=live_settings,
                                    channel=Channel.SMS, to_address="+447700900880",
                                    text="x")
        sent.status, sent.sent_at = MessageStatus.SENT, utcnow()
        failed = outbox.queue_message(session=session, settings=live_settings,
                                      channel=Channel.SMS,
                                      to_address="+447700900881", text="y")
        failed.status, failed.error_code = MessageStatus.FAILED, 30006
        session.add(Handover(reason=HandoverReason.RED_FLAG, urgency=Urgency.URGENT,
                             due_at=utcnow() - timedelta(minutes=1), created_by="safety_screen"))
        session.commit()
    families = {f.name: f for f in text_string_to_metric_families(live_client.get("/metrics").text)}
    assert families["rebook_dispatcher_sent_per_second"].samples[0].value > 0
    errors = {s.labels["code"]: s.value for s in families["rebook_dispatcher_errors_last_hour"].samples}
    assert errors == {"30006": 1}
    sla = {s.labels["urgency"]: s.value for s in families["rebook_handover_sla_breaches"].samples}
    assert sla["urgent"] == 1 and sla["normal"] == 0


def test_worker_exposes_rasa_turn_latency(live_client, live_settings, tmp_path):
    import httpx as http
    from prometheus_client.parser import text_string_to_metric_families

    from tests.fakes.fake_rasa import EchoRasaServer
    from tests.processes import free_port, process_env, running, wait_until
    from tests.twilio_helpers import inbound_form, post_signed

    post_signed(live_client, inbound_form(from_="+447700900882", body="hiya"))
    port = free_port()
    with EchoRasaServer() as rasa, running(["worker", "--metrics-port", str(port)],
                                           process_env(live_settings, RASA_URL=rasa.url),
                                           tmp_path / "worker.log"):
        def turn_recorded():
            try:
                text = http.get(f"http://127.0.0.1:{port}/metrics", timeout=1).text
            except http.HTTPError:
                return False
            families = {f.name: f for f in text_string_to_metric_families(text)}
            count = [s.value for s in families["rebook_rasa_turn_seconds"].samples
                     if s.name.endswith("_count")]
            return count and count[0] >= 1

        wait_until(turn_recorded, timeout=30)


def test_database_readiness_is_answered_while_every_slot_is_taken():
    # A busy replica must stay in the Service: were its probe queued behind the admission
    # limit, every busy replica would leave at once, and the webhook with them.
    import asyncio
    from types import SimpleNamespace

    from api.system.admission import Admission

    async def scenario() -> dict[str, int]:
        release = asyncio.Event()
        answered: dict[str, int] = {}

        async def app(scope, receive, send):
            if scope["path"] == "/slow":
                await release.wait()
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": b""})

        settings = SimpleNamespace(api_threads=4, api_concurrency=1, api_queue_seconds=0.2)
        admission = Admission(app, settings)

        async def call(path: str) -> None:
            async def receive():
                return {"type": "http.request", "body": b""}

            async def send(message):
                if message["type"] == "http.response.start":
                    answered[path] = message["status"]

            scope = {"type": "http", "method": "GET", "path": path, "headers": [],
                     "query_string": b""}
            await admission(scope, receive, send)

        slow = asyncio.create_task(call("/slow"))  # takes the one slot and keeps it
        await asyncio.sleep(0.05)
        await call("/readyz")  # queued, then shed
        await asyncio.wait_for(call("/readyz/database"), timeout=0.1)  # not queued at all
        release.set()
        await slow
        return answered

    assert asyncio.run(scenario()) == {"/readyz": 503, "/readyz/database": 200, "/slow": 200}
