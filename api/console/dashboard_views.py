"""The dashboard: one disruption's figures, charts and its breach list to work through."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request, status
from fastapi.responses import HTMLResponse

from api.audit import service as audit_service
from api.console import service as console_service
from api.console.pages import ConsoleDep, render
from api.console.paging import Page
from api.deps import SessionDep
from api.reporting import breach_list
from api.reporting import service as reporting_service

router = APIRouter(prefix="/console", include_in_schema=False)
BREACHES_PER_PAGE = 25


@router.get("/dashboard", response_class=HTMLResponse)
def dashboard_page(request: Request, session: SessionDep, console: ConsoleDep,
                   disruption: int | None = None, specialty: str | None = None,
                   priority: str | None = None, page: int | None = None) -> HTMLResponse:
    disruptions = reporting_service.disruptions(session=session)
    context = {"user": console[0], "csrf_token": console[1].csrf, "disruptions": disruptions}
    context |= console_service.on_call_context(session=session)  # the out-of-hours banner
    if disruptions:
        chosen = disruption or disruptions[0]["id"]
        try:
            report, every_breach = reporting_service.report_and_breaches(
                session=session, disruption_id=chosen)
        except LookupError as exc:
            raise HTTPException(status.HTTP_404_NOT_FOUND, detail="no such disruption") from exc
        matching = breach_list.filtered(every_breach, specialty=specialty, priority=priority)
        pager = Page.of(total=len(matching), number=page, size=BREACHES_PER_PAGE,
                        params={"disruption": chosen, "specialty": specialty,
                                "priority": priority})
        shown = breach_list.with_people(session=session, rows=pager.slice(matching))
        context |= {"report": report, "breaches": shown, "pager": pager,
                    "breach_filter": {"specialty": specialty or "", "priority": priority or ""},
                    "breach_options": breach_list.options(every_breach),
                    **console_service.dashboard_charts(report)}
        # The patients named on the page are the ones this view showed.
        audit_service.record(session=session, actor=console[0].audit_actor,
                             action="view_dashboard", object_type="disruption", object_id=chosen,
                             details={**audit_service.patient_ids_detail(
                                 b["patient_id"] for b in shown),
                                 "specialty": specialty, "priority": priority,
                                 "page": pager.number})
        session.commit()
    return render(request, "dashboard.html", context)
