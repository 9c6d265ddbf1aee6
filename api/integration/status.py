"""How the connection to the PAS is doing, for `rebook integration status`, the console's
integration page and the metrics: per adapter, the last sync and its lag, errors, messages in
and write-backs out per hour over the last day, what waits to go back, and open exceptions.

Every figure is counted by the database (grouped, over indexed columns where the tables grow:
`pas_inbound.received_at`, `pas_request.status`, `integration_exception.status`): nothing reads
a table's rows into Python to count them.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import case, func, literal_column, select
from sqlalchemy.orm import Session

from api.config import Settings
from api.db import utcnow
from api.integration import exceptions
from api.integration.models import (
    OPEN_REQUEST,
    Adapter,
    ExceptionStatus,
    IntegrationException,
    PasInbound,
    PasRequest,
    RequestStatus,
    SyncCursor,
)

WINDOW = timedelta(hours=24)
# What a write-back's answer counts as in the hourly figures (a CSV booking: exported).
ANSWERED = (RequestStatus.ACCEPTED, RequestStatus.REFUSED, RequestStatus.UPLOADED)


@dataclass(frozen=True)
class Hour:
    """One hour of traffic: its start (UTC) and counts by status."""

    start: datetime
    counts: dict[str, int]


@dataclass(frozen=True)
class Cursor:
    """One FHIR resource's incremental pull."""

    resource: str
    pas_last_updated: str
    synced_at: datetime | None
    last_error: str
    last_error_at: datetime | None


@dataclass
class AdapterStatus:
    adapter: str
    last_sync_at: datetime | None = None
    lag_seconds: float | None = None
    # FHIR: the PAS's own `meta.lastUpdated` of the oldest cursor, and how far behind now.
    pas_last_updated: str = ""
    pas_lag_seconds: float | None = None
    last_error: str = ""
    last_error_at: datetime | None = None
    cursors: list[Cursor] = field(default_factory=list)
    inbound_last_hour: dict[str, int] = field(default_factory=dict)  # the last 60 minutes
    inbound_last_day: dict[str, int] = field(default_factory=dict)
    inbound_hours: list[Hour] = field(default_factory=list)
    writeback_open: int = 0  # pending or being sent (FHIR, HL7)
    writeback_retrying: int = 0  # of those, tried at least once without an answer
    writeback_pending_upload: int = 0  # CSV: waiting for the bookings export
    writeback_oldest_pending_seconds: float | None = None
    writeback_last_day: dict[str, int] = field(default_factory=dict)
    writeback_hours: list[Hour] = field(default_factory=list)


@dataclass(frozen=True)
class IntegrationStatus:
    checked_at: datetime
    adapters: list[AdapterStatus]
    writeback_adapter: str | None
    exceptions_open: int
    exceptions_by_reason: dict[str, int]

    def as_dict(self) -> dict:
        """Plain JSON-ready data (times as ISO 8601) for `--json`."""
        def plain(value):
            if isinstance(value, datetime):
                return value.isoformat()
            if isinstance(value, list):
                return [plain(v) for v in value]
            if isinstance(value, dict):
                return {k: plain(v) for k, v in value.items()}
            if hasattr(value, "__dataclass_fields__"):
                return {k: plain(getattr(value, k)) for k in value.__dataclass_fields__}
            return value
        return plain(self)


def integration_status(*, session: Session, settings: Settings, now: datetime | None = None,
                       hours: bool = True) -> IntegrationStatus:
    """Every configured adapter's figures, and the exceptions waiting for staff; without the
    last day hour by hour when `hours` is False (the metrics need only the last hour)."""
    now = now or utcnow()
    since = hour_start(now) - WINDOW + timedelta(hours=1)
    names = [Adapter(name) for name in settings.pas_adapters]
    # One grouped query per figure for all adapters, over the time index.
    traffic = {
        "in": _hours(session, PasInbound.received_at, _unindexed(PasInbound.adapter),
                     PasInbound.status, names=names, since=since, now=now),
        "out": _hours(session, PasRequest.decided_at, PasRequest.adapter, PasRequest.status,
                      PasRequest.status.in_(ANSWERED), names=names, since=since, now=now),
    } if hours else {"in": defaultdict(list), "out": defaultdict(list)}
    last_hour: dict[str, dict[str, int]] = defaultdict(dict)
    by_adapter = _unindexed(PasInbound.adapter)
    for adapter, state, count in session.execute(
            select(by_adapter, PasInbound.status, func.count())
            .where(PasInbound.received_at >= now - timedelta(hours=1))
            .group_by(by_adapter, PasInbound.status)):
        last_hour[str(adapter)][str(state)] = count
    adapters = []
    for adapter in names:
        status = AdapterStatus(adapter=adapter.value, inbound_hours=traffic["in"][adapter],
                               inbound_last_hour=dict(sorted(last_hour[adapter].items())),
                               writeback_hours=traffic["out"][adapter])
        status.inbound_last_day = _totals(status.inbound_hours)
        status.writeback_last_day = _totals(status.writeback_hours)
        _sync(session, adapter, now, status)
        _writebacks(session, adapter, now, status)
        adapters.append(status)
    by_reason = dict(session.execute(
        select(IntegrationException.reason, func.count())
        .where(IntegrationException.status == ExceptionStatus.OPEN)
        .group_by(IntegrationException.reason)).all())
    return IntegrationStatus(checked_at=now, adapters=adapters,
                             writeback_adapter=settings.pas_writeback_adapter,
                             exceptions_open=exceptions.open_count(session=session),
                             exceptions_by_reason=dict(sorted(by_reason.items())))


def hour_start(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


def _sync(session: Session, adapter: Adapter, now: datetime, status: AdapterStatus) -> None:
    """The last sync: FHIR's cursors; for a feed or a file, the newest message received."""
    status.cursors = [Cursor(resource=c.resource, pas_last_updated=c.last_updated,
                             synced_at=c.synced_at, last_error=c.last_error,
                             last_error_at=c.last_error_at)
                      for c in session.scalars(select(SyncCursor).where(
                          SyncCursor.adapter == adapter).order_by(SyncCursor.resource))]
    if adapter is Adapter.FHIR:
        synced = [c.synced_at for c in status.cursors if c.synced_at]
        # The stalest resource is how far behind Rebook is.
        status.last_sync_at = min(synced) if synced else None
        marks = [(t, c.pas_last_updated) for c in status.cursors
                 if (t := _pas_time(c.pas_last_updated)) is not None]
        if marks:
            pas_time, status.pas_last_updated = min(marks)
            status.pas_lag_seconds = _age(now, pas_time)
    else:
        # The time index read backwards to the adapter's newest row.
        status.last_sync_at = session.scalar(
            select(PasInbound.received_at).where(_unindexed(PasInbound.adapter) == adapter)
            .order_by(PasInbound.received_at.desc()).limit(1))
    status.lag_seconds = _age(now, status.last_sync_at)
    errors = [c for c in status.cursors if c.last_error and c.last_error_at]
    if errors:
        newest = max(errors, key=lambda c: c.last_error_at)
        status.last_error, status.last_error_at = newest.last_error, newest.last_error_at


def _writebacks(session: Session, adapter: Adapter, now: datetime,
                status: AdapterStatus) -> None:
    """What waits to go back to the PAS through this adapter (the status index finds it)."""
    waiting = (*OPEN_REQUEST, RequestStatus.PENDING_UPLOAD)
    rows = session.execute(
        select(PasRequest.status, func.count(), func.min(PasRequest.created_at),
               func.sum(case((PasRequest.attempts > 0, 1), else_=0)))
        .where(PasRequest.adapter == adapter, PasRequest.status.in_(waiting))
        .group_by(PasRequest.status)).all()
    oldest = None
    for request_status, count, first, retrying in rows:
        if request_status is RequestStatus.PENDING_UPLOAD:
            status.writeback_pending_upload = count
        else:
            status.writeback_open += count
            status.writeback_retrying += retrying or 0
        oldest = first if oldest is None or (first and first < oldest) else oldest
    status.writeback_oldest_pending_seconds = _age(now, oldest)


def _hours(session: Session, moment, key, state, *conditions, names: list[Adapter],
           since: datetime, now: datetime) -> dict[Adapter, list[Hour]]:
    """Rows per adapter and hour (oldest first, every hour of the window) by status, grouped
    in SQL."""
    bucket = _hour_label(session, moment)
    counted: dict[tuple[str, str], dict[str, int]] = defaultdict(dict)
    for label, adapter, value, count in session.execute(
            select(bucket, key, state, func.count()).where(moment >= since, *conditions)
            .group_by(bucket, key, state)):
        counted[(str(adapter), label)][str(value)] = count
    starts = []
    while since <= now:
        starts.append(since)
        since += timedelta(hours=1)
    return {adapter: [Hour(start=start, counts=dict(sorted(counted.get(
        (adapter.value, start.strftime("%Y-%m-%dT%H")), {}).items()))) for start in starts]
        for adapter in names}


def _unindexed(column):
    """The adapter column as an expression no index covers: grouped or compared on as is,
    SQLite walks the whole (adapter, message_id) index, every message ever received,
    instead of the time index's last day."""
    return func.coalesce(column, "")


def _hour_label(session: Session, column):
    """'2026-11-30T14' for a stored UTC time, on either database."""
    if session.get_bind().dialect.name == "sqlite":
        # Stored as naive UTC text. Literal formats: a bound one would differ between the
        # SELECT and the GROUP BY, which PostgreSQL refuses.
        return func.strftime(literal_column("'%Y-%m-%dT%H'"), column)
    return func.to_char(func.timezone(literal_column("'UTC'"), column),
                        literal_column("'YYYY-MM-DD\"T\"HH24'"))


def _totals(hours: list[Hour]) -> dict[str, int]:
    totals: dict[str, int] = defaultdict(int)
    for hour in hours:
        for name, count in hour.counts.items():
            totals[name] += count
    return dict(sorted(totals.items()))


def _age(now: datetime, moment: datetime | None) -> float | None:
    return max((now - moment).total_seconds(), 0.0) if moment else None


def _pas_time(value: str) -> datetime | None:
    """The PAS's ISO 8601 `lastUpdated` as a time (None when it cannot be read)."""
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None
    except ValueError:
        return None
    return moment if moment is not None and moment.tzinfo else None


def duration_text(seconds: float | None) -> str:
    """'45 s', '12 min', '3 h 5 min', '2 d 4 h' ('never' for none): a lag as staff say it."""
    if seconds is None:
        return "never"
    seconds = int(seconds)
    if seconds < 60:
        return f"{seconds} s"
    minutes, hours, days = seconds // 60, seconds // 3600, seconds // 86400
    if hours == 0:
        return f"{minutes} min"
    if days == 0:
        return f"{hours} h {minutes % 60} min" if minutes % 60 else f"{hours} h"
    return f"{days} d {hours % 24} h" if hours % 24 else f"{days} d"


def counts_text(counts: dict[str, int]) -> str:
    """'3 applied, 1 parked' ('none' when empty)."""
    return ", ".join(f"{count} {name.replace('_', ' ')}" for name, count in counts.items()
                     if count) or "none"
