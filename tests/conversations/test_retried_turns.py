"""The worker's side of retry-safe turns: a turn whose actions committed before the worker
could is answered with their words, once, and never asked of the assistant again."""

from sqlalchemy import func, select

from api.conversations import turns
from api.conversations.models import TurnOutcome
from api.conversations.rasa_client import AssistantReply, AssistantUnavailable
from api.handover.models import HandoverReason
from api.messaging.models import Direction, Message, MessageStatus
from tests.conversations.helpers import all_handovers, echo_worker, outbound_to
from tests.twilio_helpers import inbound_form, post_signed

PATIENT = "+447700900322"
CONFIRMATION = {"text": "You're booked: Tuesday 2:30pm.", "buttons": []}


class ActingAssistant:
    """Runs a stand-in "action" that commits its outcome, then fails as told: the worker dies
    (RuntimeError) or times out (AssistantUnavailable) before it writes the replies."""

    def __init__(self, factory, fail_with: type[Exception] | None):
        self.factory = factory
        self.fail_with = fail_with
        self.calls: list[dict] = []

    def send(self, *, sender_id, text, metadata=None):
        self.calls.append(metadata or {})
        with self.factory() as session:
            turns.record_run(session=session, message_id=metadata["message_id"],
                             action="action_book_offer", replies=[CONFIRMATION], result=[])
            session.commit()
        if self.fail_with is not None:
            failure, self.fail_with = self.fail_with, None  # only the first time
            raise failure("cut short")
        return [AssistantReply(text=CONFIRMATION["text"])]


def _inbound_status(factory):
    with factory() as session:
        return session.scalar(select(Message.status).where(
            Message.direction == Direction.INBOUND))


def _outcomes(factory):
    with factory() as session:
        return session.scalar(select(func.count()).select_from(TurnOutcome))


def test_the_worker_sends_the_turn_its_message_id(live_client, live_settings,
                                                  live_session_factory):
    assistant = ActingAssistant(live_session_factory, fail_with=None)
    post_signed(live_client, inbound_form(from_=PATIENT, body="1"))
    echo_worker(live_settings, live_session_factory, assistant).drain()

    with live_session_factory() as session:
        inbound_id = session.scalar(select(Message.id).where(
            Message.direction == Direction.INBOUND))
    assert assistant.calls == [{"channel": "sms", "message_id": inbound_id}]
    assert [m.body for m in outbound_to(live_session_factory, PATIENT)] == [CONFIRMATION["text"]]
    assert _outcomes(live_session_factory) == 0  # forgotten with the turn's commit


def test_a_turn_cut_short_after_the_action_committed_is_confirmed_once(
        live_client, live_settings, live_session_factory):
    assistant = ActingAssistant(live_session_factory, fail_with=RuntimeError)
    post_signed(live_client, inbound_form(from_=PATIENT, body="1"))
    worker = echo_worker(live_settings, live_session_factory, assistant)

    # The first attempt dies after the action's commit; draining retries the message.
    worker.drain()

    assert len(assistant.calls) == 1  # the assistant was not asked again
    assert [m.body for m in outbound_to(live_session_factory, PATIENT)] == [CONFIRMATION["text"]]
    assert _inbound_status(live_session_factory) is MessageStatus.PROCESSED
    assert _outcomes(live_session_factory) == 0


def test_an_assistant_that_timed_out_after_acting_gets_its_words_not_a_holding_reply(
        live_client, live_settings, live_session_factory):
    assistant = ActingAssistant(live_session_factory, fail_with=AssistantUnavailable)
    post_signed(live_client, inbound_form(from_=PATIENT, body="1"))
    echo_worker(live_settings, live_session_factory, assistant).drain()

    assert [m.body for m in outbound_to(live_session_factory, PATIENT)] == [CONFIRMATION["text"]]
    assert not [h for h in all_handovers(live_session_factory)
                if h.reason is HandoverReason.ASSISTANT_UNAVAILABLE]
