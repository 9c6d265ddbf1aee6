"""Handover verbs: open a case for staff, find the open one, work out when it is due."""

from __future__ import annotations

import logging
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.config import Settings
from api.db import utcnow
from api.handover.models import Handover, HandoverReason, HandoverStatus, Urgency

log = logging.getLogger(__name__)

URGENT_WITHIN = timedelta(minutes=15)
WORKING_DAYS = range(0, 5)  # Monday to Friday
HIGH_WITHIN_WORKING = timedelta(hours=1)
NORMAL_WITHIN_WORKING = timedelta(hours=4)
URGENCY_ORDER = {Urgency.URGENT: 0, Urgency.HIGH: 1, Urgency.NORMAL: 2}


def _next_working_moment(local: datetime, opens: time, closes: time) -> datetime:
    """`local` if the bookings team is at work then, else when it next opens."""
    day = local
    while True:
        if day.weekday() in WORKING_DAYS:
            start = day.replace(hour=opens.hour, minute=opens.minute, second=0, microsecond=0)
            end = day.replace(hour=closes.hour, minute=closes.minute, second=0, microsecond=0)
            if day.date() == local.date() and start <= local < end:
                return local
            if local < start:
                return start
        day = (day + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
        local = day


def due_at(*, urgency: Urgency, settings: Settings, now: datetime | None = None) -> datetime:
    """Urgent: 15 minutes, day or night. Others: within working hours, from when they open."""
    now = now or utcnow()
    if urgency is Urgency.URGENT:
        return now + URGENT_WITHIN
    zone = ZoneInfo(settings.patient_timezone)
    opens = time.fromisoformat(settings.working_hours_start)
    closes = time.fromisoformat(settings.working_hours_end)
    start = _next_working_moment(now.astimezone(zone), opens, closes)
    within = HIGH_WITHIN_WORKING if urgency is Urgency.HIGH else NORMAL_WITHIN_WORKING
    due = start + within
    closing = due.replace(hour=closes.hour, minute=closes.minute)
    if due > closing:  # runs past closing time: the rest is due first thing next working day
        overflow = due - closing
        due = _next_working_moment(closing + timedelta(minutes=1), opens, closes) + overflow
    return due.astimezone(now.tzinfo)


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
    conversation_id: int | None = None,
    patient_id: int | None = None,
    appointment_id: int | None = None,
) -> Handover:
    """Open a handover, or raise the urgency of the one already open for this conversation."""
    existing = (open_for_conversation(session=session, conversation_id=conversation_id)
                if conversation_id else None)
    if existing is not None:
        if URGENCY_ORDER[urgency] < URGENCY_ORDER[existing.urgency]:
            existing.urgency = urgency
            existing.due_at = min(existing.due_at, due_at(urgency=urgency, settings=settings))
        if reason is HandoverReason.RED_FLAG and existing.reason is not HandoverReason.RED_FLAG:
            existing.reason = reason
        existing.summary = f"{existing.summary}\n{summary}".strip()
        existing.patient_id = existing.patient_id or patient_id
        return existing
    handover = Handover(
        conversation_id=conversation_id,
        patient_id=patient_id,
        appointment_id=appointment_id,
        reason=reason,
        urgency=urgency,
        status=HandoverStatus.OPEN,
        due_at=due_at(urgency=urgency, settings=settings),
        summary=summary,
        created_by=created_by,
    )
    session.add(handover)
    session.flush()
    log.info("handover opened", extra={"handover_id": handover.id, "reason": reason.value,
                                       "urgency": urgency.value})
    return handover


def open_for_patient(*, session: Session, patient_id: int,
                     reason: HandoverReason) -> Handover | None:
    """An unresolved handover of this reason for a patient (to avoid listing them twice)."""
    return session.scalar(
        select(Handover).where(Handover.patient_id == patient_id, Handover.reason == reason,
                               Handover.status != HandoverStatus.RESOLVED).limit(1)
    )
