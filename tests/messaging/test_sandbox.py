"""The sandbox phone: a demo patient's message goes through the real signed webhook."""

from sqlalchemy import select

from api.messaging.models import Direction, Message
from tests.factories import make_patient


def test_phone_page_lists_demo_patients(live_client, live_session_factory):
    with live_session_factory() as session:
        make_patient(session, given_name="Priya", mobile="+447700900950")
        session.commit()
    page = live_client.get("/sandbox")
    assert page.status_code == 200
    assert "Priya" in page.text and "+447700900950" in page.text


def test_send_posts_a_signed_message_to_the_webhook(live_client, live_session_factory):
    response = live_client.post("/sandbox/send", json={"mobile": "+447700900951",
                                                       "channel": "whatsapp", "body": "hiya"})
    assert response.status_code == 202
    with live_session_factory() as session:
        message = session.scalars(select(Message)).one()
    assert message.direction is Direction.INBOUND
    assert message.from_address == "whatsapp:+447700900951"
    thread = live_client.get("/sandbox/thread", params={"address": "whatsapp:+447700900951"})
    assert [m["body"] for m in thread.json()] == ["hiya"]


def test_send_rejects_empty_and_overlong_bodies(live_client):
    assert live_client.post("/sandbox/send", json={"mobile": "+447700900951",
                                                   "body": ""}).status_code == 422
    assert live_client.post("/sandbox/send", json={"mobile": "+447700900951",
                                                   "body": "x" * 1601}).status_code == 422


def test_sandbox_is_not_mounted_in_twilio_mode(monkeypatch, live_settings):
    from fastapi.testclient import TestClient

    from api.config import get_settings
    from api.main import create_app

    monkeypatch.setenv("MESSAGING_MODE", "twilio")
    monkeypatch.setenv("TWILIO_ACCOUNT_SID", "ACtest")
    get_settings.cache_clear()
    try:
        with TestClient(create_app()) as client:
            response = client.get("/sandbox/messages", params={"to": "+447700900951"})
            assert response.status_code == 404
    finally:
        monkeypatch.setenv("MESSAGING_MODE", "sandbox")
        get_settings.cache_clear()


def test_thread_shows_each_message_in_london_time(live_client, live_session_factory):
    from datetime import UTC, datetime

    from api.messaging.models import Channel, MessageCategory, MessageStatus

    with live_session_factory() as session:
        for moment in (datetime(2026, 7, 1, 9, 5, tzinfo=UTC),  # British Summer Time
                       datetime(2026, 12, 1, 9, 5, tzinfo=UTC)):
            session.add(Message(direction=Direction.INBOUND, channel=Channel.SMS,
                                from_address="+447700900952", to_address="+447700900000",
                                body="hiya", status=MessageStatus.PROCESSED,
                                category=MessageCategory.PATIENT, created_at=moment))
        session.commit()
    thread = live_client.get("/sandbox/thread", params={"address": "+447700900952"}).json()
    assert [m["shown_at"] for m in thread] == ["Wed 01 Jul, 10:05", "Tue 01 Dec, 09:05"]


def test_phone_page_runs_under_a_strict_policy(live_client):
    page = live_client.get("/sandbox")
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert "<script>" not in page.text and "style=" not in page.text
    assert '<main>' in page.text and 'role="log"' in page.text and 'tabindex="0"' in page.text
    script = live_client.get("/sandbox/static/sandbox.js")
    assert script.status_code == 200 and "text/javascript" in script.headers["content-type"]
    assert live_client.get("/sandbox/static/sandbox.css").status_code == 200
    assert live_client.get("/sandbox/static/..%2Fsandbox.py").status_code == 404
