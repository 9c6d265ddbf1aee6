"""Traffic for a replica cluster (tests/system/replica_cluster.py), and what became of it.

`send_traffic` posts signed inbound messages from many numbers, each number's strictly one
after another, spread over the api replicas in turn; a POST that fails (an api killed or
restarting) goes again, with the same MessageSid, to the next api, as a load balancer or
Twilio's retry would. `verify` then reads the database and the fake Twilio: each message
stored once and answered once, in order per number, every reply sent exactly once.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC

import httpx
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from api.messaging.models import Direction, Message, MessageCategory, MessageStatus
from tests.system.replica_cluster import PUBLIC_BASE_URL, TWILIO_TOKEN
from tests.twilio_helpers import inbound_form, signature_for

# Small talk the trained assistant answers in one message whatever the dialogue's state (its
# custom actions included), so "one reply per message" can be counted.
MESSAGES = ("hiya", "thanks", "what is this about", "thx", "good morning", "cheers x", "hello",
            "ok ta")
POST_DEADLINE_S = 90.0  # a message that no api takes for this long is a failure


@dataclass(frozen=True)
class Sent:
    sid: str
    number: str
    index: int  # its place in the number's sequence
    posted_at: float  # time.time() of the first attempt
    attempts: int  # POSTs it took


def _post_until_taken(clients: list[httpx.Client], form: dict[str, str], first: int) -> int:
    """POST `form` to the apis in turn from `first` until one answers 200; the attempts."""
    headers = {"X-Twilio-Signature": signature_for(form, base_url=PUBLIC_BASE_URL,
                                                   token=TWILIO_TOKEN)}
    deadline = time.monotonic() + POST_DEADLINE_S
    for attempt in itertools.count():
        client = clients[(first + attempt) % len(clients)]
        try:
            response = client.post("/twilio/messages", data=form, headers=headers)
            if response.status_code == 200:
                return attempt + 1
            if response.status_code < 500:
                raise AssertionError(f"webhook answered {response.status_code}")
        except httpx.TransportError:
            pass  # killed or restarting: the next api takes it
        if time.monotonic() > deadline:
            raise TimeoutError("no api took the message")
        time.sleep(min(0.05 * (attempt + 1), 0.5))
    raise AssertionError("unreachable")


def send_traffic(api_urls: list[str], numbers: list[str], *, messages: int,
                 rate_per_s: float | None = None, keep_going: Callable[[], bool] | None = None,
                 max_threads: int = 256) -> list[Sent]:
    """At least `messages` inbound messages, message j from numbers[j % len(numbers)], each
    number's strictly in order: due at j / rate_per_s (None: as fast as they are taken), and
    more at that pace while `keep_going()` says so."""
    clients = [httpx.Client(base_url=url, timeout=30) for url in api_urls]
    started = time.monotonic()
    sent: list[Sent] = []
    lock = threading.Lock()

    def one_number(n: int) -> None:
        for index in itertools.count():
            j = index * len(numbers) + n
            if j >= messages and (keep_going is None or not keep_going()):
                return
            if rate_per_s:
                time.sleep(max(0.0, started + j / rate_per_s - time.monotonic()))
            form = inbound_form(from_=numbers[n], body=MESSAGES[index % len(MESSAGES)])
            posted_at = time.time()
            attempts = _post_until_taken(clients, form, first=j)
            with lock:
                sent.append(Sent(form["MessageSid"], numbers[n], index, posted_at, attempts))

    try:
        with ThreadPoolExecutor(min(len(numbers), max_threads)) as pool:
            list(pool.map(one_number, range(min(len(numbers), messages))))
    finally:
        for client in clients:
            client.close()
    return sent


Event = tuple[float, str, Callable[[], None]]


def run_events(lanes: list[list[Event]]) -> tuple[list[threading.Thread], list[str]]:
    """Run each lane's (at seconds, what, action) in order, the lanes side by side, in
    background threads; the threads and the log, filled as it goes."""
    log: list[str] = []
    started = time.monotonic()

    def run(lane: list[Event]) -> None:
        for at, what, action in lane:
            time.sleep(max(0.0, started + at - time.monotonic()))
            began = time.monotonic()
            try:
                action()
            except Exception as exc:  # noqa: BLE001 - reported in the log the caller checks
                what = f"FAILED {what}: {type(exc).__name__}: {exc}"
            log.append(f"{began - started:6.1f} s  {what} ({time.monotonic() - began:.1f} s)")

    threads = [threading.Thread(target=run, args=(lane,), daemon=True) for lane in lanes]
    for thread in threads:
        thread.start()
    return threads, log


def wait_drained(engine: Engine, sent: list[Sent], timeout_s: float) -> float:
    """Until every message is answered and every reply sent; the seconds it took."""
    started = time.monotonic()
    sids = [s.sid for s in sent]
    while time.monotonic() - started < timeout_s:
        with engine.connect() as conn:
            done = conn.scalar(select(func.count()).select_from(Message).where(
                Message.provider_sid.in_(sids),
                Message.status.in_([MessageStatus.PROCESSED, MessageStatus.PARKED])))
            unsent = conn.scalar(select(func.count()).select_from(Message).where(
                Message.direction == Direction.OUTBOUND,
                Message.status.in_([MessageStatus.QUEUED, MessageStatus.SENDING])))
        if done == len(sids) and not unsent:
            return time.monotonic() - started
        time.sleep(0.5)
    raise TimeoutError(f"not drained after {timeout_s:.0f} s")


@dataclass
class Verdict:
    messages: int = 0
    assistant_answers: int = 0  # answered by the assistant, in one reply
    holding_answers: int = 0  # the holding reply: the assistant could not take the turn
    joined_case: int = 0  # no reply: staff have the case and the patient heard so within the hour
    sends: int = 0  # messages the fake Twilio took
    problems: list[str] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)  # POST to reply sent, seconds

    def summary(self) -> str:
        return (f"{self.messages} messages: {self.assistant_answers} answered by the assistant, "
                f"{self.holding_answers} by the holding reply, {self.joined_case} joined a "
                f"case staff have; {self.sends} sends; problems: {self.problems or 'none'}")


def verify(engine: Engine, twilio_accepted: list[dict], sent: list[Sent]) -> Verdict:
    """Every message stored once, processed, answered exactly once, in order per number; every
    reply sent exactly once (each Twilio sid once, on one reply)."""
    verdict = Verdict(messages=len(sent))
    with engine.connect() as conn:
        inbound = {row.provider_sid: row for row in conn.execute(
            select(Message.id, Message.provider_sid, Message.conversation_id, Message.status)
            .where(Message.direction == Direction.INBOUND))}
        outbound = conn.execute(
            select(Message.id, Message.conversation_id, Message.reply_to_id, Message.category,
                   Message.status, Message.provider_sid, Message.sent_at, Message.body)
            .where(Message.direction == Direction.OUTBOUND).order_by(Message.id)).all()
    _check_answers(verdict, inbound, outbound, sent)
    _check_sends(verdict, outbound, twilio_accepted)
    return verdict


def _check_answers(verdict: Verdict, inbound: dict, outbound: list, sent: list[Sent]) -> None:
    replies = defaultdict(list)
    for row in outbound:
        replies[row.reply_to_id].append(row)
    by_number: dict[str, list[Sent]] = defaultdict(list)
    for s in sorted(sent, key=lambda s: (s.number, s.index)):
        by_number[s.number].append(s)
    problems = verdict.problems
    for messages in by_number.values():
        stored = [inbound.get(s.sid) for s in messages]
        if None in stored:
            problems.append(f"{stored.count(None)} message(s) of one number never stored")
            continue
        if [row.id for row in stored] != sorted(row.id for row in stored):
            problems.append("a number's messages were stored out of order")
        held = False  # a holding reply went to this conversation: staff have it
        for s, row in zip(messages, stored, strict=True):
            answers = replies.get(row.id, [])
            if row.status is not MessageStatus.PROCESSED:
                problems.append(f"message {row.id} is {row.status.value}, not processed")
            if len(answers) > 1:
                problems.append(f"message {row.id} ({s.index + 1} of its number's) answered "
                                f"{len(answers)} times: " + " / ".join(
                                    f"{a.category.value} {a.body[:40]!r}" for a in answers))
            elif not answers and not held:
                problems.append(f"message {row.id} ({s.index + 1} of its number's) not "
                                "answered")
            elif not answers:
                verdict.joined_case += 1
            elif answers[0].category is MessageCategory.HOLDING:
                verdict.holding_answers += 1
                held = True
            else:
                verdict.assistant_answers += 1
            if answers and answers[0].sent_at is not None:
                sent_at = answers[0].sent_at
                sent_at = sent_at if sent_at.tzinfo else sent_at.replace(tzinfo=UTC)
                verdict.latencies.append(sent_at.timestamp() - s.posted_at)
    by_conversation = defaultdict(list)
    for row in outbound:
        by_conversation[row.conversation_id].append(row.reply_to_id or 0)
    for reply_to in by_conversation.values():
        if reply_to != sorted(reply_to):
            problems.append("a conversation's replies were written out of order")


def _check_sends(verdict: Verdict, outbound: list, accepted: list[dict]) -> None:
    verdict.sends = len(accepted)
    problems = verdict.problems
    unsent = Counter(row.status.value for row in outbound
                     if row.status not in (MessageStatus.SENT, MessageStatus.DELIVERED))
    if unsent:
        problems.append(f"replies not sent: {dict(unsent)}")
    twilio_sids = Counter(m["sid"] for m in accepted)
    recorded = Counter(row.provider_sid for row in outbound if row.provider_sid)
    if len(accepted) != len(twilio_sids):
        problems.append("Twilio gave one sid twice")
    if len(accepted) != len(outbound):
        problems.append(f"{len(accepted)} sends for {len(outbound)} replies (duplicates or "
                        "losses)")
    if set(twilio_sids) != set(recorded) or max(recorded.values(), default=1) > 1:
        problems.append("the sids Twilio gave and the sids recorded on replies differ")
