"""The one way a service refuses a request, and how every API route answers it."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import JSONResponse


class RefusedRequest(ValueError):
    """A request a service cannot honour; it changed nothing. `status_code` is the HTTP
    answer: `api.main` turns any that reaches a route into it, with the message as `detail`."""

    status_code = 400


async def answer_refused(_request: Request, exc: Exception) -> JSONResponse:
    status_code = getattr(exc, "status_code", 400)
    return JSONResponse({"detail": str(exc)}, status_code=status_code)
