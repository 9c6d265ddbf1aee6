"""The PAS's appointments applied to Rebook: created, moved to what the PAS now says (booked
there, back on the list, cancelled, attended, did not attend), the PAS winning over Rebook's
holds, and Rebook's own bookings in flight left to their write-back."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from api import texts
from api.appointments import service as appointments_service
from api.appointments.models import AWAITING_DATE, Appointment, AppointmentStatus
from api.config import Settings
from api.integration.models import OPEN_REQUEST, DataKind, InboundStatus, PasLink, PasRequest
from api.integration.outcome import ACTOR, NEW_STATUS, Outcome, Parked, valid_nhs_number
from api.integration.records import AppointmentRecord, PasAppointmentStatus
from api.messaging import opt_outs, outbox
from api.messaging.models import Channel, MessageCategory
from api.patients.models import Patient
from api.reference.models import Clinician, Site, Specialty
from api.scheduling import service as scheduling_service
from api.scheduling.models import Disruption, Slot, SlotStatus
from api.system import localtime


class AppointmentRules:
    """The rules for appointments.

    A mixin of `Reconciler`, which provides the session, settings, clock, links and codes."""

    session: Session
    settings: Settings
    now: datetime

    def _appointment(self, record: AppointmentRecord, link: PasLink | None) -> Outcome:
        patient_id = self._local(DataKind.PATIENT, record.patient_pas_id)
        nhs_number = valid_nhs_number(record.nhs_number)
        if patient_id is None and nhs_number:
            patient_id = self.session.scalar(select(Patient.id).where(
                Patient.nhs_number == nhs_number))
        if patient_id is None:
            raise Parked("unknown_patient", f"appointment {record.change.pas_id} is for PAS "
                         f"patient {record.patient_pas_id}, whom Rebook does not know")
        specialty_id = self.code(Specialty, record.specialty_code, "specialty")
        site_id = self.code(Site, record.site_code, "site", required=False)
        clinician_id = self.code(Clinician, record.clinician_code, "clinician", required=False)
        appointment = self.session.get(Appointment, link.local_id) if link else None
        if appointment is not None and appointment.patient_id != patient_id:
            raise Parked("wrong_patient_risk", f"appointment {record.change.pas_id} moved to "
                         "another patient in the PAS", patient_id=patient_id,
                         appointment_id=appointment.id)
        fields = dict(specialty_id=specialty_id, type=record.type, priority=record.priority,
                      pathway=record.pathway, duration_minutes=record.duration_minutes,
                      requires_named_clinician=record.requires_named_clinician)
        if appointment is None:
            return self._new_appointment(record, patient_id, site_id, clinician_id)
        for name, value in fields.items():
            setattr(appointment, name, value)
        if record.referral_date:
            appointment.referral_date = record.referral_date
        if record.breach_date:
            appointment.breach_date = record.breach_date
        detail, withdrawn = self._follow_status(record, appointment, site_id, clinician_id)
        self.session.flush()
        return Outcome(InboundStatus.APPLIED, detail, local_id=appointment.id,
                       patient_id=patient_id, appointment_id=appointment.id,
                       withdrawn_offers=withdrawn)

    def appointment_fields(self, record: AppointmentRecord, patient_id: int,
                           status: AppointmentStatus) -> dict:
        """A new appointment's columns (its slot aside) from the PAS record."""
        if record.referral_date is None or record.breach_date is None:
            raise Parked("missing_field", f"appointment {record.change.pas_id} has no "
                         "referral date or breach date: its place in the queue depends on them")
        return dict(
            patient_id=patient_id, status=status,
            specialty_id=self.code(Specialty, record.specialty_code, "specialty"),
            site_id=self.code(Site, record.site_code, "site", required=False),
            clinician_id=self.code(Clinician, record.clinician_code, "clinician",
                                   required=False),
            type=record.type, priority=record.priority, pathway=record.pathway,
            duration_minutes=record.duration_minutes,
            requires_named_clinician=record.requires_named_clinician,
            referral_date=record.referral_date, breach_date=record.breach_date,
            disruption_id=(self._disruption_for(record)
                           if status is AppointmentStatus.POSTPONED else None),
            notes=record.reason or None)

    def _new_appointment(self, record: AppointmentRecord, patient_id: int, site_id: int | None,
                         clinician_id: int | None) -> Outcome:
        status = NEW_STATUS[record.status]
        fields = self.appointment_fields(record, patient_id, status)
        slot_id, withdrawn = None, 0
        if status in (AppointmentStatus.BOOKED, AppointmentStatus.ATTENDED):
            slot_id, withdrawn = self._slot_for_booking(record, site_id, clinician_id)
        appointment = Appointment(slot_id=slot_id, **fields)
        appointments_service.create(session=self.session, appointment=appointment, actor=ACTOR,
                                    reason=f"from the PAS ({record.status.value})")
        self.session.flush()
        return Outcome(InboundStatus.APPLIED, f"appointment created ({status.value})",
                       local_id=appointment.id, patient_id=patient_id,
                       appointment_id=appointment.id,
                       withdrawn_offers=withdrawn)

    def _follow_status(self, record: AppointmentRecord, appointment: Appointment,
                       site_id: int | None, clinician_id: int | None) -> tuple[str, int]:
        """Move an appointment Rebook holds to what the PAS now says."""
        pas, local = record.status, appointment.status
        why = f"PAS: {record.reason}" if record.reason else f"PAS: {pas.value}"
        if pas in (PasAppointmentStatus.CANCELLED, PasAppointmentStatus.DELETED):
            if local is AppointmentStatus.CANCELLED:
                return "already cancelled", 0
            self._refuse_open_requests(appointment, "cancelled in the PAS")
            was_due = self.session.get(Slot, appointment.slot_id) if appointment.slot_id else None
            withdrawn = scheduling_service.cancel_for_pas(
                session=self.session, appointment_id=appointment.id, reason=why, actor=ACTOR,
                now=self.now)
            told = (pas is PasAppointmentStatus.CANCELLED and self.settings.pas_notify_cancellations
                    and self._tell_cancelled(appointment, was_due))
            return (f"cancelled; {withdrawn} offer(s) withdrawn"
                    + ("; patient told" if told else "")), withdrawn
        if pas is PasAppointmentStatus.WAITLIST:
            if local in AWAITING_DATE:
                return "still waiting for a date", 0
            self._conflict_if_ours(appointment, "postponed in the PAS")
            scheduling_service.postpone_for_pas(
                session=self.session, appointment_id=appointment.id, reason=why, actor=ACTOR,
                disruption_id=self._disruption_for(record))
            return "postponed", 0
        if pas is PasAppointmentStatus.FULFILLED:
            if local is AppointmentStatus.ATTENDED:
                return "already attended", 0
            self._change(appointment, AppointmentStatus.ATTENDED, why)
            return "attended", 0
        if pas is PasAppointmentStatus.NOSHOW:
            scheduling_service.send_to_clinical_review(
                session=self.session, appointment_id=appointment.id,
                reason="did not attend (PAS)", actor=ACTOR, now=self.now)
            return "did not attend: sent to clinical review", 0
        # Booked in the PAS.
        if self._open_request(appointment) is not None and appointment.slot_id is not None:
            # Rebook's own booking, on its way to the PAS: the request decides it.
            return "booking from Rebook awaiting the PAS's answer", 0
        slot_id = self._local(DataKind.SLOT, record.slot_pas_id)
        if appointment.slot_id is not None and (
                slot_id == appointment.slot_id or self._same_time(appointment, record)):
            return "no change to the booking", 0
        if local in (AppointmentStatus.CANCELLED, AppointmentStatus.ATTENDED):
            raise Parked("conflict", f"the PAS booked appointment {record.change.pas_id}, "
                         f"which Rebook holds as {local.value}",
                         patient_id=appointment.patient_id, appointment_id=appointment.id)
        new_slot_id, withdrawn = self._slot_for_booking(record, site_id, clinician_id)
        withdrawn += scheduling_service.book_for_pas(
            session=self.session, appointment_id=appointment.id, slot_id=new_slot_id,
            reason=why, actor=ACTOR, now=self.now)
        return f"booked in the PAS; {withdrawn} offer(s) withdrawn", withdrawn

    def _tell_cancelled(self, appointment: Appointment, was_due: Slot | None) -> bool:
        """Text the patient that the hospital cancelled (only where the trust chose to); the
        date but no specialty, as the phone may be shared. True when a text was queued."""
        patient = self.session.get(Patient, appointment.patient_id)
        if not patient.text_is_accessible or not patient.mobile or opt_outs.is_opted_out(
                session=self.session, address=patient.mobile):
            return False
        zone = localtime.patient_zone(self.settings)
        when = f" on {texts.when(was_due.start_at, zone=zone)}" if was_due else ""
        outbox.queue_message(
            session=self.session, settings=self.settings, channel=Channel.SMS,
            to_address=patient.mobile, category=MessageCategory.SERVICE, patient_id=patient.id,
            text=texts.text("pas_appointment_cancelled", trust=self.settings.trust_name,
                            when=when, phone=self.settings.bookings_phone),
            idempotency_key=f"pas_cancelled:{appointment.id}",
            send_at=outbox.next_send_time(settings=self.settings, now=self.now))
        return True

    def _change(self, appointment: Appointment, to: AppointmentStatus, reason: str) -> None:
        if to not in appointments_service.ALLOWED_TRANSITIONS[appointment.status]:
            raise Parked("conflict", f"the PAS says {to.value}, but Rebook holds the "
                         f"appointment as {appointment.status.value}",
                         patient_id=appointment.patient_id, appointment_id=appointment.id)
        appointments_service.change_status(session=self.session, appointment=appointment,
                                           to_status=to, reason=reason, actor=ACTOR)

    def _same_time(self, appointment: Appointment, record: AppointmentRecord) -> bool:
        slot = self.session.get(Slot, appointment.slot_id)
        return slot is not None and record.start_at is not None and slot.start_at == record.start_at

    def _open_request(self, appointment: Appointment) -> PasRequest | None:
        return self.session.scalar(select(PasRequest).where(
            PasRequest.appointment_id == appointment.id, PasRequest.status.in_(OPEN_REQUEST))
            .limit(1))

    def _conflict_if_ours(self, appointment: Appointment, what: str) -> None:
        request = self._open_request(appointment)
        if request is not None:
            raise Parked("conflict", f"{what} while Rebook's booking of it waits for the PAS",
                         patient_id=appointment.patient_id, appointment_id=appointment.id)

    def _refuse_open_requests(self, appointment: Appointment, why: str) -> None:
        """A cancellation overtakes a booking still on its way: the booking is moot."""
        from api.integration import writeback  # noqa: PLC0415 - writeback imports this module

        writeback.abandon_for_appointment(session=self.session, appointment_id=appointment.id,
                                          reason=why, now=self.now)

    def _slot_for_booking(self, record: AppointmentRecord, site_id: int | None,
                          clinician_id: int | None) -> tuple[int, int]:
        """The local slot a PAS booking sits in (taken from offers if Rebook offered it), or a
        new booked slot where capacity is not fed to Rebook (HL7, the waiting-list CSV)."""
        slot_id = self._local(DataKind.SLOT, record.slot_pas_id)
        if slot_id is None and record.start_at is not None and site_id is not None:
            slot_id = self.session.scalar(select(Slot.id).where(
                Slot.site_id == site_id, Slot.specialty_id == self.code(
                    Specialty, record.specialty_code, "specialty"),
                Slot.type == record.type, Slot.start_at == record.start_at,
                Slot.status.in_((SlotStatus.FREE, SlotStatus.HELD))).limit(1))
        if slot_id is not None:
            withdrawn = scheduling_service.take_slot_for_pas(
                session=self.session, slot_id=slot_id, to_status=SlotStatus.BOOKED,
                reason="slot booked in the PAS", actor=ACTOR, now=self.now)
            return slot_id, withdrawn
        if record.start_at is None or site_id is None:
            raise Parked("missing_field", f"booked appointment {record.change.pas_id} has no "
                         "start time or site")
        slot = Slot(site_id=site_id, specialty_id=self.code(
            Specialty, record.specialty_code, "specialty"), clinician_id=clinician_id,
            type=record.type, start_at=record.start_at,
            duration_minutes=record.duration_minutes, status=SlotStatus.BOOKED)
        self.session.add(slot)
        self.session.flush()
        return slot.id, 0

    def _disruption_for(self, record: AppointmentRecord) -> int | None:
        """The declared disruption that covers the date the PAS postponed it from."""
        if record.original_start_at is None:
            return None
        if self._disruptions is None:  # a handful of rows, read once per reconciler
            self._disruptions = [
                (d.id, d.starts_at, d.ends_at, {s.id for s in d.specialties})
                for d in self.session.scalars(select(Disruption).order_by(Disruption.id))]
        specialty_id = self.code(Specialty, record.specialty_code, "specialty")
        for disruption_id, starts_at, ends_at, specialties in self._disruptions:
            if starts_at <= record.original_start_at < ends_at and (
                    not specialties or specialty_id in specialties):
                return disruption_id
        return None
