"""The trust as one FHIR Bundle, and such a bundle loaded back through the inbound path.

The export is a `transaction` Bundle of PUTs (Schedule, Slot, Patient, Appointment, in that
order), so the same file can be posted to a FHIR server as it is, or loaded into another
Rebook with `rebook integration fhir load` (each resource stored raw and applied, as a sync
does). It is written entry by entry: 100,000 appointments never sit in memory as one document.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import TextIO

from sqlalchemy.orm import Session

from api.config import Settings
from api.integration import bulk, export
from api.integration.fhir import mapping
from api.integration.fhir.resources import MappingError
from api.integration.fhir.sync import Schedules, SyncResult, take_page
from api.integration.models import Adapter
from api.integration.records import SessionRecord

LOAD_BATCH = 500  # resources per commit when loading a file


def resources(*, session: Session) -> Iterator[dict]:
    """Every resource of the trust, valid R4B, in the order they must be applied."""
    for record in export.capacity(session=session, adapter=Adapter.FHIR):
        if isinstance(record, SessionRecord):
            yield mapping.schedule_resource(record)
        elif record.session_pas_id:
            yield mapping.slot_resource(record, record.session_pas_id)
        else:  # FHIR requires a Schedule for every Slot: one of its own
            schedule_id = f"X{record.change.pas_id}"
            yield mapping.bare_schedule_resource(schedule_id, record)
            yield mapping.slot_resource(record, schedule_id)
    for patient in export.patients(session=session, adapter=Adapter.FHIR):
        yield mapping.patient_resource(patient)
    for appointment in export.appointments(session=session, adapter=Adapter.FHIR):
        yield mapping.appointment_resource(appointment)


def write_bundle(*, session: Session, out: TextIO) -> int:
    """Write the trust to `out` as a transaction Bundle; how many resources."""
    out.write('{"resourceType":"Bundle","type":"transaction","entry":[\n')
    count = 0
    for resource in resources(session=session):
        url = f"{resource['resourceType']}/{resource['id']}"
        out.write(("," if count else "") + json.dumps(
            {"resource": resource, "request": {"method": "PUT", "url": url}},
            separators=(",", ":")) + "\n")
        count += 1
    out.write("]}\n")
    return count


def load_bundle(*, session: Session, settings: Settings, bundle: dict) -> SyncResult:
    """Store and apply every resource of a bundle in order, committing in batches."""
    if bundle.get("resourceType") != "Bundle":
        raise MappingError("the file is not a FHIR Bundle")
    result = SyncResult("Bundle")
    schedules = Schedules(None)
    entries = [entry.get("resource") or {} for entry in bundle.get("entry") or []]
    for start in range(0, len(entries), LOAD_BATCH):
        take_page(session=session, settings=settings, resources=entries[start:start + LOAD_BATCH],
                  schedules=schedules, result=result)
        session.commit()
        session.expunge_all()  # a flush's cost grows with what the session holds
        bulk.refresh_statistics(session=session, batches_done=start // LOAD_BATCH + 1)
    return result
