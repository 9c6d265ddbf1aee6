"""Talks to the Rasa server's REST channel. Rasa only ever sees the pseudonymous id."""

from __future__ import annotations

from dataclasses import dataclass, field

import httpx


class AssistantUnavailable(Exception):
    """Rasa (or its action server) did not answer usefully in time."""


@dataclass
class AssistantReply:
    text: str
    buttons: list[dict] = field(default_factory=list)


class RasaClient:
    def __init__(self, *, base_url: str, timeout: float, token: str = ""):
        # Rasa's REST channel answers only callers with the shared token (bot/channels.py).
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._client = httpx.Client(base_url=base_url.rstrip("/"), timeout=timeout,
                                    headers=headers)

    def send(self, *, sender_id: str, text: str, metadata: dict | None = None) -> list[AssistantReply]:
        """One turn: the patient's text in, the assistant's replies out."""
        try:
            response = self._client.post(
                "/webhooks/rest/webhook",
                json={"sender": sender_id, "message": text, "metadata": metadata or {}},
            )
            response.raise_for_status()
            items = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise AssistantUnavailable(type(exc).__name__) from exc
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

    def close(self) -> None:
        self._client.close()
