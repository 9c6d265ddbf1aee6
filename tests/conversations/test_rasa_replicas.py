"""Several Rasa servers in RASA_URL: turns spread over them and move on from one that is down,
but never from one that may have taken the turn. Real HTTP servers on loopback."""

from __future__ import annotations

import json
import time

import pytest

from api.conversations import rasa_client
from api.conversations.rasa_client import AssistantUnavailable, RasaClient
from tests.fakes.loopback import LoopbackServer, QuietJsonHandler
from tests.processes import free_port


class _Handler(QuietJsonHandler):
    def do_POST(self) -> None:  # noqa: N802
        payload = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.server.seen.append(payload["message"])
        time.sleep(self.server.delay)
        if self.server.status != 200:
            self._json(self.server.status, {"error": "unavailable"})
            return
        self._json(200, [{"recipient_id": payload["sender"],
                          "text": f"{self.server.name}: {payload['message']}"}])


class RasaReplica(LoopbackServer):
    """A Rasa REST channel that answers `<name>: <text>`, or `status`, after `delay`."""

    def __init__(self, name: str, status: int = 200, delay: float = 0.0):
        self.seen: list[str] = []
        super().__init__(_Handler, name=name, status=status, delay=delay, seen=self.seen)


def _dead_url() -> str:
    return f"http://127.0.0.1:{free_port()}"  # nothing listens there


def _client(*urls: str, timeout: float = 2.0) -> RasaClient:
    return RasaClient(base_url=",".join(urls), timeout=timeout)


def _turn(client: RasaClient, text: str) -> str:
    [reply] = client.send(sender_id="c0ffee", text=text)
    return reply.text


def test_first_server_down_the_second_answers():
    with RasaReplica("b") as b:
        client = _client(_dead_url(), b.url)
        assert [_turn(client, f"hi {i}") for i in range(4)] == [f"b: hi {i}" for i in range(4)]
    assert b.seen == ["hi 0", "hi 1", "hi 2", "hi 3"]


def test_every_server_down_is_assistant_unavailable():
    client = _client(_dead_url(), _dead_url())
    with pytest.raises(AssistantUnavailable):
        client.send(sender_id="c0ffee", text="hi")


def test_a_server_answering_503_did_not_take_the_turn_so_the_next_does():
    with RasaReplica("a", status=503) as a, RasaReplica("b") as b:
        client = _client(a.url, b.url)
        assert _turn(client, "hi") == "b: hi"
    assert a.seen == ["hi"] and b.seen == ["hi"]


@pytest.mark.parametrize("status", [500, 502, 504])
def test_a_server_that_may_have_taken_the_turn_is_not_asked_again_elsewhere(status):
    # A 500 is Rasa failing mid-turn; 502/504 come from a gateway after the request may have
    # reached Rasa: the turn may be in the shared tracker already.
    with RasaReplica("a", status=status) as a, RasaReplica("b") as b:
        client = _client(a.url, b.url)
        with pytest.raises(AssistantUnavailable):
            client.send(sender_id="c0ffee", text="hi")
    assert a.seen == ["hi"] and b.seen == []


def test_a_timed_out_turn_is_not_sent_to_another_server():
    with RasaReplica("a", delay=1.0) as a, RasaReplica("b") as b:
        client = _client(a.url, b.url, timeout=0.3)
        with pytest.raises(AssistantUnavailable, match="ReadTimeout"):
            client.send(sender_id="c0ffee", text="hi")
    assert a.seen == ["hi"] and b.seen == []


def test_healthy_servers_share_the_turns():
    with RasaReplica("a") as a, RasaReplica("b") as b:
        client = _client(a.url, b.url)
        for i in range(6):
            _turn(client, f"hi {i}")
    assert len(a.seen) == len(b.seen) == 3


def test_a_failed_server_rests_for_the_cooldown_then_rejoins(monkeypatch):
    monkeypatch.setattr(rasa_client, "COOLDOWN_SECONDS", 0.5)
    with RasaReplica("a", status=503) as a, RasaReplica("b") as b:
        client = _client(a.url, b.url)
        for i in range(4):
            assert _turn(client, f"hi {i}") == f"b: hi {i}"
        assert a.seen == ["hi 0"]  # asked once, then left out while resting
        time.sleep(0.6)
        a.seen.clear()
        for i in range(2):
            _turn(client, f"again {i}")
        assert a.seen  # back in the rotation


def test_when_every_server_rests_all_are_still_tried():
    with RasaReplica("a", status=503) as a, RasaReplica("b", status=503) as b:
        client = _client(a.url, b.url)
        with pytest.raises(AssistantUnavailable):
            client.send(sender_id="c0ffee", text="one")
        a._server.status = 200
        assert _turn(client, "two") == "a: two"  # resting, but the only one that answers
    assert b.seen == ["one", "two"]
