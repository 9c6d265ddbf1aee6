"""Who is calling, proven before anything is disclosed: the same checks as a text conversation
(api.conversations.identity), asked for by voice or keypad.

- A number on the register: the date of birth (spoken, then read back and confirmed before it
  is checked, so a misheard date never counts against the caller; or keyed as 8 digits). On a
  shared number, the first name first.
- A withheld number or one we do not know (a landline): the NHS number keyed, then the date of
  birth. Whether the NHS number exists is never said: a wrong pair is "doesn't match".
- Failures count per conversation as for texts (three lock it, with a case for staff) and per
  patient across calls and numbers (three in a day lock the patient's phone checks), so a
  caller cannot go on guessing by calling again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api import texts
from api.config import Settings
from api.conversations import identity
from api.conversations import service as conversations_service
from api.db import utcnow
from api.handover import service as handover_service
from api.handover.models import Handover, HandoverReason, HandoverStatus, Urgency
from api.patients.identifiers import is_valid_nhs_number
from api.patients.models import Patient
from api.system import localtime
from api.voice import speech, understanding
from api.voice.models import CallStage, IdentityFailure, VoiceCall

MAX_FAILURES_PER_PATIENT = identity.MAX_FAILED_ATTEMPTS
FAILURE_WINDOW = timedelta(hours=24)


@dataclass(frozen=True)
class Checked:
    """What one identity answer came to: what to say, and whether the caller is now known,
    must go to a person (locked), or is asked again."""

    said: list[str]
    verified: bool = False
    locked: bool = False
    keypad_digits: int | None = None


def first_stage(*, session: Session, call: VoiceCall) -> tuple[CallStage, str]:
    """Where identity starts for this caller, and the question that starts it."""
    people = _living(identity.candidates(
        session=session, conversation=conversations_service.get(
            session=session, conversation_id=call.conversation_id)))
    if call.withheld or not people:
        return CallStage.NHS_NUMBER, texts.text("voice_ask_nhs_number")
    if len(people) > 1:
        return CallStage.PERSON, texts.text("voice_ask_person")
    return CallStage.DOB, texts.text("voice_ask_dob")


def _living(people: list[Patient]) -> list[Patient]:
    return [p for p in people if p.deceased_at is None]


def take_nhs_number(*, session: Session, settings: Settings, call: VoiceCall,
                    said: str) -> Checked:
    """A keyed (or spoken) NHS number: on to the date of birth, whoever it belongs to."""
    digits = understanding.spoken_digits(said) if not said.isdigit() else said
    if not is_valid_nhs_number(digits):
        return _failed(session=session, settings=settings, call=call, patient_id=None,
                       again="voice_nhs_number_wrong", keypad_digits=10)
    patient = session.scalar(select(Patient).where(Patient.nhs_number == digits,
                                                   Patient.deceased_at.is_(None)))
    call.pending = {"nhs_patient": patient.id if patient else None}
    call.stage = CallStage.DOB
    return Checked([texts.text("voice_ask_dob_after_nhs_number")], keypad_digits=8)


def take_person(*, session: Session, settings: Settings, call: VoiceCall, said: str) -> Checked:
    """The first name of the person on a shared number."""
    conversation = conversations_service.get(session=session,
                                             conversation_id=call.conversation_id)
    outcome = identity.choose_person(session=session, settings=settings,
                                     conversation=conversation, text=said)
    if outcome.status == "locked":
        return Checked([texts.text("voice_lockout")], locked=True)
    if outcome.status != "chosen":
        call.identity_failures += 1
        return Checked([texts.text("voice_person_wrong")])
    call.pending = {"candidates": list(outcome.candidate_ids)}
    call.stage = CallStage.DOB
    return Checked([texts.text("voice_ask_dob")], keypad_digits=8)


def take_dob(*, session: Session, settings: Settings, call: VoiceCall, said: str,
             keyed: bool) -> Checked | None:
    """A date of birth: keyed ones are checked at once, spoken ones read back first.

    None when no date could be read (the caller is asked to key it; nothing is counted).
    """
    today = localtime.local_today(settings)
    if keyed:
        dob = understanding.keyed_date(said, today=today)
    else:
        dob = identity.parse_dob(understanding.spoken_date_text(said), today=today)
    if dob is None:
        return None
    call.pending = {**call.pending, "dob": dob.isoformat()}
    if keyed:
        return check_pending_dob(session=session, settings=settings, call=call)
    call.stage = CallStage.CONFIRM_DOB
    return Checked([texts.text("voice_confirm_dob", heard=_spoken_date(dob))])


def _spoken_date(dob: date) -> str:
    return f"the {speech.ordinal(dob.day)} of {dob:%B} {dob.year}"


def check_pending_dob(*, session: Session, settings: Settings, call: VoiceCall) -> Checked:
    """Check the date of birth the caller gave (and confirmed) against the register."""
    dob = date.fromisoformat(call.pending["dob"])
    conversation = conversations_service.get(session=session,
                                             conversation_id=call.conversation_id)
    if "nhs_patient" in call.pending:
        patient_id = call.pending["nhs_patient"]
        patient = session.get(Patient, patient_id) if patient_id else None
        if patient is not None and _patient_locked(session=session, patient_id=patient.id):
            return Checked([texts.text("voice_lockout")], locked=True)
        if patient is None or patient.date_of_birth != dob:
            call.stage = CallStage.NHS_NUMBER
            return _failed(session=session, settings=settings, call=call,
                           patient_id=patient_id, again="voice_nhs_number_wrong",
                           keypad_digits=10, prefix="voice_dob_wrong_short")
        identity.verify(session=session, settings=settings, conversation=conversation,
                        patient_id=patient.id)
        return _verified(call=call, patient_id=patient.id)
    candidates = call.pending.get("candidates")
    people = [p for p in _living(identity.candidates(session=session,
                                                     conversation=conversation))
              if not candidates or p.id in candidates]
    if len(people) == 1 and _patient_locked(session=session, patient_id=people[0].id):
        return Checked([texts.text("voice_lockout")], locked=True)
    outcome = identity.check_dob(session=session, settings=settings, conversation=conversation,
                                 text=dob.strftime("%d/%m/%Y"), candidate_ids=candidates)
    if outcome.status == "verified":
        return _verified(call=call, patient_id=outcome.patient_id)
    if outcome.status == "ambiguous":
        call.pending = {}
        call.stage = CallStage.PERSON
        return Checked([texts.text("voice_ask_person")])
    if len(people) == 1:
        _count_patient_failure(session=session, settings=settings, call=call,
                               patient_id=people[0].id)
    call.identity_failures += 1
    if outcome.status == "locked":
        return Checked([texts.text("voice_lockout")], locked=True)
    call.pending = {"candidates": candidates} if candidates else {}
    call.stage = CallStage.DOB
    return Checked([texts.text("voice_dob_wrong")], keypad_digits=8)


def lockout_case(*, session: Session, call: VoiceCall) -> Handover | None:
    """The open lockout case of the patient this call was checking, if one is locked."""
    patient_id = call.pending.get("nhs_patient") or (call.pending.get("candidates") or [None])[0]
    if patient_id is None:
        return None
    return handover_service.open_for_patient(session=session, patient_id=patient_id,
                                             reason=HandoverReason.IDENTITY_LOCKOUT)


def _verified(*, call: VoiceCall, patient_id: int) -> Checked:
    call.patient_id = patient_id
    call.pending = {}
    call.identity_failures = 0
    return Checked([], verified=True)


def _failed(*, session: Session, settings: Settings, call: VoiceCall, patient_id: int | None,
            again: str, keypad_digits: int, prefix: str | None = None) -> Checked:
    """A wrong answer on the NHS-number path: counted for the call and the patient."""
    call.identity_failures += 1
    call.pending = {}
    if patient_id is not None and _count_patient_failure(
            session=session, settings=settings, call=call, patient_id=patient_id):
        return Checked([texts.text("voice_lockout")], locked=True)
    if call.identity_failures >= identity.MAX_FAILED_ATTEMPTS:
        return Checked([texts.text("voice_lockout")], locked=True)
    said = [texts.text(prefix)] if prefix else []
    return Checked([*said, texts.text(again)], keypad_digits=keypad_digits)


def _failures_since(session: Session, patient_id: int) -> int:
    since = utcnow() - FAILURE_WINDOW
    resolved = session.scalar(select(func.max(Handover.resolved_at)).where(
        Handover.patient_id == patient_id, Handover.reason == HandoverReason.IDENTITY_LOCKOUT,
        Handover.status == HandoverStatus.RESOLVED))
    if resolved is not None and resolved > since:
        since = resolved  # staff resolving the lockout is their decision to let them try again
    return session.scalar(select(func.count()).select_from(IdentityFailure).where(
        IdentityFailure.patient_id == patient_id, IdentityFailure.failed_at >= since)) or 0


def _patient_locked(*, session: Session, patient_id: int) -> bool:
    return _failures_since(session, patient_id) >= MAX_FAILURES_PER_PATIENT


def _count_patient_failure(*, session: Session, settings: Settings, call: VoiceCall,
                           patient_id: int) -> bool:
    """Count a failure against the patient; whether that locks their phone checks."""
    session.add(IdentityFailure(patient_id=patient_id, call_id=call.id, failed_at=utcnow()))
    session.flush()
    if not _patient_locked(session=session, patient_id=patient_id):
        return False
    if handover_service.open_for_patient(session=session, patient_id=patient_id,
                                         reason=HandoverReason.IDENTITY_LOCKOUT) is None:
        handover_service.open_handover(
            session=session, settings=settings, reason=HandoverReason.IDENTITY_LOCKOUT,
            urgency=Urgency.HIGH, created_by="phone_line", patient_id=patient_id,
            conversation=conversations_service.facts_of(conversations_service.get(
                session=session, conversation_id=call.conversation_id)),
            summary=(f"Phone identity lockout: {MAX_FAILURES_PER_PATIENT} dates of birth that "
                     "did not match this patient in 24 hours, on one or more calls. Call the "
                     "patient on the number in their record and verify identity before "
                     "discussing any appointment."))
    return True
