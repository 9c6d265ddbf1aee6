"""Working a handover to the end from its page: find an unidentified patient, record how
identity was checked, see their appointments and slots, book (confirmed to their recorded
contact), send the held slots as options, and the identity banner that follows the state."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from api.audit.models import AuditEvent
from api.conversations.models import Conversation
from api.conversations.service import facts_of
from api.handover import service as handover_service
from api.handover.models import HandoverReason, HandoverStatus, Urgency
from api.messaging.models import Channel, Direction, Message, MessageCategory
from api.staff.models import Role
from tests.console.test_console import csrf_of, sign_in
from tests.handover.helpers import Desk, inbound


@pytest.fixture
def desk(db_session):
    return Desk(db_session)


def unidentified_case(desk: Desk, *, address: str = "+447700911222"):
    """A patient with a postponed appointment, and a case opened while the assistant was
    unavailable from a number that is not theirs: nobody knows who wrote."""
    handover, patient, appointment, conversation = desk.patient_case(
        given_name="Grace", family_name="Adeyemi", date_of_birth=date(1961, 4, 9))
    handover.status = HandoverStatus.RESOLVED  # the helper's own case is out of the way
    stranger = Conversation(channel=Channel.SMS, address=address)
    desk.session.add(stranger)
    desk.session.flush()
    inbound(desk.session, stranger, "hello is anyone there about my skin clinic")
    case = handover_service.open_handover(
        session=desk.session, settings=desk.settings, reason=HandoverReason.ASSISTANT_UNAVAILABLE,
        urgency=Urgency.HIGH, created_by="gateway", summary="The assistant was unavailable.",
        conversation=facts_of(stranger))
    desk.session.flush()
    return case, patient, appointment, stranger


def actions(session, handover_id=None) -> list[str]:
    query = select(AuditEvent.action).order_by(AuditEvent.id)
    if handover_id is not None:
        query = query.where(AuditEvent.object_id == str(handover_id))
    return list(session.scalars(query))


def find(client, case, **criteria):
    return client.get(f"/console/handovers/{case.id}/find-patient", params=criteria)


def identify(client, case, patient, check="dob_postcode_phone", on_number=False):
    page = client.get(f"/console/handovers/{case.id}")
    data = {"csrf_token": csrf_of(page.text), "patient_id": patient.id, "check": check}
    if on_number:
        data["on_number"] = "yes"
    return client.post(f"/console/handovers/{case.id}/identify", data=data,
                       follow_redirects=False)


def post(client, case, action, **data):
    page = client.get(f"/console/handovers/{case.id}")
    return client.post(f"/console/handovers/{case.id}/{action}",
                       data={"csrf_token": csrf_of(page.text)} | data, follow_redirects=False)


def test_an_unidentified_case_can_search_the_register(api_client, desk, db_session):
    case, patient, *_ = unidentified_case(desk)
    sign_in(api_client, "t.clerk")
    page = api_client.get(f"/console/handovers/{case.id}")
    assert "Patient not identified" in page.text and 'label for="find-nhs"' in page.text
    by_nhs = find(api_client, case, nhs_number=f"{patient.nhs_number[:3]} "
                                                 f"{patient.nhs_number[3:]}")
    assert by_nhs.status_code == 200 and "Grace Adeyemi" in by_nhs.text
    by_name = find(api_client, case, family_name="adeyemi", date_of_birth="09/04/1961")
    assert "Grace Adeyemi" in by_name.text and "1 match" in by_name.text
    by_phone = find(api_client, case, phone="0" + patient.mobile[3:])
    assert "Grace Adeyemi" in by_phone.text
    nobody = find(api_client, case, family_name="adeyemi", date_of_birth="10/04/1961")
    assert "0 matches" in nobody.text and "Grace Adeyemi" not in nobody.text
    searches = db_session.scalars(select(AuditEvent).where(
        AuditEvent.action == "search_patients").order_by(AuditEvent.id)).all()
    assert len(searches) == 4
    # Which fields were used and whose details the search showed; never the values typed.
    assert searches[1].details == {"fields": ["family_name", "date_of_birth"], "matches": 1,
                                   "patient_ids": [patient.id], "patient_count": 1}
    assert searches[3].details["patient_ids"] == []


@pytest.mark.parametrize(("criteria", "reason"), [
    ({"date_of_birth": "31/02/1980", "family_name": "Adeyemi"}, "31/02/1980 is not a real date"),
    ({"date_of_birth": "31/02", "family_name": "Adeyemi"}, "day/month/year"),
    ({"nhs_number": "1234567890"}, "not a valid NHS number"),
    ({"family_name": "Adeyemi"}, "by family name and date of birth"),
    ({"phone": "hello"}, "not a phone number"),
])
def test_a_search_that_cannot_run_says_why(api_client, desk, criteria, reason):
    case, *_ = unidentified_case(desk)
    sign_in(api_client, "t.clerk")
    response = find(api_client, case, **criteria)
    assert response.status_code == 422 and reason in response.text


def test_linking_records_the_check_without_verifying_the_conversation(api_client, desk,
                                                                       db_session):
    case, patient, appointment, stranger = unidentified_case(desk)
    sign_in(api_client, "t.clerk")
    assert identify(api_client, case, patient, check="guessed").status_code == 422
    assert identify(api_client, case, patient, check="in_person",
                    on_number=True).status_code == 422
    response = identify(api_client, case, patient)
    assert response.status_code == 303
    db_session.refresh(case)
    assert case.patient_id == patient.id and case.identity_check == "dob_postcode_phone"
    assert case.identity_checked_by == desk.users[Role.CLERK].id
    db_session.refresh(stranger)
    assert stranger.verified_as() is None  # the assistant still does not know who writes
    event = db_session.scalars(select(AuditEvent).where(
        AuditEvent.action == "identify_patient")).one()
    assert event.patient_id == patient.id and event.details["on_conversation_number"] is False
    page = api_client.get(f"/console/handovers/{case.id}")
    assert "Identity not verified" not in page.text and "Patient not identified" not in page.text
    assert "Checked: Date of birth and postcode, by phone" in page.text
    assert "Identified by " + desk.users[Role.CLERK].display_name in case.summary
    assert "Dermatology" in page.text and "Find slots" in page.text  # appointments appear
    # The staff API tells the same: checked by staff, how, and not opted out.
    case_file = api_client.get(f"/api/v1/handovers/{case.id}",
                               headers=desk.auth(Role.CLERK)).json()
    assert case_file["identity"] == "checked" and not case_file["identity_verified"]
    assert case_file["identity_check"] == "Date of birth and postcode, by phone"
    assert case_file["patient"]["opted_out"] is False


def test_a_check_with_the_person_on_the_number_verifies_the_conversation(api_client, desk,
                                                                        db_session):
    case, patient, _, stranger = unidentified_case(desk)
    sign_in(api_client, "t.clerk")
    assert identify(api_client, case, patient, check="nhs_number_dob",
                    on_number=True).status_code == 303
    db_session.refresh(stranger)
    assert stranger.verified_as() == patient.id


def test_slots_show_where_and_until_when_and_booking_confirms_to_the_patients_mobile(
        api_client, desk, db_session):
    case, patient, appointment, stranger = unidentified_case(desk)
    sign_in(api_client, "t.clerk")
    identify(api_client, case, patient)
    assert post(api_client, case, "slots", appointment_id=appointment.id).status_code == 303
    page = api_client.get(f"/console/handovers/{case.id}")
    assert "Held until" in page.text and desk.site.name in page.text
    assert "Dermatology clinic" in page.text and "Send these options" in page.text
    offer_id = int(page.text.split('name="offer_id" value="')[1].split('"')[0])
    assert post(api_client, case, "book", offer_id=offer_id).headers[
        "location"].endswith("done=booked")
    confirmation = db_session.scalars(select(Message).where(
        Message.idempotency_key == f"confirm:offer:{offer_id}")).one()
    # Not the stranger's number the case came from: the patient's recorded mobile.
    assert confirmation.to_address == patient.mobile and confirmation.channel is Channel.SMS
    assert confirmation.category is MessageCategory.SERVICE
    assert "book_slot" in actions(db_session, case.id)


def test_send_these_options_offers_the_held_slots_as_numbered_choices(api_client, desk,
                                                                      db_session):
    handover, patient, appointment, conversation = desk.patient_case()
    sign_in(api_client, "t.clerk")
    assert post(api_client, handover, "send-options").status_code == 409  # nothing held yet
    post(api_client, handover, "slots", appointment_id=appointment.id)
    response = post(api_client, handover, "send-options")
    assert response.headers["location"].endswith("done=options")
    sent = db_session.scalars(select(Message).where(
        Message.category == MessageCategory.STAFF_REPLY)).one()
    assert sent.to_address == conversation.address and sent.conversation_id == conversation.id
    assert "holding these dates for you until" in sent.body
    assert "\n1. " in sent.body and "\n3. " in sent.body
    event = db_session.scalars(select(AuditEvent).where(
        AuditEvent.action == "send_options")).one()
    assert event.details["message_id"] == sent.id and len(event.details["offer_ids"]) == 3


def test_an_opted_out_patient_is_shown_and_offered_a_call(api_client, desk, db_session):
    handover, patient, appointment, conversation = desk.patient_case()
    patient.opted_out = True
    db_session.flush()
    sign_in(api_client, "t.clerk")
    page = api_client.get(f"/console/handovers/{handover.id}")
    assert "This number has opted out of messages" in page.text
    assert 'id="reply-text"' not in page.text and "Send template" not in page.text
    assert "call them instead" in page.text
    assert post(api_client, handover, "reply", text="Hello").status_code == 409
    post(api_client, handover, "slots", appointment_id=appointment.id)
    page = api_client.get(f"/console/handovers/{handover.id}")
    assert "Send these options" not in page.text
    offer_id = int(page.text.split('name="offer_id" value="')[1].split('"')[0])
    # Booked, but no confirmation goes to an opted-out number: staff tell the patient.
    assert post(api_client, handover, "book", offer_id=offer_id).headers[
        "location"].endswith("done=booked_untold")
    assert db_session.scalars(select(Message).where(
        Message.direction == Direction.OUTBOUND)).all() == []


def test_the_identity_banner_follows_the_state(api_client, desk, db_session):
    handover, patient, _, conversation = desk.patient_case()
    conversation.verified_until = None  # the check ran out
    db_session.flush()
    sign_in(api_client, "t.clerk")
    assert "Identity not verified" in api_client.get(f"/console/handovers/{handover.id}").text
    assert post(api_client, handover, "resolve", outcome="hand_back").status_code == 303
    assert "Identity not verified" not in api_client.get(
        f"/console/handovers/{handover.id}").text


def test_the_patient_search_api(api_client, desk, db_session):
    _, patient, *_ = unidentified_case(desk)
    response = api_client.get("/api/v1/patients", headers=desk.auth(Role.CLERK),
                              params={"family_name": "ADEYEMI", "date_of_birth": "1961-04-09"})
    assert response.status_code == 200
    assert [p["id"] for p in response.json()] == [patient.id]
    assert response.json()[0]["nhs_number"] == patient.nhs_number
    refused = api_client.get("/api/v1/patients", headers=desk.auth(Role.CLERK),
                             params={"date_of_birth": "31/02/1980", "family_name": "x"})
    assert refused.status_code == 422 and "not a real date" in refused.json()["detail"]
    assert api_client.get("/api/v1/patients", params={"phone": patient.mobile}).status_code == 401
    assert "search_patients" in actions(db_session)


def test_the_search_api_is_documented():
    from api.main import create_app
    from tests.conftest import clear_app_caches

    operation = create_app().openapi()["paths"]["/api/v1/patients"]["get"]
    clear_app_caches()
    assert {"401", "403", "422"} <= set(operation["responses"])
