"""A phone for the voice tests: signed Twilio voice callbacks, with the TwiML parsed.

`Phone` plays Twilio: it rings the line, says or keys answers to the gather the last TwiML
asked for, follows redirects (holding phrases), and keeps what the line said. The TwiML is
read as XML: what is said, what is gathered (input, digits, hints), dialled and redirected.
"""

from __future__ import annotations

import itertools
import secrets
import threading
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

from tests.twilio_helpers import post_signed

_calls = itertools.count(1)


def new_call_sid() -> str:
    return f"CA{secrets.token_hex(12)}{next(_calls):08d}"


@dataclass
class Turn:
    """One TwiML answer, read."""

    said: list[str]
    gather: dict | None
    dial: dict | None
    redirect: str | None
    hangup: bool
    raw: str

    @property
    def text(self) -> str:
        return " ".join(self.said)


def read_twiml(xml: str) -> Turn:
    root = ET.fromstring(xml)
    assert root.tag == "Response", xml
    said, gather, dial, redirect = [], None, None, None
    for verb in root:
        if verb.tag == "Say":
            said.append(verb.text or "")
        elif verb.tag == "Gather":
            said += [say.text or "" for say in verb.findall("Say")]
            gather = dict(verb.attrib)
        elif verb.tag == "Dial":
            number = verb.find("Number")
            dial = {**verb.attrib, "number": number.text, "url": number.get("url")}
        elif verb.tag == "Redirect":
            redirect = verb.text
    hangup = root.find("Hangup") is not None
    return Turn(said, gather, dial, redirect if gather is None else None, hangup, xml)


@dataclass
class Phone:
    client: object
    caller: str = "+447700900001"
    call_sid: str = field(default_factory=new_call_sid)
    turns: list[Turn] = field(default_factory=list)

    def _form(self, **extra: str) -> dict[str, str]:
        return {"CallSid": self.call_sid, "AccountSid": "ACtest", "From": self.caller,
                "To": "+441614960000", "CallStatus": "in-progress", "Direction": "inbound",
                **extra}

    def _post(self, path: str, **extra: str) -> Turn:
        response = post_signed(self.client, self._form(**extra), path=path)
        assert response.status_code == 200, (response.status_code, response.text)
        turn = read_twiml(response.text)
        self.turns.append(turn)
        while turn.redirect:  # a holding phrase: Twilio comes straight back
            response = post_signed(self.client, self._form(), path=turn.redirect)
            assert response.status_code == 200, response.text
            turn = read_twiml(response.text)
            self.turns.append(turn)
        return turn

    def ring(self) -> Turn:
        return self._post("/twilio/voice", CallStatus="ringing")

    @property
    def last(self) -> Turn:
        return self.turns[-1]

    def _action(self) -> str:
        assert self.last.gather is not None, f"the line is not listening: {self.last.raw}"
        return self.last.gather["action"]

    def say(self, speech: str, confidence: str = "0.92") -> Turn:
        return self._post(self._action(), SpeechResult=speech, Confidence=confidence)

    def press(self, digits: str) -> Turn:
        return self._post(self._action(), Digits=digits)

    def silence(self) -> Turn:
        return self._post(self._action())

    def hang_up(self, duration: int = 95) -> None:
        response = post_signed(self.client, self._form(CallStatus="completed",
                                                       CallDuration=str(duration)),
                               path="/twilio/voice/status")
        assert response.status_code == 200


def seq_of(path: str) -> int:
    return int(parse_qs(urlsplit(path).query)["seq"][0])


class WorkerThread:
    """The worker, answering turns in the background while the test plays the caller."""

    def __init__(self, worker):
        self.worker = worker
        self.stop = threading.Event()
        self.thread = threading.Thread(target=worker.run_forever, args=(self.stop,), daemon=True)

    def __enter__(self) -> WorkerThread:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(timeout=10)
