"""The FastAPI application factory."""

from __future__ import annotations

from fastapi import FastAPI
from sqlalchemy.orm import configure_mappers
from starlette.routing import Route

from api import errors
from api.campaigns.views import router as campaigns_router
from api.config import get_settings
from api.console.views import router as console_router
from api.db import get_sessionmaker
from api.handover.views import router as handover_router
from api.logs import configure_logging
from api.messaging.inbound_webhook import InboundWebhook
from api.messaging.sandbox_views import router as sandbox_router
from api.messaging.views import router as twilio_router
from api.reporting.views import router as reports_router
from api.scheduling.views import router as scheduling_router
from api.staff.views import router as staff_router
from api.system.admission import Admission
from api.system.metrics import RequestTimer
from api.system.runtime import freeze_startup_heap
from api.system.views import router as system_router


def create_app() -> FastAPI:
    settings = get_settings()
    configure_logging(level=settings.log_level, json=settings.log_json)
    app = FastAPI(
        title="Rebook",
        summary="Patient messaging for appointments rescheduled by industrial action",
        version="0.1.0",
    )
    # Outermost last: the timer sees queued requests and their 503s too.
    app.add_middleware(Admission, settings=settings)
    app.add_middleware(RequestTimer)
    errors.install(app)
    # Every patient message comes through here, so it skips FastAPI's form parsing and
    # dependency injection: see api/messaging/inbound_webhook.py.
    webhook = InboundWebhook(settings=settings, session_factory=get_sessionmaker())
    app.router.routes.insert(0, Route(InboundWebhook.path, webhook, methods=["POST"]))
    for router in (system_router, twilio_router, staff_router, handover_router,
                   scheduling_router, campaigns_router, reports_router, console_router):
        app.include_router(router)
    if settings.messaging_mode == "sandbox":
        app.include_router(sandbox_router)
    return app


def create_server_app() -> FastAPI:
    """The app as `rebook serve` runs it: built, mappers configured, start-up heap frozen."""
    app = create_app()
    configure_mappers()  # else the first request pays for it, stalling everything behind it
    freeze_startup_heap()
    return app
