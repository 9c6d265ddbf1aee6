"""Structured JSON logs that never carry personal data.

Personal data must not reach a log line even when a developer slips: the
`RedactionFilter` sits on the root handler and scrubs phone numbers, NHS
numbers, dates (of birth), postcodes and email addresses from the message, its
arguments and any `extra` fields, and drops fields that hold message bodies.
"""

from __future__ import annotations

import logging
import re
import sys
import uuid
from contextvars import ContextVar

from pythonjsonlogger.json import JsonFormatter

correlation_id: ContextVar[str] = ContextVar("correlation_id", default="-")

REDACTED = "[redacted]"

# Fields whose value is free text from or to a patient: dropped whatever they hold.
BODY_FIELDS = frozenset({"body", "Body", "message_body", "text", "reply", "patient_text"})

# A digit separator as it appears in free text and in URL-encoded query strings
# (%20 for a space, "+" for a space in form encoding).
_SEP = r"(?:[ \-]|%20|\+)?"
# "+" itself, also URL-encoded (%2B) or encoded twice (%252B, a URL inside a URL).
_PLUS = r"(?:\+|%(?:25)?2[Bb])"

_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("email", re.compile(r"[\w.+-]+(?:@|%40)[\w-]+(?:\.[\w-]+)+")),
    # International (+44 7700 900123, whatsapp:+447700900123), also URL-encoded
    # (%2B447700900123, whatsapp%3A%2B447700900123).
    ("phone", re.compile(rf"(?i:whatsapp(?::|%(?:25)?3A))?{_PLUS}(?:{_SEP}\d){{9,14}}(?!\d)")),
    # UK national (07700 900123, 07700%20900123).
    ("phone", re.compile(rf"(?<![\d.])0(?:{_SEP}\d){{9,10}}(?!\d)")),
    # Bare international, the "+" dropped (447700900123, 00447700900123): 11 to 15 digits
    # in a row. Not after a "." so a long decimal fraction (0.123456789012) is left alone.
    ("phone", re.compile(r"(?<![\d.])(?:00)?[1-9]\d{10,14}(?!\d)")),
    # NHS number: 10 digits, optionally spaced 3-3-4.
    ("nhs", re.compile(rf"(?<!\d)\d{{3}}{_SEP}\d{{3}}{_SEP}\d{{4}}(?!\d)")),
    # Dates: 3/7/1958, 03-07-58, 1958-07-03, 03.07.1958 (one separator throughout). Not part
    # of a longer dotted run, so client addresses (127.0.0.1, 10.20.30.40) stay readable.
    ("date", re.compile(r"(?<![\d.])\d{1,4}([/\-.])\d{1,2}\1\d{2,4}(?!\d|\.\d)")),
    # The same, URL-encoded (3%2F7%2F1958).
    ("date", re.compile(r"(?i)(?<!\d)\d{1,4}%2F\d{1,2}%2F\d{2,4}(?!\d)")),
    (
        "date",
        re.compile(
            r"(?i)\b\d{1,2}(?:st|nd|rd|th)?(?:\s+of)?\s+"
            r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?\s+\d{2,4}\b"
        ),
    ),
    # UK postcodes: BL1 1AA, M1 1AE, SW1A 1AA (and BL1%201AA, BL1+1AA in a query string).
    ("postcode", re.compile(r"(?i)\b[A-Z]{1,2}\d[A-Z\d]?(?:\s*|%20|\+)\d[A-Z]{2}\b")),
]


def redact(text: str) -> str:
    """Replace every piece of personal data the patterns recognise."""
    for _kind, pattern in _PATTERNS:
        text = pattern.sub(REDACTED, text)
    return text


def _redact_value(value: object) -> object:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {k: REDACTED if k in BODY_FIELDS else _redact_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_redact_value(v) for v in value)
    return value


# Attributes every LogRecord has; anything else came in through `extra=`.
_STANDARD_ATTRS = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


class RedactionFilter(logging.Filter):
    """Scrubs personal data from every record that passes through."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage())
        record.args = None
        for key in list(vars(record)):
            if key in _STANDARD_ATTRS:
                continue
            value = getattr(record, key)
            setattr(record, key, REDACTED if key in BODY_FIELDS else _redact_value(value))
        if record.exc_info:
            # Tracebacks quote values (a bad NHS number in a ValueError); render and scrub,
            # then drop the live exception so no formatter renders it unscrubbed.
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        elif record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True


class CorrelationFilter(logging.Filter):
    """Stamps the current correlation id (webhook to reply) on each record."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.correlation_id = correlation_id.get()
        return True


def new_correlation_id() -> str:
    value = uuid.uuid4().hex[:16]
    correlation_id.set(value)
    return value


def build_handler(stream, *, json: bool = True) -> logging.Handler:
    """A handler that stamps correlation ids and redacts, writing JSON (or plain) lines."""
    handler = logging.StreamHandler(stream)
    handler.addFilter(CorrelationFilter())
    handler.addFilter(RedactionFilter())
    if json:
        handler.setFormatter(
            JsonFormatter(
                "%(asctime)s %(levelname)s %(name)s %(message)s %(correlation_id)s",
                rename_fields={"levelname": "level", "asctime": "time", "name": "logger"},
            )
        )
    else:
        handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)s %(name)s [%(correlation_id)s] %(message)s")
        )
    return handler


# Loggers that frameworks give their own handlers or stop from propagating (uvicorn's access
# log prints query strings such as /sandbox/messages?to=+44...; sanic's loggers, in the action
# server, propagate to nothing and would fall through to Python's unfiltered last resort).
_FRAMEWORK_LOGGERS = ("uvicorn", "uvicorn.access", "uvicorn.error", "sanic.root", "sanic.error",
                      "sanic.access", "sanic.server", "sanic.websockets")


def configure_logging(*, level: str = "INFO", json: bool = True,
                      replace_handlers: bool = False) -> None:
    """Install one stderr handler with redaction on the root logger (idempotent).

    `replace_handlers` first removes every root handler, for a process whose framework
    installed its own unfiltered one (the rasa-sdk action server installs coloredlogs).
    """
    root = logging.getLogger()
    for handler in list(root.handlers):
        if replace_handlers or getattr(handler, "_rebook", False):
            root.removeHandler(handler)
    handler = build_handler(sys.stderr, json=json)
    handler._rebook = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per request is noise
    logging.getLogger("twilio.http_client").setLevel(logging.WARNING)  # logs To and Body
    for name in _FRAMEWORK_LOGGERS:
        logging.getLogger(name).handlers.clear()
        logging.getLogger(name).propagate = True
