"""The demo trust exported as a FHIR bundle, served by a FHIR server and pulled into an empty
Rebook, is the same trust: patients, appointments and slots, field by field."""

from __future__ import annotations

from sqlalchemy import func, select

from api.config import Settings
from api.demo import service as demo_service
from api.integration.fhir import export as fhir_export
from api.integration.fhir.client import FhirClient
from api.integration.fhir.sync import sync_all
from api.integration.models import InboundStatus, PasInbound
from tests.integration import roundtrip
from tests.integration.conftest import DEMO_TODAY
from tests.integration.fhir.conftest import demo_bundle, fhir_settings


def _assert_same_trust(source, target) -> None:
    roundtrip.assert_same(roundtrip.patients(source), roundtrip.patients(target), "patients")
    roundtrip.assert_same(roundtrip.slots(source, by_link=False),
                          roundtrip.slots(target, by_link=True), "slots")
    roundtrip.assert_same(roundtrip.appointments(source, by_link=False),
                          roundtrip.appointments(target, by_link=True), "appointments")


def _parked(session) -> list[str]:
    return list(session.scalars(select(PasInbound.outcome).where(
        PasInbound.status == InboundStatus.PARKED).limit(5)))


def test_the_demo_trust_round_trips_through_a_fhir_server(db_session, target_session,
                                                           fhir_server):
    bundle = demo_bundle(db_session, patients=50)
    assert fhir_server.state.load(bundle) == len(bundle["entry"])
    demo_service.seed_reference(session=target_session, today=DEMO_TODAY)
    settings = fhir_settings(fhir_server)

    with FhirClient(settings=settings) as client:
        results = sync_all(session=target_session, settings=settings, client=client)

    assert [r.error for r in results] == ["", "", "", ""]
    assert _parked(target_session) == []
    assert sum(r.pages for r in results) > 8  # paged by _count (50), not one answer
    _assert_same_trust(db_session, target_session)


def test_the_bundle_file_loads_through_the_inbound_path(db_session, target_session):
    bundle = demo_bundle(db_session, patients=40)
    demo_service.seed_reference(session=target_session, today=DEMO_TODAY)

    result = fhir_export.load_bundle(session=target_session, settings=Settings(pas_mode="fhir"),
                                     bundle=bundle)

    assert result.parked == 0, _parked(target_session)
    stored = target_session.scalar(select(func.count()).select_from(PasInbound))
    assert stored == len(bundle["entry"])
    _assert_same_trust(db_session, target_session)
    again = fhir_export.load_bundle(session=target_session, settings=Settings(pas_mode="fhir"),
                                    bundle=bundle)
    assert (again.applied, again.skipped) == (0, len(bundle["entry"]))  # nothing twice
