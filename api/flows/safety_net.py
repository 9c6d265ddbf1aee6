"""A red flag in a patient's message: the urgent case and the safety net, before anything else.

Runs first on every inbound message, past every rate limit and the daily cap. The urgent
handover is opened (or an open one escalated); the safety net fitting the category goes at
once, unless the same net went minutes ago on this still-open safety case (then staff get a
note instead of the patient getting the same text again).
"""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy.orm import Session

from api import texts
from api.config import Settings
from api.conversations import safety
from api.conversations import service as conversations_service
from api.conversations.models import Conversation
from api.db import utcnow
from api.flows import replies
from api.handover import service as handover_service
from api.handover.models import HandoverReason, Urgency
from api.messaging import history
from api.messaging.models import Channel, Message, MessageCategory

log = logging.getLogger(__name__)


def send_safety_net(*, session: Session, settings: Settings, conversation: Conversation,
                    message: Message, result: safety.ScreenResult) -> None:
    """Open or escalate the urgent case and send the safety net (unless just sent)."""
    categories = ", ".join(result.categories)
    log.warning("red flag screened", extra={"category": categories,
                                            "layers": ",".join(result.layers),
                                            "message_id": message.id})
    group = safety.reply_group(result.categories)
    # On a call the net is spoken: "hang up and dial 999", numbers said digit by digit.
    net = (texts.text(f"voice_safety_net_{group}", trust_name=settings.trust_name)
           if conversation.channel is Channel.VOICE
           else texts.text(f"safety_net_{group}", trust_name=settings.trust_name))
    already_open = handover_service.open_for_conversation(session=session,
                                                          conversation_id=conversation.id)
    repeat = (already_open is not None
              and already_open.reason in handover_service.SAFETY_REASONS
              and _same_net_went_recently(session, settings, conversation, net))
    reason = HandoverReason.SAFEGUARDING if group == "safeguarding" else HandoverReason.RED_FLAG
    quoted = handover_service.quote_patient(message.body)
    handover = handover_service.open_handover(
        session=session, settings=settings, reason=reason, urgency=Urgency.URGENT,
        created_by="safety_screen", conversation=conversations_service.facts_of(conversation),
        patient_id=conversation.verified_patient_id, trigger_message_id=message.id,
        summary=(f"Red flag ({categories}). The patient wrote: \u201c{quoted}\u201d"
                 + (" Safety net not repeated (sent minutes ago)." if repeat else "")))
    handover_service.patient_wrote_again(session=session, handover=handover)
    if not repeat:
        replies.reply(session=session, settings=settings, conversation=conversation,
                      message=message, category=MessageCategory.SAFETY_NET, text=net)
        return
    minutes = settings.safety_net_repeat_minutes
    handover_service.add_system_note(
        session=session, handover=handover, actor="safety_screen",
        action="safety_net_not_repeated", message_id=message.id,
        text=(f"Another red flag ({categories}). The same safety net went to the patient "
              f"less than {minutes} minutes ago, so it was not sent again; the message is "
              "in the transcript."))
    replies.REPLIES_WITHHELD.labels("safety_net_repeat", MessageCategory.SAFETY_NET.value).inc()
    log.info("safety net not repeated", extra={"message_id": message.id})


def _same_net_went_recently(session: Session, settings: Settings, conversation: Conversation,
                            net: str) -> bool:
    minutes = settings.safety_net_repeat_minutes
    return minutes > 0 and history.sent_same_since(
        session=session, conversation_id=conversation.id,
        category=MessageCategory.SAFETY_NET, channel=conversation.channel, text=net,
        since=utcnow() - timedelta(minutes=minutes))
