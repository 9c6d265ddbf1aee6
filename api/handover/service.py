"""Handover verbs: open a case for staff, find the open one, work out when it is due; and the
bookings team's verbs on it (queue, claim, status, notes, reply, resolve, automatic summary)."""

from __future__ import annotations

import hashlib
import logging
import re
from datetime import datetime, time, timedelta

from sqlalchemy import case, select
from sqlalchemy.orm import Session

from api import errors, texts
from api.appointments.models import AWAITING_DATE, Appointment
from api.audit import service as audit_service
from api.audit.models import AuditEvent
from api.config import Settings
from api.conversations.models import Conversation, ConversationState
from api.db import utcnow
from api.errors import RefusedRequest
from api.handover.models import Handover, HandoverReason, HandoverStatus, Urgency
from api.messaging import history, outbox
from api.messaging.models import Channel, Direction, Message, MessageCategory
from api.patients.models import Patient
from api.reference.models import Specialty
from api.scheduling import service as scheduling_service
from api.scheduling.models import Offer, OfferStatus, Slot
from api.staff.models import Role, StaffUser
from api.system import localtime, redis_client

log = logging.getLogger(__name__)

URGENT_WITHIN = timedelta(minutes=15)
WORKING_DAYS = range(0, 5)  # Monday to Friday
HIGH_WITHIN_WORKING = timedelta(hours=1)
NORMAL_WITHIN_WORKING = timedelta(hours=4)
URGENCY_ORDER = {Urgency.URGENT: 0, Urgency.HIGH: 1, Urgency.NORMAL: 2}
QUEUE_CHANNEL = "rebook:handover-queue"  # Redis pub/sub: "the queue changed", no content


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
    zone = localtime.patient_zone(settings)
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


# Reasons that outrank whatever a conversation's open case was about.
SAFETY_REASONS = frozenset({HandoverReason.RED_FLAG, HandoverReason.SAFEGUARDING})

# A case's summary stays short however often the patient writes: what opened it (and what
# first made it a safety case), the latest few updates and how many earlier ones are not
# shown. Every message stays in the conversation's transcript, which staff see beside it.
MAX_SUMMARY_CHARS = 3000
MAX_OPENING_CHARS = 1600
MAX_UPDATE_CHARS = 240
LATEST_UPDATES_SHOWN = 3
UPDATES_HEADING = "\n\nSince then:\n"
_NOT_SHOWN = re.compile(
    r"\((\d+) earlier updates? not shown; every message is in the transcript\.\)")


def quote_patient(text: str, limit: int = MAX_UPDATE_CHARS // 2) -> str:
    """A patient's words for a summary: on one line, shortened to `limit` characters."""
    flat = " ".join((text or "").split())
    return flat if len(flat) <= limit else flat[:limit - 1].rstrip() + "\u2026"


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit - 1].rstrip() + "\u2026"


def summary_with_update(*, summary: str, update: str, pinned: bool = False) -> str:
    """`summary` with one more update: the opening part is kept (a `pinned` update joins it),
    the latest LATEST_UPDATES_SHOWN updates follow, and older ones are counted, not shown."""
    line = _shorten(" ".join(update.split()), MAX_UPDATE_CHARS)
    if not line:
        return summary
    # Updates are single lines, so the last heading is always the real one.
    head, heading, tail = summary.rpartition(UPDATES_HEADING)
    if not heading:
        head, tail = summary, ""
    updates = [u.removeprefix("- ") for u in tail.split("\n") if u]
    hidden = 0
    if updates and (counted := _NOT_SHOWN.fullmatch(updates[0])):
        hidden, updates = int(counted[1]), updates[1:]
    if pinned:
        head = f"{head.rstrip()}\n{line}"
    else:
        updates.append(line)
    hidden += max(0, len(updates) - LATEST_UPDATES_SHOWN)
    updates = updates[-LATEST_UPDATES_SHOWN:]
    lines = ([f"({hidden} earlier update{'s' if hidden != 1 else ''} not shown; every message "
              "is in the transcript.)"] if hidden else []) + [f"- {u}" for u in updates]
    rest = UPDATES_HEADING + "\n".join(lines) if lines else ""
    return _shorten(head, MAX_SUMMARY_CHARS - len(rest)) + rest


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
        escalated = reason in SAFETY_REASONS and existing.reason not in SAFETY_REASONS
        if escalated:
            existing.reason = reason
        # What first made this a safety case is never pushed out by later updates.
        existing.summary = summary_with_update(summary=existing.summary, update=summary,
                                               pinned=escalated)
        existing.patient_id = existing.patient_id or patient_id
        return existing
    try:  # the automatic summary is a help to staff; it must never stop a handover opening
        with session.begin_nested():
            details = build_summary(session=session, reason=reason,
                                    conversation_id=conversation_id, patient_id=patient_id)
        summary = f"{summary.strip()}\n\n{details}".strip()
    except Exception:
        log.exception("automatic handover summary failed")
    summary = _shorten(summary, MAX_OPENING_CHARS)
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


# --- the bookings team's verbs --------------------------------------------------------------

# Only clinicians (and admins) may close a case that asks for a clinical decision.
CLINICAL_REASONS = frozenset({HandoverReason.CLINICAL_REVIEW})
CLINICAL_ROLES = frozenset({Role.CLINICIAN, Role.ADMIN})
STAFF_SETTABLE = (HandoverStatus.OPEN, HandoverStatus.CLAIMED, HandoverStatus.WAITING_FOR_PATIENT)
MAX_NOTE_CHARS = 2000
MAX_REPLY_CHARS = 1000
# Outside WhatsApp's 24-hour window only approved templates may be sent (ContentSid). The SIDs
# are the trust's own approved templates; these are the sandbox's stand-ins.
REPLY_TEMPLATES: dict[str, dict[str, str]] = {
    "please_call": {
        "label": "Ask the patient to call the bookings team",
        "text": texts.template("staff_template_please_call"),
        "content_sid": "HXsandboxpleasecall000000000000001",
    },
    "reply_here": {
        "label": "Ask the patient to reply to this message",
        "text": texts.template("staff_template_reply_here"),
        "content_sid": "HXsandboxreplyhere0000000000000002",
    },
}


class HandoverError(RefusedRequest):
    """A request on a handover that cannot be honoured; nothing was changed."""

    # Input the schema cannot check (a missing choice, an unknown template): 422, as for any
    # other invalid input.
    status_code = 422


class NotFound(HandoverError, errors.NotFound):
    status_code = 404


class Forbidden(HandoverError, errors.Forbidden):
    status_code = 403


class Conflict(HandoverError, errors.Conflict):
    status_code = 409


class WindowClosed(Conflict):
    """WhatsApp free text outside the 24-hour window: send a template instead."""


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


def get(*, session: Session, handover_id: int) -> Handover:
    """The handover with this id (NotFound otherwise)."""
    handover = session.get(Handover, handover_id)
    if handover is None:
        raise NotFound("no such handover")
    return handover


def is_overdue(*, handover: Handover, now: datetime | None = None) -> bool:
    """True when an unresolved handover is past its due time."""
    return handover.status is not HandoverStatus.RESOLVED and handover.due_at < (now or utcnow())


def _audit(session: Session, user: StaffUser, action: str, handover: Handover,
           **details) -> AuditEvent:
    return audit_service.record(session=session, actor=audit_service.actor_of(user),
                                action=action, object_type="handover", object_id=handover.id,
                                patient_id=handover.patient_id, details=details)


def _open_only(handover: Handover) -> None:
    if handover.status is HandoverStatus.RESOLVED:
        raise Conflict("this handover is resolved already")


def claim(*, session: Session, handover: Handover, user: StaffUser) -> Handover:
    """Take a handover: it is assigned to `user` and marked claimed."""
    _open_only(handover)
    previous = handover.assignee_id
    handover.assignee_id = user.id
    handover.status = HandoverStatus.CLAIMED
    _audit(session, user, "claim_handover", handover, previous_assignee=previous)
    session.flush()
    return handover


def set_status(*, session: Session, handover: Handover, user: StaffUser,
               status: HandoverStatus) -> Handover:
    """Move an unresolved handover between open, claimed and waiting for the patient."""
    _open_only(handover)
    if status not in STAFF_SETTABLE:
        raise HandoverError("resolve a handover with resolve, choosing hand back or close")
    previous = handover.status
    handover.status = status
    if status is HandoverStatus.CLAIMED and handover.assignee_id is None:
        handover.assignee_id = user.id
    _audit(session, user, "set_handover_status", handover, status=status.value,
           previous=previous.value)
    session.flush()
    return handover


def add_note(*, session: Session, handover: Handover, user: StaffUser, text: str) -> AuditEvent:
    """Add a staff note; notes are append-only entries of the audit log, like every action."""
    text = text.strip()
    if not text or len(text) > MAX_NOTE_CHARS:
        raise HandoverError(f"a note holds 1 to {MAX_NOTE_CHARS} characters")
    return _audit(session, user, "add_note", handover, text=text)


def add_system_note(*, session: Session, handover: Handover, actor: str, action: str,
                    text: str, **details) -> AuditEvent:
    """Note something the system did (not a person) on a handover, where staff read notes."""
    return audit_service.record(session=session, actor=actor, action=action,
                                object_type="handover", object_id=handover.id,
                                patient_id=handover.patient_id, details={"text": text, **details})


# Audit events shown as a handover's notes: staff notes, resolutions, and what the gateway
# held back on the case (a repeated safety net).
NOTE_ACTIONS = ("add_note", "resolve_handover", "safety_net_not_repeated")


def notes(*, session: Session, handover_id: int) -> list[AuditEvent]:
    """The notes of a handover, oldest first."""
    return list(session.scalars(
        select(AuditEvent).where(AuditEvent.object_type == "handover",
                                 AuditEvent.object_id == str(handover_id),
                                 AuditEvent.action.in_(NOTE_ACTIONS))
        .order_by(AuditEvent.id)))


def can_resolve(*, handover: Handover, user: StaffUser) -> bool:
    """Clinical-review cases are resolved only by a clinician or an admin."""
    return handover.reason not in CLINICAL_REASONS or user.role in CLINICAL_ROLES


def resolve(*, session: Session, handover: Handover, user: StaffUser, hand_back: bool,
            note: str = "") -> Handover:
    """Resolve: hand the conversation back to the assistant, or close it."""
    _open_only(handover)
    if not can_resolve(handover=handover, user=user):
        raise Forbidden("only a clinician or an admin can resolve a clinical review")
    handover.status = HandoverStatus.RESOLVED
    handover.resolution = "handed_back" if hand_back else "closed"
    handover.resolved_at = utcnow()
    handover.assignee_id = handover.assignee_id or user.id
    conversation = (session.get(Conversation, handover.conversation_id)
                    if handover.conversation_id else None)
    if conversation is not None:
        conversation.state = ConversationState.ACTIVE if hand_back else ConversationState.CLOSED
    _audit(session, user, "resolve_handover", handover, resolution=handover.resolution,
           text=note.strip()[:MAX_NOTE_CHARS])
    session.flush()
    return handover


def _channel_and_address(session: Session, handover: Handover) -> tuple[Channel, str]:
    if handover.conversation_id:
        conversation = session.get(Conversation, handover.conversation_id)
        return conversation.channel, conversation.address
    patient = session.get(Patient, handover.patient_id) if handover.patient_id else None
    if patient is None or not patient.mobile:
        raise Conflict("this handover has no conversation and the patient no mobile number")
    return Channel.SMS, patient.mobile


def reply_options(*, session: Session, handover: Handover) -> dict:
    """How staff can reply now: the channel, and whether free text is allowed (WhatsApp window)."""
    try:
        channel, address = _channel_and_address(session, handover)
    except Conflict:
        return {"channel": None, "free_text": False, "templates": {}}
    free_text = channel is not Channel.WHATSAPP or outbox.whatsapp_window_open(
        session=session, address=address)
    return {"channel": channel.value, "free_text": free_text,
            "templates": {key: t["label"] for key, t in REPLY_TEMPLATES.items()}}


def reply(*, session: Session, settings: Settings, handover: Handover, user: StaffUser,
          text: str | None = None, template: str | None = None) -> Message:
    """Send a staff reply through the patient's channel (the outbox; the dispatcher sends it)."""
    _open_only(handover)
    channel, address = _channel_and_address(session, handover)
    content_sid = content_variables = None
    if template:
        chosen = REPLY_TEMPLATES.get(template)
        if chosen is None:
            raise HandoverError("no such template")
        body = chosen["text"].format(trust=settings.trust_name, phone=settings.bookings_phone)
        if channel is Channel.WHATSAPP:
            content_sid = chosen["content_sid"]
            content_variables = {"1": settings.trust_name, "2": settings.bookings_phone}
    else:
        body = (text or "").strip()
        if not body or len(body) > MAX_REPLY_CHARS:
            raise HandoverError(f"a reply holds 1 to {MAX_REPLY_CHARS} characters")
        if channel is Channel.WHATSAPP and not outbox.whatsapp_window_open(
                session=session, address=address):
            raise WindowClosed("the patient's WhatsApp window is closed: send a template")
    message = outbox.queue_message(
        session=session, settings=settings, channel=channel, to_address=address, text=body,
        category=MessageCategory.STAFF_REPLY, conversation_id=handover.conversation_id,
        patient_id=handover.patient_id, content_sid=content_sid,
        content_variables=content_variables)
    if handover.status is HandoverStatus.OPEN:
        handover.status = HandoverStatus.CLAIMED
        handover.assignee_id = handover.assignee_id or user.id
    _audit(session, user, "send_reply", handover, message_id=message.id,
           template=template or None)
    return message


def create_by_staff(*, session: Session, settings: Settings, user: StaffUser,
                    reason: HandoverReason, urgency: Urgency, patient_id: int | None = None,
                    conversation_id: int | None = None, appointment_id: int | None = None,
                    note: str = "") -> Handover:
    """Open a handover on a member of staff's initiative, with the automatic summary."""
    if patient_id is not None and session.get(Patient, patient_id) is None:
        raise NotFound("no such patient")
    if conversation_id is not None and session.get(Conversation, conversation_id) is None:
        raise NotFound("no such conversation")
    if appointment_id is not None:
        appointment = session.get(Appointment, appointment_id)
        if appointment is None or (patient_id is not None and appointment.patient_id != patient_id):
            raise NotFound("no such appointment for this patient")
        patient_id = patient_id or appointment.patient_id
    if patient_id is None and conversation_id is None:
        raise HandoverError("name a patient or a conversation")
    # open_handover appends the automatic summary.
    summary = f"Opened by staff: {note.strip()[:MAX_NOTE_CHARS]}" if note.strip() else ""
    handover = open_handover(session=session, settings=settings, reason=reason, urgency=urgency,
                             created_by="staff", summary=summary,
                             conversation_id=conversation_id, patient_id=patient_id,
                             appointment_id=appointment_id)
    _audit(session, user, "open_handover", handover, reason=reason.value, urgency=urgency.value)
    return handover


def build_summary(*, session: Session, reason: HandoverReason, conversation_id: int | None = None,
                  patient_id: int | None = None, now: datetime | None = None) -> str:
    """What the patient asked, whether they are verified, their appointments and priority, and
    what the assistant already offered: the first thing staff read."""
    now = now or utcnow()
    lines = [f"Reason: {reason.value.replace('_', ' ')}."]
    conversation = session.get(Conversation, conversation_id) if conversation_id else None
    if conversation is not None:
        asked = list(session.scalars(
            select(Message.body).where(Message.conversation_id == conversation.id,
                                       Message.direction == Direction.INBOUND)
            .order_by(Message.id.desc()).limit(3)))
        if asked:
            quoted = " / ".join(f"\u201c{quote_patient(body)}\u201d" for body in reversed(asked))
            lines.append(f"Patient wrote: {quoted}")
        verified = (conversation.verified_patient_id is not None
                    and conversation.verified_until is not None
                    and conversation.verified_until > now)
        lines.append(f"Channel: {conversation.channel.value}. Identity "
                     + ("verified." if verified else "NOT verified: check date of birth first."))
        if conversation.failed_identity_attempts:
            lines.append(f"Failed identity checks: {conversation.failed_identity_attempts}.")
        patient_id = patient_id or conversation.verified_patient_id
    if patient_id is not None:
        patient = session.get(Patient, patient_id)
        if patient is not None and patient.communication_needs:
            lines.append("Communication needs: " + ", ".join(
                n.replace("_", " ") for n in patient.communication_needs) + ".")
        rows = session.execute(
            select(Appointment, Specialty.name).join(Specialty,
                                                     Specialty.id == Appointment.specialty_id)
            .where(Appointment.patient_id == patient_id, Appointment.status.in_(AWAITING_DATE))
            .order_by(Appointment.id)).all()
        for appointment, specialty in rows:
            lines.append(f"Appointment {appointment.id}: {specialty} {appointment.type.value}, "
                         f"priority {appointment.priority.value}, {appointment.status.value}.")
            offered = session.execute(
                select(Offer, Slot.start_at).join(Slot, Slot.id == Offer.slot_id)
                .where(Offer.appointment_id == appointment.id)
                .order_by(Offer.id.desc()).limit(3)).all()
            for offer, start in offered:
                lines.append(f"  Offered {start:%a %d %b %H:%M} UTC by {offer.source} "
                             f"({offer.status.value}).")
        if not rows:
            lines.append("No appointment waiting for a date.")
    return "\n".join(lines)


def held_offers_for_patient(*, session: Session, patient_id: int) -> list[tuple[Offer, Slot]]:
    """The patient's open offers with their slots, earliest first."""
    return [(offer, slot) for offer, slot in session.execute(
        select(Offer, Slot).join(Slot, Slot.id == Offer.slot_id)
        .join(Appointment, Appointment.id == Offer.appointment_id)
        .where(Appointment.patient_id == patient_id, Offer.status == OfferStatus.HELD)
        .order_by(Slot.start_at, Offer.id)).all()]


# --- the case file, slots and booking (for the console and the JSON API) -------------------


def _patient_appointment(session: Session, handover: Handover, appointment_id: int) -> Appointment:
    appointment = session.get(Appointment, appointment_id)
    if appointment is None or handover.patient_id is None or \
            appointment.patient_id != handover.patient_id:
        raise NotFound("no such appointment for this handover's patient")
    return appointment


def find_slots(*, session: Session, handover: Handover, user: StaffUser,
               appointment_id: int, limit: int = 3) -> list[Offer]:
    """Hold up to `limit` matching slots for one of the handover patient's appointments."""
    _open_only(handover)
    appointment = _patient_appointment(session, handover, appointment_id)
    offers = scheduling_service.find_offers(session=session, appointment_id=appointment.id,
                                            limit=limit, source="staff")
    _audit(session, user, "find_slots", handover, appointment_id=appointment.id,
           offer_ids=[o.id for o in offers])
    return offers


def check_booking(*, session: Session, handover: Handover, offer_id: int) -> None:
    """Refuse to book unless the handover is open and the offer is for its patient.

    The booking itself is a flow (api.flows.booking), which also confirms it to the patient.
    """
    _open_only(handover)
    offer = session.get(Offer, offer_id)
    if offer is None:
        raise NotFound("no such offer for this handover's patient")
    _patient_appointment(session, handover, offer.appointment_id)


def record_booking(*, session: Session, handover: Handover, user: StaffUser,
                   appointment: Appointment, offer_id: int) -> None:
    """Note on the handover's audit trail that staff booked one of its offers."""
    _audit(session, user, "book_slot", handover, appointment_id=appointment.id,
           offer_id=offer_id, slot_id=appointment.slot_id)


def case_file(*, session: Session, handover: Handover, user: StaffUser) -> dict:
    """Everything staff need on one page: transcript, patient, appointments with the
    explanation of their priority, open offers, notes, how to reply. Viewing it is audited."""
    patient = session.get(Patient, handover.patient_id) if handover.patient_id else None
    conversation = (session.get(Conversation, handover.conversation_id)
                    if handover.conversation_id else None)
    appointments = []
    if patient is not None:
        rows = session.execute(
            select(Appointment, Specialty.name)
            .join(Specialty, Specialty.id == Appointment.specialty_id)
            .where(Appointment.patient_id == patient.id).order_by(Appointment.id)).all()
        for appointment, specialty in rows:
            try:
                explanation = scheduling_service.explain_position(
                    session=session, appointment_id=appointment.id)
            except Exception:  # an explanation is a courtesy; the page must still open
                log.exception("priority explanation failed",
                              extra={"appointment_id": appointment.id})
                explanation = ""
            slot = session.get(Slot, appointment.slot_id) if appointment.slot_id else None
            appointments.append({"appointment": appointment, "specialty": specialty,
                                 "explanation": explanation, "slot": slot,
                                 "awaiting_date": appointment.status in AWAITING_DATE})
    transcript = (history.transcript(session=session,
                                     conversation_id=conversation.id)
                  if conversation is not None else [])
    verified = bool(conversation and conversation.verified_patient_id
                    and conversation.verified_until and conversation.verified_until > utcnow())
    assignee = session.get(StaffUser, handover.assignee_id) if handover.assignee_id else None
    _audit(session, user, "view_handover", handover)
    return {
        "handover": handover,
        "patient": patient,
        "conversation": conversation,
        "verified": verified,
        "assignee": assignee,
        "appointments": appointments,
        "offers": (held_offers_for_patient(session=session, patient_id=patient.id)
                   if patient is not None else []),
        "transcript": transcript,
        "notes": notes(session=session, handover_id=handover.id),
        "reply": reply_options(session=session, handover=handover),
        "overdue": is_overdue(handover=handover),
        "can_resolve": can_resolve(handover=handover, user=user),
    }
