"""Staff JSON API: find a patient (`GET /api/v1/patients`), as the console does from a case.

By NHS number, by family name and date of birth, or by phone number (api.patients.search);
every search is audited with the fields used and the number of matches, never their values.
It lives with the handover API because finding the patient of a case is the bookings team's
work, and the patients domain sits below the audit log.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel

from api.audit import service as audit_service
from api.deps import SessionDep, require_role
from api.errors import STAFF_ERRORS
from api.fields import NO_NUL
from api.patients import search
from api.staff.models import Role, StaffUser

router = APIRouter(prefix="/api/v1", tags=["patients"], responses=STAFF_ERRORS)
QueueWorker = Annotated[StaffUser, Depends(require_role(Role.CLERK, Role.CLINICIAN, Role.ADMIN))]
SearchField = Annotated[str, Query(pattern=NO_NUL, max_length=100)]


class PatientMatch(BaseModel):
    """One patient the search found."""

    id: int
    nhs_number: str
    given_name: str
    family_name: str
    date_of_birth: date
    postcode: str
    mobile: str | None
    opted_out: bool
    communication_needs: list[str]


@router.get("/patients", response_model=list[PatientMatch])
def find_patients(session: SessionDep, user: QueueWorker, nhs_number: SearchField = "",
                  family_name: SearchField = "", date_of_birth: SearchField = "",
                  phone: SearchField = "") -> list[PatientMatch]:
    """Patients matching every field given: an NHS number, or a family name with a date of
    birth (day/month/year or ISO), or a phone number. 422 when none of those is given or a
    field is not valid (an NHS number failing its check digit, "31/02/1980")."""
    criteria = search.Criteria(nhs_number=nhs_number, family_name=family_name,
                               date_of_birth=date_of_birth, phone=phone)
    found = search.find_patients(session=session, criteria=criteria)
    audit_service.record(session=session, actor=user.audit_actor, action="search_patients",
                         object_type="patient", object_id="*",
                         details={"fields": criteria.kinds(), "matches": len(found),
                                  **audit_service.patient_ids_detail(p.id for p in found)})
    session.commit()
    return [PatientMatch(id=p.id, nhs_number=p.nhs_number, given_name=p.given_name,
                         family_name=p.family_name, date_of_birth=p.date_of_birth,
                         postcode=p.postcode, mobile=p.mobile, opted_out=p.opted_out,
                         communication_needs=p.communication_needs or []) for p in found]
