"""The PAS's capacity applied to Rebook: clinic sessions and slots, a slot booked or blocked
there withdrawing any offer that holds it, one freed there offered again."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.config import Settings
from api.integration.models import OPEN_REQUEST, DataKind, InboundStatus, PasLink, PasRequest
from api.integration.outcome import ACTOR, SLOT_STATUS, Outcome, Parked
from api.integration.records import SessionRecord, SlotRecord
from api.reference.models import Clinician, Site, Specialty
from api.scheduling import service as scheduling_service
from api.scheduling.models import ClinicSession, Slot, SlotStatus


class CapacityRules:
    """The rules for clinic sessions and slots.

    A mixin of `Reconciler`, which provides the session, settings, clock, links and codes."""

    session: Session
    settings: Settings
    now: datetime

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
