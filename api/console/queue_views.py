"""The handover queue page, its rows, its live updates (server-sent events) and the
Acknowledge button of the out-of-hours on-call banner."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, StreamingResponse
from pydantic import BaseModel, Field, field_validator

from api.audit import service as audit_service
from api.console import service as console_service
from api.console.pages import DONE_MESSAGES, ConsoleDep, FormUserDep, render, safe_next
from api.db import read_only_session
from api.deps import SessionDep, SettingsDep, reads_only
from api.handover import on_call
from api.handover.models import HandoverReason

router = APIRouter(prefix="/console", include_in_schema=False)


@router.get("", include_in_schema=False)
def home() -> RedirectResponse:
    return RedirectResponse("/console/queue", status.HTTP_303_SEE_OTHER)


class QueueQuery(BaseModel):
    """The queue page's GET form: shareable as a URL, kept by the live updates."""

    mine: bool = False
    urgent: bool = False
    overdue: bool = False
    type: str = Field("", max_length=40)
    q: str = Field("", max_length=200)
    done: str = Field("", max_length=40)

    @field_validator("mine", "urgent", "overdue", mode="before")
    @classmethod
    def _ticked(cls, value: object) -> bool:
        # A hand-edited shared link ("urgent=" or "urgent=no") narrows nothing, not a 422.
        return str(value).strip().lower() in {"1", "true", "on", "yes"}


QueueQueryDep = Annotated[QueueQuery, Query()]


def _queue_context(request: Request, session, settings, console, query: QueueQuery) -> dict:
    filters = console_service.queue_filter(user=console[0], mine=query.mine, urgent=query.urgent,
                                           overdue=query.overdue, reason=query.type,
                                           search=query.q)
    rows = console_service.queue_rows(session=session, settings=settings, filters=filters)
    total = console_service.queue_total(session=session, filters=filters, shown=len(rows))
    details = {"count": len(rows), **audit_service.patient_ids_detail(
        row["handover"].patient_id for row in rows)}
    if filters.narrowed:
        details["filters"] = {"mine": query.mine, "urgent": query.urgent,
                              "overdue": query.overdue, "type": filters.reason}
    if filters.search:  # a search for a patient is a look at patient data: who looked for whom
        details["search"] = filters.search
    audit_service.record(session=session, actor=console[0].audit_actor,
                         action="search_queue" if filters.search else "view_queue",
                         object_type="handover_queue", object_id="*", details=details)
    session.commit()
    query_string = request.url.query
    return {"rows": rows, "total": total, "user": console[0], "csrf_token": console[1].csrf,
            "reasons": list(HandoverReason), "filters": filters, "query": query,
            "done": DONE_MESSAGES.get(query.done, ""),
            "rows_url": "/console/queue/rows" + (f"?{query_string}" if query_string else "")}


@router.get("/queue", response_class=HTMLResponse)
def queue_page(request: Request, session: SessionDep, settings: SettingsDep,
               console: ConsoleDep, query: QueueQueryDep) -> HTMLResponse:
    context = _queue_context(request, session, settings, console, query)
    context |= console_service.on_call_context(session=session)  # the out-of-hours banner
    return render(request, "queue.html", context)


@router.get("/queue/rows", response_class=HTMLResponse)
def queue_rows(request: Request, session: SessionDep, settings: SettingsDep,
               console: ConsoleDep, query: QueueQueryDep) -> HTMLResponse:
    return render(request, "_queue_rows.html",
                  _queue_context(request, session, settings, console, query))


@router.get("/queue/events")
@reads_only
async def queue_events(request: Request, session: SessionDep, settings: SettingsDep,
                       console: ConsoleDep) -> StreamingResponse:
    # The request's session only signed the user in: end its transaction now, or it would
    # stay open (on SQLite: hold the write lock) for as long as the stream runs.
    session.close()
    stream = console_service.queue_events(settings=settings, session_factory=read_only_session,
                                          is_disconnected=request.is_disconnected)
    return StreamingResponse(stream, media_type="text/event-stream",
                             headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})


@router.post("/on-call/acknowledge")
def acknowledge_on_call(session: SessionDep, console: FormUserDep,
                        handover_id: Annotated[list[int] | None, Form()] = None,
                        back: Annotated[str, Form(max_length=200)] = "") -> RedirectResponse:
    """The banner's Acknowledge: the on-call alerts it showed stop repeating (audited). Only
    those shown: an alert that arrived since the page was drawn is not acknowledged unseen."""
    on_call.acknowledge(session=session, staff=console[0],
                        handover_ids=(handover_id or [])[:100])
    session.commit()
    target = safe_next(back)
    if target == "/console/queue":
        target += "?done=acknowledged"
    return RedirectResponse(target, status.HTTP_303_SEE_OTHER)
