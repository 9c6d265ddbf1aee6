"""Identity verification on the conversation record: date of birth, shared numbers, lockout."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from api.config import get_settings
from api.conversations import identity
from api.conversations.models import Conversation
from api.db import utcnow
from api.handover import service as handover_service
from api.handover.models import Handover, HandoverReason, HandoverStatus
from api.messaging.models import Channel
from tests.factories import make_patient

TODAY = date(2026, 11, 29)


@pytest.mark.parametrize("text", [
    "3/7/1958", "03/07/1958", "3/7/58", "03-07-58", "3-7-1958", "03.07.1958", "3 July 1958",
    "3 july 58", "3rd of july 58", "3rd July 1958", "3 jul 58", "1958-07-03",
    "its 3/7/58 thanks", "born on the 3rd of July 1958", "my dob is 03/07/1958",
])
def test_common_formats_are_read_day_first(text):
    assert identity.parse_dob(text, today=TODAY) == date(1958, 7, 3)


@pytest.mark.parametrize("text", [
    "31/02/1980",  # no 31st of February
    "30/02/58", "14/13/1960", "3/7", "july 1958", "tuesday", "", "hello",
    "3/7/2030",  # not born yet
    "3/7/1850",  # too old to be a patient
])
def test_impossible_or_partial_dates_are_not_read(text):
    assert identity.parse_dob(text, today=TODAY) is None


def test_two_digit_years_are_the_most_recent_past_one():
    assert identity.parse_dob("01-01-05", today=TODAY) == date(2005, 1, 1)
    assert identity.parse_dob("01-01-47", today=TODAY) == date(1947, 1, 1)


def conversation_on(db_session, mobile, channel=Channel.SMS):
    address = f"whatsapp:{mobile}" if channel is Channel.WHATSAPP else mobile
    conversation = Conversation(channel=channel, address=address, failed_identity_attempts=0)
    db_session.add(conversation)
    db_session.flush()
    return conversation


def test_the_right_date_verifies_for_the_configured_time(db_session):
    patient = make_patient(db_session, date_of_birth=date(1958, 7, 3), mobile="+447700900501")
    conversation = conversation_on(db_session, patient.mobile, Channel.WHATSAPP)
    settings = get_settings()

    outcome = identity.check_dob(session=db_session, settings=settings,
                                 conversation=conversation, text="3rd of july 58")

    assert outcome.status == "verified" and outcome.patient_id == patient.id
    assert identity.verified_patient(session=db_session, conversation=conversation) == patient
    lasts = conversation.verified_until - utcnow()
    assert timedelta(minutes=settings.identity_valid_minutes - 1) < lasts <= timedelta(
        minutes=settings.identity_valid_minutes)
    later = utcnow() + timedelta(minutes=settings.identity_valid_minutes + 1)
    assert identity.verified_patient(session=db_session, conversation=conversation,
                                     now=later) is None


def test_three_failures_lock_and_hand_over(db_session):
    patient = make_patient(db_session, date_of_birth=date(1958, 7, 3), mobile="+447700900502")
    conversation = conversation_on(db_session, patient.mobile)
    settings = get_settings()

    outcomes = [identity.check_dob(session=db_session, settings=settings,
                                   conversation=conversation, text=wrong)
                for wrong in ("4/7/1958", "3/8/1958", "3/7/1959")]

    assert [o.status for o in outcomes] == ["wrong", "wrong", "locked"]
    assert [o.attempts_left for o in outcomes[:2]] == [2, 1]
    [handover] = db_session.scalars(select(Handover)).all()
    assert handover.reason is HandoverReason.IDENTITY_LOCKOUT
    assert handover.conversation_id == conversation.id
    assert "1958" not in handover.summary  # no date of birth in the summary
    # Locked: even the right date does not verify until staff resolve the handover.
    assert identity.check_dob(session=db_session, settings=settings, conversation=conversation,
                              text="3/7/1958").status == "locked"
    handover.status = HandoverStatus.RESOLVED
    db_session.flush()
    assert identity.check_dob(session=db_session, settings=settings, conversation=conversation,
                              text="3/7/1958").status == "verified"


def test_unreadable_replies_are_not_counted(db_session):
    patient = make_patient(db_session, mobile="+447700900503")
    conversation = conversation_on(db_session, patient.mobile)

    outcome = identity.check_dob(session=db_session, settings=get_settings(),
                                 conversation=conversation, text="why do you need that")

    assert outcome.status == "unreadable"
    assert conversation.failed_identity_attempts == 0


def test_a_shared_number_chooses_by_first_name_or_initials(db_session):
    mobile = "+447700900504"
    mum = make_patient(db_session, given_name="Janet", family_name="Hall", mobile=mobile,
                       date_of_birth=date(1970, 5, 1))
    son = make_patient(db_session, given_name="Oliver", family_name="Hall", mobile=mobile,
                       date_of_birth=date(2008, 2, 2))
    conversation = conversation_on(db_session, mobile)
    settings = get_settings()

    assert identity.needs_person_choice(session=db_session, conversation=conversation)
    by_name = identity.choose_person(session=db_session, settings=settings,
                                     conversation=conversation, text="its for my son oliver")
    by_typo = identity.choose_person(session=db_session, settings=settings,
                                     conversation=conversation, text="olivr")
    by_initials = identity.choose_person(session=db_session, settings=settings,
                                         conversation=conversation, text="J.H.")
    assert by_name.candidate_ids == (son.id,)
    assert by_typo.candidate_ids == (son.id,)
    assert by_initials.candidate_ids == (mum.id,)
    # The chosen person's date of birth verifies; the other's does not.
    assert identity.check_dob(session=db_session, settings=settings, conversation=conversation,
                              text="1/5/1970", candidate_ids=by_typo.candidate_ids
                              ).status == "wrong"
    assert identity.check_dob(session=db_session, settings=settings, conversation=conversation,
                              text="2/2/08", candidate_ids=by_typo.candidate_ids
                              ).patient_id == son.id


def test_twins_with_one_date_of_birth_must_say_which(db_session):
    mobile = "+447700900505"
    twins = [make_patient(db_session, given_name=name, family_name="Khan", mobile=mobile,
                          date_of_birth=date(2012, 6, 1)) for name in ("Amina", "Bilal")]
    conversation = conversation_on(db_session, mobile)

    outcome = identity.check_dob(session=db_session, settings=get_settings(),
                                 conversation=conversation, text="1/6/2012")

    assert outcome.status == "ambiguous"
    assert set(outcome.candidate_ids) == {t.id for t in twins}
    assert conversation.verified_patient_id is None


def test_an_unknown_number_never_verifies(db_session):
    conversation = conversation_on(db_session, "+447700900599")

    outcome = identity.check_dob(session=db_session, settings=get_settings(),
                                 conversation=conversation, text="3/7/1958")

    assert outcome.status == "wrong"


def test_lock_keeps_no_verification(db_session):
    patient = make_patient(db_session, mobile="+447700900506")
    conversation = conversation_on(db_session, patient.mobile)
    identity.verify(session=db_session, settings=get_settings(), conversation=conversation,
                    patient_id=patient.id)

    identity.lock(session=db_session, settings=get_settings(), conversation=conversation)

    assert conversation.verified_patient_id is None
    assert handover_service.open_for_conversation(session=db_session,
                                                  conversation_id=conversation.id)


def test_a_usual_short_form_of_a_first_name_chooses_the_person(db_session):
    mobile = "+447700900507"
    dad = make_patient(db_session, given_name="Thomas", family_name="Reed", mobile=mobile,
                       date_of_birth=date(1961, 3, 9))
    daughter = make_patient(db_session, given_name="Elizabeth", family_name="Reed",
                            mobile=mobile, date_of_birth=date(1994, 8, 20))
    conversation = conversation_on(db_session, mobile)
    settings = get_settings()

    def chosen(text):
        return identity.choose_person(session=db_session, settings=settings,
                                      conversation=conversation, text=text).candidate_ids

    assert chosen("tom") == (dad.id,)
    assert chosen("its for lizzie") == (daughter.id,)
    # A whole name wins over a word that happens to be a short form ("will" is William's).
    assert chosen("it will be thomas") == (dad.id,)
    # A short form of somebody else's name is still a miss (and counts as one).
    outcome = identity.choose_person(session=db_session, settings=settings,
                                     conversation=conversation, text="bob")
    assert outcome.status == "wrong"


def test_short_forms_work_both_ways_and_between_each_other():
    from api.conversations.nicknames import same_first_name

    assert same_first_name("tom", "thomas") and same_first_name("thomas", "tom")
    assert same_first_name("katie", "kate")  # both short for Katherine
    assert not same_first_name("tom", "timothy")


def test_verified_as_holds_only_while_the_check_is_in_force():
    now = utcnow()
    conversation = Conversation(channel=Channel.SMS, address="+447700900001",
                                verified_patient_id=7, verified_until=now + timedelta(minutes=5))
    assert conversation.verified_as(now) == 7
    assert conversation.verified_as(now + timedelta(minutes=5)) is None
    conversation.verified_until = None
    assert conversation.verified_as(now) is None
