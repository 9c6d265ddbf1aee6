from api.staff import service as staff_service
from api.staff.models import Role


def test_me_needs_a_valid_api_key(api_client, db_session):
    user = staff_service.create_user(session=db_session, username="clerk1", display_name="Clerk",
                                     password="long enough password", role=Role.CLERK)
    key = staff_service.create_api_key(session=db_session, user=user)

    assert api_client.get("/api/v1/me").status_code == 401
    bad = api_client.get("/api/v1/me", headers={"Authorization": "Bearer rbk_nope_nope"})
    assert bad.status_code == 401
    ok = api_client.get("/api/v1/me", headers={"Authorization": f"Bearer {key}"})
    assert ok.status_code == 200
    assert ok.json() == {"username": "clerk1", "display_name": "Clerk", "role": "clerk"}
