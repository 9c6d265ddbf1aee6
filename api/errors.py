"""How the API answers anything but success: one error shape, documented, and never a 500
for a busy database.

Every 4xx (and the 503 of a busy server) is `{"detail": ...}`: a sentence, or for invalid input
FastAPI's list of per-field problems. Routers document the statuses they can answer with
`error_responses(...)`, so OpenAPI (and schemathesis, which checks it) knows each one.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import JSONResponse
from fastapi.routing import iter_route_contexts
from pydantic import BaseModel, ConfigDict
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException

log = logging.getLogger(__name__)

# How long a client should wait before retrying when the server is busy. Short: the waits it
# covers (a write lock, a free connection) last milliseconds to seconds.
RETRY_AFTER_SECONDS = 1


class RefusedRequest(ValueError):
    """A request a service cannot honour; it changed nothing. `status_code` is the HTTP
    answer: `api.main` turns any that reaches a route into it, with the message as `detail`."""

    status_code = 400


# The one family every domain refuses with (domains name their own cases as subclasses, e.g.
# scheduling's SlotTaken is a Conflict), so one handler answers them all alike.
class Invalid(RefusedRequest):
    """The request contradicts itself or the rules (what a schema cannot check)."""

    status_code = 422


class Forbidden(RefusedRequest):
    """Signed in, but not allowed this (another patient's offer, another role's action)."""

    status_code = 403


class NotFound(RefusedRequest):
    """No such object."""

    status_code = 404


class Conflict(RefusedRequest):
    """Clashes with the current state: taken, already done, not open."""

    status_code = 409


class FieldProblem(BaseModel):
    """One problem with one part of the input (FastAPI's validation error item)."""

    model_config = ConfigDict(extra="allow")

    loc: list[str | int]
    msg: str
    type: str


class ErrorOut(BaseModel):
    """The body of every error answer."""

    detail: str | list[FieldProblem]


_DESCRIPTIONS = {
    400: "The body is not what its Content-Type says (for example, not JSON)",
    401: "Not signed in: send `Authorization: Bearer <api key>` or sign in to the console",
    403: "Signed in, but this role (or a missing CSRF token) does not allow it",
    404: "No such object",
    409: "Conflicts with the current state (taken, already done, not open)",
    410: "Expired",
    413: "The request body is larger than the limit (MAX_BODY_BYTES); nothing was read",
    422: "Invalid input: a field, a parameter, or how they fit together",
    503: "Busy: nothing was changed; retry after `Retry-After` seconds",
}
_RETRY_AFTER = {"Retry-After": {"description": "Seconds to wait before retrying",
                                "schema": {"type": "integer"}}}


def error_responses(*status_codes: int) -> dict[int | str, dict]:
    """OpenAPI `responses` for these error statuses, each with the shared error body."""
    return {code: {"model": ErrorOut, "description": _DESCRIPTIONS[code],
                   **({"headers": _RETRY_AFTER} if code == 503 else {})}
            for code in status_codes}


# What every staff API route can answer besides its own refusals.
STAFF_ERRORS = error_responses(400, 401, 403, 413, 422, 503)


async def answer_refused(_request: Request, exc: Exception) -> JSONResponse:
    status_code = getattr(exc, "status_code", 400)
    return JSONResponse({"detail": str(exc)}, status_code=status_code)


# SQLSTATEs of a PostgreSQL transaction that lost a race for a lock or a snapshot, or waited
# too long: retrying the whole request is the fix. 40001 serialization failure, 40P01 deadlock,
# 55P03 lock not available (lock_timeout / NOWAIT), 57014 statement timeout.
_RETRYABLE_SQLSTATES = frozenset({"40001", "40P01", "55P03", "57014"})


def is_busy(exc: BaseException) -> bool:
    """True when the database refused for now, not for good: the request may be retried."""
    if isinstance(exc, PoolTimeout):
        return True
    if not isinstance(exc, DBAPIError):
        return False
    original = exc.orig
    if getattr(original, "sqlstate", None) in _RETRYABLE_SQLSTATES:
        return True
    # SQLite: another connection held the write lock for longer than the busy timeout, or
    # a deferred (read) transaction could not be upgraded to write.
    return "database is locked" in str(original)


def busy_response() -> JSONResponse:
    return JSONResponse({"detail": "the server is busy; nothing was changed, please retry"},
                        status_code=503, headers={"Retry-After": str(RETRY_AFTER_SECONDS)})


async def answer_busy_database(_request: Request, exc: Exception) -> JSONResponse:
    if not is_busy(exc):
        raise exc
    log.warning("database busy: answered 503", extra={"error": type(exc).__name__})
    return busy_response()


async def answer_http_exception(request: Request, exc: Exception) -> JSONResponse:
    """Starlette's answer, except that a 405 lists every method of the path in `Allow`."""
    # Starlette stops at the first route that matches the path, so with GET and POST declared
    # as two routes a PUT would be told `Allow: GET` alone.
    if isinstance(exc, HTTPException) and exc.status_code == 405:
        path = request.url.path
        allowed = sorted({method for route in iter_route_contexts(request.app.routes)
                          if (pattern := getattr(route, "path_regex", None)) is not None
                          and pattern.match(path) for method in route.methods or ()})
        if allowed:
            exc.headers = {**(exc.headers or {}), "Allow": ", ".join(allowed)}
    return await http_exception_handler(request, exc)


def install(app: FastAPI) -> None:
    """Register the shared error handlers on the app."""
    app.add_exception_handler(HTTPException, answer_http_exception)
    # A service's refusal (a 4xx with a reason) reads the same on every route.
    app.add_exception_handler(RefusedRequest, answer_refused)
    # A busy database is the client's cue to retry, not a server fault. SQLAlchemy's pool
    # timeout and DBAPIError share no base class beyond SQLAlchemyError.
    app.add_exception_handler(PoolTimeout, answer_busy_database)
    app.add_exception_handler(DBAPIError, answer_busy_database)
