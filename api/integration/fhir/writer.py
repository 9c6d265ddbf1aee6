"""Bookings back to the PAS as FHIR transaction Bundles (the `PasWriter` for FHIR).

A booking is one transaction: the Slot PUT as busy with `If-Match` on the version Rebook last
pulled, and the Appointment booked into it (the PAS's own Appointment updated when Rebook
knows it, else created with `ifNoneExist` on Rebook's identifier). A slot taken meanwhile in
the PAS fails the If-Match: the server refuses the whole transaction (412), nothing is
double-booked. A resend after a crash also meets 412 (the first send moved the slot's
version on), so on 412 Rebook first looks for an Appointment carrying its identifier: found,
the first send went through and this one is accepted.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from api.config import Settings
from api.integration.fhir import mapping
from api.integration.fhir import vocabulary as v
from api.integration.fhir.client import FhirClient, FhirError
from api.integration.fhir.resources import validate
from api.integration.models import RequestKind
from api.integration.writeback import IDENTIFIER_SYSTEM, WriteBack, WriteResult

log = logging.getLogger(__name__)

# An appointment the PAS holds in one of these is not booked over by Rebook.
CLOSED = ("cancelled", "entered-in-error", "fulfilled", "noshow")


class FhirWriter:
    """Sends Rebook's bookings and cancellations to the FHIR server."""

    def __init__(self, *, settings: Settings, client: FhirClient | None = None):
        self.client = client or FhirClient(settings=settings)

    def send(self, change: WriteBack) -> WriteResult:
        """Send one change; the PAS's answer as a WriteResult."""
        try:
            if change.kind is RequestKind.CANCEL:
                return self._cancel(change)
            return self._book(change)
        except FhirError as exc:
            log.warning("FHIR write-back failed", extra={"request_id": change.request_id,
                                                         "status": exc.status})
            if exc.retryable:
                return WriteResult.later(str(exc))
            if exc.status == 412:
                return self._after_conflict(change, str(exc))
            return WriteResult.no(str(exc))

    def _book(self, change: WriteBack) -> WriteResult:
        if not change.slot_pas_id or not change.slot_version:
            return WriteResult.no("the slot did not come from the FHIR server: the PAS cannot "
                                  "book it")
        slot = self.client.read("Slot", change.slot_pas_id)
        slot = validate({**_without_meta(slot), "status": "busy"})
        current = (self.client.read("Appointment", change.appointment_pas_id)
                   if change.appointment_pas_id else None)
        if current is not None and current.get("status") in CLOSED:
            return WriteResult.no(f"the PAS holds the appointment as {current['status']}")
        appointment = self._appointment(change, current)
        entries = [{"resource": slot, "request": {
                        "method": "PUT", "url": f"Slot/{change.slot_pas_id}",
                        "ifMatch": f'W/"{change.slot_version}"'}}]
        if current is not None:  # changed in the PAS since it was read: refused, not undone
            entries.append({"resource": appointment, "request": {
                "method": "PUT", "url": f"Appointment/{appointment['id']}",
                "ifMatch": f'W/"{(current.get("meta") or {}).get("versionId")}"'}})
        else:
            entries.append({"resource": appointment, "request": {
                "method": "POST", "url": "Appointment",
                "ifNoneExist": f"identifier={IDENTIFIER_SYSTEM}|{change.idempotency_key}"}})
        answer = self.client.transaction({"resourceType": "Bundle", "type": "transaction",
                                          "entry": entries})
        return WriteResult.ok(_reference(answer, 1) or appointment.get("id"))

    def _appointment(self, change: WriteBack, current: dict | None) -> dict:
        """The PAS's Appointment booked into the slot (or a new one), with our identifier."""
        current = (_without_meta(current) if current is not None else
                   {"resourceType": "Appointment",
                    "serviceType": [{"coding": [{"system": v.SPECIALTY,
                                                 "code": change.specialty_code}]}]})
        identifiers = [i for i in current.get("identifier") or []
                       if i.get("system") != IDENTIFIER_SYSTEM]
        identifiers.append({"system": IDENTIFIER_SYSTEM, "value": change.idempotency_key})
        appointment = {**current, "status": "booked", "identifier": identifiers,
                       "slot": [{"reference": f"Slot/{change.slot_pas_id}"}],
                       "minutesDuration": change.duration_minutes,
                       "participant": mapping.participants(
                           change.patient_pas_id, change.nhs_number, change.site_code,
                           change.clinician_code)}
        if change.start_at is not None:
            appointment["start"] = change.start_at.isoformat()
            appointment["end"] = (change.start_at + timedelta(
                minutes=change.duration_minutes)).isoformat()
        return validate(appointment)

    def _after_conflict(self, change: WriteBack, why: str) -> WriteResult:
        """412: our own earlier send (then accepted), or the slot taken meanwhile."""
        ours = self.client.search("Appointment", {
            "identifier": f"{IDENTIFIER_SYSTEM}|{change.idempotency_key}"})
        if ours:
            return WriteResult.ok(ours[0].get("id"))
        return WriteResult.no(f"the slot changed in the PAS since Rebook offered it ({why})",
                              conflict=True)

    def _cancel(self, change: WriteBack) -> WriteResult:
        if not change.appointment_pas_id:
            return WriteResult.no("the appointment is not known to the PAS")
        current = self.client.read("Appointment", change.appointment_pas_id)
        version = (current.get("meta") or {}).get("versionId")
        appointment = validate({**_without_meta(current), "status": "cancelled"})
        request = {"method": "PUT", "url": f"Appointment/{change.appointment_pas_id}"}
        if version:
            request["ifMatch"] = f'W/"{version}"'
        self.client.transaction({"resourceType": "Bundle", "type": "transaction",
                                 "entry": [{"resource": appointment, "request": request}]})
        return WriteResult.ok(change.appointment_pas_id)


def _without_meta(resource: dict) -> dict:
    return {k: value for k, value in resource.items() if k != "meta"}


def _reference(answer: dict, index: int) -> str | None:
    """The id in a transaction-response entry's location ("Appointment/12/_history/1")."""
    entries = answer.get("entry") or []
    if len(entries) <= index:
        return None
    location = (entries[index].get("response") or {}).get("location") or ""
    parts = location.split("/")
    return parts[1] if len(parts) > 1 else None
