"""The gateway's own replies and cases: what every automatic answer to a patient goes through.

Every automatic reply but the safety net is queued only within the number's daily cap
(`reply`); a reply the cap withholds opens, once, a case for staff (`withheld_by_cap`). Cases
the gateway itself opens quote what the patient wrote (`open_gateway_case`).
"""

from __future__ import annotations

import logging

from prometheus_client import Counter
from sqlalchemy.orm import Session

from api.config import Settings
from api.conversations import service as conversations_service
from api.conversations.models import Conversation
from api.handover import service as handover_service
from api.handover.models import HandoverReason, Urgency
from api.messaging import daily_cap, outbox
from api.messaging.models import Channel, Message, MessageCategory

log = logging.getLogger(__name__)

REPLIES_WITHHELD = Counter(
    "rebook_replies_withheld_total",
    "Automatic replies not queued: daily_cap (the number had its day's share) or "
    "safety_net_repeat (the same net went minutes ago while its handover is open)",
    ["reason", "category"])


def reply(*, session: Session, settings: Settings, conversation: Conversation,
          message: Message, category: MessageCategory, text: str,
          buttons: list[dict] | None = None) -> None:
    """Queue an automatic reply to `message`; any but the safety net only within the cap."""
    if category is not MessageCategory.SAFETY_NET and conversation.channel is not Channel.VOICE:
        daily_cap.hold_number_for_cap(session=session, address=conversation.address)
        if daily_cap.daily_cap_reached(session=session, settings=settings,
                                       address=conversation.address):
            withheld_by_cap(session=session, settings=settings, conversation=conversation,
                            message=message, category=category)
            return
    outbox.queue_message(
        session=session, settings=settings, channel=conversation.channel,
        to_address=conversation.address, text=text, buttons=buttons, category=category,
        conversation_id=conversation.id, patient_id=conversation.verified_patient_id,
        reply_to=message)


def withheld_by_cap(*, session: Session, settings: Settings, conversation: Conversation,
                    message: Message, category: MessageCategory) -> None:
    """The number had its day's share: nothing more goes automatically, and staff hear of it
    once (the assistant pauses while they have the case)."""
    REPLIES_WITHHELD.labels("daily_cap", category.value).inc()
    log.warning("daily cap reached; automatic reply withheld",
                extra={"message_id": message.id, "category": category.value})
    if handover_service.open_for_conversation(session=session,
                                              conversation_id=conversation.id) is None:
        handover_service.open_handover(
            session=session, settings=settings, reason=HandoverReason.DAILY_CAP,
            urgency=Urgency.NORMAL, created_by="gateway",
            conversation=conversations_service.facts_of(conversation),
            patient_id=conversation.verified_patient_id, trigger_message_id=message.id,
            summary=(f"This number has had {settings.daily_cap_per_number} messages "
                     "in 24 hours, the most we send automatically: automatic replies are "
                     "withheld until the oldest is a day old. Reply by hand or call if the "
                     "patient needs it; every message is in the transcript."))


def open_gateway_case(*, session: Session, settings: Settings, conversation: Conversation,
                      message: Message, reason: HandoverReason, preface: str) -> None:
    """A high-urgency handover opened by the gateway, quoting what the patient wrote."""
    handover_service.open_handover(
        session=session, settings=settings, reason=reason, urgency=Urgency.HIGH,
        created_by="gateway", conversation=conversations_service.facts_of(conversation),
        patient_id=conversation.verified_patient_id, trigger_message_id=message.id,
        summary=f"{preface} \u201c{handover_service.quote_patient(message.body or '')}\u201d")
