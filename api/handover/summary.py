"""The one handover summary: what staff read first about a case, built in one place.

Whoever opens a case (the safety screen, the gateway, the assistant's actions, staff) passes an
opening line and, for the assistant, what it had offered and heard; `build` adds the facts the
records hold (reason, the patient's latest words, identity, communication needs, appointments
and offers, times in the patient's time zone) and bounds it. Later updates go through
`summary_with_update`: a safety update is pinned first, the latest few follow, older ones are
counted. Staff-facing words, so they live here rather than in the texts catalogue.

The conversation is a higher domain (conversations -> handover), so this module does not read
it: whoever opens a case on a conversation passes its facts (`ConversationFacts`, which the
conversations domain makes with `facts_of`), and the summary uses what it is given.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from api import texts
from api.appointments import priorities
from api.appointments.models import AWAITING_DATE, Appointment, AppointmentStatus
from api.config import Settings
from api.db import utcnow
from api.handover.models import HandoverReason
from api.messaging.models import Channel, Direction, Message
from api.patients.models import Patient
from api.reference.models import Specialty
from api.scheduling.models import Offer, Slot
from api.system import localtime

# A case's summary stays short however often the patient writes: what opened it (and what
# first made it a safety case, pinned first), the latest few updates and how many earlier ones
# are not shown. Every message stays in the conversation's transcript, which staff see beside it.
MAX_SUMMARY_CHARS = 3000
MAX_OPENING_CHARS = 1600
MAX_UPDATE_CHARS = 240
LATEST_UPDATES_SHOWN = 3
PATIENT_MESSAGES_SHOWN = 3
OFFERS_SHOWN = 3
UPDATES_HEADING = "\n\nSince then:\n"
_NOT_SHOWN = re.compile(
    r"\((\d+) earlier updates? not shown; every message is in the transcript\.\)")
# Booked appointments still ahead are listed with their date, beside those awaiting one.
DATED = (AppointmentStatus.BOOKED, AppointmentStatus.REBOOKED)


@dataclass(frozen=True)
class ConversationFacts:
    """What a case needs to know of its conversation: the handover domain's input, made by the
    conversations domain (`api.conversations.service.facts_of`) from the conversation it holds."""

    id: int
    channel: Channel
    address: str
    verified_patient_id: int | None
    verified: bool  # the identity check is in force (Conversation.verified_as), when read
    failed_identity_attempts: int


def shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit - 1].rstrip() + "\u2026"


def quote_patient(text: str, limit: int = MAX_UPDATE_CHARS // 2) -> str:
    """A patient's words for a summary: on one line, shortened to `limit` characters."""
    return shorten(" ".join((text or "").split()), limit)


def summary_with_update(*, summary: str, update: str, pinned: bool = False) -> str:
    """`summary` with one more update: a `pinned` update (what made it a safety case) goes
    first and stays, the latest LATEST_UPDATES_SHOWN updates follow the opening part, and
    older ones are counted, not shown."""
    line = shorten(" ".join(update.split()), MAX_UPDATE_CHARS)
    if not line:
        return summary
    # Updates are single lines, so the last heading is always the real one.
    head, heading, tail = summary.rpartition(UPDATES_HEADING)
    if not heading:
        head, tail = summary, ""
    updates = [u.removeprefix("- ") for u in tail.split("\n") if u]
    hidden = 0
    if updates and (counted := _NOT_SHOWN.fullmatch(updates[0])):
        hidden, updates = int(counted[1]), updates[1:]
    if pinned:
        head = f"{line}\n{head.strip()}"
    else:
        updates.append(line)
    hidden += max(0, len(updates) - LATEST_UPDATES_SHOWN)
    updates = updates[-LATEST_UPDATES_SHOWN:]
    lines = ([f"({hidden} earlier update{'s' if hidden != 1 else ''} not shown; every message "
              "is in the transcript.)"] if hidden else []) + [f"- {u}" for u in updates]
    rest = UPDATES_HEADING + "\n".join(lines) if lines else ""
    return shorten(head, MAX_SUMMARY_CHARS - len(rest)) + rest


def update_line(*, opening: str, context: Sequence[str] = ()) -> str:
    """What a later opening adds to a case already open: its words on one line."""
    return " ".join(part.strip() for part in (opening, *context) if part.strip())


def build(*, session: Session, settings: Settings, reason: HandoverReason, opening: str,
          conversation: ConversationFacts | None = None, patient_id: int | None = None,
          context: Sequence[str] = (), now: datetime | None = None) -> str:
    """The opening first (a red flag names itself there), then what the records hold, then
    what the assistant had offered or heard (`context`), within MAX_OPENING_CHARS.
    `conversation` is the facts of the case's conversation, as the opener passed them."""
    now = now or utcnow()
    lines = [f"Reason: {reason.value.replace('_', ' ')}."]
    if conversation is not None:
        lines += _patient_words(session, conversation.id)
        lines.append(f"Channel: {conversation.channel.value}. Identity "
                     + ("verified." if conversation.verified else
                        "NOT verified: check date of birth first."))
        if conversation.failed_identity_attempts:
            lines.append(f"Failed identity checks: {conversation.failed_identity_attempts}.")
        patient_id = patient_id or conversation.verified_patient_id
    if patient_id is not None:
        lines += _patient_lines(session, settings, patient_id, now)
    lines += [line.strip() for line in context if line.strip()]
    details = "\n".join(lines)
    return shorten(f"{opening.strip()}\n\n{details}".strip(), MAX_OPENING_CHARS)


def _patient_words(session: Session, conversation_id: int) -> list[str]:
    asked = list(session.scalars(
        select(Message.body).where(Message.conversation_id == conversation_id,
                                   Message.direction == Direction.INBOUND)
        .order_by(Message.id.desc()).limit(PATIENT_MESSAGES_SHOWN)))
    return [words_line(list(reversed(asked)))] if asked else []


def words_line(bodies: Sequence[str]) -> str:
    """"Patient wrote: “…” / “…”", oldest first, each quoted on one line."""
    return "Patient wrote: " + " / ".join(f"\u201c{quote_patient(body)}\u201d"
                                          for body in bodies)


def _patient_lines(session: Session, settings: Settings, patient_id: int,
                   now: datetime) -> list[str]:
    """Communication needs, then the appointments awaiting a date (with what was offered)
    and those booked ahead, every time in the patient's time zone."""
    zone = localtime.patient_zone(settings)
    lines = []
    patient = session.get(Patient, patient_id)
    if patient is not None and patient.communication_needs:
        lines.append("Communication needs: " + ", ".join(
            n.replace("_", " ") for n in patient.communication_needs) + ".")
    rows = session.execute(
        select(Appointment, Specialty.name, Slot.start_at)
        .join(Specialty, Specialty.id == Appointment.specialty_id)
        .outerjoin(Slot, Slot.id == Appointment.slot_id)
        .where(Appointment.patient_id == patient_id,
               Appointment.status.in_(AWAITING_DATE + DATED))
        .order_by(Appointment.id)).all()
    waiting = 0
    for appointment, specialty, start in rows:
        label = (f"Appointment {appointment.id}: {specialty} {appointment.type.value}, "
                 f"priority {priorities.label(appointment.priority)}, "
                 f"{appointment.status.value.replace('_', ' ')}")
        if appointment.status in DATED:
            if start is not None and start >= now:
                lines.append(f"{label}, {texts.when(start, zone=zone)}.")
            continue
        waiting += 1
        lines.append(f"{label}.")
        offered = session.execute(
            select(Offer, Slot.start_at).join(Slot, Slot.id == Offer.slot_id)
            .where(Offer.appointment_id == appointment.id)
            .order_by(Offer.id.desc()).limit(OFFERS_SHOWN)).all()
        for offer, offer_start in offered:
            lines.append(f"  Offered {texts.when(offer_start, zone=zone)} by {offer.source} "
                         f"({offer.status.value}).")
    if not waiting:
        lines.append("No appointment waiting for a date.")
    return lines
