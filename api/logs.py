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

_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("email", re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")),
    # International (+44 7700 900123, whatsapp:+447700900123) and UK national (07700 900123).
    ("phone", re.compile(r"(?:whatsapp:)?\+(?:[ \-]?\d){9,14}(?!\d)")),
    ("phone", re.compile(r"(?<!\d)0(?:[ \-]?\d){9,10}(?!\d)")),
    # NHS number: 10 digits, optionally spaced 3-3-4.
    ("nhs", re.compile(r"(?<!\d)\d{3}[ \-]?\d{3}[ \-]?\d{4}(?!\d)")),
    # Dates: 3/7/1958, 03-07-58, 1958-07-03, 3 July 1958, 3rd of july 58.
    ("date", re.compile(r"(?<!\d)\d{1,4}[/\-.]\d{1,2}[/\-.]\d{2,4}(?!\d)")),
    (
        "date",
        re.compile(
            r"(?i)\b\d{1,2}(?:st|nd|rd|th)?(?:\s+of)?\s+"
            r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?\s+\d{2,4}\b"
        ),
    ),
    # UK postcodes: BL1 1AA, M1 1AE, SW1A 1AA.
    ("postcode", re.compile(r"(?i)\b[A-Z]{1,2}\d[A-Z\d]?\s*\d[A-Z]{2}\b")),
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


def configure_logging(*, level: str = "INFO", json: bool = True) -> None:
    """Install one stderr handler with redaction on the root logger (idempotent)."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_rebook", False):
            root.removeHandler(handler)
    handler = build_handler(sys.stderr, json=json)
    handler._rebook = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per request is noise
    logging.getLogger("twilio.http_client").setLevel(logging.WARNING)  # logs To and Body
    # Uvicorn's access log prints query strings (/sandbox/messages?to=+44...): route it
    # through our redacting handler instead of its own.
    for name in ("uvicorn", "uvicorn.access", "uvicorn.error"):
        logging.getLogger(name).handlers.clear()
        logging.getLogger(name).propagate = True
