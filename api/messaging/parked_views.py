"""Staff JSON API for parked messages: what the worker or the dispatcher set aside, and why."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from api.audit import service as audit_service
from api.deps import SessionDep, require_role
from api.errors import STAFF_ERRORS
from api.messaging import delivery
from api.messaging.models import Direction, Message
from api.messaging.schemas import ParkedMessageOut
from api.staff.models import Role, StaffUser

router = APIRouter(prefix="/api/v1", tags=["messaging"], responses=STAFF_ERRORS)
QueueWorker = Annotated[StaffUser, Depends(require_role(Role.CLERK, Role.CLINICIAN, Role.ADMIN))]


def _out(message: Message) -> ParkedMessageOut:
    inbound = message.direction is Direction.INBOUND
    return ParkedMessageOut(
        id=message.id, direction=message.direction, channel=message.channel,
        category=message.category, body=message.body, parked_reason=message.parked_reason,
        address=message.from_address if inbound else message.to_address,
        conversation_id=message.conversation_id, patient_id=message.patient_id,
        created_at=message.created_at)


@router.get("/messages/parked", response_model=list[ParkedMessageOut])
def list_parked(session: SessionDep, user: QueueWorker,
                limit: Annotated[int, Query(ge=1, le=1000)] = 200) -> list[ParkedMessageOut]:
    """Messages that could not be handled or sent, newest first, each with its reason; every
    other message went on past them. Reading them (patient text) is audited."""
    messages = delivery.parked(session=session, limit=limit)
    audit_service.record(
        session=session, actor=user.audit_actor, action="view_parked_messages",
        object_type="message", object_id="parked",
        details={"message_ids": [m.id for m in messages],
                 "patient_ids": sorted({m.patient_id for m in messages if m.patient_id})})
    session.commit()
    return [_out(m) for m in messages]
