"""Admission control: an api process works on a bounded number of requests; the rest queue.

Without it a burst deadlocks itself: FastAPI runs a request's dependencies and its route in
separate trips to the thread pool, so a request that took SQLite's write lock (or a pooled
connection) in its first trip can wait for a thread in its second while every thread is busy
waiting for that lock or connection. Admitting fewer requests than there are threads means a
request always finds a thread; the rest wait here, in the event loop, in arrival order, and
after `api_queue_seconds` get 503 with Retry-After instead of a 500 thirty seconds later.
"""

from __future__ import annotations

import logging

import anyio
from anyio.to_thread import current_default_thread_limiter
from starlette.types import ASGIApp, Receive, Scope, Send

from api.config import Settings
from api.errors import busy_response
from api.messaging.inbound_webhook import InboundWebhook

log = logging.getLogger(__name__)

# Never queued: the liveness probe must answer while the api is busy; an event stream lives
# for minutes (it takes a thread only for a moment at each poll); and Twilio's inbound webhook
# must be acknowledged in milliseconds (Twilio does not retry a 503, so a patient's message
# would be lost). The webhook stores in a single trip to its own executor, so it cannot hold
# a lock while waiting for a thread. The readiness probe neither: a replica that is merely busy
# must stay in the Service, or every busy replica would leave it at once, and the webhook with
# them (it takes one of the threads the admission limit keeps free, and one pooled connection).
UNQUEUED_PATHS = frozenset({"/healthz", "/readyz/database", "/console/queue/events",
                            InboundWebhook.path})


class Admission:
    """Plain ASGI middleware: at most `api_concurrency` requests in the app at once."""

    def __init__(self, app: ASGIApp, settings: Settings):
        self.app = app
        self.threads = settings.api_threads
        self.queue_seconds = settings.api_queue_seconds
        self.slots = anyio.Semaphore(settings.api_concurrency)  # waiters are served FIFO

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in UNQUEUED_PATHS:
            await self.app(scope, receive, send)
            return
        threads = current_default_thread_limiter()  # one per event loop, sized from inside it
        if threads.total_tokens != self.threads:
            threads.total_tokens = self.threads
        admitted = False
        with anyio.move_on_after(self.queue_seconds):
            await self.slots.acquire()
            admitted = True
        if not admitted:
            log.warning("request queue full: answered 503")
            await busy_response()(scope, receive, send)
            return
        try:
            await self.app(scope, receive, send)
        finally:
            self.slots.release()
