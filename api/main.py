"""The FastAPI application factory."""

from __future__ import annotations

from fastapi import FastAPI
from sqlalchemy.orm import configure_mappers
from starlette.routing import Route

from api import errors
from api.campaigns.views import router as campaigns_router
from api.config import get_settings
from api.console import error_pages as console_error_pages
from api.console.account_views import router as console_account_router
from api.console.audit_views import router as console_audit_router
from api.console.campaign_call_views import router as console_campaign_call_router
from api.console.campaign_status_views import router as console_campaign_status_router
from api.console.campaign_views import router as console_campaign_router
from api.console.dashboard_views import router as console_dashboard_router
from api.console.handover_views import router as console_handover_router
from api.console.integration_views import router as console_integration_router
from api.console.oidc_views import router as console_oidc_router
from api.console.queue_views import router as console_queue_router
from api.console.red_flag_views import router as console_red_flag_router
from api.console.signin_views import router as console_signin_router
from api.db import get_sessionmaker
from api.handover.patient_views import router as patient_search_router
from api.handover.views import router as handover_router
from api.logs import configure_logging
from api.messaging.inbound_webhook import InboundWebhook
from api.messaging.parked_views import router as parked_router
from api.messaging.sandbox_views import router as sandbox_router
from api.messaging.views import router as twilio_router
from api.privacy.views import router as privacy_router
from api.reporting.views import router as reports_router
from api.scheduling.views import router as scheduling_router
from api.staff.views import router as staff_router
from api.system import docs_views, openapi
from api.system.admission import Admission
from api.system.edge import BodySizeLimit, SecurityHeaders
from api.system.metrics import RequestTimer
from api.system.runtime import freeze_startup_heap
from api.system.views import router as system_router
from api.voice.line import VoiceLine
from api.voice.sandbox_views import router as voice_sandbox_router
from api.voice.views import router as voice_router


def create_app() -> FastAPI:
    settings = get_settings()
    configure_logging(level=settings.log_level, json=settings.log_json)
    docs = settings.serve_api_docs
    app = FastAPI(
        title="Rebook",
        summary="Patient messaging for appointments rescheduled by industrial action",
        version="0.1.0",
        # /docs and /redoc are served from local assets (api/system/docs_views.py), not a CDN.
        docs_url=None,
        redoc_url=None,
        openapi_url=docs_views.OPENAPI_URL if docs else None,
    )
    # Added innermost first. Outermost, the timer sees every answer (413s and 503s too); the
    # headers go on every answer; the size limit refuses a huge body before anything reads or
    # queues it; admission queues the rest (503 with Retry-After when the wait is too long).
    app.add_middleware(Admission, settings=settings)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(SecurityHeaders, hsts=settings.is_production)
    app.add_middleware(RequestTimer)
    errors.install(app)
    openapi.install(app)  # each operation's shared refusals narrowed to those it can answer
    console_error_pages.install(app)  # under /console, those answers become pages
    # Every patient message comes through here, so it skips FastAPI's form parsing and
    # dependency injection: see api/messaging/inbound_webhook.py.
    webhook = InboundWebhook(settings=settings, session_factory=get_sessionmaker())
    app.state.voice_line = VoiceLine(settings=settings, session_factory=get_sessionmaker())
    app.router.routes.insert(0, Route(InboundWebhook.path, webhook, methods=["POST"]))
    for router in (system_router, twilio_router, staff_router, handover_router, parked_router,
                   scheduling_router, campaigns_router, reports_router, privacy_router,
                   console_signin_router, console_queue_router, console_handover_router,
                   console_audit_router, console_dashboard_router, console_campaign_router,
                   console_campaign_status_router, console_campaign_call_router,
                   console_account_router, console_red_flag_router, patient_search_router,
                   console_integration_router, voice_router):
        app.include_router(router)
    if settings.sandbox_routes:  # never in production, whatever MESSAGING_MODE says
        app.include_router(sandbox_router)
        app.include_router(voice_sandbox_router)
    if settings.oidc_enabled:
        app.include_router(console_oidc_router)
    if docs:
        app.include_router(docs_views.router)
    return app


def create_server_app() -> FastAPI:
    """The app as `rebook serve` runs it: built, mappers configured, start-up heap frozen."""
    app = create_app()
    configure_mappers()  # else the first request pays for it, stalling everything behind it
    freeze_startup_heap()
    return app
