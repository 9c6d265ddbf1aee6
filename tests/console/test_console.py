"""The web console: sign-in, CSRF, lockout, rate limit, pages, actions and roles."""

import re

import pytest

from api.audit.models import AuditEvent
from api.handover.models import HandoverReason, HandoverStatus, Urgency
from api.messaging.models import Direction, Message, MessageCategory
from api.staff import auth as staff_auth
from api.staff.models import Role
from tests.handover.helpers import PASSWORD, Desk


@pytest.fixture
def desk(db_session):
    return Desk(db_session)


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def sign_in(client, username: str, password: str = PASSWORD, next_url: str = ""):
    page = client.get("/console/login")
    return client.post("/console/login", data={
        "username": username, "password": password, "csrf_token": csrf_of(page.text),
        "next": next_url}, follow_redirects=False)


def test_signed_out_people_are_sent_to_sign_in(api_client, desk):
    handover, *_ = desk.patient_case()
    for path in ("/console/queue", f"/console/handovers/{handover.id}", "/console/audit",
                 "/console/queue/rows", "/console/handovers/999999"):
        response = api_client.get(path, follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"].startswith("/console/login")
    for action in ("claim", "reply", "resolve", "book", "notes", "slots", "status"):
        response = api_client.post(f"/console/handovers/{handover.id}/{action}",
                                   data={"csrf_token": "x"}, follow_redirects=False)
        assert response.status_code == 401


def test_sign_in_needs_the_forms_csrf_token(api_client, desk):
    response = api_client.post("/console/login", data={
        "username": "t.clerk", "password": PASSWORD, "csrf_token": "forged"},
        follow_redirects=False)
    assert response.status_code == 403
    assert staff_auth.SESSION_COOKIE not in response.cookies


def test_sign_in_and_out(api_client, desk, db_session):
    response = sign_in(api_client, "T.Clerk", next_url="/console/audit")
    assert response.status_code == 303 and response.headers["location"] == "/console/audit"
    cookie = response.cookies[staff_auth.SESSION_COOKIE]
    assert "HttpOnly" in response.headers["set-cookie"]
    assert "samesite=strict" in response.headers["set-cookie"].lower()
    queue = api_client.get("/console/queue")
    assert queue.status_code == 200 and "Handover queue" in queue.text
    # An open redirect is refused.
    assert sign_in(api_client, "t.clerk", next_url="https://evil.example/").headers[
        "location"] == "/console/queue"
    queue = api_client.get("/console/queue")  # a new sign-in is a new session and token
    logout = api_client.post("/console/logout", data={"csrf_token": csrf_of(queue.text)},
                             follow_redirects=False)
    assert logout.status_code == 303
    api_client.cookies.clear()
    assert api_client.get("/console/queue", follow_redirects=False).status_code == 303
    assert cookie  # a tampered cookie is refused
    api_client.cookies.set(staff_auth.SESSION_COOKIE, cookie[:-3] + "abc")
    assert api_client.get("/console/queue", follow_redirects=False).status_code == 303
    actions = [e.action for e in db_session.query(AuditEvent).order_by(AuditEvent.id)]
    assert "login" in actions and "logout" in actions


def test_signing_out_ends_the_session_on_the_server(api_client, desk):
    sign_in(api_client, "t.clerk")
    copied = api_client.cookies.get(staff_auth.SESSION_COOKIE)
    queue = api_client.get("/console/queue")
    assert queue.status_code == 200
    logout = api_client.post("/console/logout", data={"csrf_token": csrf_of(queue.text)},
                             follow_redirects=False)
    assert logout.status_code == 303
    # A copy of the cookie taken before signing out (another tab, another PC) is worthless.
    api_client.cookies.set(staff_auth.SESSION_COOKIE, copied)
    assert api_client.get("/console/queue", follow_redirects=False).status_code == 303
    # Signing in again works as before.
    sign_in(api_client, "t.clerk")
    assert api_client.get("/console/queue").status_code == 200


def test_wrong_passwords_lock_the_account_with_the_same_answer_as_a_wrong_password(
        api_client, desk, db_session):
    clerk = desk.users[Role.CLERK]
    answers = []
    for _ in range(staff_auth.MAX_FAILED_LOGINS):
        response = sign_in(api_client, "t.clerk", "wrong password number")
        answers.append((response.status_code, _error_text(response.text)))
    db_session.refresh(clerk)
    assert clerk.locked_until is not None
    locked = sign_in(api_client, "t.clerk")  # even the right password
    assert staff_auth.SESSION_COOKIE not in locked.cookies
    unknown = sign_in(api_client, "nobody.here", "whatever it is")
    # Wrong, locked and unknown read the same: no 423 to confirm that a username exists.
    assert len({*answers, (locked.status_code, _error_text(locked.text)),
                (unknown.status_code, _error_text(unknown.text))}) == 1
    assert answers[0] == (400, staff_auth.WRONG_OR_LOCKED)
    actions = [e.action for e in db_session.query(AuditEvent).filter_by(
        object_type="staff_user", object_id=str(clerk.id)).order_by(AuditEvent.id)]
    assert actions.count("login_failed") == staff_auth.MAX_FAILED_LOGINS
    assert "lock_staff_user" in actions and actions[-1] == "login_locked"


def _error_text(html: str) -> str:
    import html as html_module

    match = re.search(r'<div class="error-summary".*?<p>(.*?)</p>', html, re.S)
    return html_module.unescape(match.group(1)) if match else ""


def test_a_nul_in_the_username_is_just_a_wrong_username(api_client, desk):
    response = sign_in(api_client, "t.cl\x00erk")
    assert response.status_code == 400 and "username or password is wrong" in response.text


def test_sign_in_attempts_are_rate_limited(api_client, desk):
    statuses = [sign_in(api_client, f"guess{n}", "guess password").status_code
                for n in range(22)]
    assert statuses[0] == 400 and statuses[-1] == 429


def test_queue_page_lists_urgent_first_and_highlights_overdue(api_client, desk, db_session):
    from datetime import timedelta

    normal, *_ = desk.patient_case(urgency=Urgency.NORMAL)
    urgent, *_ = desk.patient_case(urgency=Urgency.URGENT, reason=HandoverReason.RED_FLAG)
    urgent.due_at -= timedelta(hours=1)
    db_session.flush()
    sign_in(api_client, "t.clerk")
    html = api_client.get("/console/queue").text
    assert html.index(f'data-handover-id="{urgent.id}"') < html.index(
        f'data-handover-id="{normal.id}"')
    assert re.search(rf'class="red-flag-row overdue" data-handover-id="{urgent.id}"', html)
    assert "Overdue by" in html
    rows = api_client.get("/console/queue/rows")
    assert rows.status_code == 200 and "<html" not in rows.text
    assert f'data-handover-id="{urgent.id}"' in rows.text


@pytest.mark.parametrize("role", [Role.CLERK, Role.CLINICIAN, Role.ADMIN])
def test_work_a_handover_in_the_console(api_client, desk, db_session, role):
    handover, patient, appointment, conversation = desk.patient_case()
    sign_in(api_client, f"t.{role.value}")
    page = api_client.get(f"/console/handovers/{handover.id}")
    assert page.status_code == 200
    for text in ("Can I speak to a person please", patient.full_name, "Dermatology"):
        assert text in page.text
    token = csrf_of(page.text)
    base = f"/console/handovers/{handover.id}"

    # No CSRF token, no action.
    assert api_client.post(f"{base}/reply", data={"text": "hi"}).status_code == 403
    assert api_client.post(f"{base}/claim", data={"csrf_token": token},
                           follow_redirects=False).status_code == 303
    reply = api_client.post(f"{base}/reply", data={"csrf_token": token,
                                                   "text": "Hello, bookings team here."})
    assert "Reply queued" in reply.text
    sent = db_session.query(Message).filter_by(direction=Direction.OUTBOUND,
                                               category=MessageCategory.STAFF_REPLY).one()
    assert sent.to_address == conversation.address
    assert "Note added" in api_client.post(f"{base}/notes", data={
        "csrf_token": token, "text": "Patient prefers mornings"}).text
    slots = api_client.post(f"{base}/slots", data={"csrf_token": token,
                                                    "appointment_id": appointment.id})
    assert "Available slots" in slots.text
    offer_id = re.search(r'name="offer_id" value="(\d+)"', slots.text).group(1)
    booked = api_client.post(f"{base}/book", data={"csrf_token": token, "offer_id": offer_id})
    assert "Appointment booked" in booked.text and "rebooked" in booked.text
    bad = api_client.post(f"{base}/resolve", data={"csrf_token": token, "outcome": "maybe"})
    assert bad.status_code == 422 and "There is a problem" in bad.text
    done = api_client.post(f"{base}/resolve", data={"csrf_token": token,
                                                    "outcome": "hand_back"})
    assert "Handover resolved" in done.text
    db_session.refresh(handover)
    assert handover.status is HandoverStatus.RESOLVED and handover.resolution == "handed_back"
    actions = {e.action for e in db_session.query(AuditEvent).filter_by(
        actor=f"staff:{desk.users[role].id}")}
    assert {"login", "view_handover", "claim_handover", "send_reply", "add_note", "find_slots",
            "book_slot", "resolve_handover"} <= actions


def test_clerk_cannot_resolve_a_clinical_review_in_the_console(api_client, desk):
    handover, *_ = desk.patient_case(reason=HandoverReason.CLINICAL_REVIEW)
    sign_in(api_client, "t.clerk")
    page = api_client.get(f"/console/handovers/{handover.id}")
    assert "A clinician or an admin must resolve" in page.text
    response = api_client.post(f"/console/handovers/{handover.id}/resolve",
                               data={"csrf_token": csrf_of(page.text), "outcome": "close"})
    assert response.status_code == 403


def test_unknown_handover_is_404(api_client, desk):
    sign_in(api_client, "t.clerk")
    page = api_client.get("/console/handovers/987654")
    assert page.status_code == 404
    token = csrf_of(api_client.get("/console/queue").text)
    assert api_client.post("/console/handovers/987654/claim",
                           data={"csrf_token": token}).status_code == 404


@pytest.mark.parametrize(("role", "status"),
                         [(Role.CLERK, 403), (Role.CLINICIAN, 403), (Role.ADMIN, 200)])
def test_only_admins_open_the_audit_log(api_client, desk, role, status):
    desk.patient_case()
    sign_in(api_client, f"t.{role.value}")
    response = api_client.get("/console/audit")
    assert response.status_code == status
    if status == 200:
        assert "login" in response.text
    else:
        assert "Only admins can read the audit log" in response.text
    assert ("Audit log</a>" in api_client.get("/console/queue").text) == (role is Role.ADMIN)


def test_console_session_reaches_the_json_api_with_csrf_header(api_client, desk):
    handover, *_ = desk.patient_case()
    sign_in(api_client, "t.clerk")
    token = csrf_of(api_client.get("/console/queue").text)
    assert api_client.get("/api/v1/handovers").status_code == 200
    path = f"/api/v1/handovers/{handover.id}/claim"
    assert api_client.post(path).status_code == 403
    assert api_client.post(path, headers={"X-CSRF-Token": token}).status_code == 200


def test_pages_are_not_cached_or_framed(api_client, desk):
    sign_in(api_client, "t.clerk")
    response = api_client.get("/console/queue")
    assert response.headers["cache-control"] == "no-store"
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert api_client.get("/console/static/console.js").status_code == 200
    assert api_client.get("/console/static/..%2Fviews.py").status_code == 404


def test_the_queue_page_is_audited_with_the_patients_it_lists(api_client, desk, db_session):
    cases = [desk.patient_case() for _ in range(2)]
    sign_in(api_client, "t.clerk")

    assert api_client.get("/console/queue/rows").status_code == 200

    [event] = db_session.query(AuditEvent).filter_by(action="view_queue").all()
    assert event.details["patient_ids"] == sorted(patient.id for _, patient, *_ in cases)
