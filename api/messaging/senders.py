"""Where outbound messages go: the sandbox record, or Twilio's REST API."""

from __future__ import annotations

import json
import secrets
import smtplib
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Protocol

import requests
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from api.config import Settings
from api.messaging.models import Message, MessageStatus

TWILIO_API = "https://api.twilio.com"
REST_TIMEOUT_SECONDS = 10.0

# Errors that will fail the same way every time: never retried.
PERMANENT_ERROR_CODES = frozenset({
    21211,  # invalid 'To' number
    21408,  # region not enabled
    21610,  # recipient opted out (STOP)
    21612,  # cannot route to this number
    21614,  # not a mobile number
    30005,  # unknown destination
    30006,  # landline or unreachable carrier
    63014,  # WhatsApp recipient opted out / blocked
    63016,  # WhatsApp free-form outside the 24-hour window
})


@dataclass(frozen=True)
class SendResult:
    status: MessageStatus
    sid: str | None = None
    error_code: int | None = None
    retryable: bool = False


class SendFailed(Exception):
    """A send that may succeed if tried again (429, 5xx, timeout)."""

    def __init__(self, error_code: int | None, detail: str):
        super().__init__(detail)
        self.error_code = error_code


class Sender(Protocol):
    def send(self, message: Message) -> SendResult: ...

    def find_sent(self, message: Message, since: datetime) -> list[str]: ...


class SandboxSender:
    """Records instead of sending: the message is 'delivered' at once."""

    def send(self, message: Message) -> SendResult:
        return SendResult(status=MessageStatus.DELIVERED, sid=f"SB{secrets.token_hex(16)}")

    def find_sent(self, message: Message, since: datetime) -> list[str]:
        return []  # nothing ever left this machine


class _RebasedHttpClient(TwilioHttpClient):
    """Sends Twilio's REST calls to another base URL (a fake Twilio in tests)."""

    def __init__(self, base_url: str, **kwargs):
        super().__init__(**kwargs)
        self._base_url = base_url.rstrip("/")

    def request(self, method, url, *args, **kwargs):
        if url.startswith(TWILIO_API):
            url = self._base_url + url[len(TWILIO_API):]
        return super().request(method, url, *args, **kwargs)


class TwilioSender:
    """The real twilio client. Raises SendFailed for errors worth retrying."""

    def __init__(self, settings: Settings):
        self._settings = settings
        kwargs = {"timeout": REST_TIMEOUT_SECONDS}
        http_client = (_RebasedHttpClient(settings.twilio_api_base_url, **kwargs)
                       if settings.twilio_api_base_url else TwilioHttpClient(**kwargs))
        self._client = Client(settings.twilio_account_sid,
                              settings.twilio_auth_token.get_secret_value(),
                              http_client=http_client)
        self._status_callback = settings.public_base_url.rstrip("/") + "/twilio/status"

    def send(self, message: Message) -> SendResult:
        params: dict = {"to": message.to_address, "status_callback": self._status_callback}
        if self._settings.twilio_messaging_service_sid and message.channel == "sms":
            params["messaging_service_sid"] = self._settings.twilio_messaging_service_sid
        else:
            params["from_"] = message.from_address
        if message.content_sid:
            params["content_sid"] = message.content_sid
            params["content_variables"] = json.dumps(message.content_variables or {})
        else:
            params["body"] = message.body
        try:
            created = self._client.messages.create(**params)
        except TwilioRestException as exc:
            if exc.status == 429 or exc.status >= 500:
                raise SendFailed(exc.code, f"Twilio answered {exc.status}") from exc
            permanent = exc.code in PERMANENT_ERROR_CODES or 400 <= exc.status < 500
            return SendResult(status=MessageStatus.FAILED, error_code=exc.code,
                              retryable=not permanent)
        except (requests.RequestException, TwilioException) as exc:
            raise SendFailed(None, type(exc).__name__) from exc
        return SendResult(status=MessageStatus.SENT, sid=created.sid)

    def find_sent(self, message: Message, since: datetime) -> list[str]:
        """SIDs of messages Twilio took that could be this row's (a crash hid the answer)."""
        try:
            candidates = self._client.messages.list(to=message.to_address,
                                                    date_sent_after=since, limit=200)
        except (TwilioRestException, requests.RequestException, TwilioException):
            raise SendFailed(None, "could not list sent messages") from None
        return [c.sid for c in candidates
                if c.body == message.body and c.from_ == message.from_address]


class SmtpSender:
    """Email over SMTP (campaign letters to patients with no mobile)."""

    def __init__(self, settings: Settings):
        self._settings = settings

    def send(self, message: Message) -> SendResult:
        if not self._settings.smtp_host:
            return SendResult(status=MessageStatus.FAILED, error_code=None)
        email = EmailMessage()
        email["From"] = message.from_address
        email["To"] = message.to_address
        email["Subject"] = message.subject or self._settings.trust_name
        email["Message-ID"] = make_msgid(domain="rebook.invalid")
        email.set_content(message.body)
        try:
            with smtplib.SMTP(self._settings.smtp_host, self._settings.smtp_port,
                              timeout=REST_TIMEOUT_SECONDS) as smtp:
                if self._settings.smtp_starttls:
                    smtp.starttls()
                if self._settings.smtp_username:
                    smtp.login(self._settings.smtp_username,
                               self._settings.smtp_password.get_secret_value())
                smtp.send_message(email)
        except smtplib.SMTPRecipientsRefused:
            return SendResult(status=MessageStatus.FAILED)
        except (smtplib.SMTPException, OSError) as exc:
            raise SendFailed(None, type(exc).__name__) from exc
        return SendResult(status=MessageStatus.SENT, sid=email["Message-ID"])

    def find_sent(self, message: Message, since: datetime) -> list[str]:
        return []  # SMTP cannot be asked; an interrupted email may go twice


class ChannelSender:
    """Texts through one sender, email through another."""

    def __init__(self, texts: Sender, email: Sender):
        self._texts, self._email = texts, email

    def _for(self, message: Message) -> Sender:
        return self._email if message.channel == "email" else self._texts

    def send(self, message: Message) -> SendResult:
        return self._for(message).send(message)

    def find_sent(self, message: Message, since: datetime) -> list[str]:
        return self._for(message).find_sent(message, since)


def make_sender(settings: Settings) -> Sender:
    """Sandbox records everything; twilio mode sends texts by Twilio and email by SMTP."""
    if settings.messaging_mode != "twilio":
        return SandboxSender()
    return ChannelSender(TwilioSender(settings), SmtpSender(settings))
