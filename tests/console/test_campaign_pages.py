"""Campaign pages in the console: roles, CSRF, the create form's validation, the preview,
send/pause/resume/cancel, the true status on the list, 0 recipients, the call list's outcomes."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from api.appointments import service as appointments_service
from api.appointments.models import AppointmentStatus
from api.audit.models import AuditEvent
from api.campaigns import service as campaigns_service
from api.campaigns import tracking
from api.campaigns.models import (
    CallOutcome,
    Campaign,
    CampaignRecipient,
    CampaignStatus,
    RecipientRoute,
)
from api.config import Settings
from api.db import utcnow
from api.messaging.models import Message, MessageStatus
from api.scheduling.models import Disruption
from tests.console.test_console import csrf_of, sign_in
from tests.factories import make_appointment, make_patient
from tests.handover.helpers import Desk

TEMPLATE = "{trust_name}: your appointment has moved. Reply to choose a new date."
OPEN_WINDOW = Settings(environment="test", send_window_start="00:00",
                       send_window_end="23:59:59.999999")


@pytest.fixture
def strike(db_session):
    """Staff of each role; a disruption with 3 textable patients and 2 to phone."""
    desk = Desk(db_session, prefix="camp")
    disruption = Disruption(name="March strike", starts_at=utcnow(),
                            ends_at=utcnow() + timedelta(days=3), staff_group="resident doctors")
    db_session.add(disruption)
    db_session.flush()
    patients = [make_patient(db_session) for _ in range(3)] + [
        make_patient(db_session, given_name="Noor", mobile=None, email=None),
        make_patient(db_session, given_name="Olu", opted_out=True)]
    for patient in patients:
        appointment = make_appointment(db_session, patient=patient, specialty=desk.specialty,
                                       site_id=desk.site.id)
        appointments_service.change_status(session=db_session, appointment=appointment,
                                           to_status=AppointmentStatus.POSTPONED,
                                           reason="industrial action", actor="system")
        appointment.disruption_id = disruption.id
    db_session.commit()
    return desk, disruption


def _form(page_text: str, disruption, **overrides) -> dict:
    return {"csrf_token": csrf_of(page_text), "name": "Strike notice",
            "disruption_id": str(disruption.id), "sms_template": TEMPLATE} | overrides


def _create(client, disruption, **overrides):
    page = client.get("/console/campaigns/new")
    return client.post("/console/campaigns", data=_form(page.text, disruption, **overrides),
                       follow_redirects=False)


def _post(client, path: str, **data):
    page = client.get("/console/campaigns")
    return client.post(path, data={"csrf_token": csrf_of(page.text), **data},
                       follow_redirects=False)


def _actions(db_session, action: str) -> list[AuditEvent]:
    return list(db_session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def test_a_clerk_creates_previews_and_sends(api_client, strike, db_session):
    desk, disruption = strike
    sign_in(api_client, "camp.clerk")
    form = api_client.get("/console/campaigns/new")
    assert form.status_code == 200
    assert 'maxlength="640"' in form.text and "/console/static/campaigns.js" in form.text
    assert "reply STOP" in form.text and desk.specialty.name in form.text  # rules, filters
    created = _create(api_client, disruption, specialties=desk.specialty.code)
    assert created.status_code == 303
    campaign = db_session.scalars(select(Campaign)).one()
    assert campaign.filters == {"specialties": [desk.specialty.code]}
    assert created.headers["location"] == f"/console/campaigns/{campaign.id}/preview"

    preview = api_client.get(created.headers["location"])
    assert preview.status_code == 200
    assert "Opted out of text messages" in preview.text and "Noor" in preview.text
    assert 'id="total-segments">3 segments' in preview.text  # 3 texts x 1 segment
    viewed = _actions(db_session, "preview_campaign")[-1]
    assert viewed.details["patient_count"] == 2  # the call list shown is audited

    sent = _post(api_client, f"/console/campaigns/{campaign.id}/send")
    assert sent.status_code == 303 and sent.headers["location"].endswith("?done=sent")
    db_session.refresh(campaign)
    assert campaign.status is CampaignStatus.SENDING
    assert _actions(db_session, "send_campaign")[-1].actor == desk.users["clerk"].audit_actor
    page = api_client.get(sent.headers["location"])
    assert "Campaign sent" in page.text and 'value="3"' in page.text  # 3 waiting to go
    live = api_client.get(f"/console/campaigns/{campaign.id}/live")
    assert live.status_code == 200 and 'data-status="sending"' in live.text
    assert "<html" not in live.text  # a fragment, for campaigns.js
    assert 'http-equiv="refresh"' not in page.text


def test_pause_resume_cancel_are_audited(api_client, strike, db_session):
    _, disruption = strike
    sign_in(api_client, "camp.admin")
    _create(api_client, disruption)
    campaign = db_session.scalars(select(Campaign)).one()
    base = f"/console/campaigns/{campaign.id}"
    assert _post(api_client, f"{base}/send").status_code == 303
    for verb, state, action in (("pause", CampaignStatus.PAUSED, "pause_campaign"),
                                ("resume", CampaignStatus.SENDING, "resume_campaign"),
                                ("cancel", CampaignStatus.CANCELLED, "cancel_campaign")):
        response = _post(api_client, f"{base}/{verb}")
        assert response.status_code == 303, verb
        db_session.refresh(campaign)
        assert campaign.status is state
        assert _actions(db_session, action)
    again = _post(api_client, f"{base}/pause")  # refused, in words, on the page
    assert again.status_code == 409 and "There is a problem" in again.text
    assert _post(api_client, f"{base}/explode").status_code == 404


def test_roles_and_csrf(api_client, strike, db_session):
    _, disruption = strike
    campaign = campaigns_service.create(session=db_session, name="Notice",
                                        disruption_id=disruption.id, sms_template=TEMPLATE)
    db_session.commit()
    base = f"/console/campaigns/{campaign.id}"
    sign_in(api_client, "camp.clinician")
    assert api_client.get("/console/campaigns").status_code == 200  # may follow progress
    assert api_client.get(base).status_code == 200
    assert "Send campaign" not in api_client.get(base).text
    for path in ("/console/campaigns/new", f"{base}/preview", f"{base}/calls"):
        assert api_client.get(path).status_code == 403, path
    for path in (f"{base}/send", f"{base}/cancel", "/console/campaigns"):
        assert _post(api_client, path, name="x").status_code == 403, path
    db_session.refresh(campaign)
    assert campaign.status is CampaignStatus.DRAFT
    sign_in(api_client, "camp.clerk")
    forged = api_client.post(f"{base}/send", data={"csrf_token": "forged"},
                             follow_redirects=False)
    assert forged.status_code == 403
    api_client.cookies.clear()
    assert api_client.post(f"{base}/send", data={"csrf_token": "x"},
                           follow_redirects=False).status_code == 401
    assert api_client.get(base, follow_redirects=False).status_code == 303


def test_validation_errors_keep_what_was_entered(api_client, strike, db_session):
    desk, disruption = strike
    sign_in(api_client, "camp.clerk")
    too_long = _create(api_client, disruption, sms_template="a" * 641, name="Kept name",
                       specialties=desk.specialty.code)
    assert too_long.status_code == 422
    assert "Message: at most 640 characters." in too_long.text
    assert 'value="Kept name"' in too_long.text and "a" * 641 in too_long.text
    assert f'value="{desk.specialty.code}" aria-describedby="specialties-hint" checked' \
        in too_long.text
    for template, words in (("Hello {name}", "first messages carry no personal"),
                            ("Reply STOP to end", "Never ask patients to &#34;reply STOP&#34;"),
                            ("Hi {", "Curly brackets")):
        refused = _create(api_client, disruption, sms_template=template)
        assert refused.status_code == 422 and words in refused.text, template
    missing = _create(api_client, disruption, disruption_id="")
    assert missing.status_code == 422 and "choose the disruption" in missing.text
    assert db_session.scalars(select(Campaign)).all() == []


def test_zero_recipients_are_warned_and_not_sent(api_client, strike, db_session):
    _, disruption = strike
    sign_in(api_client, "camp.clerk")
    _create(api_client, disruption, priorities="P1a")  # nobody has a P1a appointment
    campaign = db_session.scalars(select(Campaign)).one()
    preview = api_client.get(f"/console/campaigns/{campaign.id}/preview")
    assert "Nobody to send to" in preview.text and "Send campaign" not in preview.text
    refused = _post(api_client, f"/console/campaigns/{campaign.id}/send")
    assert refused.status_code == 409 and "nobody to send to" in refused.text.lower()
    api = api_client.post(f"/api/v1/campaigns/{campaign.id}/send",
                          headers=strike[0].auth("clerk"))
    assert api.status_code == 409 and "nobody to send to" in api.json()["detail"]
    db_session.refresh(campaign)
    assert campaign.status is CampaignStatus.DRAFT and campaign.started_at is None
    assert not _actions(db_session, "send_campaign")


def _sent(db_session, disruption) -> Campaign:
    campaign = campaigns_service.create(session=db_session, name="Notice",
                                        disruption_id=disruption.id, sms_template=TEMPLATE)
    for _ in campaigns_service.send(session=db_session, campaign_id=campaign.id,
                                    settings=OPEN_WINDOW):
        pass
    db_session.commit()
    return campaign


def test_list_shows_the_true_status(api_client, strike, db_session):
    """The bug: the stored status said "sending" until the scheduler's job ran, after every
    message had gone; the list read the column. Now every reader asks tracking.status_of."""
    _, disruption = strike
    campaign = _sent(db_session, disruption)
    for message in db_session.scalars(select(Message)):
        message.status = MessageStatus.DELIVERED  # the dispatcher sent everything
    db_session.commit()
    assert campaign.status is CampaignStatus.SENDING  # the job has not run yet
    sign_in(api_client, "camp.clerk")
    row = api_client.get("/console/campaigns").text.split(f'data-campaign-id="{campaign.id}"')[1]
    assert "completed" in row.split("</tr>")[0]
    assert 'data-status="completed"' in api_client.get(f"/console/campaigns/{campaign.id}").text
    api = api_client.get("/api/v1/campaigns", headers=strike[0].auth("clerk")).json()
    assert api[0]["status"] == "completed"


def test_a_campaign_is_not_completed_between_its_batches(db_session, strike):
    """The scheduler's job counted only the outbox, so a send between batches (recipients
    enrolled, none queued yet) looked finished and was marked completed."""
    _, disruption = strike
    campaign = campaigns_service.create(session=db_session, name="Notice",
                                        disruption_id=disruption.id, sms_template=TEMPLATE)
    steps = campaigns_service.send(session=db_session, campaign_id=campaign.id,
                                   settings=OPEN_WINDOW, batch_size=1)
    next(steps)  # recipients enrolled, nothing queued yet
    assert tracking.status_of(db_session, campaign) is CampaignStatus.SENDING
    assert not campaigns_service.finish_if_done(session=db_session, campaign_id=campaign.id)
    for _ in steps:
        pass
    assert not campaigns_service.finish_if_done(session=db_session, campaign_id=campaign.id)
    db_session.execute(Message.__table__.update().values(status=MessageStatus.SENT))
    assert campaigns_service.finish_if_done(session=db_session, campaign_id=campaign.id)


def test_the_call_list_records_each_calls_outcome(api_client, strike, db_session):
    desk, disruption = strike
    campaign = _sent(db_session, disruption)
    sign_in(api_client, "camp.clerk")
    page = api_client.get(f"/console/campaigns/{campaign.id}/calls")
    assert page.status_code == 200
    assert "No mobile number or email address" in page.text and "Opted out" in page.text
    assert _actions(db_session, "view_call_list")[-1].details["patient_count"] == 2
    recipient = db_session.scalars(select(CampaignRecipient).where(
        CampaignRecipient.route == RecipientRoute.CALL_LIST)).first()
    path = f"/console/campaigns/{campaign.id}/calls/{recipient.id}"
    done = _post(api_client, path, outcome="left_message")
    assert done.status_code == 303
    db_session.refresh(recipient)
    assert recipient.call_outcome is CallOutcome.LEFT_MESSAGE
    assert recipient.called_by == desk.users["clerk"].audit_actor
    event = _actions(db_session, "record_call_outcome")[-1]
    assert event.patient_id == recipient.patient_id and event.details["outcome"] == "left_message"
    assert "Called: left a message" in api_client.get(done.headers["location"]).text
    assert _post(api_client, path, outcome="teleported").status_code == 422
    texted = db_session.scalars(select(CampaignRecipient).where(
        CampaignRecipient.route == RecipientRoute.SMS)).first()
    assert _post(api_client, f"/console/campaigns/{campaign.id}/calls/{texted.id}",
                 outcome="rebooked").status_code == 404


def test_waiting_for_the_send_window_is_said_in_words(api_client, strike, db_session,
                                                      monkeypatch):
    _, disruption = strike
    closed = Settings(environment="test", send_window_start="23:59:59",
                      send_window_end="23:59:59.5")
    campaign = campaigns_service.create(session=db_session, name="Night",
                                        disruption_id=disruption.id, sms_template=TEMPLATE)
    for _ in campaigns_service.send(session=db_session, campaign_id=campaign.id,
                                    settings=closed):
        pass
    db_session.commit()
    monkeypatch.setenv("SEND_WINDOW_START", "23:59:59")
    monkeypatch.setenv("SEND_WINDOW_END", "23:59:59.5")
    from api.config import get_settings

    get_settings.cache_clear()
    try:
        sign_in(api_client, "camp.clerk")
        page = api_client.get(f"/console/campaigns/{campaign.id}")
    finally:
        get_settings.cache_clear()
    assert "Waiting for the send window: messages go out from 23:59" in page.text
    assert "(London time)" in page.text
