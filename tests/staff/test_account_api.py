"""Staff account management through the JSON API: every verb, role checks, audit rows."""

from datetime import timedelta

import pytest
from sqlalchemy import event

from api.audit.models import AuditEvent
from api.staff import service as staff_service
from api.staff.models import ApiKey, Role, StaffUser

PASSWORD = "correct horse battery staple"
NEW_PASSWORD = "purple monkey dishwasher"


class Staff:
    """An admin and a clerk, each with an API key."""

    def __init__(self, session):
        self.session = session
        self.admin = staff_service.create_user(session=session, username="a.admin",
                                               display_name="Ada Admin", password=PASSWORD,
                                               role=Role.ADMIN)
        self.clerk = staff_service.create_user(session=session, username="c.clerk",
                                               display_name="Cal Clerk", password=PASSWORD,
                                               role=Role.CLERK)
        self.admin_key = staff_service.create_api_key(session=session, user=self.admin)
        self.clerk_key = staff_service.create_api_key(session=session, user=self.clerk,
                                                      label="desk")

    @property
    def as_admin(self):
        return {"Authorization": f"Bearer {self.admin_key}"}

    @property
    def as_clerk(self):
        return {"Authorization": f"Bearer {self.clerk_key}"}

    def audit(self, action):
        return self.session.query(AuditEvent).filter_by(action=action).all()


@pytest.fixture
def staff(db_session):
    return Staff(db_session)


def prefix_of(key: str) -> str:
    return key.split("_")[1]


ADMIN_ROUTES = [
    ("get", "/api/v1/staff/users", None),
    ("post", "/api/v1/staff/users/{id}/deactivate", None),
    ("post", "/api/v1/staff/users/{id}/reactivate", None),
    ("post", "/api/v1/staff/users/{id}/unlock", None),
    ("post", "/api/v1/staff/users/{id}/password", {}),
    ("get", "/api/v1/staff/api-keys", None),
    ("post", "/api/v1/staff/api-keys/{prefix}/revoke", None),
]


@pytest.mark.parametrize(("method", "path", "body"), ADMIN_ROUTES)
def test_admin_routes_need_a_key_and_the_admin_role(api_client, staff, method, path, body):
    url = path.format(id=staff.clerk.id, prefix=prefix_of(staff.clerk_key))
    anonymous = getattr(api_client, method)(url, **({"json": body} if body is not None else {}))
    assert anonymous.status_code == 401
    clerk = getattr(api_client, method)(url, headers=staff.as_clerk,
                                        **({"json": body} if body is not None else {}))
    assert clerk.status_code == 403 and clerk.json() == {"detail": "your role cannot do this"}
    assert staff.clerk.active and staff.audit("revoke_api_key") == []


def test_admin_lists_accounts_without_password_hashes(api_client, staff):
    response = api_client.get("/api/v1/staff/users", headers=staff.as_admin)
    assert response.status_code == 200
    rows = {row["username"]: row for row in response.json()}
    assert set(rows) == {"a.admin", "c.clerk"}
    assert set(rows["c.clerk"]) == {"id", "username", "display_name", "role", "active",
                                    "locked", "locked_until", "created_at"}
    assert "argon2" not in response.text
    [event] = staff.audit("view_staff_users")
    assert event.actor == f"staff:{staff.admin.id}"


def test_deactivate_ends_sessions_revokes_keys_and_reactivate_lets_them_back(api_client, staff):
    generation = staff.clerk.session_generation
    response = api_client.post(f"/api/v1/staff/users/{staff.clerk.id}/deactivate",
                               headers=staff.as_admin)
    assert response.status_code == 200 and response.json()["active"] is False
    assert staff.clerk.session_generation == generation + 1
    # The deactivated user's API key is refused from now on.
    assert api_client.get("/api/v1/me", headers=staff.as_clerk).status_code == 401
    [event] = staff.audit("deactivate_staff_user")
    assert (event.actor, event.object_type, event.object_id) == (
        f"staff:{staff.admin.id}", "staff_user", str(staff.clerk.id))
    assert event.details == {"revoked_api_keys": [prefix_of(staff.clerk_key)]}

    back = api_client.post(f"/api/v1/staff/users/{staff.clerk.id}/reactivate",
                           headers=staff.as_admin)
    assert back.status_code == 200 and back.json()["active"] is True
    assert len(staff.audit("reactivate_staff_user")) == 1
    # Old keys stay revoked: a key that left with its owner never comes back to life.
    assert api_client.get("/api/v1/me", headers=staff.as_clerk).status_code == 401


def test_an_inactive_users_key_is_refused_even_if_not_revoked(api_client, staff):
    staff.clerk.active = False
    staff.session.flush()
    assert api_client.get("/api/v1/me", headers=staff.as_clerk).status_code == 401


def test_an_admin_cannot_deactivate_themselves(api_client, staff):
    response = api_client.post(f"/api/v1/staff/users/{staff.admin.id}/deactivate",
                               headers=staff.as_admin)
    assert response.status_code == 422 and "your own account" in response.json()["detail"]
    assert staff.admin.active


def test_unlock(api_client, staff):
    staff.clerk.locked_until = staff_service.utcnow() + timedelta(minutes=10)
    staff.clerk.failed_logins = 3
    staff.session.flush()
    listed = api_client.get("/api/v1/staff/users", headers=staff.as_admin).json()
    assert [row["locked"] for row in listed if row["id"] == staff.clerk.id] == [True]
    response = api_client.post(f"/api/v1/staff/users/{staff.clerk.id}/unlock",
                               headers=staff.as_admin)
    assert response.status_code == 200 and response.json()["locked"] is False
    assert not staff_service.is_locked(user=staff.clerk) and staff.clerk.failed_logins == 0
    [event] = staff.audit("unlock_staff_user")
    assert event.details == {"was_locked": True} and event.object_id == str(staff.clerk.id)


def test_reset_password_to_a_given_or_a_generated_one(api_client, staff):
    url = f"/api/v1/staff/users/{staff.clerk.id}/password"
    weak = api_client.post(url, json={"password": "password1234"}, headers=staff.as_admin)
    assert weak.status_code == 422 and "too common" in weak.json()["detail"]
    generation = staff.clerk.session_generation
    given = api_client.post(url, json={"password": NEW_PASSWORD}, headers=staff.as_admin)
    assert given.status_code == 200 and given.json() == {"generated_password": None}
    assert staff_service.verify_password(user=staff.clerk, password=NEW_PASSWORD)
    assert not staff_service.verify_password(user=staff.clerk, password=PASSWORD)
    assert staff.clerk.session_generation == generation + 1

    generated = api_client.post(url, json={}, headers=staff.as_admin).json()["generated_password"]
    assert len(generated) >= 12
    assert staff_service.verify_password(user=staff.clerk, password=generated)
    events = staff.audit("reset_password")
    assert [e.details for e in events] == [{"generated": False}, {"generated": True}]
    assert generated not in str([e.details for e in staff.session.query(AuditEvent)])


def test_change_own_password_needs_the_current_one(api_client, staff):
    url = "/api/v1/me/password"
    wrong = api_client.post(url, headers=staff.as_clerk, json={
        "current_password": "not my password at all", "new_password": NEW_PASSWORD})
    assert wrong.status_code == 422 and "current password is wrong" in wrong.json()["detail"]
    weak = api_client.post(url, headers=staff.as_clerk, json={
        "current_password": PASSWORD, "new_password": "qwertyuiop12"})
    assert weak.status_code == 422
    short = api_client.post(url, headers=staff.as_clerk, json={
        "current_password": PASSWORD, "new_password": "short"})
    assert short.status_code == 422
    generation = staff.clerk.session_generation
    ok = api_client.post(url, headers=staff.as_clerk, json={
        "current_password": PASSWORD, "new_password": NEW_PASSWORD})
    assert ok.status_code == 204
    assert staff_service.verify_password(user=staff.clerk, password=NEW_PASSWORD)
    assert staff.clerk.session_generation == generation + 1
    assert len(staff.audit("change_password_refused")) == 1
    [event] = staff.audit("change_password")
    assert event.actor == f"staff:{staff.clerk.id}" and event.object_id == str(staff.clerk.id)


def test_guessing_the_current_password_is_throttled(api_client, staff):
    statuses = [api_client.post("/api/v1/me/password", headers=staff.as_clerk, json={
        "current_password": f"guess number {n}", "new_password": NEW_PASSWORD}).status_code
        for n in range(12)]
    assert statuses[0] == 422 and statuses[-1] == 429


def test_list_and_revoke_api_keys_with_last_used(api_client, staff):
    assert api_client.get("/api/v1/me", headers=staff.as_clerk).status_code == 200
    response = api_client.get("/api/v1/staff/api-keys", params={"user_id": staff.clerk.id},
                              headers=staff.as_admin)
    assert response.status_code == 200
    [row] = response.json()
    assert row["prefix"] == prefix_of(staff.clerk_key) and row["label"] == "desk"
    assert row["last_used_at"] is not None and row["revoked"] is False
    assert staff.clerk_key not in response.text and "key_hash" not in row
    everyone = api_client.get("/api/v1/staff/api-keys", headers=staff.as_admin).json()
    assert len(everyone) == 2

    revoke = api_client.post(f"/api/v1/staff/api-keys/{row['prefix']}/revoke",
                             headers=staff.as_admin)
    assert revoke.status_code == 200 and revoke.json()["revoked"] is True
    assert api_client.get("/api/v1/me", headers=staff.as_clerk).status_code == 401
    [event] = staff.audit("revoke_api_key")
    assert (event.object_type, event.object_id) == ("api_key", row["prefix"])
    assert len(staff.audit("view_api_keys")) == 2


@pytest.mark.parametrize(("method", "path"), [
    ("post", "/api/v1/staff/users/987654/deactivate"),
    ("post", "/api/v1/staff/users/987654/reactivate"),
    ("post", "/api/v1/staff/users/987654/unlock"),
    ("post", "/api/v1/staff/users/987654/password"),
    ("get", "/api/v1/staff/api-keys?user_id=987654"),
    ("post", "/api/v1/staff/api-keys/abcdef123456/revoke"),
])
def test_unknown_users_and_keys_are_404(api_client, staff, method, path):
    kwargs = {"json": {}} if path.endswith("password") else {}
    response = getattr(api_client, method)(path, headers=staff.as_admin, **kwargs)
    assert response.status_code == 404 and "detail" in response.json()


@pytest.mark.parametrize("path", ["/api/v1/staff/users/99999999999999/unlock",
                                  "/api/v1/staff/users/0/unlock",
                                  "/api/v1/staff/api-keys/not-a-prefix/revoke"])
def test_out_of_range_ids_are_422_not_500(api_client, staff, path):
    assert api_client.post(path, headers=staff.as_admin).status_code == 422


def test_api_key_last_used_is_written_at_most_once_in_the_window(api_client, staff, db_session):
    writes = []

    def count(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("UPDATE API_KEY"):
            writes.append(statement)

    engine = db_session.get_bind().engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        for _ in range(5):
            assert api_client.get("/api/v1/me", headers=staff.as_clerk).status_code == 200
        assert len(writes) == 1
        key = db_session.query(ApiKey).filter_by(prefix=prefix_of(staff.clerk_key)).one()
        first = key.last_used_at
        # Once the stored time is older than the window, the next request refreshes it.
        key.last_used_at = first - staff_service.LAST_USED_RESOLUTION
        db_session.flush()
        writes.clear()
        for _ in range(3):
            api_client.get("/api/v1/me", headers=staff.as_clerk)
        assert len(writes) == 1
        db_session.refresh(key)
        assert key.last_used_at >= first
    finally:
        event.remove(engine, "before_cursor_execute", count)


def test_staff_routes_document_their_refusals(api_client):
    paths = api_client.get("/openapi.json").json()["paths"]
    for path, method in [("/api/v1/staff/users/{user_id}/deactivate", "post"),
                         ("/api/v1/staff/users/{user_id}/reactivate", "post"),
                         ("/api/v1/staff/users/{user_id}/unlock", "post"),
                         ("/api/v1/staff/users/{user_id}/password", "post"),
                         ("/api/v1/staff/api-keys/{prefix}/revoke", "post")]:
        assert {"401", "403", "404"} <= set(paths[path][method]["responses"]), path
    for path, method in [("/api/v1/staff/users", "get"), ("/api/v1/staff/api-keys", "get"),
                         ("/api/v1/me/password", "post")]:
        assert {"401", "403"} <= set(paths[path][method]["responses"]), path


def test_deactivated_user_cannot_sign_in_to_the_console(api_client, staff, db_session):
    staff_service.deactivate(session=db_session, actor=f"staff:{staff.admin.id}",
                             user=staff.clerk)
    assert db_session.get(StaffUser, staff.clerk.id).active is False
    page = api_client.get("/console/login")
    import re

    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    response = api_client.post("/console/login", data={
        "username": "c.clerk", "password": PASSWORD, "csrf_token": token},
        follow_redirects=False)
    assert response.status_code == 400 and "rebook_session" not in response.cookies

