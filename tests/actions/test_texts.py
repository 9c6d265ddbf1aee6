"""Every text the actions send: GSM-7, short, and never a Twilio keyword as an instruction."""

from __future__ import annotations

import re
import string

import pytest

from api.messaging.render import is_gsm7, sms_segments
from api.texts import catalogue

# Long enough to stand in for any value an action fills in.
SAMPLE = {name: "Tue 16 Jan, 2:30pm, Royal Northshire Infirmary, Outpatients B"
          for name in ("slot",)}
FILL = "Sample value"
# A few texts are long because they list things; everything else fits 2 SMS segments.
ALLOWED_THREE_SEGMENTS = {"booked", "handover_complaint", "offers_fitting",
                          "offers_none_fitting", "health_worry", "sent_to_review",
                          "interpreter_recorded", "your_appointment_place", "explain_service",
                          "identity_locked", "not_understood_handover", "no_other_site"}


def filled(template: str) -> str:
    names = [name for _, name, _, _ in string.Formatter().parse(template) if name]
    return template.format(**{name: SAMPLE.get(name, FILL) for name in names})


@pytest.mark.parametrize("key", sorted(catalogue()))
def test_text_is_gsm7_and_short(key):
    text = filled(catalogue()[key])

    assert is_gsm7(text), f"{key}: non-GSM-7 character makes the whole SMS UCS-2"
    assert sms_segments(text) <= (3 if key in ALLOWED_THREE_SEGMENTS else 2), key


# The answers to the carrier keywords themselves must name them (Twilio's keyword rules).
KEYWORD_ANSWERS = {"keyword_help", "keyword_stop"}


@pytest.mark.parametrize("key", sorted(set(catalogue()) - KEYWORD_ANSWERS))
def test_no_twilio_keyword_as_an_instruction(key):
    text = catalogue()[key]
    keywords = r"STOP|STOPALL|UNSUBSCRIBE|END|QUIT|REVOKE|OPTOUT|CANCEL|START|UNSTOP|HELP"
    assert not re.search(rf"\b(reply|text|send|say)\s+'?({keywords})\b", text, re.IGNORECASE), key
