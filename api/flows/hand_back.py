"""Resolve a case: the handover is resolved (handover domain) and its conversation handed back
to the assistant or closed (conversations domain), in the caller's transaction.

The direction is conversations -> handover, so the handover domain never writes the
conversation; this flow does both. Callers: the console and `POST /api/v1/handovers/{id}/resolve`.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from api.conversations import service as conversations_service
from api.handover import casework
from api.handover.models import Handover
from api.staff.models import StaffUser


def resolve(*, session: Session, handover: Handover, user: StaffUser, hand_back: bool,
            note: str = "") -> Handover:
    """Resolve `handover`; hand its conversation back to the assistant, or close it."""
    casework.resolve(session=session, handover=handover, user=user, hand_back=hand_back,
                     note=note)
    if handover.conversation_id:
        conversations_service.staff_finished(session=session,
                                             conversation_id=handover.conversation_id,
                                             hand_back=hand_back)
        session.flush()
    return handover
