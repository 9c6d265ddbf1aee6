"""Applying the PAS's records to Rebook, whichever adapter brought them.

The rules live here once:
- one adapter is the source of truth for each kind of data; another's record of it is ignored,
  with the reason kept on the inbound row;
- an update older than the one applied (by event time, then version) is ignored: HL7 feeds
  and retries overtake each other;
- a slot booked or blocked in the PAS stops being offered at once (open offers on it are
  withdrawn); a cancelled appointment withdraws its offers and frees its slot;
- a deceased patient's offers are withdrawn and queued messages cancelled at once; a
  restricted record is never texted automatically (campaigns put it on the staff call list);
- what cannot be applied safely (an unknown code, a patient who does not match, a conflict
  with a booking Rebook made) raises `Parked`, and the caller opens an exception for staff.

Each `apply` runs in a SAVEPOINT, so a parked record leaves nothing half-applied.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from api import texts
from api.appointments import service as appointments_service
from api.appointments.models import AWAITING_DATE, Appointment, AppointmentStatus
from api.appointments.service import InvalidTransition
from api.config import Settings
from api.db import utcnow
from api.integration.models import OPEN_REQUEST, DataKind, InboundStatus, PasLink, PasRequest
from api.integration.records import (
    AppointmentRecord,
    Change,
    MergeRecord,
    PasAppointmentStatus,
    PasSlotStatus,
    PatientRecord,
    Record,
    SessionRecord,
    SlotRecord,
)
from api.messaging import opt_outs, outbox
from api.messaging.models import Channel, Direction, Message, MessageCategory, MessageStatus
from api.patients.identifiers import normalise_mobile, normalise_nhs_number
from api.patients.models import Patient
from api.reference.models import Clinician, Site, Specialty
from api.scheduling import service as scheduling_service
from api.scheduling.errors import SchedulingError
from api.scheduling.models import ClinicSession, Disruption, Slot, SlotStatus
from api.system import localtime

ACTOR = "pas"

KIND_OF = {PatientRecord: DataKind.PATIENT, MergeRecord: DataKind.PATIENT,
           AppointmentRecord: DataKind.APPOINTMENT, SlotRecord: DataKind.SLOT,
           SessionRecord: DataKind.SESSION}

# A PAS status and the Rebook status it means for an appointment seen for the first time.
NEW_STATUS = {
    PasAppointmentStatus.BOOKED: AppointmentStatus.BOOKED,
    PasAppointmentStatus.WAITLIST: AppointmentStatus.POSTPONED,
    PasAppointmentStatus.CANCELLED: AppointmentStatus.CANCELLED,
    PasAppointmentStatus.FULFILLED: AppointmentStatus.ATTENDED,
    PasAppointmentStatus.NOSHOW: AppointmentStatus.PENDING_CLINICAL_REVIEW,
    PasAppointmentStatus.DELETED: AppointmentStatus.CANCELLED,
}
SLOT_STATUS = {PasSlotStatus.FREE: SlotStatus.FREE, PasSlotStatus.BUSY: SlotStatus.BOOKED,
               PasSlotStatus.BLOCKED: SlotStatus.BLOCKED}


class Parked(Exception):
    """A record that cannot be applied safely: staff decide (an integration exception)."""

    def __init__(self, reason: str, detail: str, *, patient_id: int | None = None,
                 appointment_id: int | None = None):
        super().__init__(detail)
        self.reason = reason
        self.detail = detail
        self.patient_id = patient_id
        self.appointment_id = appointment_id


@dataclass(frozen=True)
class Outcome:
    """What applying one record did, in words for the inbound row and the audit."""

    status: InboundStatus
    detail: str
    # The local row the record's PAS id now stands for (linked for the next update).
    local_id: int | None = None
    patient_id: int | None = None
    appointment_id: int | None = None
    # Offers withdrawn because the PAS took their slot or cancelled their appointment.
    withdrawn_offers: int = 0


class Reconciler:
    """Applies records in one session, caching the trust's reference codes between them."""

    def __init__(self, *, session: Session, settings: Settings, now: datetime | None = None):
        self.session = session
        self.settings = settings
        self.now = now or utcnow()
        self._codes: dict[type, dict[str, int]] = {}
        self._disruptions: list[tuple] | None = None

    # --- the verb -----------------------------------------------------------------------

    def apply(self, record: Record) -> Outcome:
        """Apply one record; raises `Parked` (nothing applied) when staff must decide."""
        kind = KIND_OF[type(record)]
        change = record.change
        trusted = self.settings.pas_source(kind.value)
        if trusted and change.adapter.value != trusted:
            return Outcome(InboundStatus.IGNORED, f"{change.adapter.value} is not the source "
                           f"of truth for {kind.value} data ({trusted} is)")
        link = self._link(kind, change.pas_id)
        if link is not None and _is_older(change, link):
            return Outcome(InboundStatus.IGNORED,
                           f"older than the {kind.value} update already applied")
        try:
            with self.session.begin_nested():
                outcome = self._dispatch(record, link)
                if outcome.local_id is not None:
                    self._remember(kind, change, outcome.local_id, link)
        except (InvalidTransition, SchedulingError) as exc:
            raise Parked("conflict", f"the PAS's change cannot be applied: {exc}") from exc
        return outcome

    def _dispatch(self, record: Record, link: PasLink | None) -> Outcome:
        if isinstance(record, PatientRecord):
            return self._patient(record, link)
        if isinstance(record, MergeRecord):
            return self._merge(record)
        if isinstance(record, AppointmentRecord):
            return self._appointment(record, link)
        if isinstance(record, SessionRecord):
            return self._clinic_session(record, link)
        return self._slot(record, link)

    # --- links and codes ------------------------------------------------------------------

    def _link(self, kind: DataKind, pas_id: str) -> PasLink | None:
        return self.session.scalar(select(PasLink).where(PasLink.kind == kind,
                                                         PasLink.pas_id == pas_id))

    def _local(self, kind: DataKind, pas_id: str | None) -> int | None:
        if not pas_id:
            return None
        link = self._link(kind, pas_id)
        return link.local_id if link else None

    def _remember(self, kind: DataKind, change: Change, local_id: int,
                  link: PasLink | None) -> None:
        if link is None:
            link = PasLink(kind=kind, pas_id=change.pas_id, adapter=change.adapter,
                           local_id=local_id)
            self.session.add(link)
        link.local_id = local_id
        link.adapter = change.adapter
        if change.event_at is not None:
            link.event_at = change.event_at
        if change.version is not None:
            link.version = change.version
        self.session.flush()

    def code(self, model, code: str | None, noun: str, *, required: bool = True) -> int | None:
        """The local id of one of the trust's codes (Parked when unknown or missing)."""
        if not code:
            if required:
                raise Parked("missing_code", f"the record has no {noun} code")
            return None
        codes = self._codes.get(model)
        if codes is None:
            codes = dict(self.session.execute(select(model.code, model.id)).all())
            self._codes[model] = codes
        if code not in codes:
            raise Parked("unknown_code", f"{noun} code {code!r} is not one of the trust's "
                         f"{noun}s in Rebook (add it to the reference data, then replay)")
        return codes[code]

    # --- patients -----------------------------------------------------------------------

    def _patient(self, record: PatientRecord, link: PasLink | None) -> Outcome:
        nhs_number = valid_nhs_number(record.nhs_number)
        patient = self.session.get(Patient, link.local_id) if link else None
        if patient is None:
            if nhs_number is None:
                raise Parked("no_nhs_number", "the patient has no valid NHS number: Rebook "
                             "identifies patients by it and cannot take this record")
            patient = self.session.scalar(select(Patient).where(Patient.nhs_number == nhs_number))
            if patient is not None:
                self._check_adoption(record, patient)
        elif nhs_number and patient.nhs_number != nhs_number:
            raise Parked("wrong_patient_risk",
                         f"the PAS record {record.change.pas_id} now carries another NHS number "
                         "than the patient it was linked to: check the identity before "
                         "anything is sent", patient_id=patient.id)
        created = patient is None
        if created and record.date_of_birth is None:
            raise Parked("missing_date_of_birth", "a new patient needs a date of birth: the "
                         "assistant checks identity with it")
        was_deceased = patient is not None and patient.deceased_at is not None
        fields = self.patient_fields(record, nhs_number or patient.nhs_number)
        if was_deceased and record.deceased:
            fields.pop("deceased_at")  # keep the date of death first recorded
        if created:
            patient = Patient(**fields)
            self.session.add(patient)
        else:
            for name, value in fields.items():
                if value is not None or name in ("mobile", "email", "deceased_at"):
                    setattr(patient, name, value)
        self.session.flush()
        withdrawn = 0
        if patient.deceased_at is not None and not was_deceased:
            withdrawn = self._stop_messages(patient)
        detail = "created" if created else "updated"
        if withdrawn or (patient.deceased_at and not was_deceased):
            detail += f"; deceased: messages stopped, {withdrawn} offer(s) withdrawn"
        return Outcome(InboundStatus.APPLIED, f"patient {detail}", local_id=patient.id,
                       patient_id=patient.id, withdrawn_offers=withdrawn)

    def patient_fields(self, record: PatientRecord, nhs_number: str) -> dict:
        """A patient's columns as the PAS record gives them (None: keep what Rebook has)."""
        needs = set(record.communication_needs)
        if not record.sms_allowed:
            needs.add("no_text_messages")
        return dict(
            nhs_number=nhs_number, given_name=record.given_name or None,
            family_name=record.family_name or None, date_of_birth=record.date_of_birth,
            postcode=(record.postcode or "").upper()[:8], mobile=_valid_mobile(record.mobile),
            email=record.email or None,
            preferred_language=(record.preferred_language or "en")[:8],
            communication_needs=sorted(needs), restricted=record.restricted,
            deceased_at=(record.change.event_at or self.now) if record.deceased else None)

    def _check_adoption(self, record: PatientRecord, patient: Patient) -> None:
        """A local patient with the same NHS number is taken over only if they match."""
        other = self.session.scalar(select(PasLink.pas_id).where(
            PasLink.kind == DataKind.PATIENT, PasLink.local_id == patient.id))
        if other is not None and other != record.change.pas_id:
            raise Parked("wrong_patient_risk",
                         f"NHS number already linked to PAS patient {other}: a duplicate "
                         "record in the PAS, or a wrong NHS number", patient_id=patient.id)
        if record.date_of_birth and patient.date_of_birth != record.date_of_birth:
            raise Parked("wrong_patient_risk",
                         "a patient with this NHS number exists with another date of birth",
                         patient_id=patient.id)

    def _stop_messages(self, patient: Patient) -> int:
        """A death recorded in the PAS: open offers withdrawn, queued messages cancelled."""
        withdrawn = 0
        for appointment_id in self.session.scalars(select(Appointment.id).where(
                Appointment.patient_id == patient.id, Appointment.status.in_(AWAITING_DATE))):
            withdrawn += scheduling_service.withdraw_offers(
                session=self.session, appointment_id=appointment_id,
                reason="patient recorded as deceased in the PAS", actor=ACTOR, now=self.now)
        self.session.execute(
            update(Message).where(Message.patient_id == patient.id,
                                  Message.direction == Direction.OUTBOUND,
                                  Message.status.in_((MessageStatus.QUEUED, MessageStatus.HELD)))
            .values(status=MessageStatus.CANCELLED)
            .execution_options(synchronize_session=False))
        return withdrawn

    def _merge(self, record: MergeRecord) -> Outcome:
        survivor_id = self._local(DataKind.PATIENT, record.change.pas_id)
        merged_link = self._link(DataKind.PATIENT, record.merged_pas_id)
        if survivor_id is None:
            raise Parked("unknown_patient", f"merge into PAS patient {record.change.pas_id}, "
                         "whom Rebook does not know")
        if merged_link is None:
            return Outcome(InboundStatus.APPLIED, "merge: the merged record was never in "
                           "Rebook", patient_id=survivor_id)
        merged_id = merged_link.local_id
        if merged_id != survivor_id:
            moved = self.session.execute(
                update(Appointment).where(Appointment.patient_id == merged_id)
                .values(patient_id=survivor_id).execution_options(synchronize_session="fetch"))
            merged = self.session.get(Patient, merged_id)
            # The merged-away record stays for the history, but nothing is ever sent to it.
            merged.restricted = True
            merged_link.local_id = survivor_id
            detail = f"merged: {moved.rowcount} appointment(s) moved to the surviving record"
        else:
            detail = "merge already applied"
        self.session.flush()
        return Outcome(InboundStatus.APPLIED, detail, patient_id=survivor_id)

    # --- appointments -----------------------------------------------------------------------

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

    # --- capacity -------------------------------------------------------------------------

    def _clinic_session(self, record: SessionRecord, link: PasLink | None) -> Outcome:
        fields = dict(
            kind=record.kind, site_id=self.code(Site, record.site_code, "site"),
            specialty_id=self.code(Specialty, record.specialty_code, "specialty"),
            clinician_id=self.code(Clinician, record.clinician_code, "clinician",
                                    required=False),
            location=record.location[:80], starts_at=record.starts_at, ends_at=record.ends_at,
            short_notice=record.short_notice)
        clinic = self.session.get(ClinicSession, link.local_id) if link else None
        created = clinic is None
        if created:
            clinic = ClinicSession(**fields)
            self.session.add(clinic)
        for name, value in fields.items():
            setattr(clinic, name, value)
        self.session.flush()
        return Outcome(InboundStatus.APPLIED, "clinic session " + (
            "created" if created else "updated"), local_id=clinic.id)

    def _slot(self, record: SlotRecord, link: PasLink | None) -> Outcome:
        slot = self.session.get(Slot, link.local_id) if link else None
        session_id = self._local(DataKind.SESSION, record.session_pas_id)
        if record.session_pas_id and session_id is None:
            raise Parked("unknown_session", f"slot {record.change.pas_id} is in schedule "
                         f"{record.session_pas_id}, which Rebook has not received")
        fields = dict(session_id=session_id,
                      site_id=self.code(Site, record.site_code, "site"),
                      specialty_id=self.code(Specialty, record.specialty_code, "specialty"),
                      clinician_id=self.code(Clinician, record.clinician_code, "clinician",
                                              required=False),
                      type=record.type, start_at=record.start_at,
                      duration_minutes=record.duration_minutes)
        wanted = SLOT_STATUS[record.status]
        if slot is None:
            slot = Slot(status=wanted, **fields)
            self.session.add(slot)
            self.session.flush()
            return Outcome(InboundStatus.APPLIED, f"slot created ({wanted.value})",
                           local_id=slot.id)
        if slot.status is SlotStatus.BOOKED and (
                slot.start_at != record.start_at or wanted is SlotStatus.FREE):
            if self._booked_by_rebook_in_flight(slot.id):
                return Outcome(InboundStatus.APPLIED, "slot booked by Rebook; the PAS has not "
                               "answered the booking yet", local_id=slot.id)
            if wanted is SlotStatus.FREE and slot.start_at == record.start_at:
                # Freed in the PAS (a cancellation there): it may be offered again.
                scheduling_service.free_slot_for_pas(session=self.session, slot_id=slot.id)
                return Outcome(InboundStatus.APPLIED, "slot freed in the PAS",
                               local_id=slot.id)
            raise Parked("conflict", f"slot {record.change.pas_id} is booked in Rebook but "
                         "changed in the PAS")
        for name, value in fields.items():
            setattr(slot, name, value)
        withdrawn = 0
        if wanted is not SlotStatus.FREE and slot.status in (SlotStatus.FREE, SlotStatus.HELD):
            withdrawn = scheduling_service.take_slot_for_pas(
                session=self.session, slot_id=slot.id, to_status=wanted,
                reason=f"slot {wanted.value} in the PAS", actor=ACTOR, now=self.now)
        elif wanted is SlotStatus.FREE and slot.status is SlotStatus.BLOCKED:
            scheduling_service.free_slot_for_pas(session=self.session, slot_id=slot.id)
        self.session.flush()
        return Outcome(InboundStatus.APPLIED, f"slot updated ({wanted.value}); "
                       f"{withdrawn} offer(s) withdrawn", local_id=slot.id,
                       withdrawn_offers=withdrawn)

    def _booked_by_rebook_in_flight(self, slot_id: int) -> bool:
        in_flight = self.session.scalar(select(PasRequest.id).where(
            PasRequest.slot_id == slot_id, PasRequest.status.in_(OPEN_REQUEST)).limit(1))
        return in_flight is not None


def _is_older(change: Change, link: PasLink) -> bool:
    """True when `change` is older than what `link` last applied (event time, then version)."""
    if change.event_at is not None and link.event_at is not None:
        if change.event_at != link.event_at:
            return change.event_at < link.event_at
    if change.version is not None and link.version is not None:
        return _version_key(change.version) < _version_key(link.version)
    return False


def _version_key(version: str) -> tuple[int, int | str]:
    return (0, int(version)) if version.isdigit() else (1, version)


def valid_nhs_number(value: str | None) -> str | None:
    """The NHS number normalised, or None when it is missing or fails its check digit."""
    if not value:
        return None
    try:
        return normalise_nhs_number(value)
    except ValueError:
        return None


def _valid_mobile(value: str | None) -> str | None:
    if not value:
        return None
    try:
        return normalise_mobile(value)
    except ValueError:
        return None
