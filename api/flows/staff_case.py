"""A member of staff opens a case by hand, for a patient or a conversation.

A request names the conversation by id; this flow finds it (conversations sits above handover)
and passes its facts to the handover domain, which checks the rest (the patient, the
appointment) and opens the case with the automatic summary. Caller:
`POST /api/v1/handovers`.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from api.config import Settings
from api.conversations import service as conversations_service
from api.handover import casework
from api.handover.models import Handover, HandoverReason, Urgency
from api.staff.models import StaffUser


def open_case(*, session: Session, settings: Settings, user: StaffUser, reason: HandoverReason,
              urgency: Urgency, patient_id: int | None = None,
              conversation_id: int | None = None, appointment_id: int | None = None,
              note: str = "") -> Handover:
    """Open a handover on a member of staff's initiative (NotFound for an unknown conversation)."""
    conversation = None
    if conversation_id is not None:
        conversation = conversations_service.get(session=session,
                                                 conversation_id=conversation_id)
        if conversation is None:
            raise casework.NotFound("no such conversation")
    return casework.create_by_staff(
        session=session, settings=settings, user=user, reason=reason, urgency=urgency,
        patient_id=patient_id,
        conversation=(conversations_service.facts_of(conversation)
                      if conversation is not None else None),
        appointment_id=appointment_id, note=note)
