"""A worker killed (SIGKILL) at every point of a turn that changes something: exactly one change
and exactly one confirmation, every time.

The worker is the real `rebook worker` process; the turn's action is the real action code on
the real database, run by a stand-in Rasa that can hold the turn before or after the action
commits. Kill points: while the action runs (it commits after the worker died), after the
action committed but before the worker wrote the replies, and after the replies committed.
"""

from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import func, select

from actions.booking import ActionBookOffer
from actions.cancellation import ActionCancelAppointment
from actions.handover import ActionHandOver
from actions.offers import ActionOfferDates
from api.appointments.models import Appointment, AppointmentStatus
from api.conversations.models import Conversation, TurnOutcome
from api.db import utcnow
from api.handover.models import Handover
from api.messaging import inbound_store
from api.messaging.models import Channel, Direction, Message, MessageStatus
from api.messaging.schemas import InboundMessage
from api.scheduling.models import Offer, OfferStatus
from tests.actions.conftest import local_start, next_weekday
from tests.factories import make_appointment, make_patient, make_site, make_slot, make_specialty
from tests.fakes.fake_rasa import ScriptedRasaServer
from tests.processes import process_env, running, wait_until

MOBILE = "+447700900777"
IN_REVIEW = AppointmentStatus.PENDING_CLINICAL_REVIEW
KILL_POINTS = ("while_the_action_runs", "after_the_action_commits", "after_the_replies_commit")


@dataclass
class Scenario:
    """One kind of turn: the patient's words, the action Rasa would run, and its change."""

    body: str
    intent: str
    action: Any
    entities: list
    slots: dict
    changes: Any  # session -> how many times the change happened


def _tracker(conversation_public_id: str, scenario: Scenario, metadata: dict) -> Tracker:
    latest = {"text": scenario.body, "intent": {"name": scenario.intent, "confidence": 1.0},
              "entities": scenario.entities, "metadata": metadata}
    user = {"event": "user", "text": scenario.body, "parse_data": latest, "metadata": metadata}
    return Tracker(conversation_public_id, scenario.slots, latest, [user], False, None, {},
                   "action_listen")


def _run_action(action, tracker: Tracker) -> list[dict]:
    dispatcher = CollectingDispatcher()
    asyncio.run(action.run(dispatcher, tracker, {}))
    return [{"text": m.get("text") or "", "buttons": m.get("buttons") or []}
            for m in dispatcher.messages]


@pytest.fixture
def patient_on_the_line(live_settings, live_session_factory):
    """A verified SMS conversation for a patient with a postponed and a booked appointment,
    and three held offers for the postponed one (offered by the real action)."""
    with live_session_factory() as session:
        site = make_site(session)
        specialty = make_specialty(session, name="General surgery")
        slots = [make_slot(session, site=site, specialty=specialty,
                           start_at=local_start(next_weekday(day), 10)) for day in (0, 1, 2, 3)]
        patient = make_patient(session, mobile=MOBILE, date_of_birth=date(1960, 5, 1))
        make_appointment(session, patient=patient, specialty=specialty,
                         status=AppointmentStatus.POSTPONED)
        booked = make_appointment(session, patient=patient, specialty=specialty,
                                  status=AppointmentStatus.BOOKED, slot_id=slots[3].id)
        conversation = Conversation(channel=Channel.SMS, address=MOBILE,
                                    failed_identity_attempts=0, verified_patient_id=patient.id,
                                    verified_until=utcnow() + timedelta(hours=2))
        session.add(conversation)
        session.commit()
        public_id, booked_id = conversation.public_id, booked.id
    offers = ActionOfferDates()
    tracker = Tracker(public_id, {}, {"text": "new date", "intent": {"name": "request_offers"},
                                      "entities": [], "metadata": {"channel": "sms"}},
                      [], False, None, {}, "action_listen")
    dispatcher = CollectingDispatcher()
    events = asyncio.run(offers.run(dispatcher, tracker, {}))
    held = next(e["value"] for e in events if e.get("name") == "offers")
    assert held, "the patient should have been offered dates"
    return public_id, held, booked_id


def _count(session, model, *conditions) -> int:
    return session.scalar(select(func.count()).select_from(model).where(*conditions))


def _scenarios(held: list[dict], booked_id: int) -> dict[str, Scenario]:
    return {
        "booking": Scenario(
            body="1", intent="choose_offer", action=ActionBookOffer(),
            entities=[{"entity": "offer_number", "value": "1"}], slots={"offers": held},
            changes=lambda s: _count(s, Offer, Offer.status == OfferStatus.ACCEPTED)),
        "handover": Scenario(
            body="can I talk to a person please", intent="ask_for_person",
            action=ActionHandOver(), entities=[], slots={},
            changes=lambda s: _count(s, Handover)),
        "cancellation": Scenario(
            body="yes", intent="affirm", action=ActionCancelAppointment(), entities=[],
            slots={"appointment_id": booked_id, "cancel_reason": "cannot_attend"},
            changes=lambda s: _count(s, Appointment, Appointment.id == booked_id,
                                     Appointment.status == IN_REVIEW)),
    }


class HeldTurn:
    """The stand-in Rasa's turn: runs the real action, holding the first turn where told."""

    def __init__(self, scenario: Scenario, public_id: str, hold_at: str):
        self.scenario, self.public_id, self.hold_at = scenario, public_id, hold_at
        self.calls = 0
        self.first_said: list[dict] = []
        self.holding = threading.Event()
        self.release = threading.Event()
        self.finished = threading.Event()

    def __call__(self, payload: dict) -> list[dict]:
        self.calls += 1
        first = self.calls == 1
        if first and self.hold_at == "while_the_action_runs":
            self._hold()
        said = _run_action(self.scenario.action,
                           _tracker(self.public_id, self.scenario, payload.get("metadata") or {}))
        if first:
            self.first_said = said
            if self.hold_at == "after_the_action_commits":
                self._hold()
            self.finished.set()
        return said

    def _hold(self) -> None:
        self.holding.set()
        self.release.wait(30)


def _inbound(live_session_factory, body: str) -> None:
    with live_session_factory() as session:
        inbound_store.record_inbound(session=session, inbound=InboundMessage.model_validate(
            {"MessageSid": "SM" + "c" * 32, "From": MOBILE, "To": "+447700900000",
             "Body": body}))
        session.commit()


def _answered(live_session_factory) -> bool:
    with live_session_factory() as session:
        return _count(session, Message, Message.direction == Direction.INBOUND,
                      Message.status == MessageStatus.PROCESSED) == 1


def _replies(live_session_factory) -> list[str]:
    with live_session_factory() as session:
        return list(session.scalars(select(Message.body).where(
            Message.direction == Direction.OUTBOUND).order_by(Message.id)))


@pytest.mark.parametrize("kill_point", KILL_POINTS)
@pytest.mark.parametrize("turn_kind", ["booking", "handover", "cancellation"])
def test_a_worker_killed_mid_turn_gives_one_change_and_one_confirmation(
        turn_kind, kill_point, live_settings, live_session_factory, patient_on_the_line,
        tmp_path):
    public_id, held, booked_id = patient_on_the_line
    scenario = _scenarios(held, booked_id)[turn_kind]
    turn = HeldTurn(scenario, public_id, kill_point)
    _inbound(live_session_factory, scenario.body)
    with ScriptedRasaServer(turn) as rasa:
        env = process_env(live_settings, RASA_URL=rasa.url, WORKER_LEASE_SECONDS="2",
                          WORKER_POLL_SECONDS="0.2")
        with running(["worker"], env, tmp_path / "worker1.log") as worker:
            if kill_point == "after_the_replies_commit":
                wait_until(lambda: _answered(live_session_factory), timeout=60)
            else:
                assert turn.holding.wait(60), "the worker never asked the assistant"
            worker.kill()
        turn.release.set()
        assert turn.finished.wait(30)
        with running(["worker"], env, tmp_path / "worker2.log"):
            wait_until(lambda: _answered(live_session_factory), timeout=60)
            time.sleep(1.5)  # a second answer, were there one, would come within a poll or two

    said = [reply["text"] for reply in turn.first_said]
    assert said, "the action should have said something"
    assert _replies(live_session_factory) == said  # exactly one confirmation, in its words
    with live_session_factory() as session:
        assert scenario.changes(session) == 1  # exactly one change
        assert _count(session, TurnOutcome) == 0  # the records went with the turn's commit
    assert turn.calls == 1  # the retried turn was answered from the record, not re-run
