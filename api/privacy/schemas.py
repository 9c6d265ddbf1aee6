"""Subject access request bodies."""

from __future__ import annotations

from pydantic import BaseModel, Field, model_validator


class SubjectAccessIn(BaseModel):
    """Whose data: a patient id or an NHS number (in the body, so it never sits in a URL or an
    access log)."""

    patient_id: int | None = Field(default=None, ge=1, le=2**31 - 1)
    nhs_number: str | None = Field(default=None, min_length=10, max_length=12)

    @model_validator(mode="after")
    def _exactly_one(self) -> SubjectAccessIn:
        if (self.patient_id is None) == (self.nhs_number is None):
            raise ValueError("give patient_id or nhs_number, not both")
        return self
