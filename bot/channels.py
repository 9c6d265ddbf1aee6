"""The one input channel the Rasa server opens: Rasa's REST channel behind a shared token.

Runs inside the Rasa environment (Python 3.10), named in bot/credentials.yml; bot/run_rasa.sh
puts the repository on PYTHONPATH so Rasa can import it. Patients never reach Rasa: only the
app's worker posts here, presenting `Authorization: Bearer $ASSISTANT_TOKEN`. Without the
token anyone who could reach the port could hold a conversation as any conversation id, and
through it ask the action server for a patient's appointments.

Rasa is started without --enable-api, so this channel's routes and Rasa's "hello" root are
all it serves; /webhooks/rest/ready reports whether the model is loaded (for readiness).
"""

from __future__ import annotations

import hmac
import os
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.request import Request


class TokenRestInput(RestInput):
    """Rasa's REST channel, answering only callers that present the shared token."""

    @classmethod
    def name(cls) -> str:
        return "rest"  # keeps the URL the worker posts to: /webhooks/rest/webhook

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> TokenRestInput:
        token = os.environ.get("ASSISTANT_TOKEN", "")
        if not token and os.environ.get("ENVIRONMENT") == "production":
            raise SystemExit("Rasa refuses to start: ASSISTANT_TOKEN must be set in production")
        return cls(token=token)

    def __init__(self, token: str = "") -> None:
        self._expected = f"Bearer {token}".encode() if token else b""

    def blueprint(
        self, on_new_message: Callable[[UserMessage], Awaitable[None]]
    ) -> Blueprint:
        webhook = super().blueprint(on_new_message)
        expected = self._expected

        @webhook.middleware("request")
        async def require_token(request: Request) -> response.HTTPResponse | None:
            if not expected or not request.path.endswith("/webhook"):
                return None
            given = request.headers.get("Authorization", "").encode()
            if not hmac.compare_digest(given, expected):
                return response.json({"detail": "missing or wrong assistant token"}, status=401)
            return None

        @webhook.route("/ready", methods=["GET"])
        async def ready(request: Request) -> response.HTTPResponse:
            agent = getattr(request.app.ctx, "agent", None)
            if agent is None or not agent.is_ready():
                return response.json({"status": "no model loaded"}, status=503)
            return response.json({"status": "ready"})

        return webhook
