"""The console's error pages: every 4xx and 5xx under /console answers a page, not JSON.

The API's handlers (api/errors.py) decide the status of every refusal; under /console their
answer is turned into the console's error page with the same status (and its Allow or
Retry-After header), the signed-in staff member's navigation when known, a plain message and a
way back to the queue. Everywhere else the JSON answer stands. A 500 page says nothing of the
exception: the traceback goes to the server's log only.
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from types import SimpleNamespace

from fastapi import FastAPI, Request
from fastapi.exception_handlers import request_validation_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException

from api import errors
from api.config import get_settings
from api.console.pages import WORK_ROLES, nav_snapshot, render
from api.db import read_only_session
from api.staff import auth as staff_auth

log = logging.getLogger(__name__)

# What each status says on the page (its <h1>); a refusal's own sentence follows it.
HEADINGS = {
    400: "The request could not be read",
    401: "Please sign in",
    403: "You cannot do this",
    404: "Page not found",
    405: "That action is not available here",
    409: "This has changed since you opened it",
    410: "This has expired",
    413: "What you sent is too large",
    422: "Some of the information sent was not valid",
    429: "Too many attempts",
    500: "Sorry, something went wrong",
    503: "The system is busy",
}
ADVICE = {
    404: "Check the address, or go back to the handover queue.",
    422: "Go back, check the form and try again.",
    500: "Nothing you did caused this. Try again; if it keeps happening, tell the service desk.",
    503: "Nothing was changed. Wait a moment and try again.",
}
KEPT_HEADERS = ("allow", "retry-after")


def is_console(request: Request) -> bool:
    path = request.url.path
    return path == "/console" or path.startswith("/console/")


def _own_sentence(exc: Exception, status_code: int) -> str:
    """A refusal's reason when it was written for people (our routes' and services'); never
    a validation list, a framework's status phrase or anything of a server error."""
    if status_code >= 500:
        return ""
    detail = exc.detail if isinstance(exc, HTTPException) else (
        str(exc) if isinstance(exc, errors.RefusedRequest) else "")
    if not isinstance(detail, str) or detail == HTTPStatus(status_code).phrase:
        return ""
    return detail


def _nav_user(request: Request) -> SimpleNamespace | None:
    """Who is signed in, for the page's navigation: as the route's sign-in check saw them,
    else from the session cookie (an unknown address runs no check)."""
    known = getattr(request.state, "console_nav", None)
    if known is not None:
        return known
    cookie = request.cookies.get(staff_auth.SESSION_COOKIE)
    if not cookie:
        return None
    try:
        with read_only_session() as session:
            found = staff_auth.read_session(session=session, settings=get_settings(),
                                            cookie=cookie)
            if found is None or found[0].role not in WORK_ROLES:
                return None
            return nav_snapshot(*found)
    except Exception:  # noqa: BLE001 - the page must not fail for want of a navigation bar
        log.warning("error page without navigation: the session could not be read")
        return None


def error_page(request: Request, status_code: int, sentence: str = "",
               headers: dict[str, str] | None = None) -> Response:
    user = _nav_user(request)
    heading = HEADINGS.get(status_code) or HTTPStatus(status_code).phrase
    response = render(request, "error.html", {
        "user": user, "csrf_token": user.csrf if user else "", "message": heading,
        "title": heading, "detail": sentence, "advice": ADVICE.get(status_code, ""),
        "status_code": status_code}, status_code)
    # A 500 page is sent outside the middleware that adds this to every other answer.
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers.update(headers or {})
    return response


def _paged(api_answer):
    """The API's handler, whose error answer becomes a page under /console."""

    async def answer(request: Request, exc: Exception) -> Response:
        response = await api_answer(request, exc)
        if not is_console(request) or response.status_code < 400:
            return response
        kept = {name: value for name, value in response.headers.items() if name in KEPT_HEADERS}
        return error_page(request, response.status_code,
                          _own_sentence(exc, response.status_code), kept)

    return answer


async def answer_server_error(request: Request, _exc: Exception) -> Response:
    """An unexpected exception: a page under /console, the error body elsewhere; the server
    still logs the traceback (Starlette re-raises it after this answer)."""
    if is_console(request):
        return error_page(request, 500)
    return JSONResponse({"detail": "internal server error"}, status_code=500)


def install(app: FastAPI) -> None:
    """Register the console's pages over the API's handlers (after `api.errors.install`)."""
    app.add_exception_handler(HTTPException, _paged(errors.answer_http_exception))
    app.add_exception_handler(RequestValidationError,
                              _paged(request_validation_exception_handler))
    app.add_exception_handler(errors.RefusedRequest, _paged(errors.answer_refused))
    app.add_exception_handler(PoolTimeout, _paged(errors.answer_busy_database))
    app.add_exception_handler(DBAPIError, _paged(errors.answer_busy_database))
    app.add_exception_handler(Exception, answer_server_error)
