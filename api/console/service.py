"""Console helpers: the queue's view model and its live updates (server-sent events).

Live updates come from the database, which every api process shares: each open event stream
compares a fingerprint of the unresolved queue once a second and tells the browser when it
changes, so handovers opened by the worker in another process appear too. With REDIS_URL set,
an action taken in any api process also publishes on a Redis channel, which wakes every
stream at once instead of at its next poll.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from datetime import datetime

from anyio import to_thread
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.config import Settings
from api.console import charts
from api.db import utcnow
from api.handover import on_call
from api.handover import queue as handover_queue
from api.handover.models import HandoverReason
from api.patients.models import Patient
from api.staff.models import StaffUser
from api.system import localtime, redis_client

log = logging.getLogger(__name__)

QUEUE_CHANNEL = handover_queue.QUEUE_CHANNEL
POLL_SECONDS = 1.0
# The queue page shows the most pressing cases, and says how many more there are (the filters
# and the search reach the rest): the live refresh re-sends the table to every clerk.
QUEUE_PAGE_ROWS = 200
HEARTBEAT_SECONDS = 15.0


def local_time(moment: datetime | None, settings: Settings) -> str:
    """A UTC moment as the bookings team reads it (Europe/London)."""
    if moment is None:
        return ""
    return localtime.to_local(moment, settings).strftime("%a %d %b %H:%M")


def due_label(*, due: datetime, now: datetime) -> str:
    """"overdue by 12 min" / "due in 3 h 5 min"."""
    minutes = int(abs((due - now).total_seconds()) // 60)
    text = f"{minutes // 60} h {minutes % 60} min" if minutes >= 60 else f"{minutes} min"
    return f"overdue by {text}" if due < now else f"due in {text}"


def queue_filter(*, user: StaffUser, mine: bool = False, urgent: bool = False,
                 overdue: bool = False, reason: str = "", search: str = ""
                 ) -> handover_queue.QueueFilter:
    """The queue filters from the page's GET form (an unknown type is no filter)."""
    known = {r.value: r for r in HandoverReason}
    return handover_queue.QueueFilter(
        assignee_id=user.id if mine else None, urgent=urgent, overdue=overdue,
        reason=known.get(reason), search=(search or "").strip()[:handover_queue.SEARCH_CHARS])


def queue_rows(*, session: Session, settings: Settings,
               filters: handover_queue.QueueFilter | None = None) -> list[dict]:
    """The most pressing QUEUE_PAGE_ROWS of the unresolved queue (red flags first, then urgent,
    then by due time), narrowed to `filters`, as the table shows it."""
    now = utcnow()
    items = handover_queue.queue(session=session, filters=filters, now=now,
                                 limit=QUEUE_PAGE_ROWS)
    patient_ids = {h.patient_id for h in items if h.patient_id}
    staff_ids = {h.assignee_id for h in items if h.assignee_id}
    patients = {p.id: p for p in session.scalars(
        select(Patient).where(Patient.id.in_(patient_ids)))} if patient_ids else {}
    staff = {s.id: s for s in session.scalars(
        select(StaffUser).where(StaffUser.id.in_(staff_ids)))} if staff_ids else {}
    # The patient message the case was opened on, from the message itself.
    quotes = handover_queue.quotes(session=session, handovers=items)
    return [{
        "handover": h,
        "patient": patients.get(h.patient_id),
        "assignee": staff.get(h.assignee_id),
        "overdue": h.due_at < now,
        "red_flag": h.reason is HandoverReason.RED_FLAG,
        "due_label": due_label(due=h.due_at, now=now),
        "due_local": local_time(h.due_at, settings),
        "first_line": quotes.get(h.id, ""),
    } for h in items]


def queue_total(*, session: Session, filters: handover_queue.QueueFilter | None,
                shown: int) -> int:
    """How many cases the queue holds: counted only when the page is full."""
    if shown < QUEUE_PAGE_ROWS:
        return shown
    return handover_queue.count(session=session, filters=filters)


def waiting_label(*, since: datetime, now: datetime) -> str:
    """"12 min" / "3 h 5 min"."""
    minutes = max(0, int((now - since).total_seconds()) // 60)
    return f"{minutes // 60} h {minutes % 60} min" if minutes >= 60 else f"{minutes} min"


def on_call_context(*, session: Session) -> dict:
    """What the out-of-hours banner (_on_call.html) shows: the urgent cases whose on-call
    alert nobody has acknowledged yet (case references only, no patient data)."""
    now = utcnow()
    return {"on_call_alerts": [{
        "handover_id": handover.id,
        "red_flag": handover.reason is HandoverReason.RED_FLAG,
        "waiting": waiting_label(since=handover.created_at, now=now),
        "sends": alert.sends,
    } for alert, handover in on_call.waiting(session=session)]}


def notify_queue_changed(*, settings: Settings) -> None:
    """Wake every api process's event streams now (with Redis; polling covers the rest)."""
    handover_queue.publish_queue_change(settings=settings)


async def queue_events(*, settings: Settings, session_factory: Callable[[], Session],
                       is_disconnected: Callable, poll_seconds: float = POLL_SECONDS
                       ) -> AsyncIterator[str]:
    """Server-sent events: `event: queue` whenever the unresolved queue changes."""

    def fingerprint() -> str:
        with session_factory() as session:
            return handover_queue.queue_fingerprint(session=session)

    pubsub = None
    if settings.redis_url:
        try:
            client = redis_client.async_client(settings.redis_url)
            pubsub = client.pubsub()
            await pubsub.subscribe(QUEUE_CHANNEL)
        except Exception:
            log.warning("Redis unavailable for live updates; polling only")
            pubsub = None
    last = None
    quiet = 0.0
    yield "retry: 2000\n\n"
    try:
        while not await is_disconnected():
            current = await to_thread.run_sync(fingerprint)
            if current != last:
                if last is not None:
                    yield f"event: queue\ndata: {current}\n\n"
                last = current
                quiet = 0.0
            elif quiet >= HEARTBEAT_SECONDS:
                yield ": keep-alive\n\n"
                quiet = 0.0
            if pubsub is not None:
                try:
                    await pubsub.get_message(ignore_subscribe_messages=True, timeout=poll_seconds)
                except Exception:
                    await asyncio.sleep(poll_seconds)
            else:
                await asyncio.sleep(poll_seconds)
            quiet += poll_seconds
    finally:
        if pubsub is not None:
            try:
                await pubsub.aclose()
            except Exception:
                pass


def dashboard_charts(report: dict) -> dict:
    """The dashboard's funnel and by-specialty charts from a disruption report."""
    funnel = report["funnel"]
    funnel_chart = charts.horizontal_bars([
        ("Postponed", funnel["postponed"]), ("Patients", funnel["patients"]),
        ("Notified", funnel["notified"]), ("Delivered", funnel["delivered"]),
        ("Replied", funnel["replied"]),
        ("Rebooked by assistant", funnel["rebooked_by_assistant"]),
        ("Rebooked by staff", funnel["rebooked_by_staff"]), ("Still waiting", funnel["waiting"]),
    ])
    by_specialty: dict[str, dict[str, int]] = {}
    for row in report["by_specialty_priority"]:
        totals = by_specialty.setdefault(row["specialty"], {"postponed": 0, "rebooked": 0,
                                                            "waiting": 0, "breaching": 0})
        for key in totals:
            totals[key] += row[key]
    specialty_chart = charts.stacked_bars([
        (f"{name} ({t['breaching']} missing target)", [
            (t["rebooked"], "seg-rebooked"), (t["waiting"], "seg-waiting"),
            (t["postponed"] - t["rebooked"] - t["waiting"], "seg-review")])
        for name, t in sorted(by_specialty.items())
    ])
    return {"funnel_chart": funnel_chart, "specialty_chart": specialty_chart}


def progress_chart(progress: dict) -> dict:
    """A campaign's progress as bars."""
    return charts.horizontal_bars([
        ("Patients", progress["recipients"]), ("Queued", progress["queued"]),
        ("Sent", progress["sent"]), ("Delivered", progress["delivered"]),
        ("Failed", progress["failed"]), ("Replied", progress["replied"]),
        ("Rebooked", progress["rebooked"]), ("Call list", progress["call_list"]),
    ])
