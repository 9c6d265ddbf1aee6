"""The inbound store: every PAS message is kept raw before it is answered or applied.

`receive` stores it once per adapter and message id (a resend finds the stored row); `apply`
applies the records an adapter parsed from it, all or nothing, and parks it with an exception
for staff when one of them cannot be applied. A message stored but not applied (a process
killed in between) is applied when it is resent, or by `replay_received`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from api.config import Settings
from api.db import utcnow
from api.integration import exceptions
from api.integration.bulk import BulkApplier, insert_values
from api.integration.models import Adapter, InboundStatus, PasInbound
from api.integration.reconcile import Outcome, Parked, Reconciler
from api.integration.records import Record

log = logging.getLogger(__name__)


def receive(*, session: Session, adapter: Adapter, message_id: str, raw: str,
            message_type: str = "", event_at: datetime | None = None,
            now: datetime | None = None) -> tuple[PasInbound, bool]:
    """Store an inbound message; returns (row, True) when it had been stored before."""
    existing = _find(session, adapter, message_id)
    if existing is not None:
        return existing, True
    row = PasInbound(adapter=adapter, message_id=message_id[:200], raw=raw,
                     message_type=message_type[:40], event_at=event_at,
                     received_at=now or utcnow())
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:  # stored a moment ago by another listener or dispatcher
        return _find(session, adapter, message_id), True
    return row, False


def _find(session: Session, adapter: Adapter, message_id: str) -> PasInbound | None:
    return session.scalar(select(PasInbound).where(PasInbound.adapter == adapter,
                                                   PasInbound.message_id == message_id[:200]))


def apply(*, session: Session, settings: Settings, inbound: PasInbound,
          records: Iterable[Record], reconciler: Reconciler | None = None,
          now: datetime | None = None) -> list[Outcome]:
    """Apply a stored message's records in order, all or nothing; park it if one cannot be."""
    now = now or utcnow()
    reconciler = reconciler or Reconciler(session=session, settings=settings, now=now)
    try:
        with session.begin_nested():
            outcomes = [reconciler.apply(record) for record in records]
    except Parked as parked:
        park(session=session, inbound=inbound, reason=parked.reason, detail=parked.detail,
             patient_id=parked.patient_id, appointment_id=parked.appointment_id, now=now)
        return []
    applied = [o for o in outcomes if o.status is InboundStatus.APPLIED]
    inbound.status = InboundStatus.APPLIED if applied else InboundStatus.IGNORED
    inbound.outcome = "; ".join(o.detail for o in outcomes)[:2000] or "nothing to apply"
    inbound.processed_at = now
    session.flush()
    return outcomes


@dataclass(frozen=True)
class Message:
    """One inbound message of a batch, with the records its adapter parsed from it."""

    message_id: str
    raw: str
    records: tuple[Record, ...]
    message_type: str = ""
    event_at: datetime | None = None


def receive_and_apply_batch(*, session: Session, settings: Settings, adapter: Adapter,
                            messages: list[Message], now: datetime | None = None) -> BatchResult:
    """Store a batch of messages and apply the new ones (bulk for new rows); the caller commits.

    A message stored before (a re-import, a page fetched again) is skipped unless it was never
    applied. The batch's messages are stored in the same transaction as what they changed,
    with their outcome, so a crash keeps both or neither. A message with a record that cannot
    be applied is parked for staff; records of it applied before that one stay applied (a CSV
    row's patient before its appointment), and the exception says which.
    """
    now = now or utcnow()
    result = BatchResult()
    stored = _stored(session, adapter, [m.message_id[:200] for m in messages])
    fresh: dict[str, Message] = {}
    replay: list[tuple[Message, int]] = []
    for message in messages:
        key = message.message_id[:200]
        row_id, status = stored.get(key, (None, None))
        if row_id is None and key not in fresh:
            fresh[key] = message
        elif row_id is not None and status is InboundStatus.RECEIVED:
            replay.append((message, row_id))  # stored by a run that died before applying it
        else:
            result.duplicates += 1
    todo = [(m, None) for m in fresh.values()] + replay
    numbered = [(number, record) for number, (message, _) in enumerate(todo)
                for record in message.records]
    outcomes = BulkApplier(reconciler=Reconciler(session=session, settings=settings, now=now)
                           ).apply([r for _, r in numbered], message_of=[n for n, _ in numbered])
    position, rows = 0, []
    for message, row_id in todo:
        mine = outcomes[position:position + len(message.records)]
        position += len(message.records)
        parked = next((o for o in mine if isinstance(o, Parked)), None)
        if parked is not None or row_id is not None:  # few: one at a time, with an id
            row = session.get(PasInbound, row_id) if row_id else _stored_row(
                session, adapter, message, now)
            if parked is not None:
                applied = [o.detail for o in mine if isinstance(o, Outcome)
                           and o.status is InboundStatus.APPLIED]
                park(session=session, inbound=row, reason=parked.reason, detail=parked.detail
                     + (f" (already applied from this message: {'; '.join(applied)})"
                        if applied else ""), patient_id=parked.patient_id,
                     appointment_id=parked.appointment_id, now=now)
                result.parked += 1
                continue
            row.status, row.outcome, row.processed_at = _summary(mine) + (now,)
        else:
            status, outcome = _summary(mine)
            rows.append({"adapter": adapter, "message_id": message.message_id[:200],
                         "raw": message.raw, "message_type": message.message_type[:40],
                         "event_at": message.event_at, "received_at": now, "status": status,
                         "outcome": outcome, "processed_at": now})
        if _summary(mine)[0] is InboundStatus.APPLIED:
            result.applied += 1
        else:
            result.ignored += 1
    insert_values(session, PasInbound, rows)
    session.flush()
    return result


def _stored(session: Session, adapter: Adapter,
            message_ids: list[str]) -> dict[str, tuple[int, InboundStatus]]:
    stored: dict[str, tuple[int, InboundStatus]] = {}
    for start in range(0, len(message_ids), 900):
        stored.update({message_id: (row_id, status) for message_id, row_id, status in
                       session.execute(select(PasInbound.message_id, PasInbound.id,
                                              PasInbound.status).where(
                           PasInbound.adapter == adapter,
                           PasInbound.message_id.in_(message_ids[start:start + 900]))).all()})
    return stored


def _stored_row(session: Session, adapter: Adapter, message: Message,
                now: datetime) -> PasInbound:
    row = PasInbound(adapter=adapter, message_id=message.message_id[:200], raw=message.raw,
                     message_type=message.message_type[:40], event_at=message.event_at,
                     received_at=now)
    session.add(row)
    session.flush()
    return row


def _summary(outcomes: list[Outcome]) -> tuple[InboundStatus, str]:
    applied = any(o.status is InboundStatus.APPLIED for o in outcomes)
    return ((InboundStatus.APPLIED if applied else InboundStatus.IGNORED),
            "; ".join(o.detail for o in outcomes)[:2000] or "nothing to apply")


@dataclass
class BatchResult:
    """What a batch did, in counts of messages."""

    applied: int = 0
    ignored: int = 0
    parked: int = 0
    duplicates: int = 0


def park(*, session: Session, inbound: PasInbound, reason: str, detail: str,
         patient_id: int | None = None, appointment_id: int | None = None,
         now: datetime | None = None) -> None:
    """Keep a message that cannot be applied, with an exception for staff holding it raw."""
    inbound.status = InboundStatus.PARKED
    inbound.outcome = detail[:2000]
    inbound.processed_at = now or utcnow()
    exceptions.open_exception(session=session, adapter=inbound.adapter, reason=reason,
                              detail=detail, inbound_id=inbound.id, patient_id=patient_id,
                              appointment_id=appointment_id, raw=inbound.raw)
    log.warning("PAS message parked", extra={"adapter": inbound.adapter.value,
                                             "inbound_id": inbound.id, "reason": reason})


def replay_received(*, session: Session, settings: Settings,
                    parse: Callable[[PasInbound], list[Record]], adapter: Adapter,
                    limit: int = 1000) -> int:
    """Apply messages stored but never applied (their process died), oldest first."""
    rows = list(session.scalars(select(PasInbound).where(
        PasInbound.adapter == adapter, PasInbound.status == InboundStatus.RECEIVED)
        .order_by(PasInbound.id).limit(limit)))
    for row in rows:
        apply(session=session, settings=settings, inbound=row, records=parse(row))
    return len(rows)
