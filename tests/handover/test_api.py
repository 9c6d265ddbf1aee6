"""The handover JSON API: every operation for every role, forbidden cases, no guessable ids."""

import pytest

from api.audit.models import AuditEvent
from api.handover.models import HandoverReason, Urgency
from api.messaging.models import Channel, Direction, Message, MessageCategory
from api.staff.models import Role
from tests.handover.helpers import Desk

WORKERS = [Role.CLERK, Role.CLINICIAN, Role.ADMIN]


@pytest.fixture
def desk(db_session):
    return Desk(db_session)


def _routes(handover_id: int) -> list[tuple[str, str, dict | None]]:
    return [
        ("GET", "/api/v1/handovers", None),
        ("POST", "/api/v1/handovers", {"reason": "complaint", "patient_id": 1}),
        ("GET", f"/api/v1/handovers/{handover_id}", None),
        ("POST", f"/api/v1/handovers/{handover_id}/claim", None),
        ("POST", f"/api/v1/handovers/{handover_id}/status", {"status": "claimed"}),
        ("POST", f"/api/v1/handovers/{handover_id}/notes", {"text": "hello"}),
        ("POST", f"/api/v1/handovers/{handover_id}/reply", {"text": "hello"}),
        ("POST", f"/api/v1/handovers/{handover_id}/slots", {"appointment_id": 1}),
        ("POST", f"/api/v1/handovers/{handover_id}/book", {"offer_id": 1}),
        ("POST", f"/api/v1/handovers/{handover_id}/resolve", {"outcome": "close"}),
        ("GET", "/api/v1/audit", None),
    ]


def test_every_route_needs_authentication_and_does_not_leak_ids(api_client, desk):
    handover, *_ = desk.patient_case()
    for handover_id in (handover.id, handover.id + 999_999):
        for method, path, body in _routes(handover_id):
            for headers in ({}, {"Authorization": "Bearer rbk_guess_guess"},
                            {"Cookie": "rebook_session=forged.value.here"}):
                response = api_client.request(method, path, json=body, headers=headers)
                assert response.status_code == 401, (method, path, headers)
                assert "Dermatology" not in response.text


def test_unknown_ids_are_404_for_staff(api_client, desk):
    headers = desk.auth(Role.CLERK)
    for method, path, body in _routes(10**8)[2:10]:
        assert api_client.request(method, path, json=body, headers=headers).status_code == 404


@pytest.mark.parametrize("role", WORKERS)
def test_every_role_works_the_queue(api_client, desk, db_session, role):
    handover, patient, appointment, conversation = desk.patient_case()
    headers = desk.auth(role)
    user = desk.users[role]

    listed = api_client.get("/api/v1/handovers", headers=headers)
    assert listed.status_code == 200 and [h["id"] for h in listed.json()] == [handover.id]

    case = api_client.get(f"/api/v1/handovers/{handover.id}", headers=headers).json()
    assert case["patient"]["id"] == patient.id and case["identity_verified"]
    assert case["identity"] == "verified" and case["identity_check"] is None
    assert case["transcript"][0]["body"] == "Can I speak to a person please"
    assert case["appointments"][0]["explanation"]
    assert case["reply_channel"] == "sms" and case["free_text_allowed"]

    claimed = api_client.post(f"/api/v1/handovers/{handover.id}/claim", headers=headers).json()
    assert claimed["status"] == "claimed" and claimed["assignee_id"] == user.id
    waiting = api_client.post(f"/api/v1/handovers/{handover.id}/status", headers=headers,
                              json={"status": "waiting_for_patient"})
    assert waiting.json()["status"] == "waiting_for_patient"
    assert api_client.post(f"/api/v1/handovers/{handover.id}/status", headers=headers,
                           json={"status": "resolved"}).status_code == 422
    note = api_client.post(f"/api/v1/handovers/{handover.id}/notes", headers=headers,
                           json={"text": "Rang back, no answer"})
    assert note.status_code == 201 and note.json()["actor"] == f"staff:{user.id}"
    assert note.json()["author_name"] == user.display_name
    case = api_client.get(f"/api/v1/handovers/{handover.id}", headers=headers).json()
    assert [n["author_name"] for n in case["notes"]][-1:] == [user.display_name]

    sent = api_client.post(f"/api/v1/handovers/{handover.id}/reply", headers=headers,
                           json={"text": "Hello from the bookings team"})
    assert sent.status_code == 202
    message = db_session.get(Message, sent.json()["message_id"])
    assert message.direction is Direction.OUTBOUND and message.to_address == patient.mobile
    assert message.category is MessageCategory.STAFF_REPLY

    slots = api_client.post(f"/api/v1/handovers/{handover.id}/slots", headers=headers,
                            json={"appointment_id": appointment.id})
    assert slots.status_code == 200 and 1 <= len(slots.json()) <= 3
    offer_id = slots.json()[0]["offer_id"]
    booked = api_client.post(f"/api/v1/handovers/{handover.id}/book", headers=headers,
                             json={"offer_id": offer_id})
    assert booked.status_code == 200 and booked.json()["status"] == "rebooked"
    assert api_client.post(f"/api/v1/handovers/{handover.id}/book", headers=headers,
                           json={"offer_id": offer_id}).status_code == 409

    resolved = api_client.post(f"/api/v1/handovers/{handover.id}/resolve", headers=headers,
                               json={"outcome": "hand_back", "note": "Booked"})
    assert resolved.json()["status"] == "resolved"
    assert resolved.json()["resolution"] == "handed_back"
    assert api_client.post(f"/api/v1/handovers/{handover.id}/reply", headers=headers,
                           json={"text": "late"}).status_code == 409

    actions = {e.action for e in db_session.query(AuditEvent).filter_by(
        actor=f"staff:{user.id}")}
    assert {"view_queue", "view_handover", "claim_handover", "set_handover_status", "add_note",
            "send_reply", "find_slots", "book_slot", "resolve_handover"} <= actions


@pytest.mark.parametrize("role", WORKERS)
def test_staff_open_handovers(api_client, desk, role):
    _, patient, *_ = desk.patient_case()
    created = api_client.post("/api/v1/handovers", headers=desk.auth(role), json={
        "reason": "communication_needs", "urgency": "high", "patient_id": patient.id,
        "note": "Needs a BSL interpreter"})
    assert created.status_code == 201
    assert created.json()["created_by"] == "staff"
    assert "BSL" in created.json()["summary"]
    missing = api_client.post("/api/v1/handovers", headers=desk.auth(role),
                              json={"reason": "complaint", "patient_id": 10**8})
    assert missing.status_code == 404


@pytest.mark.parametrize(("role", "allowed"),
                         [(Role.CLERK, False), (Role.CLINICIAN, False), (Role.ADMIN, True)])
def test_only_admins_read_the_audit_log(api_client, desk, role, allowed):
    desk.patient_case()
    response = api_client.get("/api/v1/audit", headers=desk.auth(role))
    assert response.status_code == (200 if allowed else 403)
    if allowed:
        assert any(e["action"] == "view_audit" for e in
                   api_client.get("/api/v1/audit", headers=desk.auth(role)).json())


@pytest.mark.parametrize(("role", "status"),
                         [(Role.CLERK, 403), (Role.CLINICIAN, 200), (Role.ADMIN, 200)])
def test_clinical_review_is_resolved_by_clinicians(api_client, desk, role, status):
    handover, *_ = desk.patient_case(reason=HandoverReason.CLINICAL_REVIEW,
                                     urgency=Urgency.NORMAL)
    response = api_client.post(f"/api/v1/handovers/{handover.id}/resolve",
                               headers=desk.auth(role), json={"outcome": "close"})
    assert response.status_code == status


def test_another_patients_appointment_or_offer_is_unreachable(api_client, desk):
    handover, *_ = desk.patient_case()
    other, _, other_appointment, _ = desk.patient_case()
    headers = desk.auth(Role.CLERK)
    assert api_client.post(f"/api/v1/handovers/{handover.id}/slots", headers=headers,
                           json={"appointment_id": other_appointment.id}).status_code == 404
    offers = api_client.post(f"/api/v1/handovers/{other.id}/slots", headers=headers,
                             json={"appointment_id": other_appointment.id}).json()
    assert api_client.post(f"/api/v1/handovers/{handover.id}/book", headers=headers,
                           json={"offer_id": offers[0]["offer_id"]}).status_code == 404


def test_whatsapp_outside_the_window_needs_a_template(api_client, desk, db_session):
    from datetime import timedelta

    from api.db import utcnow

    handover, _, _, conversation = desk.patient_case(
        channel=Channel.WHATSAPP)
    for message in db_session.query(Message).filter_by(conversation_id=conversation.id):
        message.created_at = utcnow() - timedelta(days=2)
    db_session.flush()
    headers = desk.auth(Role.CLERK)
    case = api_client.get(f"/api/v1/handovers/{handover.id}", headers=headers).json()
    assert case["free_text_allowed"] is False and "please_call" in case["templates"]
    refused = api_client.post(f"/api/v1/handovers/{handover.id}/reply", headers=headers,
                              json={"text": "Hi"})
    assert refused.status_code == 409 and "template" in refused.json()["detail"]
    sent = api_client.post(f"/api/v1/handovers/{handover.id}/reply", headers=headers,
                           json={"template": "please_call"})
    assert sent.status_code == 202
    assert db_session.get(Message, sent.json()["message_id"]).content_sid


def test_api_documented_in_openapi(api_client):
    paths = api_client.get("/openapi.json").json()["paths"]
    for path in ("/api/v1/handovers", "/api/v1/handovers/{handover_id}",
                 "/api/v1/handovers/{handover_id}/reply", "/api/v1/handovers/{handover_id}/book",
                 "/api/v1/handovers/{handover_id}/resolve", "/api/v1/audit"):
        assert path in paths
    assert not any(p.startswith("/console") for p in paths)


def test_the_patients_side_cannot_reach_staff_routes(api_client, desk):
    """Twilio's signed webhooks and the sandbox phone carry no staff credential."""
    handover, *_ = desk.patient_case()
    twilio_like = {"X-Twilio-Signature": "c2lnbmF0dXJl",
                   "Content-Type": "application/x-www-form-urlencoded"}
    for path in ("/api/v1/handovers", f"/api/v1/handovers/{handover.id}", "/api/v1/audit"):
        assert api_client.get(path, headers=twilio_like).status_code == 401
    assert api_client.post(f"/api/v1/handovers/{handover.id}/reply", headers=twilio_like,
                           content="Body=hi&From=%2B447700900123").status_code == 401
    # Nothing under the patient-facing prefixes is a staff operation.
    paths = api_client.get("/openapi.json").json()["paths"]
    patient_side = [p for p in paths if p.startswith(("/twilio", "/sandbox"))]
    assert patient_side and not any("handover" in p or "audit" in p for p in patient_side)
