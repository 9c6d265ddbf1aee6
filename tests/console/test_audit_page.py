"""The audit log page: names instead of actor codes, details in words, filters by NHS number,
staff member, action and dates, a page at a time; and case notes signed by name."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from api.audit import service as audit_service
from api.audit.models import AuditEvent
from api.db import utcnow
from api.staff.models import Role
from tests.console.test_console import csrf_of, sign_in
from tests.handover.helpers import Desk


@pytest.fixture
def desk(db_session):
    desk = Desk(db_session, prefix="au")
    db_session.commit()
    return desk


def _rows(html: str) -> list[str]:
    if "audit-table" not in html:
        return []
    body = html.split('class="table responsive audit-table"')[1].split("</table>")[0]
    return re.findall(r"<tr>(.*?)</tr>", body, re.S)[1:]


def test_actors_and_details_read_as_words(api_client, desk, db_session):
    handover, patient, *_ = desk.patient_case()
    clerk = desk.users[Role.CLERK]
    audit_service.record(session=db_session, actor=clerk.audit_actor, action="add_note",
                         object_type="handover", object_id=handover.id, patient_id=patient.id,
                         details={"text": "Rang back, no answer", "patient_ids": [patient.id],
                                  "patient_count": 1, "priority": "P2"})
    audit_service.record(session=db_session, actor="assistant", action="find_slots",
                         object_type="appointment", object_id=1, details={"offer_ids": [4, 5]})
    audit_service.record(session=db_session, actor="cli:ops", action="purge_retention",
                         object_type="retention", object_id="*", details={"messages": 3})
    db_session.commit()
    sign_in(api_client, "au.admin")
    page = api_client.get("/console/audit").text
    note = next(r for r in _rows(page) if "Added a note" in r)
    assert clerk.display_name in note and "staff:" not in note
    assert "<dt>Note:</dt> <dd>Rang back, no answer</dd>" in note
    assert "<dt>Patients shown:</dt> <dd>1</dd>" in note and "Urgent (P2)" in note
    assert patient.full_name in note
    assert f'<a href="/console/handovers/{handover.id}">Handover {handover.id}</a>' in note
    assert "{&#34;" not in page and '{"' not in page  # no raw JSON
    purge = next(r for r in _rows(page) if "Deleted records past their retention" in r)
    assert "Server command run by ops" in purge
    slots = next(r for r in _rows(page) if "Held slots to offer" in r)
    assert "The assistant" in slots and "<dt>Offers:</dt> <dd>4, 5</dd>" in slots


def test_filters_by_nhs_number_staff_action_and_dates(api_client, desk, db_session):
    _, patient, *_ = desk.patient_case()
    _, other, *_ = desk.patient_case()
    clerk, clinician = desk.users[Role.CLERK], desk.users[Role.CLINICIAN]
    for user, who in ((clerk, patient), (clinician, other), (clerk, other)):
        audit_service.record(session=db_session, actor=user.audit_actor, action="view_handover",
                             object_type="handover", object_id=1, patient_id=who.id)
    old = audit_service.record(session=db_session, actor=clerk.audit_actor, action="login",
                               object_type="staff_user", object_id=clerk.id)
    old.occurred_at = utcnow() - timedelta(days=40)
    db_session.commit()
    sign_in(api_client, "au.admin")
    spaced = f"{patient.nhs_number[:3]} {patient.nhs_number[3:6]} {patient.nhs_number[6:]}"
    rows = _rows(api_client.get("/console/audit", params={"nhs_number": spaced}).text)
    assert rows and all(patient.full_name in r for r in rows)
    rows = _rows(api_client.get("/console/audit", params={
        "staff": clerk.audit_actor, "action": "view_handover"}).text)
    assert len(rows) == 2 and all(clerk.display_name in r for r in rows)
    day = (utcnow() - timedelta(days=40)).date().isoformat()
    rows = _rows(api_client.get("/console/audit", params={
        "date_from": day, "date_to": day, "staff": clerk.audit_actor}).text)
    assert len(rows) == 1 and "Signed in" in rows[0]
    page = api_client.get("/console/audit", params={"nhs_number": "123"}).text
    assert "Check the filter" in page and "NHS number:" in page and not _rows(page)
    # Reading the log with a patient filter is itself audited against that patient.
    read = db_session.query(AuditEvent).filter_by(action="view_audit").order_by(
        AuditEvent.id).all()
    assert any(e.patient_id == patient.id for e in read)


def test_the_log_is_read_a_page_at_a_time(api_client, desk, db_session):
    for i in range(60):
        audit_service.record(session=db_session, actor="system", action="purge_retention",
                             object_type="retention", object_id=str(i))
    db_session.commit()
    sign_in(api_client, "au.admin")
    first = api_client.get("/console/audit", params={"action": "purge_retention"}).text
    assert len(_rows(first)) == 50 and "Showing 1 to 50 of 60 events" in first
    assert "action=purge_retention&amp;page=2" in first
    second = api_client.get("/console/audit", params={"action": "purge_retention",
                                                      "page": 2}).text
    assert len(_rows(second)) == 10 and "Previous page" in second


def test_case_notes_are_signed_by_name(api_client, desk):
    handover, *_ = desk.patient_case()
    sign_in(api_client, "au.clerk")
    token = csrf_of(api_client.get(f"/console/handovers/{handover.id}").text)
    api_client.post(f"/console/handovers/{handover.id}/notes",
                    data={"csrf_token": token, "text": "Left a voicemail"})
    page = api_client.get(f"/console/handovers/{handover.id}").text
    notes = page.split('<ul class="notes">')[1].split("</ul>")[0]
    assert desk.users[Role.CLERK].display_name in notes and "staff:" not in notes


def test_every_action_the_code_audits_reads_as_words():
    """An action recorded anywhere in api/ has a sentence on the audit page (a new action
    without one would show as its code)."""
    import re
    from pathlib import Path

    from api.console.audit_text import ACTIONS

    root = Path(__file__).resolve().parents[2] / "api"
    recorded = set()
    for path in root.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        recorded |= set(re.findall(r'\baction="([a-z_]+)"', text))
        recorded |= set(re.findall(r'_audit\([^()]*?, "([a-z_]+)"', text))
    assert recorded, "the scan found no audited actions"
    assert sorted(recorded - set(ACTIONS)) == []
