"""The incremental pull from the trust's FHIR server: Schedule, Slot, Patient, Appointment.

Each resource type is searched for what changed after its cursor (`_lastUpdated=gt...`,
oldest first, `_count` a page). Every resource is stored raw (`inbound.receive`, message id
`Type/id/_history/version`, so a resource seen twice is taken once) and applied through the
reconciler; the page and the cursor are committed together. A server that goes away
mid-sync costs nothing: the cursor stands at the last committed page, and the next pass
carries on from there, in order. A type whose pull failed stops the pass, so appointments
never arrive before the capacity and patients they refer to.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from api.config import Settings
from api.db import utcnow
from api.integration import bulk, inbound
from api.integration.fhir import mapping
from api.integration.fhir.client import FhirClient, FhirError
from api.integration.fhir.mapping import ScheduleActors
from api.integration.fhir.resources import MappingError, validate
from api.integration.models import Adapter, InboundStatus, SyncCursor
from api.integration.records import Record

log = logging.getLogger(__name__)

RESOURCE_ORDER = ("Schedule", "Slot", "Patient", "Appointment")
UNREADABLE = (MappingError, ValueError, KeyError, TypeError, AttributeError)


@dataclass
class SyncResult:
    """What one resource type's pull did, in counts."""

    resource: str
    pages: int = 0
    applied: int = 0
    skipped: int = 0  # seen before (the same version), or older than what Rebook holds
    parked: int = 0
    error: str = ""


class Schedules:
    """Site and clinician of each Schedule (FHIR keeps them there, not on the Slot): those
    pulled in this process, else read from the server once."""

    def __init__(self, client: FhirClient | None):
        self.client = client
        self._known: dict[str, ScheduleActors] = {}

    def remember(self, resource: dict) -> None:
        self._known[resource["id"]] = mapping.schedule_actors(resource)

    def actors(self, schedule_id: str | None) -> ScheduleActors:
        if not schedule_id:
            raise MappingError("the slot has no Schedule reference")
        if schedule_id not in self._known and self.client is None:
            raise MappingError(f"the slot's Schedule {schedule_id} has not been received")
        if schedule_id not in self._known:
            try:
                self.remember(validate(self.client.read("Schedule", schedule_id)))
            except FhirError as exc:
                if exc.status not in (404, 410):
                    raise
                raise MappingError(f"the slot's Schedule {schedule_id} is not on the FHIR "
                                   "server") from exc
        return self._known[schedule_id]


def sync_all(*, session: Session, settings: Settings, client: FhirClient,
             schedules: Schedules | None = None) -> list[SyncResult]:
    """Pull every resource type in order; stops at the first type the server failed."""
    schedules = schedules or Schedules(client)
    results = []
    for resource_type in RESOURCE_ORDER:
        result = sync_resource(session=session, settings=settings, client=client,
                               resource_type=resource_type, schedules=schedules)
        results.append(result)
        log.info("FHIR sync", extra={"resource": resource_type, "pages": result.pages,
                                     "applied": result.applied, "skipped": result.skipped,
                                     "parked": result.parked, "failed": bool(result.error)})
        if result.error:
            break
    return results


def sync_resource(*, session: Session, settings: Settings, client: FhirClient,
                  resource_type: str, schedules: Schedules) -> SyncResult:
    """Pull one resource type from its cursor, committing page by page."""
    result = SyncResult(resource_type)
    since = cursor_of(session, resource_type).last_updated
    try:
        for resources, more in client.search_pages(resource_type, since=since):
            take_page(session=session, settings=settings, resources=resources,
                      schedules=schedules, result=result)
            cursor = cursor_of(session, resource_type)
            since = cursor.last_updated = advance(since, resources, more=more)
            cursor.synced_at = utcnow()
            cursor.last_error = ""
            session.commit()
            session.expunge_all()  # a flush's cost grows with what the session holds
            result.pages += 1
            bulk.refresh_statistics(session=session, batches_done=result.pages)
    except FhirError as exc:
        session.rollback()
        result.error = str(exc)
        cursor = cursor_of(session, resource_type)
        cursor.last_error, cursor.last_error_at = result.error[:2000], utcnow()
        session.commit()
    return result


def cursor_of(session: Session, resource_type: str) -> SyncCursor:
    cursor = session.scalar(select(SyncCursor).where(SyncCursor.adapter == Adapter.FHIR,
                                                     SyncCursor.resource == resource_type))
    if cursor is None:
        cursor = SyncCursor(adapter=Adapter.FHIR, resource=resource_type, last_updated="")
        session.add(cursor)
    return cursor


def advance(since: str, resources: list[dict], *, more: bool) -> str:
    """The newest lastUpdated up to which every resource is taken. Mid-search that stops
    short of the page's newest instant: resources sharing it may continue on the next page,
    and `gt` would skip them after a restart (taking them twice is harmless)."""
    stamps = sorted({_stamp(r) for r in resources if _stamp(r)}, key=_instant)
    if more and stamps:
        stamps.pop()
    if not stamps:
        return since
    newest = stamps[-1]
    return newest if not since or _instant(newest) > _instant(since) else since


def take_page(*, session: Session, settings: Settings, resources: list[dict],
              schedules: Schedules | None, result: SyncResult) -> None:
    """Store and apply a page of resources as one batch (new rows in bulk; the caller
    commits); an unreadable resource is stored and parked on its own. Counts in `result`."""
    messages = []
    for resource in resources:
        raw = json.dumps(resource, separators=(",", ":"))
        try:
            records = records_of(validate(resource), schedules)
        except UNREADABLE as exc:
            if _park_unreadable(session, resource, raw, exc):
                result.parked += 1
            else:
                result.skipped += 1
            continue
        messages.append(inbound.Message(
            message_id=message_id(resource, raw), raw=raw, records=tuple(records),
            message_type=resource.get("resourceType", "")[:40],
            event_at=_instant(_stamp(resource))))
    done = inbound.receive_and_apply_batch(session=session, settings=settings,
                                           adapter=Adapter.FHIR, messages=messages)
    result.applied += done.applied
    result.parked += done.parked
    result.skipped += done.ignored + done.duplicates


def _park_unreadable(session: Session, resource: dict, raw: str, exc: Exception) -> bool:
    """Keep a resource Rebook cannot read, parked for staff; False if it was already."""
    row, seen = inbound.receive(
        session=session, adapter=Adapter.FHIR, message_id=message_id(resource, raw), raw=raw,
        message_type=str(resource.get("resourceType", ""))[:40],
        event_at=_instant(_stamp(resource)))
    if seen and row.status is not InboundStatus.RECEIVED:
        return False
    inbound.park(session=session, inbound=row, reason="invalid_resource",
                 detail=f"{row.message_id}: {exc}")
    return True


def records_of(resource: dict, schedules: Schedules | None) -> list[Record]:
    """The records one (validated) resource stands for."""
    kind = resource["resourceType"]
    if kind == "Patient":
        return [mapping.patient_record(resource)]
    if kind == "Appointment":
        return [mapping.appointment_record(resource)]
    if kind == "Schedule":
        if schedules is not None:
            schedules.remember(resource)
        session_record = mapping.schedule_record(resource)
        return [session_record] if session_record else []
    if kind == "Slot" and schedules is not None:
        return [mapping.slot_record(resource, schedules.actors(mapping.schedule_of(resource)))]
    raise MappingError(f"Rebook does not take {kind} resources here")


def message_id(resource: dict, raw: str) -> str:
    """`Type/id/_history/version`; a digest of the content where the resource has no version
    (a bundle from a file), so a changed resource is a new message and a resend is not."""
    version = (resource.get("meta") or {}).get("versionId") or \
        "sha256-" + hashlib.sha256(raw.encode()).hexdigest()[:16]
    return f"{resource.get('resourceType')}/{resource.get('id')}/_history/{version}"


def _stamp(resource: dict) -> str:
    return (resource.get("meta") or {}).get("lastUpdated") or ""


def _instant(value: str) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def run_forever(*, session_factory: sessionmaker[Session], settings: Settings,
                stop: threading.Event, client: FhirClient | None = None) -> None:
    """Pull every `fhir_poll_seconds` until `stop` is set."""
    with client or FhirClient(settings=settings) as fhir:
        schedules = Schedules(fhir)
        log.info("FHIR sync started", extra={"poll_seconds": settings.fhir_poll_seconds})
        while not stop.is_set():
            try:
                with session_factory() as session:
                    sync_all(session=session, settings=settings, client=fhir,
                             schedules=schedules)
            except Exception:  # the database away for a moment: the next pass tries again
                log.exception("FHIR sync pass failed")
            stop.wait(settings.fhir_poll_seconds)
