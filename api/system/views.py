"""Operator endpoints: /healthz (alive), /readyz (dependencies), /readyz/database (the api's
own readiness probe), /metrics (Prometheus)."""

from __future__ import annotations

import hmac
from dataclasses import asdict
from typing import Literal

from fastapi import APIRouter, HTTPException, Request, Response, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel, Field

from api.config import Settings
from api.db import get_engine
from api.deps import SettingsDep
from api.system import service
from api.system.metrics import refresh_pas_gauges, refresh_queue_gauges

router = APIRouter(tags=["system"])


class Health(BaseModel):
    status: Literal["ok"]


class ReadinessCheck(BaseModel):
    name: str
    ok: bool
    detail: str = Field(description='What failed (in production only "ok" or "unavailable")')
    latency_ms: float


class Readiness(BaseModel):
    status: Literal["ready", "not ready"]
    checks: list[ReadinessCheck]


@router.get("/healthz", response_model=Health)
def healthz() -> dict[str, str]:
    """The process is alive."""
    return {"status": "ok"}


def _readiness_answer(checks: list[service.CheckResult], settings: Settings) -> JSONResponse:
    ready = all(c.ok for c in checks)
    shown = [asdict(c) for c in checks]
    if settings.is_production:
        # Connection errors name hosts, users and ports: the operator reads them in the logs.
        for check in shown:
            check["detail"] = "ok" if check["ok"] else "unavailable"
    return JSONResponse({"status": "ready" if ready else "not ready", "checks": shown},
                        status_code=200 if ready else 503)


@router.get("/readyz", responses={
    200: {"model": Readiness},
    503: {"model": Readiness,
          "description": "Not ready: a dependency does not answer (the same body says which)"}})
async def readyz(settings: SettingsDep) -> JSONResponse:
    """200 when the database, Redis (if configured), Rasa and the action server answer."""
    checks = await run_in_threadpool(service.readiness, settings=settings, engine=get_engine())
    return _readiness_answer(checks, settings)


@router.get("/readyz/database", responses={
    200: {"model": Readiness},
    503: {"model": Readiness, "description": "Not ready: the database does not answer"}})
async def readyz_database(settings: SettingsDep) -> JSONResponse:
    """200 when the database answers: the api's readiness probe (deploy/kubernetes).

    Only the database, so an outage of Rasa or the action server never takes the webhook
    out of service: it persists each message and acknowledges it, and the worker answers
    once the assistant is back. /readyz stays the whole-stack view for operators.
    """
    checks = await run_in_threadpool(service.database_readiness, engine=get_engine())
    return _readiness_answer(checks, settings)


@router.get("/metrics", include_in_schema=False)
def metrics(request: Request, settings: SettingsDep) -> Response:
    """Prometheus exposition of this process's metrics (in production: scraper's token only)."""
    if settings.is_production:
        token = settings.metrics_token.get_secret_value()
        if not token:
            raise HTTPException(status.HTTP_404_NOT_FOUND, detail="Not Found")
        given = request.headers.get("Authorization", "")
        if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
            raise HTTPException(status.HTTP_401_UNAUTHORIZED, detail="metrics need the token",
                                headers={"WWW-Authenticate": "Bearer"})
    refresh_queue_gauges()
    refresh_pas_gauges(settings=settings)
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
