"""The FHIR pull: incremental by cursor, paged, with OAuth, and a PAS that goes away."""

from __future__ import annotations

from sqlalchemy import func, select

from api.demo import service as demo_service
from api.integration.fhir.client import FhirClient
from api.integration.fhir.sync import RESOURCE_ORDER, cursor_of, sync_all
from api.integration.models import PasInbound, PasLink
from api.patients.models import Patient
from api.scheduling.models import Offer, OfferStatus, SlotStatus
from tests.integration.conftest import DEMO_TODAY
from tests.integration.fhir.conftest import fhir_settings, open_offer


def _stored(session) -> int:
    return session.scalar(select(func.count()).select_from(PasInbound))


def _sync(settings, session):
    with FhirClient(settings=settings) as client:
        return sync_all(session=session, settings=settings, client=client)


def test_a_change_in_the_pas_arrives_and_nothing_else_is_taken_again(synced, fhir_server):
    settings, session = synced
    before = _stored(session)
    patient = next(r for (kind, _), r in fhir_server.state.resources.items()
                   if kind == "Patient")
    fhir_server.state.change("Patient", patient["id"], address=[{"postalCode": "NX9 9ZZ"}])

    results = _sync(settings, session)

    assert [r.applied for r in results] == [0, 0, 1, 0]
    assert _stored(session) == before + 1
    local = session.scalar(select(PasLink.local_id).where(PasLink.pas_id == patient["id"]))
    assert session.get(Patient, local).postcode == "NX9 9ZZ"
    assert _sync(settings, session)[2].applied == 0  # the cursor moved past it


def test_the_pas_down_mid_sync_loses_nothing_and_catches_up_in_order(
        fhir_server, target_session, trust_bundle):
    fhir_server.state.load(trust_bundle)
    demo_service.seed_reference(session=target_session, today=DEMO_TODAY)
    settings = fhir_settings(fhir_server, fhir_page_size=20)
    fhir_server.state.pages_before_down = 5

    first = _sync(settings, target_session)

    assert first[-1].error and "503" in first[-1].error
    failed = cursor_of(target_session, first[-1].resource)
    assert failed.last_error and failed.last_error_at is not None
    assert len(first) < len(RESOURCE_ORDER) or first[-1].resource == "Appointment"
    kept = _stored(target_session)
    assert kept == sum(r.applied for r in first)  # every committed page, and only those

    fhir_server.stop()  # and now refusing connections altogether
    refused = _sync(settings, target_session)
    assert "cannot reach" in refused[0].error
    fhir_server.start()
    fhir_server.state.down, fhir_server.state.pages_before_down = False, None

    again = _sync(settings, target_session)

    assert [r.error for r in again] == ["", "", "", ""]
    assert all(cursor_of(target_session, t).last_error == "" for t in RESOURCE_ORDER)
    assert _stored(target_session) == len(trust_bundle["entry"])


def test_oauth_token_is_fetched_once_and_renewed_when_refused(fhir_server, target_session,
                                                              trust_bundle):
    fhir_server.state.load(trust_bundle)
    fhir_server.state.require_token = True
    demo_service.seed_reference(session=target_session, today=DEMO_TODAY)
    settings = fhir_settings(fhir_server, oauth=True)

    with FhirClient(settings=settings) as client:
        assert all(not r.error for r in sync_all(session=target_session, settings=settings,
                                                 client=client))
        assert client.tokens_fetched == 1 and fhir_server.state.tokens_issued == 1
        fhir_server.state.tokens.clear()  # revoked at the server: 401
        patient = next(r for (k, _), r in fhir_server.state.resources.items() if k == "Patient")
        fhir_server.state.change("Patient", patient["id"], gender="unknown")
        results = sync_all(session=target_session, settings=settings, client=client)

    assert all(not r.error for r in results) and results[2].applied == 1
    assert fhir_server.state.tokens_issued == 2


def test_wrong_client_credentials_are_an_error_in_words(fhir_server, target_session):
    fhir_server.state.require_token = True
    settings = fhir_settings(fhir_server, oauth=True, fhir_client_secret="wrong")
    results = _sync(settings, target_session)
    assert "refused Rebook's client credentials" in results[0].error


def test_a_slot_booked_in_the_pas_withdraws_an_open_offer(synced, fhir_server):
    settings, session = synced
    offer = open_offer(session)
    slot_pas_id = session.scalar(select(PasLink.pas_id).where(
        PasLink.kind == "slot", PasLink.local_id == offer.slot_id))
    fhir_server.state.change("Slot", slot_pas_id, status="busy")

    _sync(settings, session)

    offer = session.get(Offer, offer.id)  # the sync's pages leave nothing in the session
    assert offer.status is not OfferStatus.HELD
    assert offer.slot.status is SlotStatus.BOOKED
