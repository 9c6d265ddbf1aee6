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
