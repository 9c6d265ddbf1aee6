"""`rebook scheduler`: the periodic jobs (holds, replies, chasers, reminders, completion,
the retention purge, the out-of-hours on-call alerts).

Several schedulers may run (two, for availability); one leads. The leader holds a lease in the
database (api.system.leader_lease), renewed before each pass and released on a clean stop;
the others check it each pass and take over once it has expired, LEASE_PASSES passes after the
leader's last renewal (at once after a clean stop).
"""

from __future__ import annotations

import logging
import os
import socket
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
from api.system import leader_lease

log = logging.getLogger(__name__)

LEASE_NAME = "scheduler"
# The lease outlives this many missed renewals: a slow pass or a database blip does not hand
# the jobs over, a dead leader's are taken over within a couple of minutes at the default pace.
LEASE_PASSES = 3


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


def scheduler_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _leads(session_factory: sessionmaker[Session], name: str, seconds: float) -> bool:
    """Take or renew the scheduler's lease; False (run nothing) if the database is away."""
    try:
        with session_factory() as session:
            held = leader_lease.hold(session=session, name=LEASE_NAME, holder=name,
                                     seconds=seconds)
            session.commit()
            return held
    except Exception:
        log.exception("could not renew the scheduler lease")
        return False


def run_forever(*, session_factory: sessionmaker[Session], settings: Settings,
                stop: threading.Event, every_seconds: float = 30.0,
                name: str | None = None) -> None:
    name = name or scheduler_name()
    log.info("scheduler started", extra={"scheduler": name})
    leading = False
    try:
        while not stop.is_set():
            now_leading = _leads(session_factory, name, LEASE_PASSES * every_seconds)
            if now_leading != leading:
                log.info("scheduler leads" if now_leading else "scheduler stands by",
                         extra={"scheduler": name})
                leading = now_leading
            if leading:
                done = run_due_jobs(session_factory=session_factory, settings=settings)
                if any(done.values()):
                    log.info("periodic jobs ran", extra=done)
            stop.wait(every_seconds)
    finally:
        if leading:
            _release(session_factory, name)


def _release(session_factory: sessionmaker[Session], name: str) -> None:
    """Hand the lease over at once rather than when it runs out (a clean stop)."""
    try:
        with session_factory() as session:
            leader_lease.release(session=session, name=LEASE_NAME, holder=name)
            session.commit()
    except Exception:
        log.exception("could not release the scheduler lease; it expires on its own")
