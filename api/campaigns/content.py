"""What a campaign says and by which route each patient hears it.

A first message carries no name, no specialty and no clinical detail (the phone may not be
the patient's), and never asks anyone to "reply CANCEL" (a carrier opt-out word).
"""

from __future__ import annotations

import re
import string

from api import texts
from api.campaigns.models import CallReason, RecipientRoute
from api.config import Settings
from api.messaging.keywords import OPT_OUT_WORDS
from api.patients.models import Patient

PLACEHOLDERS = frozenset({"trust_name", "bookings_phone"})
DEFAULT_SMS_TEMPLATE = texts.template("campaign_first_message")

# The limits every way in shares (API schema, console form, CLI): the text message template
# stays within 4 SMS segments even before its placeholders are filled.
NAME_MAX_LENGTH = 120
SMS_TEMPLATE_MAX_LENGTH = 640
EMAIL_SUBJECT_MAX_LENGTH = 200
EMAIL_TEMPLATE_MAX_LENGTH = 10_000

# The rules `check_template` enforces, in words for staff (the console form, the CLI's help).
CONTENT_RULES = (
    f"At most {SMS_TEMPLATE_MAX_LENGTH} characters.",
    "No names, specialties or clinical detail: the phone may not be the patient's.",
    "Placeholders allowed: {trust_name} and {bookings_phone} (filled in when sent).",
    'Never ask patients to "reply STOP", "reply CANCEL" or another opt-out word: '
    "it would opt them out.",
    "Curly quotes, dashes, accents and emoji are replaced with plain characters before a "
    "text message is sent.",
)


class ContentError(ValueError):
    """A template that must not be sent."""


def check_sms_template(template: str) -> None:
    """A text message template: the common rules plus the length limit."""
    if len(template) > SMS_TEMPLATE_MAX_LENGTH:
        raise ContentError(f"the text message template is {len(template)} characters; "
                           f"the limit is {SMS_TEMPLATE_MAX_LENGTH}")
    check_template(template)


def check_template(template: str) -> None:
    """Refuse unknown placeholders (names, clinical detail) and carrier keywords."""
    try:
        # `{}` has the name "" (and would fail when sent): it is unknown like any other.
        fields = {name for _, name, _, _ in string.Formatter().parse(template)
                  if name is not None}
    except ValueError as exc:  # an unpaired brace: it would fail when sent
        raise ContentError("curly brackets { } are only for the placeholders {trust_name} "
                           "and {bookings_phone}") from exc
    unknown = fields - PLACEHOLDERS
    if unknown:
        raise ContentError(
            f"template may only use {sorted(PLACEHOLDERS)}; first messages carry no personal "
            f"or clinical detail (found {sorted(unknown)})")
    for word in OPT_OUT_WORDS:
        if re.search(rf"\breply\s+{word}\b", template, re.IGNORECASE):
            raise ContentError(f'never ask patients to "reply {word}": it opts them out')
    if not template.strip():
        raise ContentError("the template is empty")


def render(template: str, *, settings: Settings) -> str:
    """Fill the template's placeholders with the trust's details."""
    return template.format(trust_name=settings.trust_name, bookings_phone=settings.bookings_phone)


def choose_route(*, patient: Patient, whatsapp_template: bool) -> tuple[RecipientRoute, str | None,
                                                                        CallReason | None]:
    """WhatsApp where opted in, else SMS, else email; otherwise the staff call list."""
    if patient.opted_out:
        return RecipientRoute.CALL_LIST, None, CallReason.OPTED_OUT
    if patient.restricted:
        return RecipientRoute.CALL_LIST, None, CallReason.RESTRICTED_RECORD
    if not patient.text_is_accessible:
        return RecipientRoute.CALL_LIST, None, CallReason.COMMUNICATION_NEEDS
    if patient.mobile and patient.whatsapp_opt_in and whatsapp_template:
        return RecipientRoute.WHATSAPP, f"whatsapp:{patient.mobile}", None
    if patient.mobile:
        return RecipientRoute.SMS, patient.mobile, None
    if patient.email:
        return RecipientRoute.EMAIL, patient.email, None
    return RecipientRoute.CALL_LIST, None, CallReason.NO_CONTACT_ROUTE
