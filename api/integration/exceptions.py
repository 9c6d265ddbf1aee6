"""Integration exceptions: PAS messages and write-backs that staff must resolve.

They hold raw patient records, so only the configured role opens them and every view is
audited (`api/console/integration_views.py`).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.audit import service as audit_service
from api.db import utcnow
from api.integration.models import Adapter, ExceptionStatus, IntegrationException
from api.scheduling.errors import Conflict, NotFound


def open_exception(*, session: Session, adapter: Adapter, reason: str, detail: str,
                   raw: str = "", inbound_id: int | None = None, request_id: int | None = None,
                   patient_id: int | None = None,
                   appointment_id: int | None = None) -> IntegrationException:
    """Put a problem on the staff exceptions list."""
    row = IntegrationException(adapter=adapter, reason=reason[:40], detail=detail, raw=raw,
                               inbound_id=inbound_id, request_id=request_id,
                               patient_id=patient_id, appointment_id=appointment_id)
    session.add(row)
    session.flush()
    return row


def open_count(*, session: Session) -> int:
    """How many exceptions wait for staff."""
    return session.scalar(select(func.count()).select_from(IntegrationException).where(
        IntegrationException.status == ExceptionStatus.OPEN)) or 0


def listing(*, session: Session, status: ExceptionStatus | None = ExceptionStatus.OPEN,
            limit: int = 200) -> list[IntegrationException]:
    """The newest exceptions first (open ones by default)."""
    query = select(IntegrationException).order_by(IntegrationException.id.desc()).limit(limit)
    if status is not None:
        query = query.where(IntegrationException.status == status)
    return list(session.scalars(query))


def view(*, session: Session, exception_id: int, actor: str) -> IntegrationException:
    """One exception with its raw message; the read is audited."""
    row = session.get(IntegrationException, exception_id)
    if row is None:
        raise NotFound(f"no integration exception {exception_id}")
    audit_service.record(session=session, actor=actor, action="integration_exception_viewed",
                         object_type="integration_exception", object_id=row.id,
                         patient_id=row.patient_id, details={"reason": row.reason})
    return row


def resolve(*, session: Session, exception_id: int, actor: str, staff_id: int | None,
            resolution: str, now: datetime | None = None) -> IntegrationException:
    """Close an exception with what was done about it (audited)."""
    row = session.get(IntegrationException, exception_id)
    if row is None:
        raise NotFound(f"no integration exception {exception_id}")
    if row.status is ExceptionStatus.RESOLVED:
        raise Conflict("this exception is resolved already")
    resolution = resolution.strip()
    if not resolution:
        raise Conflict("say what was done about it")
    row.status = ExceptionStatus.RESOLVED
    row.resolved_by = staff_id
    row.resolved_at = now or utcnow()
    row.resolution = resolution[:2000]
    audit_service.record(session=session, actor=actor, action="integration_exception_resolved",
                         object_type="integration_exception", object_id=row.id,
                         patient_id=row.patient_id, details={"reason": row.reason})
    session.flush()
    return row
