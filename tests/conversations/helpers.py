"""What the worker tests share: the messages sent to a number, the handovers, a worker whose
assistant is the echoing fake."""

from sqlalchemy import select

from api.handover.models import Handover
from api.messaging.models import Direction, Message
from api.worker import Worker
from tests.fakes.fake_rasa import EchoAssistant


def outbound_to(factory, to: str) -> list[Message]:
    """Every outbound message to `to`, oldest first."""
    with factory() as session:
        return session.scalars(
            select(Message).where(Message.direction == Direction.OUTBOUND,
                                  Message.to_address == to).order_by(Message.id)).all()


def all_handovers(factory) -> list[Handover]:
    with factory() as session:
        return session.scalars(select(Handover).order_by(Handover.id)).all()


def echo_worker(settings, factory, assistant=None) -> Worker:
    return Worker(settings=settings, session_factory=factory, rasa=assistant or EchoAssistant())
