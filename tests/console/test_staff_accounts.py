"""Staff accounts in the console: the admins' page, changing your own password, sessions that
end when they should (and only then), sign-in limits a forged header cannot dodge."""

import base64
import json
import re

import pytest
from fastapi.testclient import TestClient

from api.audit.models import AuditEvent
from api.config import get_settings
from api.staff import auth as staff_auth
from api.staff import service as staff_service
from api.staff.models import Role
from tests.console.test_console import csrf_of, sign_in
from tests.handover.helpers import PASSWORD, Desk

NEW_PASSWORD = "purple monkey dishwasher"


@pytest.fixture
def desk(db_session):
    return Desk(db_session)


@pytest.fixture
def second_browser(api_client):
    """Another browser (or PC) on the same app and database."""
    with TestClient(api_client.app) as client:
        yield client


def use_settings(api_client, **changes):
    """Run the app under changed settings (copied, so nothing else sees them)."""
    settings = get_settings().model_copy(update=changes)
    api_client.app.dependency_overrides[get_settings] = lambda: settings
    return settings


def audit_actions(db_session, actor_id: int) -> list[str]:
    return [e.action for e in db_session.query(AuditEvent).filter_by(
        actor=f"staff:{actor_id}").order_by(AuditEvent.id)]


# --- the admins' page -----------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.CLERK, Role.CLINICIAN])
def test_only_admins_manage_staff_accounts(api_client, desk, db_session, role):
    sign_in(api_client, f"t.{role.value}")
    page = api_client.get("/console/staff")
    assert page.status_code == 403 and "Only admins can manage staff accounts" in page.text
    assert "/console/staff" not in api_client.get("/console/queue").text
    token = csrf_of(page.text)
    admin = desk.users[Role.ADMIN]
    for action in ("deactivate", "unlock", "password"):
        response = api_client.post(f"/console/staff/{admin.id}/{action}",
                                   data={"csrf_token": token})
        assert response.status_code == 403
    prefix = desk.keys[Role.ADMIN].split("_")[1]
    assert api_client.post(f"/console/staff/api-keys/{prefix}/revoke",
                           data={"csrf_token": token}).status_code == 403
    db_session.refresh(admin)
    assert admin.active and staff_service.authenticate_api_key(
        session=db_session, key=desk.keys[Role.ADMIN]) == admin
    assert "staff_accounts_denied" in audit_actions(db_session, desk.users[role].id)


def test_admin_manages_accounts_in_the_console(api_client, desk, db_session):
    clerk = desk.users[Role.CLERK]
    admin = desk.users[Role.ADMIN]
    sign_in(api_client, "t.admin")
    page = api_client.get("/console/staff")
    assert page.status_code == 200
    assert f'data-staff-user-id="{clerk.id}"' in page.text
    clerk_prefix = desk.keys[Role.CLERK].split("_")[1]
    assert f'data-api-key="{clerk_prefix}"' in page.text
    assert "argon2" not in page.text and desk.keys[Role.CLERK] not in page.text
    # The admin's own row offers no "Deactivate".
    assert f"/console/staff/{admin.id}/deactivate" not in page.text
    token = csrf_of(page.text)
    base = f"/console/staff/{clerk.id}"

    assert api_client.post(f"{base}/deactivate", data={}).status_code == 403  # no CSRF token
    done = api_client.post(f"{base}/deactivate", data={"csrf_token": token})
    assert "Account deactivated" in done.text and "deactivated</span>" in done.text
    db_session.refresh(clerk)
    assert not clerk.active
    assert api_client.get("/api/v1/me", headers=desk.auth(Role.CLERK)).status_code == 401
    assert "Account reactivated" in api_client.post(f"{base}/reactivate",
                                                    data={"csrf_token": token}).text

    clerk.locked_until = staff_service.utcnow() + staff_auth.LOCKOUT
    db_session.commit()
    assert f"{base}/unlock" in api_client.get("/console/staff").text
    assert "Account unlocked" in api_client.post(f"{base}/unlock",
                                                 data={"csrf_token": token}).text

    weak = api_client.post(f"{base}/password", data={"csrf_token": token,
                                                     "password": "password1234"})
    assert weak.status_code == 422 and "too common" in weak.text
    given = api_client.post(f"{base}/password", data={"csrf_token": token,
                                                      "password": NEW_PASSWORD})
    assert "Temporary password set" in given.text
    generated = api_client.post(f"{base}/password", data={"csrf_token": token, "password": ""})
    assert generated.status_code == 200 and generated.headers["cache-control"] == "no-store"
    temporary = re.search(r'<code class="secret">([^<]+)</code>', generated.text).group(1)
    db_session.refresh(clerk)
    assert staff_service.verify_password(user=clerk, password=temporary)
    assert temporary not in api_client.get("/console/staff").text  # shown once

    # Deactivation revoked the clerk's key; a new one is revoked by hand.
    new_key = staff_service.create_api_key(session=db_session, user=clerk)
    db_session.commit()
    revoked = api_client.post(f"/console/staff/api-keys/{new_key.split('_')[1]}/revoke",
                              data={"csrf_token": token})
    assert "API key revoked" in revoked.text
    assert staff_service.authenticate_api_key(session=db_session, key=new_key) is None
    missing = api_client.post("/console/staff/987654/unlock", data={"csrf_token": token})
    assert missing.status_code == 404 and "no such staff user" in missing.text
    assert {"view_staff_users", "view_api_keys", "deactivate_staff_user",
            "reactivate_staff_user", "unlock_staff_user", "reset_password",
            "revoke_api_key"} <= set(audit_actions(db_session, admin.id))


def test_deactivating_or_resetting_a_password_ends_that_users_sessions(
        api_client, second_browser, desk):
    clerk = desk.users[Role.CLERK]
    sign_in(second_browser, "t.clerk")
    assert second_browser.get("/console/queue").status_code == 200
    sign_in(api_client, "t.admin")
    token = csrf_of(api_client.get("/console/staff").text)
    api_client.post(f"/console/staff/{clerk.id}/password",
                    data={"csrf_token": token, "password": NEW_PASSWORD})
    assert second_browser.get("/console/queue", follow_redirects=False).status_code == 303

    sign_in(second_browser, "t.clerk", NEW_PASSWORD)
    assert second_browser.get("/console/queue").status_code == 200
    api_client.post(f"/console/staff/{clerk.id}/deactivate", data={"csrf_token": token})
    assert second_browser.get("/console/queue", follow_redirects=False).status_code == 303


# --- your own password ----------------------------------------------------------------------


def test_change_your_own_password(api_client, second_browser, desk, db_session):
    clerk = desk.users[Role.CLERK]
    sign_in(second_browser, "t.clerk")  # another PC
    sign_in(api_client, "t.clerk")
    page = api_client.get("/console/account")
    assert page.status_code == 200 and "Change your password" in page.text
    assert 'href="/console/account"' in page.text
    token = csrf_of(page.text)
    url = "/console/account/password"

    def change(current, new, confirm=None):
        return api_client.post(url, data={"csrf_token": token, "current_password": current,
                                          "new_password": new,
                                          "confirm_password": new if confirm is None
                                          else confirm}, follow_redirects=False)

    assert api_client.post(url, data={"current_password": PASSWORD}).status_code == 403
    mismatch = change(PASSWORD, NEW_PASSWORD, "something else entirely")
    assert mismatch.status_code == 400 and "do not match" in mismatch.text
    wrong = change("not my password", NEW_PASSWORD)
    assert wrong.status_code == 422 and "current password is wrong" in wrong.text
    weak = change(PASSWORD, "iloveyou12345")
    assert weak.status_code == 422 and "too common" in weak.text
    old_cookie = api_client.cookies.get(staff_auth.SESSION_COOKIE)
    ok = change(PASSWORD, NEW_PASSWORD)
    assert ok.status_code == 303 and ok.headers["location"] == "/console/account?done=password"
    # This browser carries on in a new session; the other PC and a copied cookie do not.
    assert "Your password is changed" in api_client.get(ok.headers["location"]).text
    assert second_browser.get("/console/queue", follow_redirects=False).status_code == 303
    second_browser.cookies.set(staff_auth.SESSION_COOKIE, old_cookie)
    assert second_browser.get("/console/queue", follow_redirects=False).status_code == 303
    assert sign_in(second_browser, "t.clerk").status_code == 400
    assert sign_in(second_browser, "t.clerk", NEW_PASSWORD).status_code == 303
    actions = audit_actions(db_session, clerk.id)
    assert actions.count("change_password_refused") == 1 and "change_password" in actions


# --- sessions, lockout and the sign-in answer -----------------------------------------------


def test_the_session_cookie_carries_nothing_of_the_password(api_client, desk):
    clerk = desk.users[Role.CLERK]
    response = sign_in(api_client, "t.clerk")
    cookie = response.cookies[staff_auth.SESSION_COOKIE]
    payload = cookie.split(".")[0]
    data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    assert set(data) == {"u", "c", "g"}
    assert data["u"] == clerk.id and data["g"] == clerk.session_generation
    encoded_hash = clerk.password_hash.rsplit("$", 2)
    for part in encoded_hash[-2:]:  # the salt and the hash
        assert not any(part[i:i + 6] in cookie for i in range(len(part) - 5))


def test_a_lockout_does_not_end_the_real_users_session(api_client, second_browser, desk,
                                                       db_session):
    clerk = desk.users[Role.CLERK]
    sign_in(api_client, "t.clerk")
    token = csrf_of(api_client.get("/console/queue").text)
    for _ in range(staff_auth.MAX_FAILED_LOGINS):  # somebody else guessing
        sign_in(second_browser, "t.clerk", "a wrong guess here")
    db_session.refresh(clerk)
    assert staff_service.is_locked(user=clerk)
    assert api_client.get("/console/queue").status_code == 200
    assert api_client.get("/api/v1/me").json()["username"] == "t.clerk"
    note = api_client.post("/console/account/password", data={
        "csrf_token": token, "current_password": "x", "new_password": NEW_PASSWORD,
        "confirm_password": "different"})
    assert note.status_code == 400  # the session still works for forms too
    # ...while new password sign-ins are refused until it expires or an admin unlocks it.
    assert sign_in(second_browser, "t.clerk").status_code == 400
    lockouts = db_session.query(AuditEvent).filter_by(action="lock_staff_user",
                                                      object_id=str(clerk.id)).all()
    assert len(lockouts) == 1 and lockouts[0].actor == "system"


def test_unknown_locked_and_wrong_password_get_the_same_answer(api_client, desk, db_session):
    clerk = desk.users[Role.CLERK]
    wrong = sign_in(api_client, "t.clerk", "a wrong guess here")
    unknown = sign_in(api_client, "no.such.user", "a wrong guess here")
    clerk.locked_until = staff_service.utcnow() + staff_auth.LOCKOUT
    db_session.flush()
    locked = sign_in(api_client, "t.clerk")  # the right password, while locked

    def answer(response):
        # The form echoes the username typed and carries a fresh token: all else is equal.
        text = re.sub(r'value="[^"]*"', 'value=""', response.text)
        return response.status_code, text

    assert answer(wrong) == answer(unknown) == answer(locked)
    assert wrong.status_code == 400


# --- addresses, proxies and cookies ---------------------------------------------------------


def attempts(client, count, forwarded_for, username=None):
    statuses = []
    for n in range(count):
        page = client.get("/console/login")
        response = client.post("/console/login", data={
            "username": username or f"guess{n}", "password": "guess password",
            "csrf_token": csrf_of(page.text)}, headers={"X-Forwarded-For": forwarded_for(n)},
            follow_redirects=False)
        statuses.append(response.status_code)
    return statuses


def test_a_forged_forwarded_for_from_loopback_does_not_rotate_the_address(api_client, desk):
    with TestClient(api_client.app, client=("127.0.0.1", 50000)) as loopback:
        statuses = attempts(loopback, 22, lambda n: f"198.51.100.{n}")
    assert statuses[0] == 400 and statuses[-1] == 429


def test_a_trusted_proxys_forwarded_for_is_honoured(api_client, desk):
    use_settings(api_client, forwarded_allow_ips="10.0.0.0/8")
    with TestClient(api_client.app, client=("10.0.0.2", 50000)) as proxy:
        # Each client behind the proxy has its own bucket...
        assert 429 not in attempts(proxy, 22, lambda n: f"198.51.100.{n}")
        # ...and what a client writes left of the proxy's entry does not change its bucket.
        statuses = attempts(proxy, 22, lambda n: f"203.0.113.{n}, 192.0.2.7")
    assert statuses[0] == 400 and statuses[-1] == 429


def test_console_cookies_are_secure_in_production_even_over_http(api_client, desk):
    assert "secure" not in api_client.get("/console/login").headers["set-cookie"].lower()
    use_settings(api_client, environment="production")
    cookie = api_client.get("/console/login").headers["set-cookie"]
    assert "secure" in cookie.lower().split("; ")


@pytest.mark.parametrize("username", ["t.clerk\x00", "t clerk", "t.clerk'--"])
def test_impossible_usernames_get_the_usual_answer_not_an_error(api_client, desk, username):
    response = sign_in(api_client, username, "a wrong guess here")
    assert response.status_code == 400 and "username or password is wrong" in response.text
