"""The bookings export: bookings made in Rebook, as a CSV the trust uploads to its PAS.

In CSV mode a booking's write-back request waits as `pending_upload`. The export writes them
to a temporary file beside the target, renames it into place once complete, and only then
marks them uploaded, so a failed or killed export leaves them waiting for the next one; a
booking is exported once (`everything=True` writes them all again, uploaded or not). Should
the process die between the rename and the commit, the next export repeats those rows: the
REQUEST_KEY column lets the PAS upload recognise a row it has already taken.
"""

from __future__ import annotations

import csv
import logging
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.appointments.models import Priority
from api.config import Settings
from api.integration import writeback
from api.integration.csvfile.cells import local_date_time, local_moment
from api.integration.csvfile.waiting_list import PRIORITY_CODES
from api.integration.models import Adapter, PasRequest, RequestStatus

log = logging.getLogger(__name__)

COLUMNS = ("REQUEST_ID", "REQUEST_KEY", "ACTION", "APPOINTMENT_ID",
           "LOCAL_PATIENT_IDENTIFIER", "NHS_NUMBER", "PATIENT_GIVEN_NAME", "PATIENT_FAMILY_NAME",
           "SPECIALTY_CODE", "SITE_CODE", "CLINICIAN_CODE", "SLOT_ID", "APPOINTMENT_DATE",
           "APPOINTMENT_TIME", "DURATION_MINUTES", "APPOINTMENT_TYPE", "PRIORITY_TYPE_CODE",
           "BOOKED_AT")


@dataclass(frozen=True)
class BookingsExport:
    path: Path
    rows: int
    marked_uploaded: int


def export_bookings(*, session: Session, settings: Settings, path: Path,
                    everything: bool = False) -> BookingsExport:
    """Write the bookings waiting for upload (all of them with `everything`), then mark them
    uploaded; the caller commits."""
    requests = (_all_csv_requests(session) if everything
                else writeback.pending_upload(session=session))
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as out:
            writer = csv.writer(out)
            writer.writerow(COLUMNS)
            for request in requests:
                writer.writerow(_row(session, settings, request))
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    pending = [r.id for r in requests if r.status is RequestStatus.PENDING_UPLOAD]
    marked = writeback.mark_uploaded(session=session, request_ids=pending)
    log.info("bookings exported for upload", extra={"rows": len(requests), "marked": marked})
    return BookingsExport(path=path, rows=len(requests), marked_uploaded=marked)


def _all_csv_requests(session: Session) -> list[PasRequest]:
    return list(session.scalars(select(PasRequest).where(
        PasRequest.adapter == Adapter.CSV,
        PasRequest.status.in_((RequestStatus.PENDING_UPLOAD, RequestStatus.UPLOADED)))
        .order_by(PasRequest.id)))


def _row(session: Session, settings: Settings, request: PasRequest) -> list[str]:
    change = writeback.describe(session=session, request=request)
    day, clock = local_date_time(change.start_at, settings)
    return [str(change.request_id), change.idempotency_key, change.kind.value,
            change.appointment_pas_id or "", change.patient_pas_id or "", change.nhs_number,
            change.given_name, change.family_name, change.specialty_code,
            change.site_code or "", change.clinician_code or "", change.slot_pas_id or "",
            day, clock, str(change.duration_minutes), change.appointment_type,
            PRIORITY_CODES.get(Priority(change.priority), change.priority),
            local_moment(request.created_at, settings)]
