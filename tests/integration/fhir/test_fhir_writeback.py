"""Bookings back to the PAS through FHIR: accepted, refused as stale (412), and resent after a
crash without being doubled."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import sessionmaker

from api.appointments.models import Appointment
from api.flows import booking, pas_writeback
from api.handover.models import Handover, HandoverReason
from api.integration import writeback
from api.integration.fhir.writer import FhirWriter
from api.integration.models import (
    Adapter,
    IntegrationException,
    PasLink,
    PasRequest,
    RequestStatus,
)
from api.integration.writeback import IDENTIFIER_SYSTEM
from api.scheduling.models import Offer
from tests.integration.fhir.conftest import open_offer


def _book(session, settings) -> PasRequest:
    offer = open_offer(session)
    patient_id = session.get(Appointment, offer.appointment_id).patient_id
    booking.book_and_confirm(session=session, settings=settings, offer_id=offer.id,
                             patient_id=patient_id, actor="patient",
                             now=offer.expires_at - timedelta(minutes=1))
    session.commit()
    return session.scalar(select(PasRequest).where(PasRequest.offer_id == offer.id))


def _dispatch(session, settings) -> PasRequest:
    session.commit()  # SQLite: the dispatcher's sessions write while this one waits
    factory = sessionmaker(bind=session.get_bind(), expire_on_commit=False)
    sent = pas_writeback.send_due(session_factory=factory, settings=settings,
                                  writers={Adapter.FHIR: FhirWriter(settings=settings)})
    assert sent == 1
    session.expire_all()
    return session.scalar(select(PasRequest))


def _slot_pas_id(session, request: PasRequest) -> str:
    return session.scalar(select(PasLink.pas_id).where(PasLink.kind == "slot",
                                                       PasLink.local_id == request.slot_id))


def _ours(server, key: str) -> list[dict]:
    return server.state.search("Appointment", {"identifier": f"{IDENTIFIER_SYSTEM}|{key}"})


def test_a_booking_is_one_transaction_the_pas_accepts(synced, fhir_server):
    settings, session = synced
    request = _book(session, settings)
    slot_id = _slot_pas_id(session, request)

    request = _dispatch(session, settings)

    assert request.status is RequestStatus.ACCEPTED, request.last_error
    slot = fhir_server.state.get("Slot", slot_id)
    assert slot["status"] == "busy" and slot["meta"]["versionId"] == "2"
    [appointment] = _ours(fhir_server, request.idempotency_key)
    assert appointment["status"] == "booked"
    assert appointment["slot"] == [{"reference": f"Slot/{slot_id}"}]
    assert request.pas_reference == appointment["id"]  # the PAS's own appointment, updated


def test_a_slot_taken_meanwhile_is_refused_and_the_patient_re_offered(synced, fhir_server):
    settings, session = synced
    request = _book(session, settings)
    fhir_server.state.change("Slot", _slot_pas_id(session, request), status="busy")

    request = _dispatch(session, settings)

    assert request.status is RequestStatus.REFUSED
    assert "changed in the PAS" in request.last_error
    assert _ours(fhir_server, request.idempotency_key) == []  # nothing half-written
    exception = session.scalar(select(IntegrationException).where(
        IntegrationException.request_id == request.id))
    assert exception.reason == "slot_taken"
    handover = session.scalar(select(Handover).where(
        Handover.appointment_id == request.appointment_id))
    assert handover.reason is HandoverReason.PAS_REFUSED
    fresh = session.scalar(select(func.count()).select_from(Offer).where(
        Offer.appointment_id == request.appointment_id, Offer.source == "staff"))
    assert fresh >= 1


def test_a_resend_after_a_crash_is_accepted_not_doubled(synced, fhir_server):
    settings, session = synced
    request = _book(session, settings)
    change = writeback.describe(session=session, request=request)
    writer = FhirWriter(settings=settings)

    first = writer.send(change)
    again = writer.send(change)  # the dispatcher died before recording the first answer

    assert first.accepted and again.accepted
    assert first.pas_reference == again.pas_reference
    assert len(_ours(fhir_server, change.idempotency_key)) == 1


def test_the_pas_down_means_later_not_no(synced, fhir_server):
    settings, session = synced
    request = _book(session, settings)
    change = writeback.describe(session=session, request=request)
    fhir_server.state.down = True
    assert FhirWriter(settings=settings).send(change).reason.endswith("HTTP 503 (transient: "
                                                                      "the PAS is down for "
                                                                      "maintenance)")
    fhir_server.stop()
    result = FhirWriter(settings=settings).send(change)
    assert not result.accepted and not result.refused and "cannot reach" in result.reason


def test_an_appointment_cancelled_in_the_pas_is_not_booked_over(synced, fhir_server):
    settings, session = synced
    request = _book(session, settings)
    change = writeback.describe(session=session, request=request)
    fhir_server.state.change("Appointment", change.appointment_pas_id, status="cancelled")

    result = FhirWriter(settings=settings).send(change)

    assert result.refused and not result.conflict and "as cancelled" in result.reason
    assert fhir_server.state.get("Appointment", change.appointment_pas_id)["status"] \
        == "cancelled"
    assert fhir_server.state.get("Slot", _slot_pas_id(session, request))["meta"][
        "versionId"] == "1"
