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
        ("URL-encoded international", "%2B447700900123"),
        ("URL-encoded whatsapp address", "whatsapp%3A%2B447700900123"),
        ("URL-encoded twice", "whatsapp%253A%252B447700900123"),
        ("form-encoded spaces", "%2B44+7700+900123"),
        ("bare international", "447700900123"),
        ("international with 00", "00447700900123"),
        ("URL-encoded national", "07700%20900123"),
        ("URL-encoded NHS number", "943%20476%205919"),
        ("dotted date of birth", "03.07.1958"),
        ("URL-encoded date", "03%2F07%2F1958"),
        ("URL-encoded postcode", "BL1%201AA"),
        ("URL-encoded email", "pat.tester%40example.com"),
    ],
)
def test_each_kind_of_personal_data_is_redacted(kind, text):
    line = redact(f"patient said {text} today")
    assert text not in line, kind
    assert REDACTED in line


@pytest.mark.parametrize("line", [
    '127.0.0.1:54321 - "GET /healthz HTTP/1.1" 200',
    "client 10.20.30.40 via 192.168.10.20",
    "client ::1 and 2001:db8::8a2e:370:7334 and fe80::1ff:fe23:4567:890a",
    "client ::ffff:10.0.0.12 port 8000",
    "turn took 0.123456789012 s",
    "sid SM5f2a9c1e7b3d48a6b0c4e9f1a2d3c4b5",
])
def test_client_addresses_and_ordinary_numbers_stay_readable(line):
    assert redact(line) == line


def test_an_access_log_line_keeps_the_address_and_loses_the_number():
    line = redact('127.0.0.1:54321 - "GET /sandbox/messages?to=whatsapp%3A%2B447700900123'
                  '&dob=1958-07-03 HTTP/1.1" 200')
    assert line.startswith("127.0.0.1:54321 - ")
    assert "447700900123" not in line and "1958" not in line


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
