"""Audit verbs: record who saw or did what to whose record; list it for admins."""

from __future__ import annotations

import getpass
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import ColumnElement, Integer, cast, exists, func, literal, or_, select
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Session

from api.audit.models import AuditEvent
from api.patients.models import Patient


def cli_actor() -> str:
    """The audit actor of a command run on the server ("cli:<login name>")."""
    try:
        name = getpass.getuser()
    except (KeyError, OSError):  # a container user with no passwd entry
        name = "unknown"
    return f"cli:{name}"[:64]


# An event that shows or exports many patients names them in details["patient_ids"], up to
# this many: a whole trust's breach list or a strike's campaign (a few thousand) fits; past
# it the event keeps the count and the first ids, and the object it names (the campaign,
# whose recipients are kept) says who the rest were.
MAX_PATIENT_IDS = 5000


def patient_ids_detail(patient_ids: Iterable[int | None]) -> dict:
    """The details entry naming the patients an event showed or changed (bounded)."""
    unique = sorted({int(i) for i in patient_ids if i is not None})
    detail: dict = {"patient_ids": unique[:MAX_PATIENT_IDS], "patient_count": len(unique)}
    if len(unique) > MAX_PATIENT_IDS:
        detail["patient_ids_truncated"] = True
    return detail


def mentions_patient(*, session: Session, patient_id: int) -> ColumnElement[bool]:
    """Events about one patient: their own (patient_id) or a list naming them in details."""
    if session.get_bind().dialect.name == "postgresql":
        listed = cast(AuditEvent.details, JSONB)["patient_ids"].contains([patient_id])
    else:
        ids = func.json_each(AuditEvent.details, "$.patient_ids").table_valued("value")
        listed = exists(select(literal(1)).select_from(ids)
                        .where(cast(ids.c.value, Integer) == patient_id))
    return or_(AuditEvent.patient_id == patient_id, listed)


def record(*, session: Session, actor: str, action: str, object_type: str, object_id: int | str,
           patient_id: int | None = None, details: dict | None = None) -> AuditEvent:
    """Append one event to the audit log (in the caller's transaction)."""
    event = AuditEvent(actor=actor, action=action, object_type=object_type,
                       object_id=str(object_id), patient_id=patient_id, details=details or {})
    session.add(event)
    session.flush()
    return event


def _conditions(*, session: Session, before_id: int | None = None,
                patient_id: int | None = None, actor: str | None = None,
                object_type: str | None = None, object_id: str | None = None,
                action: str | None = None, since: datetime | None = None,
                until: datetime | None = None) -> list[ColumnElement[bool]]:
    """The filters of a listing, as SQL conditions (a patient's include the lists naming them;
    `since` inclusive, `until` exclusive)."""
    conditions: list[ColumnElement[bool]] = []
    if before_id is not None:
        conditions.append(AuditEvent.id < before_id)
    if patient_id is not None:
        conditions.append(mentions_patient(session=session, patient_id=patient_id))
    for column, value in ((AuditEvent.actor, actor), (AuditEvent.object_type, object_type),
                          (AuditEvent.action, action)):
        if value is not None:
            conditions.append(column == value)
    if object_id is not None:
        conditions.append(AuditEvent.object_id == str(object_id))
    if since is not None:
        conditions.append(AuditEvent.occurred_at >= since)
    if until is not None:
        conditions.append(AuditEvent.occurred_at < until)
    return conditions


def list_events(*, session: Session, limit: int = 200, offset: int = 0,
                **filters) -> list[AuditEvent]:
    """Audit events, newest first, filtered as `_conditions` says."""
    query = (select(AuditEvent).where(*_conditions(session=session, **filters))
             .order_by(AuditEvent.id.desc()).limit(max(1, min(limit, 1000)))
             .offset(max(0, offset)))
    return list(session.scalars(query))


def count_events(*, session: Session, **filters) -> int:
    """How many events a listing with these filters holds."""
    return session.scalar(select(func.count()).select_from(AuditEvent)
                          .where(*_conditions(session=session, **filters))) or 0


def actions(*, session: Session) -> list[str]:
    """Every action the log holds, for a filter's choices."""
    return list(session.scalars(select(AuditEvent.action).distinct().order_by(AuditEvent.action)))


def record_log_read(*, session: Session, actor: str, patient_id: int | None) -> AuditEvent:
    """Audit a read of the audit log, with the patient it was filtered by."""
    # The log outlives patients (and admins mistype ids): a filter by an id with no patient
    # row is kept in the details, as the foreign key cannot point at it.
    known = patient_id is not None and session.get(Patient, patient_id) is not None
    return record(session=session, actor=actor, action="view_audit", object_type="audit_event",
                  object_id="*", patient_id=patient_id if known else None,
                  details={"patient_id": patient_id} if patient_id is not None else None)
