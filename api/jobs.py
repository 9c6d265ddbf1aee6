"""`rebook scheduler`: the periodic jobs (holds, replies, chasers, reminders, completion,
the retention purge, the out-of-hours on-call alerts)."""

from __future__ import annotations

import logging
import threading

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from api.campaigns import followups
from api.campaigns import service as campaigns_service
from api.campaigns.models import Campaign, CampaignStatus
from api.config import Settings
from api.handover import on_call
from api.privacy import service as privacy_service
from api.scheduling import service as scheduling_service

log = logging.getLogger(__name__)


def run_due_jobs(*, session_factory: sessionmaker[Session], settings: Settings) -> dict[str, int]:
    """One pass of every periodic job, each in its own transaction; counts of what each did."""
    done: dict[str, int] = {}
    jobs = {
        "expired_holds": lambda s: scheduling_service.release_expired_holds(session=s),
        "replies": lambda s: followups.record_replies(session=s),
        "chasers": lambda s: followups.send_chasers(session=s, settings=settings),
        "reminders": lambda s: followups.send_reminders(session=s, settings=settings),
        "completed": lambda s: sum(
            campaigns_service.finish_if_done(session=s, campaign_id=c)
            for c in s.scalars(select(Campaign.id).where(
                Campaign.status == CampaignStatus.SENDING))),
        "retention_purge": lambda s: privacy_service.purge_if_due(session=s, settings=settings),
        "on_call_alerts": lambda s: on_call.send_due_alerts(session=s, settings=settings),
    }
    for name, job in jobs.items():
        try:
            with session_factory() as session:
                done[name] = int(job(session) or 0)
                session.commit()
        except Exception:  # one failing job must not stop the others
            log.exception("periodic job failed", extra={"job": name})
    return done


def run_forever(*, session_factory: sessionmaker[Session], settings: Settings,
                stop: threading.Event, every_seconds: float = 30.0) -> None:
    log.info("scheduler started")
    while not stop.is_set():
        done = run_due_jobs(session_factory=session_factory, settings=settings)
        if any(done.values()):
            log.info("periodic jobs ran", extra=done)
        stop.wait(every_seconds)
