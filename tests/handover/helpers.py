"""A small bookings desk for handover and console tests: staff of each role, a patient with a
postponed appointment, free slots, a conversation and its handover."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy.orm import Session

from api.appointments import service as appointments_service
from api.appointments.models import AppointmentStatus
from api.config import get_settings
from api.conversations.models import Conversation
from api.conversations.service import facts_of
from api.db import utcnow
from api.handover import service as handover_service
from api.handover.models import HandoverReason, Urgency
from api.messaging.models import Channel, Direction, Message, MessageCategory, MessageStatus
from api.staff import service as staff_service
from api.staff.models import Role
from tests import factories

PASSWORD = "correct horse battery staple"


def next_weekdays(count: int, *, start_days: int = 8, hour: int = 10) -> list[datetime]:
    """`count` weekday mornings (UTC), at least `start_days` ahead."""
    day = datetime.now(UTC).replace(hour=hour, minute=0, second=0, microsecond=0)
    day += timedelta(days=start_days)
    out = []
    while len(out) < count:
        if day.weekday() < 5:
            out.append(day)
        day += timedelta(days=1)
    return out


class Desk:
    def __init__(self, session: Session, *, prefix: str = "t"):
        self.session = session
        self.settings = get_settings()
        self.users = {}
        self.keys = {}
        for role in Role:
            user = staff_service.create_user(
                session=session, username=f"{prefix}.{role.value}", password=PASSWORD,
                display_name=f"{role.value.title()} {prefix.upper()}", role=role)
            self.users[role] = user
            self.keys[role] = staff_service.create_api_key(session=session, user=user)
        self.site = factories.make_site(session)
        self.specialty = factories.make_specialty(session, name="Dermatology")
        self.slots = [factories.make_slot(session, site=self.site, specialty=self.specialty,
                                          start_at=moment) for moment in next_weekdays(4)]

    def auth(self, role: Role) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[role]}"}

    def patient_case(self, *, reason: HandoverReason = HandoverReason.ASKED_FOR_PERSON,
                     urgency: Urgency = Urgency.HIGH, channel: Channel = Channel.SMS,
                     text: str = "Can I speak to a person please", mobile: str | None = None,
                     **patient_overrides):
        """A patient with a postponed appointment, a conversation and an open handover."""
        overrides = ({"mobile": mobile} if mobile else {}) | patient_overrides
        patient = factories.make_patient(self.session, **overrides)
        appointment = factories.make_appointment(
            self.session, patient=patient, specialty=self.specialty,
            referral_date=date.today() - timedelta(days=60),
            breach_date=date.today() + timedelta(days=66))
        appointments_service.change_status(session=self.session, appointment=appointment,
                                           to_status=AppointmentStatus.POSTPONED,
                                           reason="industrial action", actor="system")
        address = f"whatsapp:{patient.mobile}" if channel is Channel.WHATSAPP else patient.mobile
        conversation = Conversation(channel=channel, address=address,
                                    verified_patient_id=patient.id,
                                    verified_until=utcnow() + timedelta(minutes=30),
                                    last_inbound_at=utcnow())
        self.session.add(conversation)
        self.session.flush()
        inbound(self.session, conversation, text)
        summary = "The assistant passed this conversation on."  # + the automatic summary
        handover = handover_service.open_handover(
            session=self.session, settings=self.settings, reason=reason, urgency=urgency,
            created_by="assistant", summary=summary, conversation=facts_of(conversation),
            patient_id=patient.id, appointment_id=appointment.id)
        self.session.flush()
        return handover, patient, appointment, conversation


def inbound(session: Session, conversation: Conversation, text: str,
            at: datetime | None = None) -> Message:
    message = Message(direction=Direction.INBOUND, channel=conversation.channel,
                      from_address=conversation.address, to_address="+447700900000", body=text,
                      status=MessageStatus.PROCESSED, category=MessageCategory.PATIENT,
                      conversation_id=conversation.id, created_at=at or utcnow())
    session.add(message)
    session.flush()
    return message
