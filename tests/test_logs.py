"""The redaction filter removes each kind of personal data from log lines."""

import io
import json
import logging

import pytest

from api.logs import REDACTED, RedactionFilter, configure_logging, redact


@pytest.mark.parametrize(
    ("kind", "text"),
    [
        ("E.164 mobile", "+447700900123"),
        ("spaced international", "+44 7700 900123"),
        ("whatsapp address", "whatsapp:+447700900123"),
        ("national mobile", "07700 900123"),
        ("national mobile unspaced", "07700900123"),
        ("NHS number", "9434765919"),
        ("spaced NHS number", "943 476 5919"),
        ("date of birth slashes", "3/7/1958"),
        ("date of birth dashes", "03-07-58"),
        ("ISO date", "1958-07-03"),
        ("written date", "3 July 1958"),
        ("ordinal date", "3rd of july 58"),
        ("postcode", "BL1 1AA"),
        ("postcode no space", "sw1a1aa"),
        ("email", "pat.tester@example.com"),
    ],
)
def test_each_kind_of_personal_data_is_redacted(kind, text):
    line = redact(f"patient said {text} today")
    assert text not in line, kind
    assert REDACTED in line


def test_harmless_text_is_left_alone():
    assert redact("worker processed 12 messages in 35 ms") == (
        "worker processed 12 messages in 35 ms"
    )


def _capture(**extra_config):
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactionFilter())
    logger = logging.getLogger("tests.redaction")
    logger.handlers = [handler]
    logger.propagate = False
    logger.setLevel(logging.INFO)
    return logger, stream


def test_arguments_extra_fields_and_bodies_are_scrubbed():
    logger, stream = _capture()
    logger.info(
        "inbound from %s", "+447700900123",
        extra={"to": "whatsapp:+447700900456", "body": "I was born 3/7/1958", "count": 2},
    )
    record_line = stream.getvalue()
    assert "+447700900123" not in record_line
    assert REDACTED in record_line


def test_tracebacks_are_scrubbed():
    logger, stream = _capture()
    try:
        raise ValueError("bad NHS number 9434765918")
    except ValueError:
        logger.exception("lookup failed")
    assert "9434765918" not in stream.getvalue()


def test_json_output_carries_no_personal_data(capsys):
    configure_logging(level="INFO", json=True)
    logging.getLogger("tests.json").warning(
        "reply to %s", "+447700900123", extra={"body": "chest pain", "nhs": "943 476 5919"}
    )
    err = capsys.readouterr().err.strip().splitlines()[-1]
    record = json.loads(err)
    assert record["level"] == "WARNING"
    assert "correlation_id" in record
    for secret in ("+447700900123", "chest pain", "943 476 5919"):
        assert secret not in err
