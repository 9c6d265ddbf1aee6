"""Staff API shapes."""

from pydantic import BaseModel, ConfigDict

from api.staff.models import Role


class StaffOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    username: str
    display_name: str
    role: Role
