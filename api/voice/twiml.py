"""TwiML for every step of a call, built with the twilio library (never by hand).

Each answer is what the caller hears and what happens next: listen (a Gather for speech and
keypad), wait (a short holding phrase and a Redirect), put through (a Dial to a configured
number only, with a time limit and a whisper to the person answering) or hang up.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlencode

from twilio.twiml.voice_response import Dial, Gather, VoiceResponse

from api.config import Settings

BASE = "/twilio/voice"


def url(step: str, **query: object) -> str:
    """A voice webhook's path with its query ("/twilio/voice/gather?seq=3")."""
    return f"{BASE}/{step}" + (f"?{urlencode(query)}" if query else "")


@dataclass(frozen=True)
class Listen:
    """Gather the caller's answer: speech and keypad, or the keypad only."""

    seq: int
    keypad_only: bool = False
    digits: int | None = None  # how many keys end the answer at once (8 for a date of birth)
    hints: tuple[str, ...] = ()


@dataclass(frozen=True)
class Wait:
    seq: int
    waited: float  # seconds already waited for this turn


@dataclass(frozen=True)
class PutThrough:
    number: str
    whisper_case: int | None  # the handover read to the person answering
    seq: int


@dataclass(frozen=True)
class HangUp:
    pass


@dataclass(frozen=True)
class Connect:
    """A whisper's end: nothing more, so the put-through call connects."""


@dataclass
class Step:
    """What the call says now, then what it does."""

    said: list[str]
    then: Listen | Wait | PutThrough | HangUp | Connect
    options: list[dict] = field(default_factory=list)


def render(step: Step, *, settings: Settings) -> str:
    """The TwiML document for `step`."""
    response = VoiceResponse()
    then = step.then
    if isinstance(then, Listen):
        gather = _gather(then, settings=settings)
        for sentence in step.said:
            gather.say(sentence, voice=settings.voice_name, language=settings.voice_language)
        response.append(gather)
        # Twilio calls the action with nothing heard (actionOnEmptyResult); should it not,
        # the call still comes back to us rather than falling silent.
        response.redirect(url("gather", seq=then.seq), method="POST")
        return str(response)
    _say(response, step.said, settings=settings)
    if isinstance(then, Wait):
        response.pause(length=1)
        response.redirect(url("wait", seq=then.seq, waited=f"{then.waited:.1f}"), method="POST")
    elif isinstance(then, PutThrough):
        response.append(_dial(then, settings=settings))
    elif isinstance(then, HangUp):
        response.hangup()
    return str(response)


def _say(response: VoiceResponse, sentences: list[str], *, settings: Settings) -> None:
    for sentence in sentences:
        response.say(sentence, voice=settings.voice_name, language=settings.voice_language)


def _gather(listen: Listen, *, settings: Settings) -> Gather:
    options: dict[str, object] = {
        "action": url("gather", seq=listen.seq), "method": "POST",
        "action_on_empty_result": True, "timeout": settings.voice_gather_timeout_seconds,
    }
    if listen.digits:
        options["num_digits"] = listen.digits
    if listen.keypad_only:
        return Gather(input="dtmf", **options)
    return Gather(input="speech dtmf", language=settings.voice_language,
                  speech_model=settings.voice_speech_model, speech_timeout="auto",
                  hints=", ".join(listen.hints) or None, profanity_filter=False, **options)


def _dial(put_through: PutThrough, *, settings: Settings) -> Dial:
    dial = Dial(action=url("dialled", seq=put_through.seq), method="POST",
                time_limit=settings.voice_dial_time_limit_seconds, timeout=30,
                record="record-from-answer-dual" if settings.voice_record_calls else None)
    whisper = (url("whisper", case=put_through.whisper_case)
               if put_through.whisper_case is not None else None)
    dial.number(put_through.number, url=whisper, method="POST" if whisper else None)
    return dial
