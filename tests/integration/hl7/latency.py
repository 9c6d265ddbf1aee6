"""SIU^S15 cancels against held offers: how long from sending one to its offers withdrawn.

The listener commits the cancellation (offers withdrawn) before it answers AA, so the time
from writing the message to reading its ACK is the time to a withdrawn offer. Used by the
test (a small trust) and by benchmarks/hl7_cancel_latency.py (a larger one).
"""

from __future__ import annotations

import asyncio
import dataclasses
import statistics
import time
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.appointments.models import Appointment, AppointmentStatus
from api.config import Settings
from api.demo import service as demo_service
from api.integration import export as records_export
from api.integration.hl7 import ack, export, mllp
from api.integration.models import Adapter, DataKind, PasLink
from api.integration.records import PasAppointmentStatus
from api.patients.models import Patient
from api.scheduling import service as scheduling_service


def prepare(target: Session, *, patients: int, today: date) -> None:
    """The demo trust seeded in the target, each patient and appointment linked to the PAS
    id the exporter gives it, as if the PAS had sent them."""
    demo_service.seed(session=target, patients=patients, today=today)
    for kind, model, pas_id in ((DataKind.PATIENT, Patient, records_export.patient_pas_id),
                                (DataKind.APPOINTMENT, Appointment,
                                 records_export.appointment_pas_id)):
        for local_id, updated_at in target.execute(select(model.id, model.updated_at)):
            target.add(PasLink(kind=kind, pas_id=pas_id(local_id), local_id=local_id,
                               adapter=Adapter.HL7, event_at=updated_at))
    target.commit()


def hold_offers(target: Session, limit: int) -> dict[str, int]:
    """Offers held for up to `limit` postponed appointments: PAS id -> offers held."""
    held = {}
    links = dict(target.execute(select(PasLink.local_id, PasLink.pas_id).where(
        PasLink.kind == DataKind.APPOINTMENT)).all())
    for appointment_id in target.scalars(select(Appointment.id).where(
            Appointment.status == AppointmentStatus.POSTPONED).order_by(Appointment.id)):
        offers = scheduling_service.find_offers(session=target, appointment_id=appointment_id,
                                                limit=2)
        if offers:
            held[links[appointment_id]] = len(offers)
        if len(held) == limit:
            break
    target.commit()
    return held


def cancels(target: Session, settings: Settings, pas_ids: set[str]) -> list[str]:
    """An SIU^S15 for each appointment, an hour after its last change."""
    patients = {p.change.pas_id: p for p in
                records_export.patients(session=target, adapter=Adapter.HL7)}
    found = []
    for record in records_export.appointments(session=target, adapter=Adapter.HL7):
        if record.change.pas_id in pas_ids:
            change = dataclasses.replace(record.change,
                                         event_at=record.change.event_at + timedelta(hours=1))
            cancelled = dataclasses.replace(record, change=change, reason="clinic cancelled",
                                            status=PasAppointmentStatus.CANCELLED)
            found.append(export.siu(cancelled, patients[record.patient_pas_id],
                                    settings=settings))
    target.rollback()
    return found


async def _timed(port: int, messages: list[str]) -> tuple[list[float], list[str]]:
    seconds, codes = [], []
    async with mllp.Connection("127.0.0.1", port, 10) as connection:
        for message in messages:
            started = time.perf_counter()
            answer = await connection.exchange(message)
            seconds.append(time.perf_counter() - started)
            codes.append(ack.read(answer)[0])
    return seconds, codes


def send_timed(port: int, messages: list[str]) -> tuple[list[float], list[str]]:
    """Each message's seconds from sending to its ACK, and the ACK codes."""
    return asyncio.run(_timed(port, messages))


def percentiles(seconds: list[float]) -> tuple[float, float]:
    """(p50, p95) in milliseconds."""
    cuts = statistics.quantiles(seconds, n=20, method="inclusive")
    return statistics.median(seconds) * 1000, cuts[18] * 1000
