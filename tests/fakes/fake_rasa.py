"""A stand-in Rasa REST channel for gateway tests that are not about the dialogue.

The assistant's own behaviour is tested against the really trained model (tests/e2e);
these tests are about ordering, retries and crashes, so the reply is a simple echo that
lets a test see exactly which message each reply answers.
"""

from __future__ import annotations

import json
import threading
import time

from api.conversations.rasa_client import AssistantReply
from tests.fakes.loopback import LoopbackServer, QuietJsonHandler


class EchoAssistant:
    """In-process: answers "echo: <text>"; records the order it saw messages in."""

    def __init__(self, delay: float = 0.0):
        self.delay = delay
        self.seen: list[tuple[str, str]] = []
        self._lock = threading.Lock()

    def send(self, *, sender_id: str, text: str, metadata: dict | None = None):
        with self._lock:
            self.seen.append((sender_id, text))
        if self.delay:
            time.sleep(self.delay)
        return [AssistantReply(text=f"echo: {text}")]


class _Handler(QuietJsonHandler):


    def do_POST(self) -> None:  # noqa: N802
        payload = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        time.sleep(self.server.delay)
        self._json(200, [{"recipient_id": payload["sender"],
                          "text": f"echo: {payload['message']}"}])


class EchoRasaServer(LoopbackServer):
    """A loopback HTTP server speaking Rasa's REST channel, for worker subprocesses."""

    def __init__(self, delay: float = 0.0):
        super().__init__(_Handler, delay=delay)


class _ScriptedHandler(QuietJsonHandler):
    def do_POST(self) -> None:  # noqa: N802
        payload = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        replies = self.server.turn(payload)
        try:
            self._json(200, [{"recipient_id": payload["sender"], **reply} for reply in replies])
        except OSError:
            pass  # the worker that asked was killed meanwhile: nobody reads the answer


class ScriptedRasaServer(LoopbackServer):
    """Rasa's REST channel whose every turn is `turn(payload) -> [{"text", "buttons"}]`:
    a test runs real actions there, and may hold a turn at any point."""

    def __init__(self, turn):
        super().__init__(_ScriptedHandler, turn=turn)
