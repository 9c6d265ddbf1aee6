"""The case's transcript shows carrier keywords and their automatic answers.

They were missing because the webhook handles STOP and START at once and marks them processed
before the worker attaches messages to conversations, and the worker attached only messages
still waiting; the confirmation, queued before the keyword had a conversation, had none either.
Now the worker attaches the keyword too, and its answer with it (`Message.reply_to_id`).
"""

from __future__ import annotations

from api.conversations import service as conversations_service
from api.messaging import history, inbound_store, opt_outs
from api.messaging.models import Direction, MessageStatus
from api.messaging.schemas import InboundMessage
from tests.twilio_helpers import inbound_form


def arrive(session, settings, body: str, address: str) -> int:
    """As the webhook does: store the message; a consent keyword is acted on at once."""
    inbound = InboundMessage.model_validate(inbound_form(from_=address, body=body))
    message_id = inbound_store.record_inbound(session=session, inbound=inbound)
    opt_outs.handle_keyword(session=session, message_id=message_id, body=body, settings=settings)
    session.flush()
    return message_id


def test_stop_start_and_their_answers_join_the_transcript(db_session):
    from api.config import get_settings

    settings = get_settings().model_copy(update={"keyword_replies": True})
    address = "+447700933444"
    arrive(db_session, settings, "Can I change my appointment", address)
    stop = arrive(db_session, settings, "STOP", address)
    start = arrive(db_session, settings, "START", address)
    conversations_service.assign_inbound(session=db_session)
    conversation = conversations_service.last_written_on(session=db_session, addresses=[address])
    lines = [(m.direction, m.body) for m in history.transcript(
        session=db_session, conversation_id=conversation.id)]
    bodies = [body for _, body in lines]
    assert "STOP" in bodies and "START" in bodies
    outbound = [body for direction, body in lines if direction is Direction.OUTBOUND]
    assert len(outbound) == 2  # the STOP confirmation and the START confirmation
    assert bodies.index("STOP") < bodies.index(outbound[0]) < bodies.index("START")
    # Attaching them does not make the worker answer them again.
    for message in history.transcript(session=db_session, conversation_id=conversation.id):
        if message.id in (stop, start):
            assert message.status is MessageStatus.PROCESSED
    assert conversations_service.assign_inbound(session=db_session) == 0
