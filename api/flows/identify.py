"""Identify the patient of a case: staff find them (api.patients.search), record how they
checked who it is, and link the case to them (casework.identify, audited).

Linking the case does not tell the assistant who is writing: the person on the conversation's
number may not be the patient staff spoke to. Only when the check was made with the person on
that number is the conversation verified as the patient (`Conversation.verified_as`), for the
usual identity period. Callers: the console's case page.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from api.audit import service as audit_service
from api.config import Settings
from api.conversations import identity
from api.conversations import service as conversations_service
from api.handover import casework
from api.handover.models import Handover
from api.patients import search
from api.patients.models import Patient
from api.staff.models import StaffUser


def find(*, session: Session, handover: Handover, user: StaffUser,
         criteria: search.Criteria) -> list[Patient]:
    """Search the register for this case's patient; the search is audited: which fields were
    used (never the values typed) and which patients' details it showed."""
    found = search.find_patients(session=session, criteria=criteria)
    audit_service.record(session=session, actor=user.audit_actor, action="search_patients",
                         object_type="handover", object_id=handover.id,
                         details={"fields": criteria.kinds(), "matches": len(found),
                                  **audit_service.patient_ids_detail(p.id for p in found)})
    return found


def identify(*, session: Session, settings: Settings, handover: Handover, user: StaffUser,
             patient_id: int, check: str, on_conversation_number: bool) -> Handover:
    """Link the case to the patient; verify its conversation only when the check was made
    with the person on the conversation's number."""
    if on_conversation_number and handover.conversation_id is None:
        raise casework.HandoverError("this handover has no conversation: untick "
                                     "\"on this conversation's number\"")
    casework.identify(session=session, handover=handover, user=user, patient_id=patient_id,
                      check=check, on_conversation_number=on_conversation_number)
    if on_conversation_number:
        conversation = conversations_service.get(session=session,
                                                 conversation_id=handover.conversation_id)
        identity.verify(session=session, settings=settings, conversation=conversation,
                        patient_id=patient_id)
    return handover
