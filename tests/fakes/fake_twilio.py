"""A fake Twilio REST API on loopback, for the real twilio client to talk to.

It implements the two calls Rebook makes (create a message, list messages) and can
inject 429s, 5xx, slow answers and permanent errors, so retry and pacing behaviour is
tested against real HTTP, real JSON and the real client's error handling.
"""

from __future__ import annotations

import random
import re
import secrets
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlparse

from tests.fakes.loopback import LoopbackServer, QuietJsonHandler

CREATE_PATH = re.compile(r"^/2010-04-01/Accounts/(?P<account>AC\w+)/Messages\.json$")


@dataclass
class FakeTwilioState:
    transient_error_rate: float = 0.0  # share of creates answered 429 or 503
    permanent_errors: dict[str, int] = field(default_factory=dict)  # To -> Twilio error code
    latency_seconds: float = 0.0
    seed: int = 7
    accepted: list[dict] = field(default_factory=list)  # messages Twilio "took"
    attempts: int = 0
    attempt_times: list[float] = field(default_factory=list)  # time.monotonic() of each create
    transient_answers: int = 0
    permanent_answers: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self._random = random.Random(self.seed)

    def roll(self) -> float:
        with self.lock:
            return self._random.random()


class _Handler(QuietJsonHandler):


    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        state = self.server.state
        match = CREATE_PATH.match(urlparse(self.path).path)
        if not match:
            self._json(404, {"code": 20404, "message": "not found", "status": 404})
            return
        length = int(self.headers.get("Content-Length", 0))
        form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
        if state.latency_seconds:
            time.sleep(state.latency_seconds)
        with state.lock:
            state.attempts += 1
            state.attempt_times.append(time.monotonic())
        to = form.get("To", "")
        if to in state.permanent_errors:
            with state.lock:
                state.permanent_answers += 1
            code = state.permanent_errors[to]
            self._json(400, {"code": code, "message": f"error {code}", "status": 400,
                             "more_info": f"https://www.twilio.com/docs/errors/{code}"})
            return
        if state.roll() < state.transient_error_rate:
            with state.lock:
                state.transient_answers += 1
            if state.roll() < 0.5:
                self._json(429, {"code": 20429, "message": "Too Many Requests", "status": 429})
            else:
                self._json(503, {"code": 20503, "message": "Service Unavailable", "status": 503})
            return
        now = datetime.now(UTC)
        message = {
            "sid": f"SM{secrets.token_hex(16)}",
            "account_sid": match["account"],
            "to": to,
            "from": form.get("From") or form.get("MessagingServiceSid"),
            "body": form.get("Body", ""),
            "content_sid": form.get("ContentSid"),
            "status": "queued",
            "status_callback": form.get("StatusCallback"),
            "date_created": now.strftime("%a, %d %b %Y %H:%M:%S +0000"),
            "date_sent": now.strftime("%a, %d %b %Y %H:%M:%S +0000"),
            "error_code": None,
            "num_segments": "1",
            "direction": "outbound-api",
            "uri": f"/2010-04-01/Accounts/{match['account']}/Messages/x.json",
        }
        with state.lock:
            state.accepted.append(message)
        self._json(201, message)

    def do_GET(self) -> None:  # noqa: N802
        state = self.server.state
        parsed = urlparse(self.path)
        if not CREATE_PATH.match(parsed.path):
            self._json(404, {"code": 20404, "message": "not found", "status": 404})
            return
        query = {k: v[0] for k, v in parse_qs(parsed.query).items()}
        with state.lock:
            found = [m for m in state.accepted if m["to"] == query.get("To", m["to"])]
        self._json(200, {"messages": found, "next_page_uri": None, "page": 0,
                         "page_size": len(found), "uri": parsed.path})


class FakeTwilio(LoopbackServer):
    """Context manager: `with FakeTwilio(state) as fake: fake.base_url`."""

    def __init__(self, state: FakeTwilioState | None = None):
        self.state = state or FakeTwilioState()
        super().__init__(_Handler, state=self.state)

    @property
    def base_url(self) -> str:
        return self.url
