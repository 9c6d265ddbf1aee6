"""Build Twilio requests the way Twilio does, with real signatures."""

from __future__ import annotations

import itertools
import secrets

from twilio.request_validator import RequestValidator

from tests.conftest import TEST_AUTH_TOKEN, TEST_PUBLIC_BASE_URL

_sids = itertools.count(1)


def new_sid() -> str:
    return f"SM{secrets.token_hex(12)}{next(_sids):08d}"


def inbound_form(*, from_: str, body: str, to: str = "+447700900000", sid: str | None = None,
                 **extra: str) -> dict[str, str]:
    form = {"MessageSid": sid or new_sid(), "AccountSid": "ACtest", "From": from_, "To": to,
            "Body": body, "NumMedia": "0"}
    form.update(extra)
    return form


def signature_for(form: dict[str, str], *, path: str = "/twilio/messages",
                  base_url: str = TEST_PUBLIC_BASE_URL, token: str = TEST_AUTH_TOKEN) -> str:
    return RequestValidator(token).compute_signature(base_url + path, form)


def post_signed(client, form: dict[str, str], *, path: str = "/twilio/messages", **kwargs):
    """POST as Twilio would (client may be a TestClient or an httpx.Client)."""
    headers = {"X-Twilio-Signature": signature_for(form, path=path, **kwargs)}
    return client.post(path, data=form, headers=headers)
