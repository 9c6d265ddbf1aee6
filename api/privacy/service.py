"""Data protection verbs: purge what outlived the retention period; export one patient's data.

The purge empties a conversation rather than deleting its rows: the message rows stay (with
no text and no address) so delivery counts and the backlog reports stay true, and handovers
keep their reason, times and outcome for the SLA figures. What identifies or quotes the
patient goes: message text and addresses, media, the handover summary, the conversation's
address, and the Rasa tracker. Staff notes and the audit log stay: they are the record of
what staff did, kept as the trust's records policy says.
"""

from __future__ import annotations

import enum
import logging
from datetime import date, datetime, timedelta

from sqlalchemy import exists, func, or_, select, update
from sqlalchemy.inspection import inspect
from sqlalchemy.orm import Session

from api.appointments.models import Appointment, AppointmentEvent
from api.audit import service as audit_service
from api.audit.models import AuditEvent
from api.campaigns.models import CampaignRecipient
from api.config import Settings
from api.conversations.models import Conversation, ConversationState
from api.db import utcnow
from api.handover.models import Handover, HandoverStatus
from api.messaging.models import Message, OptOut
from api.patients.identifiers import normalise_nhs_number
from api.patients.models import Patient
from api.scheduling.models import Offer, Slot
from api.system import redis_client
from api.voice.models import VoiceCall

log = logging.getLogger(__name__)

PURGE_ACTION = "purge_retention"
PURGED_ADDRESS = "[purged]"
# Rasa's Redis tracker key: our key_prefix "rebook" (bot/endpoints.redis.yml), then Rasa's
# own "tracker:", then the conversation's pseudonymous public id.
RASA_TRACKER_KEY_PREFIX = "rebook:tracker:"
BATCH = 500  # ids per statement: under SQLite's bound-parameter limit


def batched(items: list, size: int):
    """Consecutive slices of at most `size` items (itertools.batched is Python 3.12+)."""
    return (items[start:start + size] for start in range(0, len(items), size))


class NoSuchPatient(LookupError):
    """No patient has that id or NHS number."""


# --- retention ------------------------------------------------------------------------------


def purgeable_conversations(*, session: Session, cutoff: datetime) -> list[Conversation]:
    """Conversations not yet purged, idle since before `cutoff`, with no unresolved handover."""
    last_message = (select(Message.conversation_id, func.max(Message.created_at).label("at"))
                    .where(Message.conversation_id.is_not(None))
                    .group_by(Message.conversation_id).subquery())
    unresolved = exists().where(Handover.conversation_id == Conversation.id,
                                Handover.status != HandoverStatus.RESOLVED)
    return list(session.scalars(
        select(Conversation)
        .outerjoin(last_message, last_message.c.conversation_id == Conversation.id)
        .where(Conversation.purged_at.is_(None), Conversation.updated_at < cutoff,
               or_(last_message.c.at.is_(None), last_message.c.at < cutoff), ~unresolved)
        .order_by(Conversation.id)))


def _count(session: Session, model, column, ids: list[int], *conditions) -> int:
    return sum(session.scalar(select(func.count()).select_from(model)
                              .where(column.in_(batch), *conditions)) or 0
               for batch in batched(ids, BATCH))


def _tracker_client(settings: Settings):
    return redis_client.client(settings.redis_url)


def _trackers(settings: Settings, public_ids: list[str], *, delete: bool) -> int:
    """How many of these conversations have a Rasa tracker in Redis; deleted unless asked not.

    Without Redis, Rasa keeps trackers in its own memory, which ends with the process."""
    if not settings.redis_url or not public_ids:
        return 0
    client = _tracker_client(settings)
    found = 0
    for batch in batched(public_ids, BATCH):
        keys = [RASA_TRACKER_KEY_PREFIX + public_id for public_id in batch]
        found += client.delete(*keys) if delete else client.exists(*keys)
    return found


def purge(*, session: Session, settings: Settings, now: datetime | None = None,
          dry_run: bool = False, actor: str = "system") -> dict:
    """Empty every conversation idle past the retention period (see the module docstring).

    Returns the counts; a dry run changes nothing and writes no audit event. Trackers are
    deleted before the database is changed, so a Redis failure leaves everything to retry.
    """
    if settings.retention_days <= 0:
        raise ValueError("RETENTION_DAYS is 0: retention is unlimited and nothing is purged")
    now = now or utcnow()
    cutoff = now - timedelta(days=settings.retention_days)
    conversations = purgeable_conversations(session=session, cutoff=cutoff)
    ids = [c.id for c in conversations]
    counts = {
        "conversations": len(ids),
        "messages": _count(session, Message, Message.conversation_id, ids),
        "handover_summaries": _count(session, Handover, Handover.conversation_id, ids,
                                     Handover.summary != ""),
        "trackers": _trackers(settings, [c.public_id for c in conversations],
                              delete=not dry_run),
    }
    result = {**counts, "retention_days": settings.retention_days,
              "cutoff": cutoff.isoformat(), "dry_run": dry_run}
    if dry_run:
        return result
    for batch in batched(ids, BATCH):
        session.execute(
            update(Message).where(Message.conversation_id.in_(batch))
            .values(body="", from_address=PURGED_ADDRESS, to_address=PURGED_ADDRESS, media=None,
                    content_variables=None, subject=None, buttons=None)
            .execution_options(synchronize_session=False))
        session.execute(update(Handover).where(Handover.conversation_id.in_(batch))
                        .values(summary="").execution_options(synchronize_session=False))
        # A call's record keeps its outcome and length for the figures, not the caller.
        session.execute(update(VoiceCall).where(VoiceCall.conversation_id.in_(batch))
                        .values(caller=PURGED_ADDRESS, last_said=[], options=[], pending={},
                                last_twiml="").execution_options(synchronize_session=False))
    for conversation in conversations:
        conversation.address = f"purged:{conversation.id}"
        conversation.state = ConversationState.CLOSED
        conversation.verified_until = None
        conversation.purged_at = now
    audit_service.record(session=session, actor=actor, action=PURGE_ACTION,
                         object_type="retention", object_id="*", details=result)
    log.info("retention purge", extra=counts)
    return result


def purge_if_due(*, session: Session, settings: Settings, now: datetime | None = None) -> int:
    """The scheduler's purge: once per purge interval (by the audit log, so once across every
    scheduler process); how many conversations it emptied."""
    if settings.retention_days <= 0:
        return 0
    now = now or utcnow()
    last = session.scalar(select(AuditEvent.occurred_at).where(AuditEvent.action == PURGE_ACTION)
                          .order_by(AuditEvent.id.desc()).limit(1))
    if last is not None and now - last < timedelta(hours=settings.purge_interval_hours):
        return 0
    return purge(session=session, settings=settings, now=now)["conversations"]


# --- subject access -------------------------------------------------------------------------


def find_patient(*, session: Session, patient_id: int | None = None,
                 nhs_number: str | None = None) -> Patient:
    """One patient by id or NHS number (NoSuchPatient when there is none, ValueError when the
    question is malformed)."""
    if (patient_id is None) == (nhs_number is None):
        raise ValueError("give a patient id or an NHS number, not both")
    if patient_id is not None:
        patient = session.get(Patient, patient_id)
    else:
        number = normalise_nhs_number(nhs_number)  # ValueError: not an NHS number at all
        patient = session.scalar(select(Patient).where(Patient.nhs_number == number))
    if patient is None:
        raise NoSuchPatient("no such patient")
    return patient


def _value(value):
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    return value


def _row(obj) -> dict:
    """Every column of a row, as JSON values."""
    return {attr.key: _value(getattr(obj, attr.key)) for attr in inspect(obj).mapper.column_attrs}


def _phone_calls(*, session: Session, patient_id: int) -> list[dict]:
    """The calls identified as this patient, each with its own transcript: a number's call
    conversation also holds other callers' calls, so only the messages of these calls."""
    calls = session.scalars(select(VoiceCall).where(VoiceCall.patient_id == patient_id)
                            .order_by(VoiceCall.id))
    exported = []
    for call in calls:
        transcript = session.scalars(select(Message).where(
            Message.conversation_id == call.conversation_id,
            Message.created_at >= call.started_at,
            Message.created_at <= (call.ended_at or utcnow())).order_by(Message.id))
        exported.append({**_row(call), "transcript": [_row(m) for m in transcript]})
    return exported


def export_patient(*, session: Session, patient: Patient, actor: str, via: str) -> dict:
    """Everything held about one patient, as JSON, for a subject access request (audited).

    Conversations are the ones verified as this patient; messages on a shared number before
    identity was proven are not attributed to anyone and are not included."""
    appointments = list(session.scalars(select(Appointment).where(
        Appointment.patient_id == patient.id).order_by(Appointment.id)))
    appointment_ids = [a.id for a in appointments]
    history = session.scalars(select(AppointmentEvent).where(
        AppointmentEvent.appointment_id.in_(appointment_ids)).order_by(AppointmentEvent.id))
    offers = session.execute(select(Offer, Slot).join(Slot, Slot.id == Offer.slot_id).where(
        Offer.appointment_id.in_(appointment_ids)).order_by(Offer.id)).all()
    conversations = list(session.scalars(select(Conversation).where(
        Conversation.verified_patient_id == patient.id).order_by(Conversation.id)))
    conversation_ids = [c.id for c in conversations]
    messages = list(session.scalars(select(Message).where(or_(
        Message.patient_id == patient.id, Message.conversation_id.in_(conversation_ids)))
        .order_by(Message.id)))
    handovers = list(session.scalars(select(Handover).where(or_(
        Handover.patient_id == patient.id, Handover.conversation_id.in_(conversation_ids)))
        .order_by(Handover.id)))
    notes = session.scalars(select(AuditEvent).where(
        AuditEvent.action == "add_note", AuditEvent.object_type == "handover",
        AuditEvent.object_id.in_([str(h.id) for h in handovers])).order_by(AuditEvent.id))
    audit = session.scalars(select(AuditEvent).where(
        audit_service.mentions_patient(session=session, patient_id=patient.id))
        .order_by(AuditEvent.id))
    export = {
        "format": "rebook-subject-access/1",
        "exported_at": utcnow().isoformat(),
        "patient": _row(patient),
        "appointments": [{**_row(a), "history": []} for a in appointments],
        "offers": [{**_row(offer), "slot_start_at": _value(slot.start_at),
                    "slot_site_id": slot.site_id} for offer, slot in offers],
        "conversations": [{**_row(c), "messages": []} for c in conversations],
        "other_messages": [],
        "campaign_recipients": [_row(r) for r in session.scalars(select(CampaignRecipient).where(
            CampaignRecipient.patient_id == patient.id).order_by(CampaignRecipient.id))],
        "handovers": [{**_row(h), "notes": []} for h in handovers],
        "opt_outs": [_row(o) for o in session.scalars(select(OptOut).where(
            OptOut.number.in_([patient.mobile or ""])))],
        "audit_events": [_row(e) for e in audit],
        "phone_calls": _phone_calls(session=session, patient_id=patient.id),
    }
    by_appointment = {a["id"]: a for a in export["appointments"]}
    for event in history:
        by_appointment[event.appointment_id]["history"].append(_row(event))
    by_conversation = {c["id"]: c for c in export["conversations"]}
    for message in messages:
        target = by_conversation.get(message.conversation_id)
        (target["messages"] if target else export["other_messages"]).append(_row(message))
    by_handover = {str(h["id"]): h for h in export["handovers"]}
    for note in notes:
        by_handover[note.object_id]["notes"].append(_row(note))
    audit_service.record(session=session, actor=actor, action="export_patient_data",
                         object_type="patient", object_id=patient.id, patient_id=patient.id,
                         details={"via": via, "messages": len(messages),
                                  "appointments": len(appointments),
                                  "handovers": len(handovers)})
    return export
