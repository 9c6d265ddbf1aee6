"""The assistant end to end: Twilio's signed webhook, the worker, the trained model on a real Rasa
server, the action server on the same database, and the demo trust.

One Rasa server serves the whole module; its action endpoint is a fixed loopback port, where an
action server is started for each database backend (SQLite and PostgreSQL) with DATABASE_URL
pointing at that backend's live test database. Each test seeds the synthetic demo trust
(300 patients) and talks to it as a patient would, over SMS.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from tests.e2e.rasa_stack import (
    ASSISTANT_TOKEN,
    ManagedProcess,
    ensure_model,
    ensure_rasa_env,
    free_ports,
    start_action_server,
    start_rasa_server,
    wait_for_action_server,
    wait_for_rasa,
)

pytestmark = pytest.mark.rasa

LONDON = ZoneInfo("Europe/London")
TRUST_NAME = "Testshire Hospitals NHS Foundation Trust"
OFFER_LINE = re.compile(r"^(\d)\. (\w{3}) (\d{1,2}) (\w{3}), (\d{1,2})(?::(\d{2}))?(am|pm), (.+)$")


@dataclass
class RasaServer:
    url: str
    action_server_url: str
    action_port: int
    log_dir: Path
    process: ManagedProcess


@pytest.fixture(scope="module")
def rasa_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RasaServer]:
    """The Rasa server with the trained model; its action server comes per database."""
    log_dir = tmp_path_factory.mktemp("assistant-stack")
    ensure_rasa_env(log_dir=log_dir)
    ensure_model(log_dir=log_dir)
    action_port, rasa_port = free_ports(2)
    action_url = f"http://127.0.0.1:{action_port}"
    process = start_rasa_server(port=rasa_port, action_server_url=action_url, log_dir=log_dir,
                                env=dict(os.environ))
    from tests.conftest import SUITE_LOG_FILES

    SUITE_LOG_FILES.append(process.log_path)  # Rasa's own output: scanned at the end too
    try:
        wait_for_rasa(process, url=f"http://127.0.0.1:{rasa_port}")
        yield RasaServer(url=f"http://127.0.0.1:{rasa_port}", action_server_url=action_url,
                         action_port=action_port, log_dir=log_dir, process=process)
    finally:
        process.stop()


@pytest.fixture(scope="module")
def action_server(rasa_server: RasaServer, live_database_url: str) -> Iterator[ManagedProcess]:
    """The action server on the live test database of the current backend."""
    from tests.conftest import SUITE_LOG_FILES

    env = dict(os.environ, DATABASE_URL=live_database_url, TRUST_NAME=TRUST_NAME,
               ENVIRONMENT="test", SECRET_KEY="test-secret-key-for-the-suite",
               MESSAGING_MODE="sandbox")
    env.pop("REDIS_URL", None)
    log_dir = rasa_server.log_dir / f"actions-{abs(hash(live_database_url))}"
    log_dir.mkdir(exist_ok=True)
    process = start_action_server(port=rasa_server.action_port, log_dir=log_dir, env=env)
    SUITE_LOG_FILES.append(process.log_path)  # scanned for personal data at the end
    try:
        wait_for_action_server(process, url=rasa_server.action_server_url)
        yield process
    finally:
        process.stop()


@dataclass
class Phone:
    """A patient's phone: sends signed webhooks, runs the worker, reads what came back."""

    client: object
    worker: object
    session_factory: object
    number: str
    seen: int = 0
    sent: list[str] = field(default_factory=list)

    def say(self, text: str) -> list[object]:
        from api.messaging.models import Direction, Message
        from tests.twilio_helpers import inbound_form, post_signed

        self.sent.append(text)
        response = post_signed(self.client, inbound_form(from_=self.number, body=text))
        assert response.status_code == 200
        self.worker.drain(timeout=60)
        with self.session_factory() as session:
            replies = session.scalars(
                select(Message).where(Message.direction == Direction.OUTBOUND,
                                      Message.to_address == self.number,
                                      Message.id > self.seen).order_by(Message.id)).all()
        if replies:
            self.seen = replies[-1].id
        return list(replies)

    def text(self, text: str) -> str:
        return "\n".join(m.body for m in self.say(text))


@pytest.fixture
def demo(live_settings, live_session_factory, action_server):
    """The demo trust, seeded in the live database (emptied again after the test)."""
    from api.demo import service as demo_service

    with live_session_factory() as session:
        demo_service.seed(session=session, patients=300)
        session.commit()
    return live_settings


@pytest.fixture
def phone_for(demo, live_client, live_session_factory, rasa_server):
    from api.conversations.rasa_client import RasaClient
    from api.worker import Worker

    rasa = RasaClient(base_url=rasa_server.url, timeout=30, token=ASSISTANT_TOKEN)
    worker = Worker(settings=demo, session_factory=live_session_factory, rasa=rasa,
                    concurrency=1)

    def make(number: str) -> Phone:
        return Phone(client=live_client, worker=worker, session_factory=live_session_factory,
                     number=number)

    yield make
    rasa.close()


def _mobile_counts(session) -> dict[str, int]:
    from api.patients.models import Patient

    return dict(session.execute(select(Patient.mobile, func.count())
                                .where(Patient.mobile.is_not(None)).group_by(Patient.mobile)).all())


def rebookable_patient(session_factory):
    """A patient alone on their number, with one postponed appointment whose first offers
    include an afternoon but which has morning dates too (so "mornings only" changes them)."""
    from api.appointments.models import Appointment, AppointmentStatus
    from api.patients.models import Patient
    from api.scheduling import service as scheduling_service
    from api.scheduling.matching import Preferences

    with session_factory() as session:
        counts = _mobile_counts(session)
        rows = session.execute(
            select(Patient.id, Patient.mobile, Patient.date_of_birth, Appointment.id)
            .join(Appointment, Appointment.patient_id == Patient.id)
            .where(Appointment.status == AppointmentStatus.POSTPONED,
                   Patient.opted_out.is_(False))
            .order_by(Patient.id)).all()
        for patient_id, mobile, dob, appointment_id in rows:
            if counts.get(mobile) != 1 or len(scheduling_service.awaiting_date(
                    session=session, patient_id=patient_id)) != 1:
                continue
            # Dry runs, rolled back: nothing stays held.
            first = scheduling_service.find_offers(session=session,
                                                   appointment_id=appointment_id)
            afternoon = any(o.slot.start_at.astimezone(LONDON).hour >= 12 for o in first)
            mornings = scheduling_service.find_offers(
                session=session, appointment_id=appointment_id,
                preferences=Preferences(time_of_day="morning"))
            session.rollback()
            if len(first) == 3 and afternoon and len(mornings) == 3:
                return patient_id, mobile, dob, appointment_id
    pytest.fail("the demo trust has no suitable patient")


def spoken_dob(dob) -> str:
    """"3rd of july 58": how a patient might type it."""
    suffix = "th" if 10 <= dob.day % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(
        dob.day % 10, "th")
    return f"{dob.day}{suffix} of {dob:%B}".lower() + f" {dob:%y}"


def offer_lines(body: str) -> list[re.Match]:
    return [m for m in (OFFER_LINE.match(line) for line in body.splitlines()) if m]


def phone_with_offers_open(phone_for, session_factory) -> Phone:
    """A verified patient looking at three held offers."""
    _, mobile, dob, _ = rebookable_patient(session_factory)
    phone = phone_for(mobile)
    phone.say("can i rebook please")
    phone.say(dob.strftime("%d/%m/%Y"))
    assert len(offer_lines(phone.text("what dates have you got"))) == 3
    return phone


def test_verify_ask_why_get_offers_prefer_mornings_and_book_in_words(phone_for,
                                                                     live_session_factory):
    from api.appointments.models import Appointment, AppointmentStatus
    from api.patients.models import Patient
    from api.reference.models import Specialty

    patient_id, mobile, dob, appointment_id = rebookable_patient(live_session_factory)
    with live_session_factory() as session:
        patient = session.get(Patient, patient_id)
        specialty = session.get(Specialty, session.get(Appointment, appointment_id).specialty_id)
        secrets = [patient.given_name, patient.family_name, specialty.name]
    phone = phone_for(mobile)

    # Identity first: nothing about the appointment, nobody named.
    asked = phone.text("hi, when will i be seen now?")
    assert "date of birth" in asked
    assert not any(secret in asked for secret in secrets), asked

    verified = phone.text(spoken_dob(dob))
    assert "that's confirmed" in verified
    assert specialty.name in verified and "waiting for a new date" in verified

    why = phone.text("why was it moved tho")
    assert "industrial action" in why and "waiting list" in why

    first = phone.text("can i have a new date please")
    lines = offer_lines(first)
    assert len(lines) == 3, first
    assert "Reply 1, 2 or 3." in first
    assert any(m.group(7) == "pm" for m in lines)

    mornings = phone.text("none of those, mornings only")
    lines = offer_lines(mornings)
    assert lines and all(m.group(7) == "am" for m in lines), mornings
    # Pick in words: the weekday if it is unique among the offers, else the day of the month.
    weekdays = [m.group(2) for m in lines]
    chosen = next((m for m in lines if weekdays.count(m.group(2)) == 1), lines[0])
    words = {"Mon": "monday", "Tue": "tues", "Wed": "weds", "Thu": "thurs", "Fri": "friday"}
    pick = (f"the {words[chosen.group(2)]} one pls" if weekdays.count(chosen.group(2)) == 1
            else f"the one on the {chosen.group(3)}th")
    booked = phone.text(pick)
    assert booked.startswith("You're booked: "), booked
    assert f"{chosen.group(2)} {chosen.group(3)} {chosen.group(4)}" in booked

    with live_session_factory() as session:
        appointment = session.get(Appointment, appointment_id)
        assert appointment.status is AppointmentStatus.REBOOKED
        start = appointment.slot.start_at.astimezone(LONDON)
        assert start.hour < 12
        assert f"{start:%a} {start.day} {start:%b}" == \
            f"{chosen.group(2)} {chosen.group(3)} {chosen.group(4)}"


def test_a_booking_turn_cut_short_after_the_actions_committed_is_confirmed_once(
        phone_for, live_session_factory):
    """The real REST channel carries the message id to the real actions: a worker that dies
    after Rasa answered (the booking committed, its words not yet written) is followed by a
    retry that writes the recorded confirmation without asking Rasa again."""
    from api.messaging.models import Direction, Message
    from api.scheduling.models import Offer, OfferStatus

    phone = phone_with_offers_open(phone_for, live_session_factory)
    real = phone.worker.turn.rasa
    asked: list[str] = []

    class DiesAfterRasaAnswers:
        def send(self, **turn):
            asked.append(turn["text"])
            replies = real.send(**turn)
            if len(asked) == 1:
                raise RuntimeError("the worker died before writing the replies")
            return replies

    phone.worker.turn.rasa = DiesAfterRasaAnswers()
    booked = phone.text("1")  # the worker's drain retries the message after the failure

    assert booked.startswith("You're booked: "), booked
    assert asked == ["1"]  # the retry wrote the recorded words; Rasa was asked once
    with live_session_factory() as session:
        confirmations = session.scalars(select(Message.body).where(
            Message.direction == Direction.OUTBOUND, Message.to_address == phone.number,
            Message.body.startswith("You're booked"))).all()
        accepted = session.scalar(select(func.count()).select_from(Offer).where(
            Offer.status == OfferStatus.ACCEPTED))
    assert len(confirmations) == 1 and accepted == 1


def test_red_flag_mid_booking_gets_the_safety_net_and_an_urgent_handover(phone_for,
                                                                         live_session_factory):
    from api.handover.models import Handover, HandoverReason, Urgency
    from api.messaging.models import MessageCategory

    phone = phone_with_offers_open(phone_for, live_session_factory)

    [safety] = phone.say("actually ive got crushing chest pain and cant breath")

    assert safety.category is MessageCategory.SAFETY_NET
    assert "999" in safety.body and "111" in safety.body
    with live_session_factory() as session:
        [handover] = session.scalars(select(Handover)).all()
        assert handover.reason is HandoverReason.RED_FLAG
        assert handover.urgency is Urgency.URGENT
    # The conversation is with staff now: the assistant does not answer, but the patient
    # hears once that the team has the message (never silence), and not again within the hour.
    [held] = phone.say("2")
    assert held.category is MessageCategory.HOLDING and "bookings team" in held.body
    assert phone.say("hello?") == []


def test_three_wrong_dates_of_birth_lock_and_hand_over(phone_for, live_session_factory):
    from api.conversations.models import Conversation
    from api.handover.models import Handover, HandoverReason

    _, mobile, dob, _ = rebookable_patient(live_session_factory)
    phone = phone_for(mobile)
    assert "date of birth" in phone.text("whens my appt")
    wrong = [dob - timedelta(days=days) for days in (1, 365, 40)]

    first = phone.text(wrong[0].strftime("%d/%m/%Y"))
    second = phone.text(wrong[1].strftime("%d-%m-%y"))
    locked = phone.text(wrong[2].strftime("%-d %B %Y"))

    assert "doesn't match" in first and "(2 left)" in first
    assert "(1 left)" in second
    assert "couldn't confirm your details" in locked and "bookings team" in locked
    with live_session_factory() as session:
        [handover] = session.scalars(select(Handover)).all()
        assert handover.reason is HandoverReason.IDENTITY_LOCKOUT
        conversation = session.scalars(select(Conversation)).one()
        assert conversation.verified_patient_id is None
    # Locked: even the right date of birth now goes to staff, not the assistant; the patient
    # is told once that the team has it.
    from api.messaging.models import MessageCategory

    [held] = phone.say(dob.strftime("%d/%m/%Y"))
    assert held.category is MessageCategory.HOLDING
    assert phone.say("hello?") == []


def test_a_shared_number_asks_which_person_without_naming_anyone(phone_for,
                                                                 live_session_factory):
    from api.conversations.models import Conversation
    from api.patients.models import Patient

    with live_session_factory() as session:
        counts = _mobile_counts(session)
        shared = next(number for number, count in sorted(counts.items()) if count > 1)
        household = session.scalars(select(Patient).where(Patient.mobile == shared)
                                    .order_by(Patient.id)).all()
        names = [p.given_name for p in household] + [p.family_name for p in household]
        patient = household[-1]
    phone = phone_for(shared)

    asked = phone.text("hiya is my appointment still on")
    assert "first name or initials" in asked
    assert not any(name in asked for name in names), asked

    dob_question = phone.text(f"its for {patient.given_name.lower()}")
    assert "date of birth of the person" in dob_question

    confirmed = phone.text(patient.date_of_birth.strftime("%d/%m/%Y"))
    assert "that's confirmed" in confirmed
    with live_session_factory() as session:
        conversation = session.scalars(select(Conversation)).one()
        assert conversation.verified_patient_id == patient.id


# -- the safety net on held-out red flags, in every state -----------------------------------

def _held_out_red_flags() -> dict[str, list[str]]:
    """The first held-out red flags of each category (tests/data/red_flags_test.jsonl)."""
    from tests.bot.heldout import read_jsonl

    by_category: dict[str, list[str]] = {}
    for row in read_jsonl("red_flags_test.jsonl"):
        by_category.setdefault(row["category"], []).append(row["text"])
    return by_category


HELD_OUT = _held_out_red_flags()
EXPECTED_WORDING = {"suicidal": "116 123", "self_harm": "116 123", "safeguarding": "press 55"}


def _assert_safety_net(replies, category: str) -> None:
    from api.messaging.models import MessageCategory

    nets = [r for r in replies if r.category is MessageCategory.SAFETY_NET]
    assert len(nets) == 1, [r.body for r in replies]
    assert "999" in nets[0].body
    if category in EXPECTED_WORDING:
        assert EXPECTED_WORDING[category] in nets[0].body, (category, nets[0].body)
    # Nothing else answers a red flag: no offers, no goodbye, no identity question.
    assert [r for r in replies if r.category is not MessageCategory.SAFETY_NET] == []


@pytest.mark.parametrize("category", sorted(HELD_OUT))
def test_a_held_out_red_flag_before_identity_gets_the_safety_net(category, phone_for,
                                                                 live_session_factory):
    from api.handover.models import Handover, Urgency

    _, mobile, _, _ = rebookable_patient(live_session_factory)
    phone = phone_for(mobile)

    _assert_safety_net(phone.say(HELD_OUT[category][0]), category)

    with live_session_factory() as session:
        [handover] = session.scalars(select(Handover)).all()
        assert handover.urgency is Urgency.URGENT


# Mid-booking, one category of each reply wording (physical, mental health, safeguarding) and
# the one most easily read as a booking reply (an overdose "said casually").
@pytest.mark.parametrize("category", ["breathing", "overdose_poisoning", "suicidal",
                                      "safeguarding"])
def test_a_held_out_red_flag_while_offers_are_open_gets_the_safety_net(category, phone_for,
                                                                       live_session_factory):
    phone = phone_with_offers_open(phone_for, live_session_factory)

    _assert_safety_net(phone.say(HELD_OUT[category][1]), category)


def test_red_flags_reach_the_safety_net_while_with_staff_and_after_stop(phone_for,
                                                                       live_session_factory):
    from api.handover.models import Handover, HandoverReason, Urgency
    from api.messaging.models import MessageCategory

    _, mobile, _, _ = rebookable_patient(live_session_factory)
    phone = phone_for(mobile)
    phone.say("can i speak to a real person please")
    with live_session_factory() as session:
        assert session.scalars(select(Handover)).one().reason is HandoverReason.ASKED_FOR_PERSON
    _assert_safety_net(phone.say(HELD_OUT["suicidal"][2]), "suicidal")
    with live_session_factory() as session:
        [handover] = session.scalars(select(Handover)).all()
        assert (handover.reason, handover.urgency) == (HandoverReason.RED_FLAG, Urgency.URGENT)

    [stopped] = phone.say("STOP")
    assert stopped.category is MessageCategory.OPT_OUT_CONFIRMATION
    assert phone.say("hello?") == []  # opted out: nothing but the safety net
    _assert_safety_net(phone.say(HELD_OUT["chest_pain"][2]), "chest_pain")


def test_no_longer_needed_is_checked_before_it_goes_to_clinical_review(phone_for,
                                                                       live_session_factory):
    from api.appointments.models import Appointment, AppointmentStatus
    from api.handover.models import Handover, HandoverReason

    _, mobile, dob, appointment_id = rebookable_patient(live_session_factory)
    phone = phone_for(mobile)
    phone.say("take me off the list please, im feeling much better now")
    checked = phone.text(dob.strftime("%d/%m/%Y"))
    if "Just to check" not in checked:  # identity done; the request is asked again
        checked = phone.text("i dont need the appointment any more")
    assert "Just to check" in checked and "Reply YES" in checked, checked
    with live_session_factory() as session:
        assert session.scalars(select(Handover)).all() == []
        assert session.get(Appointment, appointment_id).status is AppointmentStatus.POSTPONED

    several = "one of your" in checked  # other upcoming appointments: a person checks which

    done = phone.text("yes")

    with live_session_factory() as session:
        [handover] = session.scalars(select(Handover)).all()
        assert handover.reason is HandoverReason.CLINICAL_REVIEW
        status = session.get(Appointment, appointment_id).status
    if several:
        assert "bookings team" in done and status is AppointmentStatus.POSTPONED
    else:
        assert "clinical team" in done and "waiting list" in done
        assert status is AppointmentStatus.PENDING_CLINICAL_REVIEW


def test_a_greeting_about_the_appointment_starts_identity_then_answers(phone_for,
                                                                       live_session_factory):
    _, mobile, dob, _ = rebookable_patient(live_session_factory)
    phone = phone_for(mobile)

    hello = phone.text("hiya, got a text about my appointment")

    assert TRUST_NAME in hello and "date of birth" in hello
    assert "How can I help" not in hello
    verified = phone.text(dob.strftime("%d/%m/%Y"))
    assert "that's confirmed" in verified


def test_a_spoken_booking_over_the_phone(demo, live_client, live_session_factory,
                                        rasa_server):
    """The phone line through the trained model and the action server: a date of birth said
    and read back, a new date asked for in words, the second option chosen by voice, read
    back, confirmed and booked."""
    from api.appointments.models import Appointment
    from api.conversations.rasa_client import RasaClient
    from api.scheduling.models import Offer, OfferStatus
    from api.worker import Worker
    from tests.voice.calling import Phone as CallingPhone
    from tests.voice.calling import WorkerThread

    _, mobile, dob, appointment_id = rebookable_patient(live_session_factory)
    rasa = RasaClient(base_url=rasa_server.url, timeout=30, token=ASSISTANT_TOKEN)
    worker = Worker(settings=demo, session_factory=live_session_factory, rasa=rasa)
    call = CallingPhone(live_client, caller=mobile)
    with WorkerThread(worker):
        call.ring()
        assert "I heard the" in call.say(f"the {spoken_dob(dob).removesuffix(dob.strftime(' %y'))} "
                                         f"{dob.year}").text
        assert "How can I help" in call.say("yes").text
        why = call.say("why was my appointment moved")
        assert "industrial action" in why.text.lower(), why.said
        assert not re.search(r"\breply\b|https?:|www\.", why.text, re.IGNORECASE), why.said
        offers = call.say("can I have a new date please")
        options = [s for s in offers.said if s.startswith("Option ")]
        assert len(options) == 3 and offers.gather["numDigits"] == "1", offers.said
        assert "You chose" in call.say("the second one").text
        booked = call.say("yes please")
    rasa.close()
    assert "booked" in booked.text.lower(), booked.said
    with live_session_factory() as session:
        appointment = session.get(Appointment, appointment_id)
        accepted = session.scalars(select(Offer).where(
            Offer.appointment_id == appointment_id, Offer.status == OfferStatus.ACCEPTED)).one()
        assert appointment.slot_id == accepted.slot_id and accepted.rank == 2


def test_the_rasa_and_action_server_logs_carry_no_personal_data(phone_for, live_session_factory,
                                                                rasa_server, action_server):
    """A journey that gives a date of birth and a number in free text, then the scan.

    Rasa 3.6 runs at RASA_LOG_LEVEL (INFO, bot/run_rasa.sh), where it logs no message text;
    the action server logs through the app's redacting handler (actions/__init__.py).
    """
    from tests.log_scan import find_personal_data

    _, mobile, dob, _ = rebookable_patient(live_session_factory)
    phone = phone_for(mobile)
    phone.say("my number is 07700 900987, nhs 999 123 4567")
    phone.say(dob.strftime("%d/%m/%Y"))
    phone.say(f"call me on {mobile} or %2B447700900987")
    rasa_log = rasa_server.process.log_path
    assert "Rasa server is up and running" in rasa_log.read_text(errors="replace")
    assert find_personal_data([rasa_log, action_server.log_path]) == []
