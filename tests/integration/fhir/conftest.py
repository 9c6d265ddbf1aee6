"""Fixtures for the FHIR adapter: the fake FHIR server and settings that point at it."""

from __future__ import annotations

import copy
import io
import json
import shutil
from collections.abc import Iterator
from datetime import time, timedelta

import pytest
from sqlalchemy import delete, select, union
from sqlalchemy.orm import Session

from api.appointments.models import Appointment, AppointmentEvent, AppointmentStatus
from api.config import Settings
from api.db import make_engine
from api.demo import service as demo_service
from api.integration.fhir import export as fhir_export
from api.integration.fhir.client import FhirClient
from api.integration.fhir.sync import sync_all
from api.scheduling import service as scheduling_service
from api.scheduling.models import ClinicSession, Offer, Slot
from api.system import localtime
from tests.fakes.fhir_server import CLIENT_ID, CLIENT_SECRET, FakeFhirServer
from tests.integration.conftest import DEMO_TODAY


@pytest.fixture
def fhir_server() -> Iterator[FakeFhirServer]:
    with FakeFhirServer() as server:
        yield server


def fhir_settings(server: FakeFhirServer, *, oauth: bool = False, **overrides) -> Settings:
    """Settings for a Rebook connected to `server` (with client credentials when `oauth`)."""
    values = dict(pas_mode="fhir", fhir_base_url=server.url, fhir_page_size=50,
                  fhir_timeout_seconds=5.0)
    if oauth:
        values.update(fhir_token_url=f"{server.url}/token", fhir_client_id=CLIENT_ID,
                      fhir_client_secret=CLIENT_SECRET, fhir_scope="system/*.read")
    return Settings(**(values | overrides))


def trim_capacity(session, *, days: int = 7) -> None:
    """Keep the slots the demo's appointments, offers and history use, and free capacity
    for `days` after today: the demo's 24 weeks of clinics take minutes to load in a test
    (benchmarks/ loads it all)."""
    used = union(select(Appointment.slot_id), select(Offer.slot_id),
                 select(AppointmentEvent.slot_id)).subquery()
    soon = localtime.at_local(DEMO_TODAY + timedelta(days=days), time(0, 0))
    session.execute(delete(Slot).where(Slot.id.not_in(select(used.c[0]).where(
        used.c[0].is_not(None))), (Slot.start_at >= soon) | (Slot.start_at < localtime.at_local(
            DEMO_TODAY, time(0, 0)))))
    session.execute(delete(ClinicSession).where(ClinicSession.id.not_in(
        select(Slot.session_id).where(Slot.session_id.is_not(None)))))
    session.flush()


def demo_bundle(session, *, patients: int = 40) -> dict:
    """The seeded demo trust (capacity trimmed) exported as the adapter's FHIR bundle."""
    demo_service.seed(session=session, patients=patients, today=DEMO_TODAY)
    trim_capacity(session)
    out = io.StringIO()
    fhir_export.write_bundle(session=session, out=out)
    return json.loads(out.getvalue())


@pytest.fixture(scope="module")
def trust_bundle(_migrated_template, tmp_path_factory) -> dict:
    """The trimmed demo trust as a bundle, made once per module in a database of its own."""
    path = tmp_path_factory.mktemp("fhir-source") / "source.db"
    shutil.copy(_migrated_template, path)
    engine = make_engine(f"sqlite:///{path}")
    with Session(engine) as session:
        bundle = demo_bundle(session, patients=40)
    engine.dispose()
    return bundle


@pytest.fixture
def synced(fhir_server, target_session, trust_bundle):
    """The fake PAS holding the trust, and a Rebook that has pulled it: (settings, session)."""
    fhir_server.state.load(copy.deepcopy(trust_bundle))
    demo_service.seed_reference(session=target_session, today=DEMO_TODAY)
    settings = fhir_settings(fhir_server)
    with FhirClient(settings=settings) as client:
        results = sync_all(session=target_session, settings=settings, client=client)
    assert not any(r.error or r.parked for r in results), results
    return settings, target_session


def open_offer(session) -> Offer:
    """Held offers for the first postponed appointment that has any (committed)."""
    for appointment in session.scalars(select(Appointment).where(
            Appointment.status == AppointmentStatus.POSTPONED)):
        offers = scheduling_service.find_offers(session=session, appointment_id=appointment.id,
                                                now=localtime.at_local(DEMO_TODAY, time(8, 0)))
        if offers:
            session.commit()
            return offers[0]
    raise AssertionError("no postponed appointment could be offered a slot")
