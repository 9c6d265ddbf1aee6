"""Red flags: only clinicians and admins resolve one; a clerk may mark it "not a red flag" with
a reason, which lowers it and puts it on the clinicians' daily review list."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from api.audit.models import AuditEvent
from api.handover.models import (
    HandoverReason,
    HandoverStatus,
    RedFlagReview,
    ReviewStatus,
    Urgency,
)
from api.staff.models import Role
from tests.console.test_console import csrf_of, sign_in
from tests.handover.helpers import Desk


@pytest.fixture
def desk(db_session):
    return Desk(db_session)


def red_flag(desk: Desk):
    handover, *_ = desk.patient_case(reason=HandoverReason.RED_FLAG, urgency=Urgency.URGENT,
                                     text="I have chest pain")
    return handover


def post(client, path, page, **data):
    token = csrf_of(client.get(page).text)
    return client.post(path, data={"csrf_token": token} | data, follow_redirects=False)


def test_a_clerk_cannot_resolve_a_red_flag(api_client, desk, db_session):
    handover = red_flag(desk)
    sign_in(api_client, "t.clerk")
    page = api_client.get(f"/console/handovers/{handover.id}")
    assert "Only a clinician or an admin can resolve a red flag" in page.text
    assert f'action="/console/handovers/{handover.id}/resolve"' not in page.text
    refused = post(api_client, f"/console/handovers/{handover.id}/resolve",
                   f"/console/handovers/{handover.id}", outcome="close")
    assert refused.status_code == 403
    db_session.refresh(handover)
    assert handover.status is not HandoverStatus.RESOLVED
    api = api_client.post(f"/api/v1/handovers/{handover.id}/resolve",
                          headers=desk.auth(Role.CLERK), json={"outcome": "close"})
    assert api.status_code == 403


@pytest.mark.parametrize("role", [Role.CLINICIAN, Role.ADMIN])
def test_a_clinician_or_admin_can(api_client, desk, db_session, role):
    handover = red_flag(desk)
    sign_in(api_client, f"t.{role.value}")
    page = api_client.get(f"/console/handovers/{handover.id}")
    assert f'action="/console/handovers/{handover.id}/resolve"' in page.text
    done = post(api_client, f"/console/handovers/{handover.id}/resolve",
                f"/console/handovers/{handover.id}", outcome="hand_back")
    assert done.status_code == 303
    db_session.refresh(handover)
    assert handover.status is HandoverStatus.RESOLVED


def test_a_clerk_lowers_a_red_flag_for_review(api_client, desk, db_session):
    handover = red_flag(desk)
    sign_in(api_client, "t.clerk")
    page = f"/console/handovers/{handover.id}"
    assert post(api_client, f"{page}/not-red-flag", page, reason="  ").status_code == 422
    lowered = post(api_client, f"{page}/not-red-flag", page,
                   reason="Patient meant a chest of drawers fell on their foot last week")
    assert lowered.headers["location"].endswith("done=lowered")
    db_session.refresh(handover)
    assert handover.reason is HandoverReason.RED_FLAG_LOWERED
    assert handover.urgency is Urgency.NORMAL
    review = db_session.scalars(select(RedFlagReview)).one()
    assert review.status is ReviewStatus.PENDING and review.previous_urgency is Urgency.URGENT
    text = api_client.get(page).text
    assert "Marked not a red flag" in text and "awaiting clinician review" in text
    # The clerk can now work and resolve the lowered case...
    assert post(api_client, f"{page}/resolve", page, outcome="hand_back").status_code == 303
    # ...but not review it.
    assert api_client.get("/console/red-flag-reviews").status_code == 403
    assert "Red flags to review" not in api_client.get("/console/queue").text
    assert post(api_client, f"/console/red-flag-reviews/{review.id}", "/console/queue",
                decision="confirm").status_code == 403
    actions = list(db_session.scalars(select(AuditEvent.action)))
    assert "lower_red_flag" in actions and "red_flag_reviews_denied" in actions


def test_a_clinician_reviews_the_days_list(api_client, desk, db_session):
    confirmed, reopened = red_flag(desk), red_flag(desk)
    sign_in(api_client, "t.clerk")
    for handover in (confirmed, reopened):
        page = f"/console/handovers/{handover.id}"
        post(api_client, f"{page}/not-red-flag", page, reason="A relative's illness, years ago")
        post(api_client, f"{page}/resolve", page, outcome="hand_back")
    api_client.cookies.clear()
    sign_in(api_client, "t.clinician")
    listing = api_client.get("/console/red-flag-reviews")
    assert listing.status_code == 200 and "A relative&#39;s illness" in listing.text
    reviews = {r.handover_id: r for r in db_session.scalars(select(RedFlagReview))}
    ok = post(api_client, f"/console/red-flag-reviews/{reviews[confirmed.id].id}",
              "/console/red-flag-reviews", decision="confirm")
    assert ok.headers["location"].endswith("done=confirmed")
    back = post(api_client, f"/console/red-flag-reviews/{reviews[reopened.id].id}",
                "/console/red-flag-reviews", decision="reopen", note="Ring the patient now")
    assert back.headers["location"].endswith("done=reopened")
    db_session.refresh(confirmed)
    db_session.refresh(reopened)
    assert confirmed.reason is HandoverReason.RED_FLAG_LOWERED
    assert reopened.reason is HandoverReason.RED_FLAG and reopened.urgency is Urgency.URGENT
    assert reopened.status is HandoverStatus.OPEN and reopened.resolution is None
    again = post(api_client, f"/console/red-flag-reviews/{reviews[confirmed.id].id}",
                 "/console/red-flag-reviews", decision="reopen")
    assert again.status_code == 409
    assert "Nothing to review" in api_client.get("/console/red-flag-reviews").text
    actions = list(db_session.scalars(select(AuditEvent.action)))
    assert {"view_red_flag_reviews", "confirm_not_red_flag", "reopen_red_flag"} <= set(actions)
