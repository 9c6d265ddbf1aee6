"""What every HTTP request passes on its way in and out: a body-size limit and security headers.

Both are plain ASGI (like api.system.metrics.RequestTimer): no task or stream per request on
the webhook's hot path.
"""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


async def _answer(send: Send, status: int, detail: str, headers: list | None = None) -> None:
    body = json.dumps({"detail": detail}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close"), *(headers or [])]})
    await send({"type": "http.response.body", "body": body})


class BodySizeLimit:
    """413 for any request body over `max_bytes`, decided before a route parses anything.

    Starlette would otherwise parse a form of 1,000 fields of 1 MB each before the signature
    or CSRF check ran (an anonymous 300 MB POST grew the server by 300 MB). A declared
    Content-Length is judged at once; a chunked body is read up to the limit, then replayed.
    """

    def __init__(self, app: ASGIApp, *, max_bytes: int):
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in BODY_METHODS:
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None:
            if declared > self.max_bytes:
                await _answer(send, 413, f"request body too large: the limit is "
                                         f"{self.max_bytes} bytes")
                return
            await self.app(scope, _capped(receive, declared), send)
            return
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            size += len(message.get("body", b""))
            if size > self.max_bytes:
                await _answer(send, 413, f"request body too large: the limit is "
                                         f"{self.max_bytes} bytes")
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        await self.app(scope, _replay(b"".join(chunks), receive), send)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


def _capped(receive: Receive, declared: int) -> Receive:
    """Stops reading once more than the declared length arrives (the server should refuse
    such a request itself; this makes the limit hold whatever the server does)."""
    seen = 0

    async def capped() -> Message:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > declared:
                return {"type": "http.disconnect"}
        return message

    return capped


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


class SecurityHeaders:
    """Headers every answer carries: no MIME sniffing, no framing, no referrer beyond this
    origin, and in production HSTS (staff and Twilio reach the api over https only)."""

    def __init__(self, app: ASGIApp, *, hsts: bool):
        self.app = app
        headers = [(b"x-content-type-options", b"nosniff"),
                   (b"x-frame-options", b"DENY"),
                   (b"referrer-policy", b"same-origin")]
        if hsts:
            headers.append((b"strict-transport-security", b"max-age=31536000; includeSubDomains"))
        self.headers = headers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                extra = [h for h in self.headers if h[0] not in present]
                if b"content-security-policy" not in present:
                    # Pages set their own policy (the console's); the JSON api frames nothing.
                    extra.append((b"content-security-policy", b"frame-ancestors 'none'"))
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, send_with_headers)
