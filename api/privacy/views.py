"""Subject access export for admins (/api/v1/subject-access-exports)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, status

from api.deps import SessionDep, require_role
from api.errors import STAFF_ERRORS, error_responses
from api.privacy import service as privacy_service
from api.privacy.schemas import SubjectAccessExport, SubjectAccessIn
from api.staff.models import Role, StaffUser

router = APIRouter(prefix="/api/v1", tags=["data protection"], responses=STAFF_ERRORS)
Admin = Annotated[StaffUser, Depends(require_role(Role.ADMIN))]


@router.post("/subject-access-exports", response_model=SubjectAccessExport,
             responses=error_responses(404))
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
                                            actor=user.audit_actor, via="api")
    session.commit()
    return export
