"""Staff API shapes."""

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, computed_field

from api.db import utcnow
from api.staff import passwords
from api.staff.models import Role


class StaffOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    username: str
    display_name: str
    role: Role


class StaffAccountOut(StaffOut):
    """A staff account as admins manage it (never its password hash)."""

    id: int
    active: bool
    locked_until: datetime | None
    created_at: datetime

    @computed_field
    @property
    def locked(self) -> bool:
        """True while a lockout after failed sign-ins stops new password sign-ins."""
        return self.locked_until is not None and self.locked_until > utcnow()


class ApiKeyOut(BaseModel):
    """An API key's record: its prefix identifies it; the key itself is never stored."""

    model_config = ConfigDict(from_attributes=True)

    prefix: str
    staff_user_id: int
    label: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None

    @computed_field
    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None


class PasswordReset(BaseModel):
    """A temporary password for the user, or none to have one generated (shown once)."""

    password: str | None = Field(default=None, min_length=passwords.MIN_LENGTH,
                                 max_length=passwords.MAX_LENGTH)


class PasswordResetOut(BaseModel):
    generated_password: str | None = Field(
        description="The generated temporary password, shown this once; null when one was given")


class PasswordChange(BaseModel):
    current_password: str = Field(max_length=passwords.MAX_LENGTH)
    new_password: str = Field(min_length=passwords.MIN_LENGTH, max_length=passwords.MAX_LENGTH)
