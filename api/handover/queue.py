"""The handover queue: urgent first, then by due time; its live-update fingerprint; the patient
message each case quotes."""

from __future__ import annotations

import hashlib
import logging

from sqlalchemy import case, select
from sqlalchemy.orm import Session

from api.config import Settings
from api.handover.models import Handover, HandoverStatus
from api.handover.service import URGENCY_ORDER
from api.handover.summary import quote_patient
from api.messaging.models import Message
from api.system import redis_client

log = logging.getLogger(__name__)

QUEUE_CHANNEL = "rebook:handover-queue"  # Redis pub/sub: "the queue changed", no content
QUOTE_CHARS = 120


def urgency_rank():
    """SQL expression ordering urgent before high before normal."""
    return case({u.value: rank for u, rank in URGENCY_ORDER.items()}, value=Handover.urgency)


def queue(*, session: Session, include_resolved: bool = False, limit: int = 500,
          status: HandoverStatus | None = None) -> list[Handover]:
    """The queue: urgent first, then by due time (the most overdue first)."""
    query = select(Handover).order_by(urgency_rank(), Handover.due_at, Handover.id).limit(limit)
    if status is not None:
        query = query.where(Handover.status == status)
    elif not include_resolved:
        query = query.where(Handover.status != HandoverStatus.RESOLVED)
    return list(session.scalars(query))


def queue_fingerprint(*, session: Session) -> str:
    """A short value that changes whenever the unresolved queue changes (for live updates)."""
    rows = session.execute(
        select(Handover.id, Handover.status, Handover.urgency, Handover.assignee_id,
               Handover.due_at)
        .where(Handover.status != HandoverStatus.RESOLVED).order_by(Handover.id)).all()
    return hashlib.sha256(repr([tuple(map(str, row)) for row in rows]).encode()).hexdigest()[:16]


def publish_queue_change(*, settings: Settings) -> None:
    """Tell every api process's live queue to refresh (Redis only; call after commit)."""
    if not settings.redis_url:
        return
    try:
        redis_client.client(settings.redis_url, timeout=1).publish(QUEUE_CHANNEL, "changed")
    except Exception:  # a missed wake-up only delays the update until the next poll
        log.warning("could not publish a queue change to Redis")


def quotes(*, session: Session, handovers: list[Handover],
           limit: int = QUOTE_CHARS) -> dict[int, str]:
    """The patient message each case was opened on (or made a safety case by), on one line:
    read from the message itself, never from the summary's text."""
    ids = {h.trigger_message_id for h in handovers if h.trigger_message_id}
    if not ids:
        return {}
    bodies = dict(session.execute(
        select(Message.id, Message.body).where(Message.id.in_(ids))).all())
    return {h.id: quote_patient(bodies[h.trigger_message_id], limit) for h in handovers
            if h.trigger_message_id in bodies and (bodies[h.trigger_message_id] or "").strip()}
