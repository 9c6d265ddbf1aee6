"""The handover queue page, its rows and its live updates (server-sent events)."""

from __future__ import annotations

from fastapi import APIRouter, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, StreamingResponse

from api.audit import service as audit_service
from api.console import service as console_service
from api.console.pages import ConsoleDep, render
from api.db import read_only_session
from api.deps import SessionDep, SettingsDep, reads_only
from api.handover.models import HandoverReason

router = APIRouter(prefix="/console", include_in_schema=False)


@router.get("", include_in_schema=False)
def home() -> RedirectResponse:
    return RedirectResponse("/console/queue", status.HTTP_303_SEE_OTHER)


def _queue_context(session, settings, console) -> dict:
    rows = console_service.queue_rows(session=session, settings=settings)
    audit_service.record(session=session, actor=console[0].audit_actor,
                         action="view_queue", object_type="handover_queue", object_id="*",
                         details={"count": len(rows), **audit_service.patient_ids_detail(
                             row["handover"].patient_id for row in rows)})
    session.commit()
    return {"rows": rows, "user": console[0], "csrf_token": console[1].csrf,
            "reasons": list(HandoverReason)}


@router.get("/queue", response_class=HTMLResponse)
def queue_page(request: Request, session: SessionDep, settings: SettingsDep,
               console: ConsoleDep) -> HTMLResponse:
    return render(request, "queue.html", _queue_context(session, settings, console))


@router.get("/queue/rows", response_class=HTMLResponse)
def queue_rows(request: Request, session: SessionDep, settings: SettingsDep,
               console: ConsoleDep) -> HTMLResponse:
    return render(request, "_queue_rows.html", _queue_context(session, settings, console))


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
