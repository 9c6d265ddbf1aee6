"""Staff JSON API: who am I."""

from fastapi import APIRouter

from api.deps import StaffUserDep
from api.staff.schemas import StaffOut

router = APIRouter(prefix="/api/v1", tags=["staff"])


@router.get("/me", response_model=StaffOut)
def me(user: StaffUserDep) -> StaffOut:
    """The staff user the request is authenticated as."""
    return StaffOut.model_validate(user)
