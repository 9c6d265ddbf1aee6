"""Every read or export of a list of patients names them in the audit log (bounded)."""

from sqlalchemy import select

from api.audit import service as audit_service
from api.audit.models import AuditEvent
from api.campaigns.models import CampaignRecipient
from api.staff.models import Role
from tests.campaigns.test_api import _disruption
from tests.factories import make_patient
from tests.handover.helpers import Desk


def _events(session, action: str) -> list[AuditEvent]:
    return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action)
                                .order_by(AuditEvent.id)))


def test_the_detail_names_each_patient_once_and_is_bounded():
    assert audit_service.patient_ids_detail([3, None, 1, 3]) == {
        "patient_ids": [1, 3], "patient_count": 2}
    big = audit_service.patient_ids_detail(range(audit_service.MAX_PATIENT_IDS + 7))
    assert len(big["patient_ids"]) == audit_service.MAX_PATIENT_IDS
    assert big["patient_count"] == audit_service.MAX_PATIENT_IDS + 7
    assert big["patient_ids_truncated"] is True


def test_a_patients_audit_trail_includes_the_lists_that_named_them(db_session):
    one, other = make_patient(db_session), make_patient(db_session)
    audit_service.record(session=db_session, actor="staff:1", action="view_queue",
                         object_type="handover_queue", object_id="*",
                         details=audit_service.patient_ids_detail([one.id, other.id]))
    audit_service.record(session=db_session, actor="staff:1", action="view_queue",
                         object_type="handover_queue", object_id="*",
                         details=audit_service.patient_ids_detail([other.id]))
    audit_service.record(session=db_session, actor="staff:1", action="view_handover",
                         object_type="handover", object_id=5, patient_id=one.id)
    audit_service.record(session=db_session, actor="staff:1", action="login",
                         object_type="staff_user", object_id=1)

    mine = audit_service.list_events(session=db_session, patient_id=one.id)

    assert [e.action for e in mine] == ["view_handover", "view_queue"]
    assert len(audit_service.list_events(session=db_session, patient_id=other.id)) == 2


def test_the_breach_list_as_csv_and_json_is_audited_with_its_patients(api_client, db_session):
    desk = Desk(db_session)
    strike = _disruption(db_session)  # three postponed appointments, all past target by now
    from api.appointments.models import Appointment

    appointments = db_session.scalars(select(Appointment).where(
        Appointment.disruption_id == strike.id)).all()
    for appointment in appointments:
        appointment.breach_date = appointment.referral_date
    db_session.flush()
    expected = sorted(a.patient_id for a in appointments)

    csv = api_client.get(f"/api/v1/reports/disruptions/{strike.id}/breaches.csv",
                         headers=desk.auth(Role.CLERK))
    listed = api_client.get(f"/api/v1/reports/disruptions/{strike.id}/breaches",
                            headers=desk.auth(Role.CLERK))

    assert csv.status_code == 200 and len(csv.text.strip().splitlines()) == 4
    assert listed.status_code == 200
    [export] = _events(db_session, "export_breach_list")
    [view] = _events(db_session, "view_breach_list")
    for event in (export, view):
        assert event.actor == f"staff:{desk.users[Role.CLERK].id}"
        assert event.object_type == "disruption" and event.object_id == str(strike.id)
        assert event.details["patient_ids"] == expected and event.details["patient_count"] == 3


def test_each_campaign_step_is_audited_with_the_patients_it_touched(api_client, db_session):
    desk = Desk(db_session)
    headers = desk.auth(Role.CLERK)
    actor = f"staff:{desk.users[Role.CLERK].id}"
    strike = _disruption(db_session)
    campaign_id = api_client.post("/api/v1/campaigns", headers=headers, json={
        "name": "Strike notice", "disruption_id": strike.id,
        "sms_template": "{trust_name}: your appointment has moved. Reply to rebook."}).json()["id"]
    for step in ("send", "pause", "resume", "cancel"):
        assert api_client.post(f"/api/v1/campaigns/{campaign_id}/{step}",
                               headers=headers).status_code == 200, step
    assert api_client.get(f"/api/v1/campaigns/{campaign_id}/call-list",
                          headers=headers).status_code == 200

    recipients = sorted(db_session.scalars(select(CampaignRecipient.patient_id).where(
        CampaignRecipient.campaign_id == campaign_id)))
    assert len(recipients) == 3
    [created] = _events(db_session, "create_campaign")
    assert created.actor == actor and created.object_id == str(campaign_id)
    assert created.details["disruption_id"] == strike.id and created.details["patient_ids"] == []
    for action, count_key in (("send_campaign", "queued"), ("pause_campaign", "held"),
                              ("resume_campaign", "released"), ("cancel_campaign", "withdrawn")):
        [event] = _events(db_session, action)
        assert event.actor == actor and event.object_type == "campaign"
        assert event.details["patient_ids"] == recipients, action
        assert event.details[count_key] == 3, action
    [call_list] = _events(db_session, "view_call_list")
    assert call_list.details == {"patient_ids": [], "patient_count": 0}


def test_listing_handover_summaries_is_audited_with_their_patients(api_client, db_session):
    desk = Desk(db_session)
    cases = [desk.patient_case() for _ in range(2)]

    api_client.get("/api/v1/handovers", headers=desk.auth(Role.CLINICIAN))

    [event] = _events(db_session, "view_queue")
    assert event.details["count"] == 2
    assert event.details["patient_ids"] == sorted(patient.id for _, patient, *_ in cases)

