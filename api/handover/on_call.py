"""Out-of-hours escalation: an urgent handover nobody has taken up while the bookings team is
away alerts the on-call contact, again and again, until a member of staff acknowledges it.

Outside working hours (`api.system.working_hours`: weekdays, the configured hours, England's
bank holidays), every urgent case still open (unclaimed) gets an `OnCallAlert`: an SMS to
`settings.oncall_sms_number` and, when set, an email to `settings.oncall_email`, repeated
every `settings.oncall_repeat_minutes`. The alert carries no patient data: the case reference
and the console's address only, since a phone's lock screen shows it to anyone near.
The scheduler process (`api.jobs`) calls `send_due_alerts` on every pass. It stops when someone
presses "Acknowledge" in the console (`acknowledge`, audited), or claims or resolves the case
(noted as acknowledged by that), and it never repeats in working hours: the team is there and
the queue shows the case at the top. The alerts go through the outbox as `STAFF_ALERT`, which
the dispatcher sends day or night, outside the patients' send window and daily cap.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.audit import service as audit_service
from api.config import Settings
from api.db import utcnow
from api.handover import service as handover_service
from api.handover.models import Handover, HandoverStatus, OnCallAlert, Urgency
from api.messaging import outbox
from api.messaging.models import Channel, MessageCategory
from api.staff.models import StaffUser
from api.system import working_hours

log = logging.getLogger(__name__)

# What the on-call phone shows: nothing about the patient, only where to look.
ALERT_TEXT = "Urgent handover waiting in Rebook: open the console."
ALERT_SUBJECT = "Urgent handover waiting in Rebook"
ACTOR = "on_call"


def alert_text(*, handover_id: int, settings: Settings) -> str:
    """The alert's words: the fixed sentence, the case reference, the console's address."""
    return f"{ALERT_TEXT} Case {handover_id}: {settings.public_base_url}/console/queue"


def contacts(settings: Settings) -> list[tuple[Channel, str]]:
    """Where alerts go: the on-call SMS number, and the email address when one is set."""
    found = []
    if settings.oncall_sms_number.strip():
        found.append((Channel.SMS, settings.oncall_sms_number.strip()))
    if settings.oncall_email.strip():
        found.append((Channel.EMAIL, settings.oncall_email.strip()))
    return found


def send_due_alerts(*, session: Session, settings: Settings, now: datetime | None = None) -> int:
    """One scheduler pass: settle alerts whose case was taken up, then (out of hours) alert
    for every urgent open case not acknowledged whose last alert is `oncall_repeat_minutes`
    old. Returns how many messages were queued."""
    now = now or utcnow()
    _settle_taken_up(session, now)
    if working_hours.is_working_time(now, settings):
        return 0
    handovers = list(session.scalars(_urgent_open().order_by(Handover.id)))
    alerts = {a.handover_id: a for a in session.scalars(select(OnCallAlert).where(
        OnCallAlert.handover_id.in_([h.id for h in handovers])))} if handovers else {}
    repeat = timedelta(minutes=settings.oncall_repeat_minutes)
    queued = 0
    for handover in handovers:
        alert = alerts.get(handover.id)
        if alert is None:
            alert = OnCallAlert(handover_id=handover.id, sends=0, created_at=now)
            session.add(alert)
            handover_service.add_system_note(
                session=session, handover=handover, actor=ACTOR, action="on_call_alerted",
                text="On-call contact alerted (urgent, out of hours).")
        elif alert.acknowledged_at is not None:
            continue
        elif alert.last_sent_at is not None and now - alert.last_sent_at < repeat:
            continue
        queued += _send(session, settings, alert, now)
    session.flush()
    return queued


def _urgent_open():
    return select(Handover).where(Handover.status == HandoverStatus.OPEN,
                                  Handover.urgency == Urgency.URGENT)


def _send(session: Session, settings: Settings, alert: OnCallAlert, now: datetime) -> int:
    to = contacts(settings)
    if not to:
        log.warning("urgent handover out of hours and no on-call contact is configured",
                    extra={"handover_id": alert.handover_id})
    for channel, address in to:
        outbox.queue_message(
            session=session, settings=settings, channel=channel, to_address=address,
            text=alert_text(handover_id=alert.handover_id, settings=settings),
            category=MessageCategory.STAFF_ALERT,
            subject=ALERT_SUBJECT if channel is Channel.EMAIL else None,
            idempotency_key=f"oncall:{alert.handover_id}:{alert.sends + 1}:{channel.value}")
    alert.sends += 1
    alert.last_sent_at = now
    log.info("on-call alert queued", extra={"handover_id": alert.handover_id,
                                            "sends": alert.sends, "contacts": len(to)})
    return len(to)


def _settle_taken_up(session: Session, now: datetime) -> None:
    """Claiming or resolving the case (or it ceasing to be urgent) acknowledges its alert."""
    rows = session.execute(
        select(OnCallAlert, Handover).join(Handover, Handover.id == OnCallAlert.handover_id)
        .where(OnCallAlert.acknowledged_at.is_(None),
               (Handover.status != HandoverStatus.OPEN) | (Handover.urgency != Urgency.URGENT)))
    for alert, handover in rows:
        alert.acknowledged_at = now
        alert.acknowledged_by_id = handover.assignee_id
        alert.acknowledged_how = (
            "resolved" if handover.status is HandoverStatus.RESOLVED
            else "not_urgent" if handover.status is HandoverStatus.OPEN else "claimed")


def waiting(*, session: Session) -> list[tuple[OnCallAlert, Handover]]:
    """Alerts nobody has acknowledged, of urgent cases still open: the console's banner."""
    return list(session.execute(
        select(OnCallAlert, Handover).join(Handover, Handover.id == OnCallAlert.handover_id)
        .where(OnCallAlert.acknowledged_at.is_(None), Handover.status == HandoverStatus.OPEN,
               Handover.urgency == Urgency.URGENT)
        .order_by(OnCallAlert.created_at, OnCallAlert.id)).all())


def acknowledge(*, session: Session, staff: StaffUser, handover_ids: Iterable[int],
                now: datetime | None = None) -> int:
    """A member of staff has seen these alerts: stop repeating them (audited, one event each).
    Alerts already acknowledged are left as they are. Returns how many were acknowledged."""
    now = now or utcnow()
    ids = {int(i) for i in handover_ids}
    if not ids:
        return 0
    rows = session.execute(
        select(OnCallAlert, Handover).join(Handover, Handover.id == OnCallAlert.handover_id)
        .where(OnCallAlert.handover_id.in_(ids), OnCallAlert.acknowledged_at.is_(None))
        .order_by(OnCallAlert.handover_id))
    done = 0
    for alert, handover in rows:
        alert.acknowledged_at, alert.acknowledged_by_id = now, staff.id
        alert.acknowledged_how = "console"
        audit_service.record(session=session, actor=staff.audit_actor,
                             action="acknowledge_on_call", object_type="handover",
                             object_id=handover.id, patient_id=handover.patient_id,
                             details={"alerts_sent": alert.sends})
        done += 1
    session.flush()
    return done
