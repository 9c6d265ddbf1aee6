"""The handover queue: red flags first, then urgent, then by due time; its filters and search;
its live-update fingerprint; the patient message each case quotes."""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, false, func, or_, select
from sqlalchemy.orm import Session

from api.config import Settings
from api.db import utcnow
from api.handover.models import Handover, HandoverReason, HandoverStatus, Urgency
from api.handover.service import URGENCY_ORDER
from api.handover.summary import quote_patient
from api.messaging.models import Message
from api.patients.models import Patient
from api.system import redis_client

log = logging.getLogger(__name__)

QUEUE_CHANNEL = "rebook:handover-queue"  # Redis pub/sub: "the queue changed", no content
QUOTE_CHARS = 120
SEARCH_CHARS = 100
# Fewer digits than this match too many numbers to be a phone search.
PHONE_DIGITS_MIN = 3
NHS_NUMBER_DIGITS = 10


@dataclass(frozen=True)
class QueueFilter:
    """What a member of staff narrowed the queue to (every part optional, all must hold)."""

    assignee_id: int | None = None  # "mine": cases this staff member has
    urgent: bool = False
    overdue: bool = False
    reason: HandoverReason | None = None
    search: str = ""  # a patient's name, NHS number, last digits of a phone, words they wrote

    @property
    def narrowed(self) -> bool:
        return bool(self.assignee_id or self.urgent or self.overdue or self.reason
                    or self.search)


def urgency_rank():
    """SQL expression ordering urgent before high before normal."""
    return case({u.value: rank for u, rank in URGENCY_ORDER.items()}, value=Handover.urgency)


def red_flag_rank():
    """SQL expression putting red flags before everything else."""
    return case((Handover.reason == HandoverReason.RED_FLAG, 0), else_=1)


def queue(*, session: Session, include_resolved: bool = False, limit: int = 500,
          status: HandoverStatus | None = None, filters: QueueFilter | None = None,
          now: datetime | None = None) -> list[Handover]:
    """The queue: red flags first, then urgent, then by due time (the most overdue first)."""
    query = (_selected(select(Handover), include_resolved, status, filters, now)
             .order_by(red_flag_rank(), urgency_rank(), Handover.due_at, Handover.id)
             .limit(limit))
    return list(session.scalars(query))


def count(*, session: Session, filters: QueueFilter | None = None,
          now: datetime | None = None) -> int:
    """How many unresolved cases the queue holds (narrowed to `filters`), however many a page
    shows: so a page can say when it shows only the most pressing."""
    query = _selected(select(func.count(Handover.id)), False, None, filters, now)
    return session.scalar(query) or 0


def _selected(query, include_resolved: bool, status: HandoverStatus | None,
              filters: QueueFilter | None, now: datetime | None):
    if status is not None:
        query = query.where(Handover.status == status)
    elif not include_resolved:
        query = query.where(Handover.status != HandoverStatus.RESOLVED)
    if filters is not None:
        query = _filtered(query, filters, now or utcnow())
    return query


def _filtered(query, filters: QueueFilter, now: datetime):
    if filters.assignee_id is not None:
        query = query.where(Handover.assignee_id == filters.assignee_id)
    if filters.urgent:
        query = query.where(Handover.urgency == Urgency.URGENT)
    if filters.overdue:
        query = query.where(Handover.due_at < now)
    if filters.reason is not None:
        query = query.where(Handover.reason == filters.reason)
    if filters.search.strip():
        query = (query.outerjoin(Patient, Patient.id == Handover.patient_id)
                 .outerjoin(Message, Message.id == Handover.trigger_message_id)
                 .where(_search_matches(filters.search)))
    return query


def _search_matches(search: str):
    """A patient's name, NHS number (spaces allowed), the last digits of their phone (or of the
    number the case's message came from), or words of the message the queue quotes."""
    text = search.strip().strip('"\u201c\u201d').strip()[:SEARCH_CHARS]
    if not text:
        return false()
    digits = re.sub(r"[\s()+-]", "", text)
    if len(digits) == 11 and digits.startswith("0"):  # a UK number as people write it
        digits = digits[1:]
    either = [(Patient.given_name + " " + Patient.family_name).icontains(text, autoescape=True),
              Message.body.icontains(text, autoescape=True)]
    if digits.isdigit() and len(digits) == NHS_NUMBER_DIGITS:
        either.append(Patient.nhs_number == digits)
    if digits.isdigit() and len(digits) >= PHONE_DIGITS_MIN:
        either += [Patient.mobile.endswith(digits, autoescape=True),
                   Message.from_address.endswith(digits, autoescape=True)]
    return or_(*either)


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
