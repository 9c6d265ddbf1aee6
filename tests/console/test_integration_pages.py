"""The console's hospital-systems pages: the integration status for every staff role; the
exceptions list and each exception (raw patient records) for admins or the configured role
only, every read audited; resolving one needs a note, once."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from api.audit.models import AuditEvent
from api.config import get_settings
from api.db import utcnow
from api.integration.models import ExceptionStatus, IntegrationException
from api.staff.models import Role
from tests.console.test_console import csrf_of, sign_in
from tests.handover.helpers import Desk
from tests.integration.pas_rows import RAW_PID, make_traffic


@pytest.fixture
def desk(db_session):
    desk = Desk(db_session, prefix="ip")
    db_session.commit()
    return desk


@pytest.fixture
def traffic(db_session, desk):
    traffic = make_traffic(db_session, utcnow())
    db_session.commit()
    return traffic


def use_settings(api_client, **changes):
    settings = get_settings().model_copy(update=changes)
    api_client.app.dependency_overrides[get_settings] = lambda: settings


def audited(db_session, action: str) -> list[AuditEvent]:
    """The events staff caused (not make_traffic's own resolution)."""
    return list(db_session.scalars(select(AuditEvent).where(
        AuditEvent.action == action, AuditEvent.actor != "cli:test").order_by(AuditEvent.id)))


def test_status_page_for_a_clerk(api_client, traffic):
    use_settings(api_client, pas_mode="fhir,hl7,csv")
    sign_in(api_client, "ip.clerk")
    page = api_client.get("/console/integration")
    assert page.status_code == 200
    html = page.text
    assert '<a href="/console/integration">Hospital systems</a>' in html  # in the navigation
    assert "HTTP 503 from the PAS" in html and "10 min" in html  # FHIR's error and lag
    assert "3 applied, 1 ignored, 1 parked" in html  # HL7, the last hour
    assert "2 waiting for the PAS (1 retrying)" in html and "2 waiting for upload" in html
    assert "2 open exceptions" in html and "wrong patient risk" in html
    assert "Open the exceptions list" not in html  # a clerk cannot open them
    assert RAW_PID not in html and "Rawrecord" not in html
    assert html.count('data-label="Hour from"') == 24


def test_status_page_without_a_pas(api_client, desk):
    sign_in(api_client, "ip.clinician")
    html = api_client.get("/console/integration").text
    assert "No PAS is connected" in html and "No open exceptions." in html


def test_exceptions_are_refused_to_a_clerk_and_the_refusal_audited(api_client, traffic,
                                                                   db_session):
    sign_in(api_client, "ip.clerk")
    for path in ("/console/integration/exceptions",
                 f"/console/integration/exceptions/{traffic.exception_id}"):
        page = api_client.get(path)
        assert page.status_code == 403
        assert "Only admins can open the integration exceptions" in page.text
        assert RAW_PID not in page.text and "Clerk IP (clerk)" in page.text
    assert len(audited(db_session, "integration_exceptions_denied")) == 2
    assert audited(db_session, "integration_exception_viewed") == []


def test_admin_lists_and_opens_exceptions_each_view_audited(api_client, traffic, db_session,
                                                             desk):
    sign_in(api_client, "ip.admin")
    listed = api_client.get("/console/integration/exceptions")
    assert listed.status_code == 200
    assert listed.text.count('data-label="Exception"') == 2  # the open ones
    assert "Rawrecord" not in listed.text  # the raw message only on the exception's page
    every = api_client.get("/console/integration/exceptions?show=all&reason=unknown_code")
    assert every.text.count('data-label="Exception"') == 1
    events = audited(db_session, "integration_exceptions_listed")
    assert [e.details["count"] for e in events] == [2, 1]
    assert events[0].details["patient_ids"] == [traffic.patient_id]
    assert events[0].actor == desk.users[Role.ADMIN].audit_actor
    page = api_client.get(f"/console/integration/exceptions/{traffic.exception_id}")
    assert page.status_code == 200
    assert RAW_PID in page.text  # the raw message, for staff to compare with the PAS
    assert "Check the identity in the PAS" in page.text
    assert f'href="/console/audit?patient_id={traffic.patient_id}"' in page.text
    api_client.get(f"/console/integration/exceptions/{traffic.exception_id}")
    viewed = audited(db_session, "integration_exception_viewed")
    assert len(viewed) == 2 and viewed[0].patient_id == traffic.patient_id
    assert api_client.get("/console/integration/exceptions/999999").status_code == 404


def test_resolve_needs_a_note_and_happens_once(api_client, traffic, db_session, desk):
    sign_in(api_client, "ip.admin")
    path = f"/console/integration/exceptions/{traffic.exception_id}"
    token = csrf_of(api_client.get(path).text)
    empty = api_client.post(f"{path}/resolve", data={"csrf_token": token, "note": "  "})
    assert empty.status_code == 409 and "say what was done about it" in empty.text
    done = api_client.post(f"{path}/resolve", follow_redirects=False, data={
        "csrf_token": token, "note": "Checked on the PAS: DOB corrected there"})
    assert done.status_code == 303
    assert done.headers["location"] == "/console/integration/exceptions?done=resolved"
    row = db_session.get(IntegrationException, traffic.exception_id)
    db_session.refresh(row)
    assert row.status is ExceptionStatus.RESOLVED
    assert row.resolved_by == desk.users[Role.ADMIN].id
    assert row.resolution == "Checked on the PAS: DOB corrected there"
    assert len(audited(db_session, "integration_exception_resolved")) == 1
    again = api_client.post(f"{path}/resolve", data={"csrf_token": token, "note": "again"})
    assert again.status_code == 409 and "resolved already" in again.text
    assert len(audited(db_session, "integration_exception_resolved")) == 1
    assert "DOB corrected there" in api_client.get(path).text


def test_a_clinician_may_when_the_trust_chose_clinicians(api_client, traffic, db_session):
    use_settings(api_client, pas_exceptions_role="clinician")
    sign_in(api_client, "ip.clinician")
    assert api_client.get("/console/integration/exceptions").status_code == 200
    path = f"/console/integration/exceptions/{traffic.exception_id}"
    page = api_client.get(path)
    assert page.status_code == 200 and "/console/audit?" not in page.text  # admins only
    assert "Open the exceptions list" in api_client.get("/console/integration").text
    answer = api_client.post(f"{path}/resolve", follow_redirects=False,
                             data={"csrf_token": csrf_of(page.text), "note": "Merged in PAS"})
    assert answer.status_code == 303
    api_client.cookies.clear()
    sign_in(api_client, "ip.clerk")
    refused = api_client.get("/console/integration/exceptions")
    assert refused.status_code == 403 and "Only clinicians and admins" in refused.text
    assert re.search(r"<h1>.*</h1>", refused.text)
