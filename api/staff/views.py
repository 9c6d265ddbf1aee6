"""Staff JSON API: who am I."""

from fastapi import APIRouter

from api.deps import StaffUserDep, reads_only
from api.errors import error_responses
from api.staff.schemas import StaffOut

router = APIRouter(prefix="/api/v1", tags=["staff"], responses=error_responses(401, 403, 503))


@router.get("/me", response_model=StaffOut)
@reads_only
def me(user: StaffUserDep) -> StaffOut:
    """The staff user the request is authenticated as."""
    return StaffOut.model_validate(user)
