"""The SMS sender pool: which of our numbers writes to a patient, and the pace of each sender.

A national wave (~14 messages a second) is more than one UK long code carries (~10 a second),
so TWILIO_SMS_SENDERS may list several. Each patient's number is mapped to one of them by
rendezvous (highest random weight) hashing: the same patient always hears from, and replies
to, the same sender; adding or removing a sender moves only the patients it gains or loses.

Pacing is per sender at SEND_RATE_PER_SECOND through `limits`' moving window: in Redis when
REDIS_URL is set, so every dispatcher process shares one budget per sender; in the process's
memory otherwise (one dispatcher, or each would pace alone).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Sequence

from limits import RateLimitItemPerSecond, storage, strategies

from api.config import Settings
from api.messaging.numbers import bare_number


def _weight(sender: str, number: str) -> int:
    # A keyed digest, not hash(): Python salts str hashes per process, and every api, worker
    # and dispatcher must agree on a patient's sender.
    digest = hashlib.blake2b(f"{sender}|{number}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def choose_sender(*, senders: Sequence[str], address: str) -> str:
    """The sender in `senders` that writes to `address` (stable; rendezvous hashing)."""
    number = bare_number(address)
    return max(senders, key=lambda sender: _weight(sender, number))


def sms_sender_for(*, settings: Settings, address: str) -> str:
    """Our SMS number for a patient: their sender in the pool, else TWILIO_SMS_FROM."""
    if settings.sms_senders:
        return choose_sender(senders=settings.sms_senders, address=address)
    return settings.twilio_sms_from


def needs_new_sender(*, settings: Settings, from_address: str) -> bool:
    """True when a queued SMS names a sender no longer in the pool (the pool was changed)."""
    return bool(settings.sms_senders) and from_address not in settings.sms_senders


class SenderPacer:
    """Holds each send until its sender has room: at most `rate_per_second` a second each."""

    def __init__(self, *, rate_per_second: float, storage_url: str = "memory://",
                 namespace: str = "send"):
        self._limiter = strategies.MovingWindowRateLimiter(
            storage.storage_from_string(storage_url))
        # 'limits' counts whole requests per window; a fractional rate rounds (at least one).
        self._rate = RateLimitItemPerSecond(max(1, round(rate_per_second)))
        self._namespace = namespace

    def wait(self, sender: str) -> None:
        """Return once a send from `sender` fits in its budget (the send is counted)."""
        while not self._limiter.hit(self._rate, self._namespace, sender):
            reset_at, _ = self._limiter.get_window_stats(self._rate, self._namespace, sender)
            time.sleep(max(0.005, min(0.1, reset_at - time.time())))
