"""The write-back dispatcher: bookings made in Rebook go to the PAS, and the patient hears
the PAS's answer.

- Accepted: the booking's confirmation is queued on the patient's channel (the same words
  and idempotency key as any booking's, so it goes once).
- Refused because the slot was taken meanwhile in the PAS (FHIR 412, HL7 AR/AE): the booking
  is undone (the slot marked booked, as the PAS has it), fresh dates are held and texted as
  numbered options, and the bookings team gets a case; the conflict is an integration
  exception. Refused for any other reason: the same, and the exception says why.
- No answer (the PAS down, a timeout): retried with backoff for as long as it takes; after
  `PAS_WRITEBACK_ALERT_ATTEMPTS` tries an exception tells staff the PAS is not answering.

Each request's answer is recorded in its own transaction with its consequences, so a crash
between the PAS's answer and the commit only means the request is sent again, under the same
idempotency key, and the PAS answers the same.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime

from prometheus_client import Counter
from sqlalchemy.orm import Session, sessionmaker

from api import texts
from api.appointments import service as appointments_service
from api.appointments.models import Appointment, AppointmentStatus
from api.config import Settings
from api.db import utcnow
from api.flows import booking
from api.handover import service as handover_service
from api.handover.models import HandoverReason, Urgency
from api.integration import exceptions, writeback
from api.integration.models import (
    OPEN_REQUEST,
    Adapter,
    PasRequest,
    RequestKind,
    RequestStatus,
)
from api.integration.writeback import PasWriter, WriteBack, WriteResult
from api.messaging import outbox
from api.messaging.dispatcher import dispatcher_name
from api.messaging.models import MessageCategory
from api.patients.models import Patient
from api.scheduling import holds
from api.scheduling import service as scheduling_service
from api.scheduling.models import SlotStatus
from api.system import localtime

log = logging.getLogger(__name__)

WRITEBACKS = Counter("rebook_pas_writebacks_total", "Answers to Rebook's PAS write-backs",
                     ["adapter", "outcome"])
# Dates held for a patient whose booking the PAS refused: long enough to read a text and
# reply, as staff holds are.
REOFFER_HOLD_MINUTES = 24 * 60


def send_due(*, session_factory: sessionmaker[Session], settings: Settings,
             writers: dict[Adapter, PasWriter], owner: str | None = None,
             batch: int = 20) -> int:
    """Claim due write-backs, send each through its adapter, record the answers; how many."""
    owner = owner or dispatcher_name()
    with session_factory() as session:
        ids = writeback.claim(session=session, owner=owner, batch=batch)
        session.commit()
    for request_id in ids:
        with session_factory() as session:
            request = session.get(PasRequest, request_id)
            if request is None or request.status is not RequestStatus.SENDING \
                    or request.lease_owner != owner:
                continue  # answered by PAS events meanwhile, or our lease lapsed and moved
            change = writeback.describe(session=session, request=request)
            writer = writers.get(request.adapter)
        result = _send(writer, change)
        with session_factory() as session:
            request = session.get(PasRequest, request_id, with_for_update=True)
            if request.status is RequestStatus.SENDING and request.lease_owner == owner:
                record_answer(session=session, settings=settings, request=request,
                              result=result)
            session.commit()
    return len(ids)


def _send(writer: PasWriter | None, change: WriteBack) -> WriteResult:
    if writer is None:
        return WriteResult.later("no writer is configured for this adapter")
    try:
        return writer.send(change)
    except Exception as exc:  # a bug or an unexpected answer must not stop the dispatcher
        log.exception("PAS write-back raised", extra={"request_id": change.request_id})
        return WriteResult.later(f"{type(exc).__name__}: {exc}")


def record_answer(*, session: Session, settings: Settings, request: PasRequest,
                  result: WriteResult, now: datetime | None = None) -> None:
    """Record the PAS's answer to one request and do what follows from it."""
    now = now or utcnow()
    adapter = request.adapter.value
    if request.status not in OPEN_REQUEST:
        return  # answered already (a resend's answer, or the PAS's own feed got there first)
    if result.accepted:
        writeback.mark_accepted(session=session, request=request, result=result, now=now)
        if request.kind is RequestKind.BOOK and request.offer_id is not None:
            booking.queue_confirmation(
                session=session, settings=settings,
                appointment=session.get(Appointment, request.appointment_id),
                offer_id=request.offer_id, conversation_id=request.conversation_id, now=now)
        WRITEBACKS.labels(adapter, "accepted").inc()
        return
    if result.refused:
        writeback.mark_refused(session=session, request=request, reason=result.reason, now=now)
        exceptions.open_exception(
            session=session, adapter=request.adapter,
            reason="slot_taken" if result.conflict else "writeback_refused",
            detail=f"The PAS refused Rebook's {request.kind.value} request: {result.reason}",
            request_id=request.id, patient_id=request.patient_id,
            appointment_id=request.appointment_id)
        if request.kind is RequestKind.BOOK:
            undo_booking(session=session, settings=settings, request=request,
                         why=result.reason, now=now)
        WRITEBACKS.labels(adapter, "conflict" if result.conflict else "refused").inc()
        return
    writeback.mark_retry(session=session, settings=settings, request=request,
                         reason=result.reason, now=now)
    if request.attempts == settings.pas_writeback_alert_attempts:
        exceptions.open_exception(
            session=session, adapter=request.adapter, reason="pas_not_answering",
            detail=(f"The PAS has not answered Rebook's {request.kind.value} request after "
                    f"{request.attempts} attempts ({result.reason}). Rebook keeps trying; the "
                    "patient has not been told the booking is confirmed."),
            request_id=request.id, patient_id=request.patient_id,
            appointment_id=request.appointment_id)
    WRITEBACKS.labels(adapter, "retry").inc()


def undo_booking(*, session: Session, settings: Settings, request: PasRequest, why: str,
                 now: datetime) -> None:
    """The PAS would not take a booking: undo it, re-offer the patient, tell staff."""
    appointment = session.get(Appointment, request.appointment_id)
    if appointment.status is not AppointmentStatus.REBOOKED or \
            appointment.slot_id != request.slot_id:
        return  # changed since (the PAS's own feed, staff): nothing of ours to undo
    slot = appointment.slot
    taken_line = texts.slot_line(slot, zone=localtime.patient_zone(settings))
    appointments_service.change_status(
        session=session, appointment=appointment, to_status=AppointmentStatus.POSTPONED,
        reason=f"the PAS refused the booking: {why}", actor="pas")
    appointment.slot_id = None
    # The PAS has given the slot to someone else (or will not have it used): never offered.
    holds.move_slot(session=session, slot_id=request.slot_id, from_status=SlotStatus.BOOKED,
                    to_status=SlotStatus.BLOCKED)
    session.flush()
    offers = scheduling_service.find_offers(
        session=session, appointment_id=appointment.id, hold_minutes=REOFFER_HOLD_MINUTES,
        source="staff", now=now)
    handover = handover_service.open_handover(
        session=session, settings=settings, reason=HandoverReason.PAS_REFUSED,
        urgency=Urgency.NORMAL, created_by="pas", patient_id=appointment.patient_id,
        appointment_id=appointment.id,
        summary=(f"The hospital's PAS refused the booking of {taken_line} ({why}). "
                 + (f"{len(offers)} new date(s) are held and were texted to the patient."
                    if offers else "No other date was free: please find one with them.")))
    _tell_patient(session=session, settings=settings, request=request, offers=offers,
                  taken_line=taken_line, due_at=handover.due_at)


def _tell_patient(*, session: Session, settings: Settings, request: PasRequest, offers: list,
                  taken_line: str, due_at: datetime) -> None:
    patient = session.get(Patient, request.patient_id)
    route = booking.patient_route(session=session, patient=patient,
                                  conversation_id=request.conversation_id)
    if route is None:
        return  # no text route: the bookings team's case says to call them
    channel, address, conversation_id = route
    zone = localtime.patient_zone(settings)
    if offers:
        body = texts.text("pas_slot_taken", slot=taken_line,
                          when=texts.when(min(o.expires_at for o in offers), zone=zone),
                          phone=settings.bookings_phone)
        buttons = [{"title": texts.slot_line(o.slot, zone=zone), "payload": f"offer:{o.id}"}
                   for o in offers]
    else:
        body = texts.text("pas_slot_taken_no_dates", slot=taken_line,
                          when=texts.answer_by(settings=settings, due_at=due_at),
                          phone=settings.bookings_phone)
        buttons = None
    outbox.queue_message(
        session=session, settings=settings, channel=channel, to_address=address, text=body,
        buttons=buttons, category=MessageCategory.SERVICE, conversation_id=conversation_id,
        patient_id=patient.id, idempotency_key=f"pas_refused:{request.id}")


def run_forever(*, session_factory: sessionmaker[Session], settings: Settings,
                writers: Callable[[], dict[Adapter, PasWriter]], stop: threading.Event,
                idle_seconds: float = 1.0) -> None:
    """Send write-backs until `stop` is set, resting a moment when none is due."""
    owner = dispatcher_name()
    adapters = writers()
    log.info("PAS write-back dispatcher started", extra={"adapters": sorted(adapters)})
    while not stop.is_set():
        try:
            sent = send_due(session_factory=session_factory, settings=settings,
                            writers=adapters, owner=owner)
        except Exception:  # the database away for a moment: try again shortly
            log.exception("PAS write-back pass failed")
            sent = 0
        if not sent:
            stop.wait(idle_seconds)
