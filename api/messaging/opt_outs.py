"""Opt-outs and the carrier keywords: who may be written to, and STOP / START / HELP."""

from __future__ import annotations

import logging

from sqlalchemy.orm import Session

from api import texts
from api.config import Settings
from api.db import utcnow
from api.messaging.daily_cap import DAILY_CAP_WINDOW, daily_cap_reached
from api.messaging.history import sent_to_number_since
from api.messaging.keywords import CONSENT_KEYWORDS, Keyword, classify
from api.messaging.models import Message, MessageCategory, MessageStatus, OptOut
from api.messaging.numbers import bare_number, patients_on_number
from api.messaging.outbox import queue_message

log = logging.getLogger(__name__)


# Messages a patient must still get after opting out: the confirmation, safety advice.
SENT_DESPITE_OPT_OUT = frozenset({MessageCategory.SERVICE, MessageCategory.SAFETY_NET,
                                  MessageCategory.OPT_OUT_CONFIRMATION})


def is_opted_out(*, session: Session, address: str) -> bool:
    """True when the number behind `address` has opted out."""
    if session.get(OptOut, bare_number(address)) is not None:
        return True
    patients = patients_on_number(session=session, address=address)
    return bool(patients) and all(p.opted_out for p in patients)


def set_opt_out(*, session: Session, address: str, opted_out: bool) -> int:
    """Opt the number, and every patient on it, out (or back in); how many patient records
    changed."""
    number = bare_number(address)
    recorded = session.get(OptOut, number)
    if opted_out and recorded is None:
        session.add(OptOut(number=number))
    elif not opted_out and recorded is not None:
        session.delete(recorded)
    changed = 0
    for patient in patients_on_number(session=session, address=address):
        if patient.opted_out != opted_out:
            patient.opted_out = opted_out
            patient.opted_out_at = utcnow() if opted_out else None
            changed += 1
    return changed


def help_text(*, settings: Settings) -> str:
    """The answer to HELP: who we are, how to reach a person, where to get urgent help."""
    return texts.text("keyword_help", trust_name=settings.trust_name,
                      phone=settings.bookings_phone)


def handle_keyword(*, session: Session, message_id: int, body: str, settings: Settings) -> bool:
    """Act on STOP / START at once; True when the message was one of them.

    HELP is left to the worker, which answers it after the safety screen and the inbound
    rate limit like any other message.
    """
    keyword = classify(body)
    if keyword not in CONSENT_KEYWORDS:
        return False  # the common case costs no query
    message = session.get(Message, message_id)
    address = message.from_address
    if keyword is Keyword.OPT_IN and not is_opted_out(session=session, address=address):
        return False  # "yes" from a subscribed patient is an answer, not a keyword
    if keyword is Keyword.OPT_OUT:
        set_opt_out(session=session, address=address, opted_out=True)
        text = texts.text("keyword_stop", trust_name=settings.trust_name,
                          phone=settings.bookings_phone)
        category = MessageCategory.OPT_OUT_CONFIRMATION
        # UK practice (and Twilio's own opt-out handling) is one confirmation that a STOP
        # took effect, so the first one a day goes even past the daily cap: the patient must
        # know the messages will stop. Further STOPs that day (a repeated STOP, or STOP and
        # START alternated to run up our bill) are ordinary replies: capped, so the number
        # gets at most its cap plus one.
        uncapped = not sent_to_number_since(
            session=session, address=address, category=category,
            since=utcnow() - DAILY_CAP_WINDOW)
    else:
        set_opt_out(session=session, address=address, opted_out=False)
        text = texts.text("keyword_start", trust_name=settings.trust_name)
        category, uncapped = MessageCategory.SERVICE, False
    message.status = MessageStatus.PROCESSED
    log.info("carrier keyword handled", extra={"keyword": keyword.value, "message_id": message.id})
    if not settings.keyword_replies:
        return True  # Twilio's Advanced Opt-Out confirms instead
    if uncapped or not daily_cap_reached(session=session, settings=settings, address=address):
        queue_message(session=session, settings=settings, channel=message.channel,
                      to_address=address, text=text, category=category, reply_to=message)
    else:
        log.info("keyword confirmation withheld: daily cap reached",
                 extra={"message_id": message.id})
    return True
