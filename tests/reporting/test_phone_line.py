"""The phone line's figures on the dashboard: counted from the call rows, each definition."""

from datetime import timedelta

import pytest

from api.appointments import service as appointments_service
from api.appointments.models import AppointmentStatus
from api.conversations import service as conversations_service
from api.db import utcnow
from api.messaging.models import Channel
from api.reporting import service as reporting_service
from api.scheduling.models import Disruption
from api.voice.models import CallOutcome, CallStage, VoiceCall
from tests.factories import make_appointment, make_patient, make_site, make_specialty
from tests.reporting import independent

CALLER = "+447700900001"


def _call(session, sid: str, *, outcome: CallOutcome | None, started_at, seconds: int | None,
          ended: bool = True, patient_id: int | None = None) -> VoiceCall:
    conversation = conversations_service.get_or_create(session=session, channel=Channel.VOICE,
                                                       address=CALLER)
    call = VoiceCall(call_sid=sid, conversation_id=conversation.id, caller=CALLER,
                     patient_id=patient_id, outcome=outcome, started_at=started_at,
                     stage=CallStage.ENDED if ended else CallStage.ASSISTANT,
                     ended_at=started_at + timedelta(seconds=seconds or 1) if ended else None,
                     duration_seconds=seconds)
    session.add(call)
    session.flush()
    return call


@pytest.fixture
def strike(db_session):
    declared = utcnow() - timedelta(days=2)
    disruption = Disruption(name="Strike", starts_at=utcnow(), created_at=declared,
                            ends_at=utcnow() + timedelta(days=3), staff_group="consultants")
    db_session.add(disruption)
    db_session.flush()
    return disruption


@pytest.fixture
def calls(db_session, strike):
    """Eight calls since the strike was declared, one before it."""
    at = strike.created_at + timedelta(hours=1)
    for sid, outcome, seconds in (("CA1", CallOutcome.CONTAINED, 100),
                                  ("CA2", CallOutcome.CONTAINED, 200),
                                  ("CA3", CallOutcome.TRANSFERRED, 400),
                                  ("CA4", CallOutcome.CALL_BACK, 90),
                                  ("CA5", CallOutcome.SAFETY_NET, 61),
                                  ("CA6", CallOutcome.ABANDONED, 8)):
        _call(db_session, sid, outcome=outcome, started_at=at, seconds=seconds)
    # Ended, but Twilio gave no length: counted, not timed.
    _call(db_session, "CA7", outcome=CallOutcome.ABANDONED, started_at=at, seconds=None)
    # Still going: answered, not ended, no length even if one is stored.
    _call(db_session, "CA8", outcome=None, started_at=utcnow(), seconds=None, ended=False)
    # Before the strike was declared: not this dashboard's period.
    _call(db_session, "CA0", outcome=CallOutcome.CONTAINED,
          started_at=strike.created_at - timedelta(minutes=1), seconds=1000)
    return strike


def test_each_phone_figure_is_counted_from_the_calls(db_session, calls):
    figures = reporting_service.phone_line(session=db_session, since=calls.created_at,
                                           until=utcnow())
    assert figures == {
        "since": calls.created_at.isoformat(), "answered": 8, "ended": 7, "contained": 2,
        "transferred": 1, "call_back": 1, "safety_net": 1, "abandoned": 2,
        "containment_rate": round(2 / 7, 3),
        # (100 + 200 + 400 + 90 + 61 + 8) / 6 = 143.2 s: the call with no length is left out.
        "average_handling_seconds": 143.2, "timed": 6,
    }
    assert figures == independent.phone_line(db_session, calls.created_at, utcnow())


def test_no_calls_gives_zeros_and_no_rate_or_time(db_session, strike):
    figures = reporting_service.phone_line(session=db_session, since=strike.created_at,
                                           until=utcnow())
    assert figures == {"since": strike.created_at.isoformat(), "answered": 0, "ended": 0,
                       "contained": 0, "transferred": 0, "call_back": 0, "safety_net": 0,
                       "abandoned": 0, "containment_rate": None,
                       "average_handling_seconds": None, "timed": 0}


def test_the_disruption_report_carries_the_phone_line(db_session, calls):
    report = reporting_service.disruption_report(session=db_session, disruption_id=calls.id)
    assert report["phone_line"]["answered"] == 8
    assert report["phone_line"]["contained"] == 2
    assert report["phone_line"]["since"] == calls.created_at.isoformat()


def test_a_phone_conversation_is_not_counted_in_the_text_estimate(db_session, strike):
    """A patient identified on a call is measured by the phone line, not estimated again."""
    texted, phoned = make_patient(db_session), make_patient(db_session)
    site, specialty = make_site(db_session), make_specialty(db_session, name="Cardiology")
    for patient in (texted, phoned):
        appointment = make_appointment(db_session, patient=patient, specialty=specialty,
                                       site_id=site.id)
        appointments_service.change_status(session=db_session, appointment=appointment,
                                           to_status=AppointmentStatus.POSTPONED,
                                           reason="industrial action", actor="system")
        appointment.disruption_id = strike.id
    conversations_service.get_or_create(
        session=db_session, channel=Channel.SMS, address=texted.mobile
    ).verified_patient_id = texted.id
    conversations_service.get_or_create(
        session=db_session, channel=Channel.VOICE, address=CALLER
    ).verified_patient_id = phoned.id
    db_session.flush()
    report = reporting_service.disruption_report(session=db_session, disruption_id=strike.id)
    assert report["calls_avoided_estimate"] == 1
