"""Audit actors in words: staff by display name, system actors described."""

from api.staff import names
from api.staff import service as staff_service
from api.staff.models import Role


def test_actors_read_as_names(db_session):
    user = staff_service.create_user(session=db_session, username="n.clerk",
                                     display_name="Nia Clerk", password="long enough password",
                                     role=Role.CLERK)
    shown = names.display_names(session=db_session, actors=[
        user.audit_actor, "assistant", "system", "cli:ops", "staff:999999", None, "new_thing"])
    assert shown == {user.audit_actor: "Nia Clerk", "assistant": "The assistant",
                     "system": "The system", "cli:ops": "Server command run by ops",
                     "staff:999999": "Staff member #999999 (no longer on record)",
                     "new_thing": "New thing"}
    assert (user.audit_actor, "Nia Clerk") in names.staff_choices(session=db_session)
