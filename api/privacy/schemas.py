"""Subject access request bodies and the export's shape."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field, model_validator

Row = dict[str, Any]  # one stored record, column by column (see privacy.service._row)


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


class SubjectAccessExport(BaseModel):
    """Everything held about one patient. Each record is its stored columns; appointments
    carry their history, conversations their messages, handovers their notes."""

    format: str = Field(description='"rebook-subject-access/1"')
    exported_at: str = Field(description="ISO 8601 date and time, UTC")
    patient: Row
    appointments: list[Row]
    offers: list[Row]
    conversations: list[Row]
    other_messages: list[Row] = Field(description="Messages to or from the patient outside a "
                                                  "conversation verified as them")
    campaign_recipients: list[Row]
    handovers: list[Row]
    opt_outs: list[Row]
    audit_events: list[Row]
