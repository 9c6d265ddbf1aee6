"""Twilio's carrier keywords. Never ask a patient to "reply CANCEL": it opts them out."""

from __future__ import annotations

import enum
import re


class Keyword(enum.StrEnum):
    OPT_OUT = "opt_out"
    OPT_IN = "opt_in"
    HELP = "help"


OPT_OUT_WORDS = frozenset(
    {"STOP", "STOPALL", "UNSUBSCRIBE", "END", "QUIT", "REVOKE", "OPTOUT", "CANCEL"}
)
OPT_IN_WORDS = frozenset({"START", "UNSTOP", "YES"})
HELP_WORDS = frozenset({"HELP", "INFO"})
# Acted on by the webhook the moment they arrive, because they change what may be sent. HELP
# changes nothing: the worker answers it in turn, after the inbound rate limit.
CONSENT_KEYWORDS = frozenset({Keyword.OPT_OUT, Keyword.OPT_IN})


def classify(text: str) -> Keyword | None:
    """The keyword a whole message is, if any ("stop", " STOP. " yes; "stop texting me" no).

    Twilio matches the entire body, case-insensitively, ignoring surrounding whitespace
    and punctuation, so we do the same: a patient's "yes" to a question is never an opt-in
    unless the number is opted out (see opt_outs.handle_keyword).
    """
    word = re.sub(r"[\s.!?]+", "", text).upper()
    if not word.isalpha():
        return None
    if word in OPT_OUT_WORDS:
        return Keyword.OPT_OUT
    if word in OPT_IN_WORDS:
        return Keyword.OPT_IN
    if word in HELP_WORDS:
        return Keyword.HELP
    return None
