"""The FastAPI application factory."""

from __future__ import annotations

from fastapi import FastAPI

from api.config import get_settings
from api.logs import configure_logging
from api.messaging.sandbox_views import router as sandbox_router
from api.messaging.views import router as twilio_router
from api.staff.views import router as staff_router
from api.system.metrics import RequestTimer
from api.system.views import router as system_router


def create_app() -> FastAPI:
    settings = get_settings()
    configure_logging(level=settings.log_level, json=settings.log_json)
    app = FastAPI(
        title="Rebook",
        summary="Patient messaging for appointments rescheduled by industrial action",
        version="0.1.0",
    )
    app.add_middleware(RequestTimer)
    app.include_router(system_router)
    app.include_router(staff_router)
    app.include_router(twilio_router)
    if settings.messaging_mode == "sandbox":
        app.include_router(sandbox_router)
    return app
