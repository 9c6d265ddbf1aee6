"""Handover intake: open a case for staff (or add to the one open), find the open one, work
out when it is due. The bookings team's verbs on a case are `api.handover.casework`, the queue
`api.handover.queue`, the summary `api.handover.summary`; what crosses domains (the case file,
handing a conversation back) is in `api.flows`."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.audit import service as audit_service
from api.audit.models import AuditEvent
from api.config import Settings
from api.db import utcnow
from api.handover import summary as handover_summary
from api.handover.models import Handover, HandoverReason, HandoverStatus, Urgency
from api.handover.summary import (
    ConversationFacts,
    quote_patient,  # noqa: F401  (the worker quotes with it)
)
from api.messaging import history
from api.system import working_hours

log = logging.getLogger(__name__)

URGENT_WITHIN = timedelta(minutes=15)
HIGH_WITHIN_WORKING = timedelta(hours=1)
NORMAL_WITHIN_WORKING = timedelta(hours=4)
URGENCY_ORDER = {Urgency.URGENT: 0, Urgency.HIGH: 1, Urgency.NORMAL: 2}

# Reasons that outrank whatever a conversation's open case was about.
SAFETY_REASONS = frozenset({HandoverReason.RED_FLAG, HandoverReason.SAFEGUARDING})


def due_at(*, urgency: Urgency, settings: Settings, now: datetime | None = None) -> datetime:
    """Urgent: 15 minutes, day or night. Others: that much working time (the one calendar,
    `api.system.working_hours`: weekdays, the configured hours, England's bank holidays)."""
    now = now or utcnow()
    if urgency is Urgency.URGENT:
        return now + URGENT_WITHIN
    within = HIGH_WITHIN_WORKING if urgency is Urgency.HIGH else NORMAL_WITHIN_WORKING
    return working_hours.add_working_time(now, within, settings)


def open_for_conversation(*, session: Session, conversation_id: int) -> Handover | None:
    """The unresolved handover of a conversation, if staff have it."""
    return session.scalar(
        select(Handover)
        .where(Handover.conversation_id == conversation_id,
               Handover.status != HandoverStatus.RESOLVED)
        .order_by(Handover.id.desc())
        .limit(1)
    )


def open_handover(
    *,
    session: Session,
    settings: Settings,
    reason: HandoverReason,
    urgency: Urgency,
    created_by: str,
    summary: str,
    conversation: ConversationFacts | None = None,
    patient_id: int | None = None,
    appointment_id: int | None = None,
    context: Sequence[str] = (),
    trigger_message_id: int | None = None,
) -> Handover:
    """Open a handover, or raise the urgency of the one already open for this conversation.

    `conversation` is the facts of the conversation the case is about (None for a case about
    the patient alone), from `api.conversations.service.facts_of`. `summary` is the opening
    line; `context` what the assistant had offered or heard. The summary builder adds the rest
    (api.handover.summary) from these facts and the records. The patient message that prompted
    it (`trigger_message_id`, else the conversation's message in hand) is what the queue quotes.
    """
    conversation_id = conversation.id if conversation is not None else None
    if trigger_message_id is None and conversation_id:
        in_hand = history.message_in_hand(session=session,
                                                    conversation_id=conversation_id)
        trigger_message_id = in_hand.id if in_hand is not None else None
    existing = (open_for_conversation(session=session, conversation_id=conversation_id)
                if conversation_id else None)
    if existing is not None:
        _add_to(existing, settings=settings, reason=reason, urgency=urgency,
                update=handover_summary.update_line(opening=summary, context=context),
                patient_id=patient_id, trigger_message_id=trigger_message_id)
        return existing
    handover = Handover(
        conversation_id=conversation_id,
        patient_id=patient_id,
        appointment_id=appointment_id,
        reason=reason,
        urgency=urgency,
        status=HandoverStatus.OPEN,
        due_at=due_at(urgency=urgency, settings=settings),
        summary=_opening_summary(session=session, settings=settings, reason=reason,
                                 opening=summary, conversation=conversation,
                                 patient_id=patient_id, context=context),
        created_by=created_by,
        trigger_message_id=trigger_message_id,
    )
    session.add(handover)
    session.flush()
    log.info("handover opened", extra={"handover_id": handover.id, "reason": reason.value,
                                       "urgency": urgency.value})
    return handover


def _add_to(existing: Handover, *, settings: Settings, reason: HandoverReason, urgency: Urgency,
            update: str, patient_id: int | None, trigger_message_id: int | None) -> None:
    """A new opening on a case already open: more urgent if need be, the update in its summary."""
    if URGENCY_ORDER[urgency] < URGENCY_ORDER[existing.urgency]:
        existing.urgency = urgency
        existing.due_at = min(existing.due_at, due_at(urgency=urgency, settings=settings))
    escalated = reason in SAFETY_REASONS and existing.reason not in SAFETY_REASONS
    if escalated:
        existing.reason = reason
        # The queue quotes what made it a safety case.
        existing.trigger_message_id = trigger_message_id or existing.trigger_message_id
    # What first made this a safety case comes first, and is never pushed out by later updates.
    existing.summary = handover_summary.summary_with_update(
        summary=existing.summary, update=update, pinned=escalated)
    existing.patient_id = existing.patient_id or patient_id
    existing.trigger_message_id = existing.trigger_message_id or trigger_message_id


def _opening_summary(*, session: Session, settings: Settings, reason: HandoverReason,
                     opening: str, conversation: ConversationFacts | None,
                     patient_id: int | None, context: Sequence[str]) -> str:
    try:  # the automatic summary is a help to staff; it must never stop a handover opening
        with session.begin_nested():
            return handover_summary.build(
                session=session, settings=settings, reason=reason, opening=opening,
                conversation=conversation, patient_id=patient_id, context=context)
    except Exception:
        log.exception("automatic handover summary failed")
    fallback = "\n".join(part.strip() for part in (opening, *context) if part.strip())
    return handover_summary.shorten(fallback, handover_summary.MAX_OPENING_CHARS)


def patient_wrote_again(*, session: Session, handover: Handover) -> None:
    """A case waiting for the patient is back in the queue once they reply."""
    if handover.status is HandoverStatus.WAITING_FOR_PATIENT:
        handover.status = HandoverStatus.OPEN


def open_for_patient(*, session: Session, patient_id: int,
                     reason: HandoverReason) -> Handover | None:
    """An unresolved handover of this reason for a patient (to avoid listing them twice)."""
    return session.scalar(
        select(Handover).where(Handover.patient_id == patient_id, Handover.reason == reason,
                               Handover.status != HandoverStatus.RESOLVED).limit(1)
    )


def add_system_note(*, session: Session, handover: Handover, actor: str, action: str,
                    text: str, **details) -> AuditEvent:
    """Note something the system did (not a person) on a handover, where staff read notes."""
    return audit_service.record(session=session, actor=actor, action=action,
                                object_type="handover", object_id=handover.id,
                                patient_id=handover.patient_id, details={"text": text, **details})
