"""Staff bookings under load, against a real `rebook serve` process on each backend.

150 staff API requests book the same held offer at the same moment. Exactly one may win;
every other request must get an answer a client can act on: 409 (taken), or 503 with
Retry-After when the server is too busy to try (and then a retry gets its 409). Never a 500.
With the default settings the api queues the burst; with a tiny queue it must shed the excess
as 503s instead.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import func, select

from api.appointments.models import Appointment
from api.scheduling.models import Offer, OfferStatus, Slot, SlotStatus
from api.staff import service as staff_service
from api.staff.models import Role
from tests import factories
from tests.processes import free_port, process_env, running, wait_http

REQUESTS = 150
# Two requests at a time, and none waits more than 50 ms for its turn.
TINY_QUEUE = {"API_CONCURRENCY": "2", "API_THREADS": "4", "API_QUEUE_SECONDS": "0.05"}


def _held_offer(session) -> tuple[int, int, int, str]:
    """A postponed appointment holding one offer, and a clerk's API key."""
    site, specialty = factories.make_site(session), factories.make_specialty(session)
    slot = factories.make_slot(session, site=site, specialty=specialty,
                               start_at=datetime.now(UTC).replace(microsecond=0)
                               + timedelta(days=5), status=SlotStatus.HELD)
    appointment = factories.make_postponed_appointment(session, specialty=specialty)
    offer = Offer(appointment_id=appointment.id, slot_id=slot.id, status=OfferStatus.HELD,
                  expires_at=datetime.now(UTC) + timedelta(hours=1))
    session.add(offer)
    clerk = staff_service.create_user(session=session, username="load.clerk",
                                      display_name="Load Clerk", role=Role.CLERK,
                                      password="a long enough password")
    key = staff_service.create_api_key(session=session, user=clerk)
    session.commit()
    return offer.id, appointment.patient_id, slot.id, key


async def _book_all(base_url: str, path: str, body: dict, headers: dict,
                    count: int) -> list[httpx.Response]:
    limits = httpx.Limits(max_connections=count, max_keepalive_connections=count)
    async with httpx.AsyncClient(base_url=base_url, headers=headers, limits=limits,
                                 timeout=60) as client:
        return await asyncio.gather(*(client.post(path, json=body) for _ in range(count)))


@pytest.mark.parametrize("admission", [{}, TINY_QUEUE], ids=["default", "tiny-queue"])
def test_150_concurrent_staff_bookings_of_one_offer(admission, live_settings,
                                                     live_session_factory, tmp_path):
    with live_session_factory() as session:
        offer_id, patient_id, slot_id, key = _held_offer(session)
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    path, body = f"/api/v1/offers/{offer_id}/book", {"patient_id": patient_id}
    headers = {"Authorization": f"Bearer {key}"}

    with running(["serve", "--port", str(port)], process_env(live_settings, **admission),
                 tmp_path / "api.log"):
        wait_http(f"{base_url}/healthz")
        started = time.monotonic()
        responses = asyncio.run(_book_all(base_url, path, body, headers, REQUESTS))
        seconds = time.monotonic() - started
        statuses = Counter(r.status_code for r in responses)
        print(f"\n{live_settings.database_url.split(':')[0]} {admission or 'defaults'}: "
              f"{REQUESTS} bookings in {seconds:.1f} s: {dict(statuses)}")
        busy = [r for r in responses if r.status_code == 503]
        assert all(r.headers.get("Retry-After", "").isdigit() for r in busy)
        if busy:  # once the burst is over, each retry made after Retry-After gets its answer
            time.sleep(max(int(r.headers["Retry-After"]) for r in busy))
        with httpx.Client(base_url=base_url, headers=headers, timeout=60) as client:
            retried = Counter(client.post(path, json=body).status_code for _ in busy)

    assert statuses[200] == 1
    assert set(statuses) <= {200, 409, 503}, statuses
    assert set(retried) <= {409}, retried
    if admission:
        assert busy, "a queue of 50 ms should have shed some of the burst"
    with live_session_factory() as session:
        winner = responses[[r.status_code for r in responses].index(200)].json()
        assert winner["status"] == "rebooked" and winner["slot_id"] == slot_id
        assert session.get(Slot, slot_id).status is SlotStatus.BOOKED
        assert session.scalar(select(func.count()).select_from(Appointment)
                              .where(Appointment.slot_id == slot_id)) == 1
        assert session.scalar(select(func.count()).select_from(Offer)
                              .where(Offer.status == OfferStatus.ACCEPTED)) == 1
