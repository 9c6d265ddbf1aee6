"""The demo staff account `rebook run` creates for development: sign in to the console at once.

Its password is published in the README, so it exists only outside production: in production
nothing here creates or reports it, whatever the database holds.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from api.audit import service as audit_service
from api.config import Settings
from api.staff import service as staff_service
from api.staff.models import Role

USERNAME = "demo.admin"
PASSWORD = "teal kettle harbour ninety"  # documented in README.md: development only
DISPLAY_NAME = "Demo Admin"


@dataclass(frozen=True)
class DemoSignIn:
    username: str
    password: str
    created: bool  # False: the account was already there (its password may have changed)


def ensure_demo_staff(*, session: Session, settings: Settings) -> DemoSignIn | None:
    """Create the demo admin once (flushes; the caller commits); None in production."""
    if settings.is_production:
        return None
    if staff_service.get_user(session=session, username=USERNAME) is not None:
        return DemoSignIn(USERNAME, PASSWORD, created=False)
    user = staff_service.create_user(session=session, username=USERNAME, password=PASSWORD,
                                     display_name=DISPLAY_NAME, role=Role.ADMIN)
    audit_service.record(session=session, actor="system", action="create_staff_user",
                         object_type="staff_user", object_id=user.id,
                         details={"role": Role.ADMIN.value, "demo": True})
    return DemoSignIn(USERNAME, PASSWORD, created=True)
