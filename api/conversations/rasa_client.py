"""Talks to the Rasa server's REST channel. Rasa only ever sees the pseudonymous id.

RASA_URL may name several Rasa servers, comma-separated, sharing one Redis tracker store and
lock store (bot/endpoints.redis.yml): any of them can take any conversation's turn. Turns are
spread over them in turn, and a turn moves on to the next server only when the one it asked
certainly did not take it (see `_may_try_another`).
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from dataclasses import dataclass, field

import httpx

from api.config import split_urls

log = logging.getLogger(__name__)

# A server that failed is left out of the rotation this long, so turns do not each pay for a
# refused connection while it restarts; when every server is resting, all are tried anyway.
COOLDOWN_SECONDS = 10.0
# Connecting is all a server that is down costs a turn: in a cluster it takes milliseconds,
# so a server that has not accepted within this long is taken as down. A turn therefore
# lasts at most this per server plus RASA_TIMEOUT_SECONDS, which must stay well under
# WORKER_LEASE_SECONDS (the lease is not renewed during a turn: a turn outliving it could be
# taken and answered by a second worker).
CONNECT_TIMEOUT_SECONDS = 2.0
# Rasa's answer that it did not take the turn (no model loaded yet, shutting down; a proxy
# in front of it with no healthy upstream). 502 and 504 are not here: a gateway says those
# after the request may have reached Rasa.
NOT_TAKEN_STATUSES = frozenset({503})


class AssistantUnavailable(Exception):
    """Rasa (or its action server) did not answer usefully in time."""


@dataclass
class AssistantReply:
    text: str
    buttons: list[dict] = field(default_factory=list)


def _may_try_another(exc: Exception) -> bool:
    """Whether the turn certainly never reached Rasa, so another server may take it.

    Only then: a turn Rasa received may already be in the shared tracker. Rasa saves the
    tracker once, at the end of the turn, and the actions are keyed by the inbound message
    (api/conversations/turns.py), but a server that timed out is usually still working, and
    one that dropped the connection may have died just after saving. Sent again elsewhere,
    the patient's words would be in the dialogue twice (a "yes" answering two questions),
    and the second server would first wait for the first one's conversation lock (Rasa's
    ticket lock: up to 60 s for a dead server's). Those turns get the holding reply and a
    handover instead (api/flows/inbound_turn.py), which is always safe.
    """
    if isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout):
        return True  # no connection, so no request: the common case of a dead server
    return (isinstance(exc, httpx.HTTPStatusError)
            and exc.response.status_code in NOT_TAKEN_STATUSES)


class RasaClient:
    def __init__(self, *, base_url: str, timeout: float, token: str = ""):
        """`base_url`: one Rasa server's URL or several, comma-separated (RASA_URL)."""
        self.urls = split_urls(base_url)
        if not self.urls:
            raise ValueError("RASA_URL names no Rasa server")
        # Rasa's REST channel answers only callers with the shared token (bot/channels.py).
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        # A fresh connection per turn: a kept-alive one that a restarting server closes just
        # as a turn is sent fails like a server dying mid-turn, which is not retried; a fresh
        # one to a server that has stopped listening is refused, which is (a loopback or
        # in-cluster connect costs well under a millisecond, a turn a hundred or more).
        self._client = httpx.Client(timeout=httpx.Timeout(
                                        timeout, connect=min(timeout, CONNECT_TIMEOUT_SECONDS)),
                                    headers=headers,
                                    limits=httpx.Limits(max_keepalive_connections=0))
        self._next = itertools.count()
        self._resting_until: dict[str, float] = {}
        self._lock = threading.Lock()  # the worker's turn threads share one client

    def send(self, *, sender_id: str, text: str,
             metadata: dict | None = None) -> list[AssistantReply]:
        """One turn: the patient's text in, the assistant's replies out."""
        payload = {"sender": sender_id, "message": text, "metadata": metadata or {}}
        for url in self._order():
            try:
                response = self._client.post(f"{url}/webhooks/rest/webhook", json=payload)
                response.raise_for_status()
                items = response.json()
            except (httpx.HTTPError, ValueError) as exc:
                if not isinstance(exc, httpx.HTTPStatusError) or exc.response.status_code >= 500:
                    self._rest(url)
                if isinstance(exc, httpx.HTTPError) and _may_try_another(exc):
                    log.warning("Rasa server did not take the turn; trying the next",
                                extra={"error": type(exc).__name__, "rasa_url": url})
                    continue
                raise AssistantUnavailable(type(exc).__name__) from exc
            return _replies(items)
        raise AssistantUnavailable("no Rasa server took the turn")

    def _order(self) -> list[str]:
        """Every server once, starting with the next in rotation; resting ones last."""
        start = next(self._next) % len(self.urls)
        rotated = self.urls[start:] + self.urls[:start]
        now = time.monotonic()
        with self._lock:
            resting = {u for u, until in self._resting_until.items() if until > now}
        return [u for u in rotated if u not in resting] + [u for u in rotated if u in resting]

    def _rest(self, url: str) -> None:
        with self._lock:
            self._resting_until[url] = time.monotonic() + COOLDOWN_SECONDS

    def close(self) -> None:
        self._client.close()


def _replies(items) -> list[AssistantReply]:
    replies = [
        AssistantReply(
            text=item.get("text") or "",
            buttons=[{"title": b.get("title", ""), "payload": b.get("payload", "")}
                     for b in item.get("buttons") or []],
        )
        for item in items
        if isinstance(item, dict) and (item.get("text") or item.get("buttons"))
    ]
    if not replies:
        # Every turn of our bot answers; silence means the action server failed.
        raise AssistantUnavailable("empty reply")
    return replies
