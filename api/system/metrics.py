"""Prometheus metrics the api process exposes: request latency, queue depths, outbox lag."""

from __future__ import annotations

import logging
import time
from datetime import timedelta

from prometheus_client import Gauge, Histogram
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError
from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.types import Message as Message_

from api.config import Settings
from api.db import get_sessionmaker, utcnow
from api.handover.models import Handover, HandoverStatus, Urgency
from api.integration.status import integration_status
from api.messaging.delivery import oldest_queued_age
from api.messaging.models import Direction, Message, MessageStatus

log = logging.getLogger(__name__)

REQUEST_SECONDS = Histogram(
    "rebook_http_request_seconds", "HTTP request latency by route",
    ["method", "route", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
INBOUND_PENDING = Gauge("rebook_inbound_pending", "Inbound messages waiting for the worker")
OUTBOX_QUEUED = Gauge("rebook_outbox_queued", "Outbound messages waiting to be sent")
OUTBOX_PARKED = Gauge("rebook_outbox_parked", "Outbound messages parked for staff")
INBOUND_PARKED = Gauge("rebook_inbound_parked",
                       "Inbound messages set aside for staff (GET /api/v1/messages/parked)")
OUTBOX_LAG = Gauge("rebook_outbox_lag_seconds", "Age of the oldest due outbound message")
SEND_RATE = Gauge("rebook_dispatcher_sent_per_second",
                  "Outbound messages sent per second over the last 5 minutes (all dispatchers)")
SEND_ERRORS = Gauge("rebook_dispatcher_errors_last_hour",
                    "Outbound messages that failed in the last hour, by error code", ["code"])
HANDOVER_SLA_BREACHES = Gauge("rebook_handover_sla_breaches",
                              "Open handovers past their due time, by urgency", ["urgency"])
RATE_WINDOW = timedelta(minutes=5)
# The PAS integration (docs/integration.md), read at scrape time like the queues above. The
# write-back dispatcher counts its answers itself (rebook_pas_writebacks_total).
PAS_LAST_SYNC_AGE = Gauge("rebook_pas_last_sync_age_seconds",
                          "Seconds since the adapter last synced (FHIR: its stalest cursor; "
                          "HL7, CSV: the newest message received)", ["adapter"])
PAS_INBOUND_LAST_HOUR = Gauge("rebook_pas_inbound_last_hour",
                              "PAS messages received in the last hour, by status",
                              ["adapter", "status"])
PAS_WRITEBACK_PENDING = Gauge("rebook_pas_writeback_pending",
                              "Bookings waiting to go back to the PAS (CSV: to upload)",
                              ["adapter"])
PAS_WRITEBACK_OLDEST = Gauge("rebook_pas_writeback_oldest_pending_seconds",
                             "Age of the oldest booking waiting to go back to the PAS",
                             ["adapter"])
PAS_EXCEPTIONS_OPEN = Gauge("rebook_pas_exceptions_open",
                            "Integration exceptions waiting for staff")


class RequestTimer:
    """Times every request under its route template (never the raw path: ids stay out).

    Plain ASGI rather than BaseHTTPMiddleware: it adds no task or stream per request,
    which matters on the webhook's hot path.
    """

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = [500]

        async def send_and_record(message: Message_) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_record)
        finally:
            # FastAPI names its own routes; a plain ASGI endpoint may carry its path itself.
            route = scope.get("route") or scope.get("endpoint")
            REQUEST_SECONDS.labels(scope["method"], getattr(route, "path", "unmatched"),
                                   str(status[0])).observe(time.perf_counter() - started)


def refresh_queue_gauges() -> None:
    """Read queue depths from the database (called on each scrape; never fails the scrape)."""
    try:
        _read_queue_depths()
    except SQLAlchemyError:
        log.warning("queue depths unavailable: database not reachable or not migrated")


def _read_queue_depths() -> None:
    with get_sessionmaker()() as session:
        counts = {
            (direction, status): count for direction, status, count in session.execute(
                select(Message.direction, Message.status, func.count()).where(
                    Message.status.in_([MessageStatus.RECEIVED, MessageStatus.QUEUED,
                                        MessageStatus.PARKED]))
                .group_by(Message.direction, Message.status))}
        INBOUND_PENDING.set(counts.get((Direction.INBOUND, MessageStatus.RECEIVED), 0))
        INBOUND_PARKED.set(counts.get((Direction.INBOUND, MessageStatus.PARKED), 0))
        OUTBOX_QUEUED.set(counts.get((Direction.OUTBOUND, MessageStatus.QUEUED), 0))
        OUTBOX_PARKED.set(counts.get((Direction.OUTBOUND, MessageStatus.PARKED), 0))
        OUTBOX_LAG.set(oldest_queued_age(session=session))
        # Read from the database, so one scrape of any api process sees every dispatcher.
        now = utcnow()
        sent = session.scalar(select(func.count()).select_from(Message).where(
            Message.sent_at >= now - RATE_WINDOW))
        SEND_RATE.set(sent / RATE_WINDOW.total_seconds())
        SEND_ERRORS.clear()
        for code, count in session.execute(
                select(Message.error_code, func.count())
                .where(Message.status.in_([MessageStatus.FAILED, MessageStatus.UNDELIVERED,
                                           MessageStatus.PARKED]),
                       Message.updated_at >= now - timedelta(hours=1))
                .group_by(Message.error_code)):
            SEND_ERRORS.labels(str(code or "none")).set(count)
        breaches = dict(session.execute(
            select(Handover.urgency, func.count())
            .where(Handover.status != HandoverStatus.RESOLVED, Handover.due_at < now)
            .group_by(Handover.urgency)).all())
        for urgency in Urgency:
            HANDOVER_SLA_BREACHES.labels(urgency.value).set(breaches.get(urgency, 0))


def refresh_pas_gauges(*, settings: Settings) -> None:
    """Read the PAS integration's figures (on each scrape, when a PAS is connected)."""
    if not settings.pas_adapters:
        return
    try:
        with get_sessionmaker()() as session:
            found = integration_status(session=session, settings=settings, hours=False)
    except SQLAlchemyError:
        log.warning("PAS figures unavailable: database not reachable or not migrated")
        return
    PAS_EXCEPTIONS_OPEN.set(found.exceptions_open)
    PAS_INBOUND_LAST_HOUR.clear()  # a status with no message this hour reads 0, not stale
    for adapter in found.adapters:
        name = adapter.adapter
        # Never synced: as old as can be, so an alert on the age fires.
        PAS_LAST_SYNC_AGE.labels(name).set(
            adapter.lag_seconds if adapter.lag_seconds is not None else float("inf"))
        for status in ("applied", "ignored", "parked", "received"):
            PAS_INBOUND_LAST_HOUR.labels(name, status).set(
                adapter.inbound_last_hour.get(status, 0))
        PAS_WRITEBACK_PENDING.labels(name).set(adapter.writeback_open
                                               + adapter.writeback_pending_upload)
        PAS_WRITEBACK_OLDEST.labels(name).set(adapter.writeback_oldest_pending_seconds or 0)
