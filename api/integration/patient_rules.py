"""The PAS's patients applied to Rebook: created, updated, adopted only if they match, merged,
and a recorded death stopping every message at once."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from api.appointments.models import AWAITING_DATE, Appointment
from api.config import Settings
from api.integration.models import DataKind, InboundStatus, PasLink
from api.integration.outcome import ACTOR, Outcome, Parked, valid_mobile, valid_nhs_number
from api.integration.records import MergeRecord, PatientRecord
from api.messaging.models import Direction, Message, MessageStatus
from api.patients.models import Patient
from api.scheduling import service as scheduling_service


class PatientRules:
    """The rules for patients and merges.

    A mixin of `Reconciler`, which provides the session, settings, clock, links and codes."""

    session: Session
    settings: Settings
    now: datetime

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
            postcode=(record.postcode or "").upper()[:8], mobile=valid_mobile(record.mobile),
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
