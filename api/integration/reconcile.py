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

Each `apply` runs in a SAVEPOINT, so a parked record leaves nothing half-applied. The rules
for each kind of record are in `patient_rules`, `appointment_rules` and `capacity_rules`.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.appointments.service import InvalidTransition
from api.config import Settings
from api.db import utcnow
from api.integration.appointment_rules import AppointmentRules
from api.integration.capacity_rules import CapacityRules
from api.integration.models import DataKind, InboundStatus, PasLink
from api.integration.outcome import (  # noqa: F401 - Outcome and Parked re-exported
    KIND_OF,
    Outcome,
    Parked,
)
from api.integration.patient_rules import PatientRules
from api.integration.records import (
    AppointmentRecord,
    Change,
    MergeRecord,
    PatientRecord,
    Record,
    SessionRecord,
)
from api.scheduling.errors import SchedulingError

log = logging.getLogger(__name__)


class Reconciler(PatientRules, AppointmentRules, CapacityRules):
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
        ignored = self.not_the_source(record)
        if ignored is not None:
            return ignored
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

    def not_the_source(self, record: Record) -> Outcome | None:
        """An IGNORED outcome (logged) when the record's adapter is not the one trusted for
        its kind of data; None when it is."""
        kind = KIND_OF[type(record)]
        trusted = self.settings.pas_source(kind.value)
        adapter = record.change.adapter.value
        if not trusted or adapter == trusted:
            return None
        log.info("PAS record ignored: another adapter is the source of truth",
                 extra={"adapter": adapter, "kind": kind.value, "trusted": trusted})
        return Outcome(InboundStatus.IGNORED, f"{adapter} is not the source of truth for "
                       f"{kind.value} data ({trusted} is)")

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
