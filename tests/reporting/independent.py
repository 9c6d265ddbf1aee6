"""The dashboard's figures computed again, independently of api.reporting: plain loops over
the rows as they are stored, written from the figures' definitions on the page.

Used by the report's unit tests and by the browser test, which compares what the page shows.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.appointments.models import Appointment, AppointmentEvent
from api.campaigns.models import Campaign, CampaignRecipient
from api.conversations.models import Conversation
from api.handover.models import Handover
from api.messaging.models import Message
from api.scheduling.models import Disruption, Slot
from api.voice.models import VoiceCall


def _median(values: list[float]) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2


def _first_told(session: Session, disruption_id: int) -> tuple[dict, set, set]:
    """patient id -> first message sent about the disruption; delivered; replied."""
    campaigns = [row[0] for row in session.execute(
        select(Campaign.id, Campaign.disruption_id)) if row[1] == disruption_id]
    messages = {row[0]: row for row in session.execute(
        select(Message.id, Message.status, Message.sent_at, Message.created_at))}
    told, delivered, replied = {}, set(), set()
    for campaign_id, patient_id, message_id, replied_at in session.execute(
            select(CampaignRecipient.campaign_id, CampaignRecipient.patient_id,
                   CampaignRecipient.message_id, CampaignRecipient.replied_at)):
        if campaign_id not in campaigns or message_id is None:
            continue
        _, status, sent_at, created_at = messages[message_id]
        if status in ("sent", "delivered", "read", "undelivered"):
            moment = sent_at or created_at
            if patient_id not in told or moment < told[patient_id]:
                told[patient_id] = moment
        if status in ("delivered", "read"):
            delivered.add(patient_id)
        if replied_at is not None:
            replied.add(patient_id)
    return told, delivered, replied


def _last_rebooking(session: Session, ids: set[int]) -> dict[int, tuple[datetime, str]]:
    last = {}
    for appointment_id, to_status, occurred_at, actor in session.execute(
            select(AppointmentEvent.appointment_id, AppointmentEvent.to_status,
                   AppointmentEvent.occurred_at, AppointmentEvent.actor)
            .order_by(AppointmentEvent.id)):
        if appointment_id in ids and to_status == "rebooked":
            last[appointment_id] = (occurred_at, actor)
    return last


def _handovers(session: Session, patients: set[int], now: datetime) -> dict:
    queue = overdue = ours = missed = 0
    handed_over = set()
    for patient_id, status, due_at, resolved_at in session.execute(
            select(Handover.patient_id, Handover.status, Handover.due_at, Handover.resolved_at)):
        is_open = status != "resolved"
        queue += is_open
        overdue += is_open and due_at < now
        ours += is_open and patient_id in patients
        if patient_id in patients:
            handed_over.add(patient_id)
            if (is_open and due_at < now) or (resolved_at is not None and resolved_at > due_at):
                missed += 1
    talked = {row[0] for row in session.execute(
        select(Conversation.verified_patient_id, Conversation.channel))
        if row[0] in patients and row[1] != "voice"}
    return {"handover_queue": queue, "handover_queue_overdue": overdue,
            "handover_queue_disruption": ours, "handover_sla_breaches": missed,
            "calls_avoided_estimate": len(talked - handed_over)}


def phone_line(session: Session, since: datetime, until: datetime) -> dict:
    """The phone line's figures, from each call row in turn."""
    out = {"since": since.isoformat(), "answered": 0, "ended": 0, "contained": 0,
           "transferred": 0, "call_back": 0, "safety_net": 0, "abandoned": 0}
    lengths = []
    for call in session.scalars(select(VoiceCall)):
        if not since <= call.started_at <= until:
            continue
        out["answered"] += 1
        if call.outcome is not None:
            out["ended"] += 1
            out[str(call.outcome)] += 1
        if call.ended_at is not None and call.duration_seconds is not None:
            lengths.append(call.duration_seconds)
    out["containment_rate"] = (round(out["contained"] / out["ended"], 3) if out["ended"]
                               else None)
    out["average_handling_seconds"] = (round(sum(lengths) / len(lengths), 1) if lengths
                                       else None)
    out["timed"] = len(lengths)
    return out


def breaches(session: Session, disruption_id: int, today: date) -> list[dict]:
    slots = {row[0]: row[1] for row in session.execute(select(Slot.id, Slot.start_at))}
    out = []
    for a in session.scalars(select(Appointment).order_by(Appointment.id)):
        if a.disruption_id != disruption_id or a.status not in ("postponed", "offered",
                                                                 "rebooked"):
            continue
        seen = slots[a.slot_id].date() if a.status == "rebooked" and a.slot_id else today
        if seen > a.breach_date:
            out.append({"appointment_id": a.id, "patient_id": a.patient_id,
                        "priority": a.priority.value, "days_late": (seen - a.breach_date).days,
                        "days_waited": (seen - a.referral_date).days})
    return out


def figures(session: Session, disruption_id: int, today: date, now: datetime) -> dict:
    """Every figure of the dashboard for one disruption."""
    mine = [a for a in session.scalars(select(Appointment).order_by(Appointment.id))
            if a.disruption_id == disruption_id]
    patients = {a.patient_id for a in mine}
    told, delivered, replied = _first_told(session, disruption_id)
    rebooked = [a for a in mine if a.status == "rebooked"]
    last = _last_rebooking(session, {a.id for a in rebooked})
    assistant = staff = before = never = 0
    hours = []
    for a in rebooked:
        at, actor = last[a.id]
        assistant += actor == "assistant"
        staff += actor.startswith("staff:")
        if a.patient_id not in told:
            never += 1
        elif at < told[a.patient_id]:
            before += 1
        else:
            hours.append((at - told[a.patient_id]).total_seconds() / 3600)
    median = _median(hours)
    return {
        "postponed": len(mine), "patients": len(patients), "notified": len(told),
        "delivered": len(delivered), "replied": len(replied),
        "rebooked_by_assistant": assistant, "rebooked_by_staff": staff,
        "waiting": sum(a.status in ("postponed", "offered") for a in mine),
        "self_service_rate": round(assistant / len(rebooked), 3) if rebooked else None,
        "median_hours_to_rebook": round(median, 1) if median is not None else None,
        "rebooked_timed": len(hours), "rebooked_before_notified": before,
        "rebooked_not_notified": never,
        **_handovers(session, patients, now),
        "breaching": len(breaches(session, disruption_id, today)),
        "phone_line": phone_line(session, session.get(Disruption, disruption_id).created_at,
                                 now),
    }
