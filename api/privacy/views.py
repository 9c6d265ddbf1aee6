"""Subject access export for admins (/api/v1/subject-access-exports)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, status
from pydantic import BaseModel

from api.audit import service as audit_service
from api.deps import SessionDep, require_role
from api.privacy import service as privacy_service
from api.privacy.schemas import SubjectAccessIn
from api.staff.models import Role, StaffUser

router = APIRouter(prefix="/api/v1", tags=["data protection"])
Admin = Annotated[StaffUser, Depends(require_role(Role.ADMIN))]


class Problem(BaseModel):
    detail: str


@router.post("/subject-access-exports", responses={
    401: {"model": Problem, "description": "Not signed in and no API key"},
    403: {"model": Problem, "description": "Not an admin (or a console request without CSRF)"},
    404: {"model": Problem, "description": "No patient with that id or NHS number"},
    422: {"description": "Neither or both of patient_id and nhs_number, or a malformed one"},
})
def export_patient(body: SubjectAccessIn, session: SessionDep, user: Admin) -> dict:
    """Everything held about one patient as JSON, for a subject access request (admins only;
    audited). Review it for other people's data before release."""
    try:
        patient = privacy_service.find_patient(session=session, patient_id=body.patient_id,
                                               nhs_number=body.nhs_number)
    except privacy_service.NoSuchPatient as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=str(exc)) from exc
    except ValueError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=str(exc)) from exc
    export = privacy_service.export_patient(session=session, patient=patient,
                                            actor=audit_service.actor_of(user), via="api")
    session.commit()
    return export
