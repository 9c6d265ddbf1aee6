"""Backlog figures per disruption: the funnel, self-service, time to rebook, SLA, breaches.

Every figure is computed from the records (appointment history, messages, campaign
recipients, handovers), so it is as true as the data and can be tested against a scenario.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.appointments import priorities
from api.appointments.models import Appointment, AppointmentEvent, AppointmentStatus
from api.campaigns.models import Campaign, CampaignRecipient
from api.conversations.models import Conversation
from api.db import utcnow
from api.handover.models import Handover, HandoverStatus
from api.messaging.models import Channel, Message, MessageStatus
from api.reference.models import Specialty
from api.scheduling.models import Disruption, Slot
from api.voice.models import CallOutcome, VoiceCall

SENT_STATUSES = (MessageStatus.SENT, MessageStatus.DELIVERED, MessageStatus.READ,
                 MessageStatus.UNDELIVERED)
DELIVERED_STATUSES = (MessageStatus.DELIVERED, MessageStatus.READ)
WAITING = (AppointmentStatus.POSTPONED, AppointmentStatus.OFFERED)


def _appointments(session: Session, disruption_id: int) -> list[Appointment]:
    return list(session.scalars(select(Appointment).where(
        Appointment.disruption_id == disruption_id).order_by(Appointment.id)))


def _rebookings(session: Session, ids: list[int]) -> dict[int, tuple[datetime, str]]:
    """appointment id -> (when it was last rebooked, who rebooked it)."""
    result: dict[int, tuple[datetime, str]] = {}
    for start in range(0, len(ids), 900):
        for event in session.scalars(select(AppointmentEvent).where(
                AppointmentEvent.appointment_id.in_(ids[start:start + 900]),
                AppointmentEvent.to_status == AppointmentStatus.REBOOKED)
                .order_by(AppointmentEvent.id)):
            result[event.appointment_id] = (event.occurred_at, event.actor)
    return result


def _rebooking_figures(session: Session, appointments: list[Appointment],
                       first_told: dict[int, datetime]) -> dict:
    """Who rebooked the rebooked appointments (assistant or staff), and how long after the
    patient was first told.

    Time to rebook runs from the first message about this disruption sent to the patient to
    the rebooking. Appointments rebooked before any message (the patient phoned first), or
    whose patient was never sent one (opted out, no number), have no such time: they are
    counted apart, never as a negative or zero duration.
    """
    rebookings = _rebookings(session, [a.id for a in appointments])
    rebooked = [a for a in appointments if a.status is AppointmentStatus.REBOOKED]
    by_assistant = [a for a in rebooked if a.id in rebookings and
                    rebookings[a.id][1] == "assistant"]
    by_staff = [a for a in rebooked if a.id in rebookings and
                rebookings[a.id][1].startswith("staff")]
    hours, before_told, never_told = [], 0, 0
    for appointment in rebooked:
        rebooked_at = rebookings.get(appointment.id, (None, ""))[0]
        told_at = first_told.get(appointment.patient_id)
        if told_at is None or rebooked_at is None:
            never_told += 1
        elif rebooked_at < told_at:
            before_told += 1
        else:
            hours.append((rebooked_at - told_at).total_seconds() / 3600)
    return {"rebooked": rebooked, "by_assistant": by_assistant, "by_staff": by_staff,
            "hours_to_rebook": hours, "rebooked_before_notified": before_told,
            "rebooked_not_notified": never_told}


def _campaign_reach(session: Session, disruption_id: int) -> dict:
    """Patients the disruption's campaigns notified (with when they were first told), reached
    (delivered) and heard back from."""
    campaign_ids = list(session.scalars(select(Campaign.id).where(
        Campaign.disruption_id == disruption_id)))
    recipient_rows = session.execute(
        select(CampaignRecipient.patient_id, Message.status, CampaignRecipient.replied_at,
               Message.sent_at, Message.created_at)
        .join(Message, Message.id == CampaignRecipient.message_id)
        .where(CampaignRecipient.campaign_id.in_(campaign_ids))).all() if campaign_ids else []
    first_told: dict[int, datetime] = {}
    for patient_id, status, _, sent_at, created_at in recipient_rows:
        if status in SENT_STATUSES:
            told_at = sent_at or created_at
            first_told[patient_id] = min(told_at, first_told.get(patient_id, told_at))
    return {"first_told": first_told,
            "delivered": {r[0] for r in recipient_rows if r[1] in DELIVERED_STATUSES},
            "replied": {r[0] for r in recipient_rows if r[2] is not None}}


def _handover_figures(session: Session, patient_ids: set[int], now: datetime) -> dict[str, int]:
    """The open handovers (the whole queue, as the queue page counts them, and this
    disruption's share), those past their due time, and the calls avoided."""
    unresolved = session.execute(select(Handover.patient_id, Handover.due_at).where(
        Handover.status != HandoverStatus.RESOLVED)).all()
    handovers = list(session.scalars(select(Handover).where(
        Handover.patient_id.in_(patient_ids)))) if patient_ids else []
    sla_breaches = [h for h in handovers if
                    (h.status is not HandoverStatus.RESOLVED and h.due_at < now) or
                    (h.resolved_at is not None and h.resolved_at > h.due_at)]
    # Patients who texted the assistant and never needed a person: calls that did not happen.
    # Phone conversations are left out: the phone line measures its own (phone_line).
    conversing = set(session.scalars(select(Conversation.verified_patient_id).where(
        Conversation.verified_patient_id.in_(patient_ids),
        Conversation.channel != Channel.VOICE))) if patient_ids else set()
    handed_over = {h.patient_id for h in handovers}
    return {"handover_queue": len(unresolved),
            "handover_queue_overdue": sum(due_at < now for _, due_at in unresolved),
            "handover_queue_disruption": sum(p in patient_ids for p, _ in unresolved),
            "handover_sla_breaches": len(sla_breaches),
            "calls_avoided_estimate": len(conversing - handed_over)}


def phone_line(*, session: Session, since: datetime, until: datetime) -> dict:
    """The phone line's calls started in [since, until]: how many, how they ended, how long."""
    rows = session.execute(select(VoiceCall.outcome, VoiceCall.ended_at,
                                  VoiceCall.duration_seconds)
                           .where(VoiceCall.started_at >= since,
                                  VoiceCall.started_at <= until)).all()
    counts = {outcome.value: sum(row[0] == outcome for row in rows) for outcome in CallOutcome}
    ended = sum(row[0] is not None for row in rows)
    # Twilio's CallDuration of the calls that have ended; a call still going has no length.
    seconds = [row[2] for row in rows if row[1] is not None and row[2] is not None]
    return {"since": since.isoformat(), "answered": len(rows), "ended": ended, **counts,
            "containment_rate": round(counts["contained"] / ended, 3) if ended else None,
            "average_handling_seconds": round(statistics.mean(seconds), 1) if seconds else None,
            "timed": len(seconds)}


def _by_specialty_priority(session: Session, appointments: list[Appointment],
                           missed: list[dict]) -> list[dict]:
    """Postponed, rebooked, waiting and breaching counts per specialty and priority."""
    specialties = dict(session.execute(select(Specialty.id, Specialty.name)).all())
    breakdown: dict[tuple[str, str], dict[str, int]] = defaultdict(
        lambda: {"postponed": 0, "rebooked": 0, "waiting": 0, "breaching": 0})
    missed_ids = {row["appointment_id"] for row in missed}
    for appointment in appointments:
        row = breakdown[(specialties.get(appointment.specialty_id, "?"),
                         appointment.priority.value)]
        row["postponed"] += 1
        row["rebooked"] += appointment.status is AppointmentStatus.REBOOKED
        row["waiting"] += appointment.status in WAITING
        row["breaching"] += appointment.id in missed_ids
    return [{"specialty": specialty, "priority": priority, **counts}
            for (specialty, priority), counts in sorted(
                breakdown.items(), key=lambda item: (item[0][0], priorities.sort_key(item[0][1])))]


def disruption_report(*, session: Session, disruption_id: int, today: date | None = None,
                      now: datetime | None = None) -> dict:
    """The whole backlog picture for one disruption."""
    return report_and_breaches(session=session, disruption_id=disruption_id, today=today,
                               now=now)[0]


def report_and_breaches(*, session: Session, disruption_id: int, today: date | None = None,
                        now: datetime | None = None) -> tuple[dict, list[dict]]:
    """The backlog picture and its breach list, computed once (the dashboard shows both)."""
    disruption = session.get(Disruption, disruption_id)
    if disruption is None:
        raise LookupError(f"no disruption {disruption_id}")
    now = now or utcnow()
    today = today or now.date()
    appointments = _appointments(session, disruption_id)
    patient_ids = {a.patient_id for a in appointments}
    reach = _campaign_reach(session, disruption_id)
    rebooking = _rebooking_figures(session, appointments, reach["first_told"])
    rebooked, by_assistant = rebooking["rebooked"], rebooking["by_assistant"]
    hours_to_rebook = rebooking["hours_to_rebook"]
    missed = breaches(session=session, disruption_id=disruption_id, today=today)
    return ({
        "disruption": {"id": disruption.id, "name": disruption.name,
                       "starts_at": disruption.starts_at.isoformat(),
                       "ends_at": disruption.ends_at.isoformat()},
        "funnel": {
            "postponed": len(appointments),
            "patients": len(patient_ids),
            "notified": len(reach["first_told"]),
            "delivered": len(reach["delivered"]),
            "replied": len(reach["replied"]),
            "rebooked_by_assistant": len(by_assistant),
            "rebooked_by_staff": len(rebooking["by_staff"]),
            "waiting": sum(a.status in WAITING for a in appointments),
        },
        "self_service_rate": round(len(by_assistant) / len(rebooked), 3) if rebooked else None,
        "median_hours_to_rebook": round(statistics.median(hours_to_rebook), 1)
        if hours_to_rebook else None,
        "rebooked_timed": len(hours_to_rebook),
        "rebooked_before_notified": rebooking["rebooked_before_notified"],
        "rebooked_not_notified": rebooking["rebooked_not_notified"],
        **_handover_figures(session, patient_ids, now),
        "breaching": len(missed),
        # Calls are not tied to a disruption: the line's calls since this one was declared.
        "phone_line": phone_line(session=session, since=disruption.created_at, until=now),
        "by_specialty_priority": _by_specialty_priority(session, appointments, missed),
    }, missed)


def breaches(*, session: Session, disruption_id: int, today: date | None = None) -> list[dict]:
    """Appointments whose new date (or, still waiting, today) is past their target date."""
    today = today or utcnow().date()
    rows = session.execute(
        select(Appointment, Slot.start_at, Specialty.name)
        .outerjoin(Slot, Slot.id == Appointment.slot_id)
        .join(Specialty, Specialty.id == Appointment.specialty_id)
        .where(Appointment.disruption_id == disruption_id,
               Appointment.status.in_([*WAITING, AppointmentStatus.REBOOKED]))
        .order_by(Appointment.breach_date, Appointment.id)).all()
    missed = []
    for appointment, start_at, specialty in rows:
        seen_on = start_at.date() if start_at and appointment.status is \
            AppointmentStatus.REBOOKED else None
        if (seen_on or today) > appointment.breach_date:
            missed.append({
                "appointment_id": appointment.id, "patient_id": appointment.patient_id,
                "specialty": specialty, "priority": appointment.priority.value,
                "pathway": appointment.pathway.value,
                "breach_date": appointment.breach_date.isoformat(),
                "new_date": seen_on.isoformat() if seen_on else None,
                "status": appointment.status.value,
                "days_late": ((seen_on or today) - appointment.breach_date).days,
                # The patient's wait: from referral to the new date, or to today if none yet.
                "days_waited": ((seen_on or today) - appointment.referral_date).days,
            })
    return missed


def disruptions(*, session: Session) -> list[dict]:
    """Every disruption with its number of postponed appointments."""
    counts = dict(session.execute(select(Appointment.disruption_id, func.count())
                                  .where(Appointment.disruption_id.is_not(None))
                                  .group_by(Appointment.disruption_id)).all())
    return [{"id": d.id, "name": d.name, "starts_at": d.starts_at.isoformat(),
             "postponed": counts.get(d.id, 0)}
            for d in session.scalars(select(Disruption).order_by(Disruption.starts_at.desc()))]
