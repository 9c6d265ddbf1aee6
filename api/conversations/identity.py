"""Identity verification on the conversation record: who is texting, proven by date of birth.

A phone number is not an identity: several patients may share one (parents and children,
carers). So the assistant finds the patients on the conversation's number, asks which person
when there is more than one (by first name, a usual short form of it, or initials, revealing
nothing about anyone), and checks the date of birth. Three failures lock the conversation: a
handover is opened and the worker stops passing its messages to the assistant until staff
resolve it. A successful check lasts `settings.identity_valid_minutes`.

The conversation row is the source of truth (verified_patient_id, verified_until,
failed_identity_attempts); the assistant's own slots only mirror it.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import dateparser
from dateparser.search import search_dates
from rapidfuzz import fuzz
from sqlalchemy import update
from sqlalchemy.orm import Session

from api.config import Settings
from api.conversations import nicknames
from api.conversations import service as conversations_service
from api.conversations.models import Conversation
from api.db import utcnow
from api.handover import service as handover_service
from api.handover.models import HandoverReason, Urgency
from api.messaging import numbers
from api.patients.models import Patient
from api.system import localtime

log = logging.getLogger(__name__)

MAX_FAILED_ATTEMPTS = 3
OLDEST_AGE_YEARS = 120
NAME_MATCH_THRESHOLD = 85

# Day first (British), every part required: "july 1958" or "3/7" is not a date of birth.
# "past": a two-digit year is the most recent one, so "03-07-58" is 1958, not 2058.
_DOB_SETTINGS = {
    "DATE_ORDER": "DMY",
    "PREFER_DATES_FROM": "past",
    "REQUIRE_PARTS": ["day", "month", "year"],
    "RETURN_AS_TIMEZONE_AWARE": False,
}


@dataclass(frozen=True)
class Outcome:
    """What one identity step came to.

    status: "verified", "chosen" (a person was picked on a shared number), "wrong" (did not
    match; counted), "locked" (too many failures; handed over), "unreadable" (no date found;
    not counted), "ambiguous" (the date fits several people on the number: ask which one).
    """

    status: str
    patient_id: int | None = None
    candidate_ids: tuple[int, ...] = ()
    attempts_left: int = 0
    handover_id: int | None = None
    details: dict = field(default_factory=dict)


def parse_dob(text: str, *, today: date) -> date | None:
    """A date of birth in any common format ("3/7/1958", "3rd of july 58"); None if none."""
    cleaned = re.sub(r"\s+", " ", (text or "").strip())
    if not cleaned or not re.search(r"\d", cleaned):
        return None
    found = dateparser.parse(cleaned, languages=["en"], settings=_DOB_SETTINGS)
    if found is None:
        # A date inside a sentence: "its 3/7/58 thanks", "born on the 3rd of July 1958".
        matches = search_dates(cleaned, languages=["en"], settings=_DOB_SETTINGS) or []
        dated = [value for phrase, value in matches if re.search(r"\d", phrase)]
        found = dated[0] if len(dated) == 1 else None
    if found is None:
        return None
    dob = found.date()
    if dob > today:
        return None
    if dob.year < today.year - OLDEST_AGE_YEARS:
        return None
    return dob


def candidates(*, session: Session, conversation: Conversation) -> list[Patient]:
    """The patients whose mobile is the conversation's number, in a stable order."""
    return numbers.patients_on_number(session=session, address=conversation.address)


def needs_person_choice(*, session: Session, conversation: Conversation) -> bool:
    """True when several patients share the number, so we must ask which one is texting."""
    return len(candidates(session=session, conversation=conversation)) > 1


def verified_patient(*, session: Session, conversation: Conversation,
                     now: datetime | None = None) -> Patient | None:
    """The patient this conversation is verified as, while the check is in force."""
    patient_id = conversation.verified_as(now)
    return session.get(Patient, patient_id) if patient_id is not None else None


def is_locked(*, session: Session, conversation: Conversation) -> bool:
    """True while a lockout is waiting for staff.

    Once staff resolve the lockout handover the count starts again: handing the conversation
    back is their decision that the patient may try again.
    """
    if conversation.failed_identity_attempts < MAX_FAILED_ATTEMPTS:
        return False
    if handover_service.open_for_conversation(session=session, conversation_id=conversation.id):
        return True
    conversation.failed_identity_attempts = 0
    session.flush()
    return False


def _name_tokens(text: str) -> list[str]:
    return re.findall(r"[a-z]+(?:['-][a-z]+)*", (text or "").lower())


# A reply that is only initials: "SJ", "s.j.", "S J", "s" (a middle initial may be included).
_INITIALS = re.compile(r"^\s*([a-z])\.?\s*(?:([a-z])\.?\s*)?(?:([a-z])\.?\s*)?$")


def _matches_person(text: str, patient: Patient) -> bool:
    given = patient.given_name.lower()
    family = patient.family_name.lower()
    if any(len(token) >= 2 and fuzz.ratio(token, given) >= NAME_MATCH_THRESHOLD
           for token in _name_tokens(text)):
        return True
    initials = _INITIALS.match((text or "").lower())
    if initials is None:
        return False
    letters = "".join(letter for letter in initials.groups() if letter)
    return letters[0] == given[0] and (len(letters) == 1 or letters[-1] == family[0])


def _matches_short_form(text: str, patient: Patient) -> bool:
    given = patient.given_name.lower()
    return any(nicknames.same_first_name(token, given) for token in _name_tokens(text))


def _record_failure(*, session: Session, settings: Settings, conversation: Conversation,
                    what: str) -> Outcome:
    session.execute(
        update(Conversation).where(Conversation.id == conversation.id)
        .values(failed_identity_attempts=Conversation.failed_identity_attempts + 1)
        .execution_options(synchronize_session=False))
    session.refresh(conversation, ["failed_identity_attempts"])
    attempts = conversation.failed_identity_attempts
    log.info("identity check failed", extra={"conversation_id": conversation.id,
                                             "attempts": attempts, "step": what})
    if attempts >= MAX_FAILED_ATTEMPTS:
        return lock(session=session, settings=settings, conversation=conversation)
    return Outcome("wrong", attempts_left=MAX_FAILED_ATTEMPTS - attempts)


def lock(*, session: Session, settings: Settings, conversation: Conversation,
         reason: str = "failed identity checks") -> Outcome:
    """Stop the assistant for this conversation and hand it to staff."""
    people = candidates(session=session, conversation=conversation)
    conversation.verified_patient_id = None
    conversation.verified_until = None
    summary = (f"Identity lockout: {conversation.failed_identity_attempts} {reason}. "
               f"This number is linked to {len(people)} patient record(s). Please call back "
               "and verify identity before discussing any appointment.")
    handover = handover_service.open_handover(
        session=session, settings=settings, reason=HandoverReason.IDENTITY_LOCKOUT,
        urgency=Urgency.HIGH, created_by="assistant",
        conversation=conversations_service.facts_of(conversation),
        patient_id=people[0].id if len(people) == 1 else None, summary=summary)
    session.flush()
    return Outcome("locked", handover_id=handover.id)


def choose_person(*, session: Session, settings: Settings, conversation: Conversation,
                  text: str) -> Outcome:
    """Pick the person on a shared number by first name or initials (a miss counts)."""
    if is_locked(session=session, conversation=conversation):
        return Outcome("locked")
    people = candidates(session=session, conversation=conversation)
    matched = tuple(p.id for p in people if _matches_person(text, p))
    # Short forms only when nothing matched outright: "will" in "it will be janet" is a word.
    matched = matched or tuple(p.id for p in people if _matches_short_form(text, p))
    if matched:
        return Outcome("chosen", candidate_ids=matched)
    return _record_failure(session=session, settings=settings, conversation=conversation,
                           what="person")


def verify(*, session: Session, settings: Settings, conversation: Conversation,
           patient_id: int, now: datetime | None = None) -> Outcome:
    """Mark the conversation as verified for this patient for the configured time."""
    now = now or utcnow()
    conversation.verified_patient_id = patient_id
    conversation.verified_until = now + timedelta(minutes=settings.identity_valid_minutes)
    conversation.failed_identity_attempts = 0
    session.flush()
    log.info("identity verified", extra={"conversation_id": conversation.id})
    return Outcome("verified", patient_id=patient_id)


def check_dob(*, session: Session, settings: Settings, conversation: Conversation, text: str,
              candidate_ids: tuple[int, ...] | list[int] | None = None,
              now: datetime | None = None) -> Outcome:
    """Check a date of birth against the people on the number (or those already chosen)."""
    if is_locked(session=session, conversation=conversation):
        return Outcome("locked")
    dob = parse_dob(text, today=localtime.local_today(settings, now=now))
    if dob is None:
        return Outcome("unreadable")
    people = candidates(session=session, conversation=conversation)
    if candidate_ids:
        people = [p for p in people if p.id in set(candidate_ids)]
    matched = [p for p in people if p.date_of_birth == dob]
    if len(matched) == 1:
        return verify(session=session, settings=settings, conversation=conversation,
                      patient_id=matched[0].id, now=now)
    if len(matched) > 1:
        # Twins on one phone: the date of birth is right but does not say who is texting.
        return Outcome("ambiguous", candidate_ids=tuple(p.id for p in matched))
    return _record_failure(session=session, settings=settings, conversation=conversation,
                           what="dob")
