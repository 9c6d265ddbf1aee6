"""Fit a reply to its channel: GSM-7 text and numbered choices on SMS, buttons on WhatsApp.

One non-GSM character (a curly quote, an emoji) turns a whole SMS into UCS-2 and more than
halves what fits in a segment, so SMS text is folded to GSM-7 before it is queued.
"""

from __future__ import annotations

import logging
import re
import unicodedata

from api import texts

log = logging.getLogger(__name__)

MAX_BUTTONS_WHATSAPP = 3
SEGMENT_WARNING_THRESHOLD = 3

# The GSM 03.38 default alphabet, and the extension table (each extension char costs 2).
GSM7_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENDED = set("^{}\\[~]|€")

REPLACEMENTS = {
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u2033": '"',
    "\u2013": "-", "\u2014": "-", "\u2012": "-", "\u2212": "-", "\u2010": "-", "\u2011": "-",
    "\u2026": "...", "\u00a0": " ", "\u2009": " ", "\u202f": " ", "\u2022": "-",
    "\u00b7": "-", "\t": " ", "\u2705": "", "\u274c": "",
}


def to_gsm7(text: str) -> str:
    """Replace or drop every character outside GSM-7 (accents folded, emoji removed)."""
    out: list[str] = []
    for char in text:
        if char in GSM7_BASIC or char in GSM7_EXTENDED:
            out.append(char)
            continue
        if char in REPLACEMENTS:
            out.append(REPLACEMENTS[char])
            continue
        folded = unicodedata.normalize("NFKD", char).encode("ascii", "ignore").decode()
        out.append("".join(c for c in folded if c in GSM7_BASIC))
    # Dropped emoji can leave doubled spaces behind.
    return re.sub(r" {2,}", " ", "".join(out)).strip()


def is_gsm7(text: str) -> bool:
    return all(c in GSM7_BASIC or c in GSM7_EXTENDED for c in text)


def sms_segments(text: str) -> int:
    """How many SMS parts Twilio will bill for `text`."""
    if is_gsm7(text):
        units = sum(2 if c in GSM7_EXTENDED else 1 for c in text)
        single, multi = 160, 153
    else:
        units = sum(2 if ord(c) > 0xFFFF else 1 for c in text)  # UTF-16 code units
        single, multi = 70, 67
    if units <= single:
        return 1
    return -(-units // multi)


def numbered_choices(buttons: list[dict]) -> str:
    """Choices as lines a patient can answer with a digit: "1. Tue 16 Jan, 2:30pm"."""
    lines = [f"{i}. {b['title']}" for i, b in enumerate(buttons, start=1)]
    numbers = ", ".join(str(i) for i in range(1, len(buttons))) + f" or {len(buttons)}"
    hint = (texts.text("choices_reply_many", numbers=numbers) if len(buttons) > 1
            else texts.text("choices_reply_one"))
    return "\n".join(lines + [hint])


def render_sms(text: str, buttons: list[dict] | None = None) -> str:
    """The SMS body: text plus numbered choices, folded to GSM-7; warns past 3 segments."""
    body = text if not buttons else f"{text}\n{numbered_choices(buttons)}"
    body = to_gsm7(body)
    segments = sms_segments(body)
    if segments > SEGMENT_WARNING_THRESHOLD:
        log.warning("long SMS", extra={"segments": segments, "characters": len(body)})
    return body


def render_whatsapp(text: str, buttons: list[dict] | None = None) -> tuple[str, list[dict]]:
    """WhatsApp body and at most 3 quick-reply buttons; more choices become numbered lines."""
    if not buttons:
        return text, []
    if len(buttons) <= MAX_BUTTONS_WHATSAPP:
        return text, buttons
    return f"{text}\n{numbered_choices(buttons)}", []
