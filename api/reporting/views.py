"""Backlog reports as JSON and CSV for managers and trust systems."""

from __future__ import annotations

import csv
import io

from fastapi import APIRouter, HTTPException, status
from fastapi.responses import Response

from api.audit import service as audit_service
from api.deps import SessionDep, StaffUserDep, reads_only
from api.errors import STAFF_ERRORS, error_responses
from api.fields import IdPath
from api.reporting import service as reporting_service
from api.reporting.schemas import Breach, DisruptionListed, DisruptionReport

router = APIRouter(prefix="/api/v1/reports", tags=["reports"], responses=STAFF_ERRORS)
ONE_DISRUPTION = error_responses(404)
CSV = {"content": {"text/csv": {"schema": {"type": "string"}}}, "description": "CSV"}


def _report(session, disruption_id: int) -> dict:
    try:
        return reporting_service.disruption_report(session=session, disruption_id=disruption_id)
    except LookupError as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=str(exc)) from exc


@router.get("/disruptions", response_model=list[DisruptionListed])
@reads_only
def list_disruptions(session: SessionDep, user: StaffUserDep) -> list[dict]:
    """Disruptions with how many appointments each postponed."""
    return reporting_service.disruptions(session=session)


def _csv(rows: list[dict], filename: str) -> Response:
    buffer = io.StringIO()
    if rows:
        writer = csv.DictWriter(buffer, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return Response(buffer.getvalue(), media_type="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


# The CSV routes are declared before "/disruptions/{disruption_id}": Starlette matches in
# order, and "12.csv" would otherwise reach the JSON route and fail as a non-integer id.
@router.get("/disruptions/{disruption_id}.csv", response_class=Response,
            responses={200: CSV, **ONE_DISRUPTION})
@reads_only
def disruption_report_csv(disruption_id: IdPath, session: SessionDep,
                          user: StaffUserDep) -> Response:
    """The by-specialty-and-priority table as CSV."""
    report = _report(session, disruption_id)
    return _csv(report["by_specialty_priority"], f"disruption-{disruption_id}.csv")


@router.get("/disruptions/{disruption_id}/breaches.csv", response_class=Response,
            responses={200: CSV, **ONE_DISRUPTION})
def disruption_breaches_csv(disruption_id: IdPath, session: SessionDep,
                            user: StaffUserDep) -> Response:
    """The breach list as CSV. Exporting it is audited with the patients it lists."""
    _report(session, disruption_id)
    rows = reporting_service.breaches(session=session, disruption_id=disruption_id)
    _audit_breach_list(session, user, disruption_id, rows, action="export_breach_list")
    return _csv(rows, f"disruption-{disruption_id}-breaches.csv")


def _audit_breach_list(session, user, disruption_id: int, rows: list[dict], *,
                       action: str) -> None:
    audit_service.record(session=session, actor=user.audit_actor, action=action,
                         object_type="disruption", object_id=disruption_id,
                         details=audit_service.patient_ids_detail(r["patient_id"] for r in rows))
    session.commit()


@router.get("/disruptions/{disruption_id}", response_model=DisruptionReport,
            responses=ONE_DISRUPTION)
@reads_only
def disruption_report(disruption_id: IdPath, session: SessionDep, user: StaffUserDep) -> dict:
    """Funnel, self-service rate, time to rebook, handover SLA, breaches, by specialty."""
    return _report(session, disruption_id)


@router.get("/disruptions/{disruption_id}/breaches", response_model=list[Breach],
            responses=ONE_DISRUPTION)
def disruption_breaches(disruption_id: IdPath, session: SessionDep,
                        user: StaffUserDep) -> list[dict]:
    """Appointments whose new date misses their RTT or cancer target (to act on)."""
    _report(session, disruption_id)
    rows = reporting_service.breaches(session=session, disruption_id=disruption_id)
    _audit_breach_list(session, user, disruption_id, rows, action="view_breach_list")
    return rows
