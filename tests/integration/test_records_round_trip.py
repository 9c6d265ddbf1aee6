"""The inbound model both ways: the demo trust, turned into records and applied to an empty
Rebook, is the same trust (what every adapter's round trip builds on)."""

from __future__ import annotations

import itertools

from api.config import Settings
from api.demo import service as demo_service
from api.integration import export
from api.integration.models import Adapter
from api.integration.reconcile import Reconciler
from tests.integration import roundtrip
from tests.integration.conftest import DEMO_TODAY


def test_the_demo_trust_survives_records_both_ways(db_session, target_session):
    demo_service.seed(session=db_session, patients=60, today=DEMO_TODAY)
    demo_service.seed_reference(session=target_session, today=DEMO_TODAY)
    reconciler = Reconciler(session=target_session, settings=Settings(pas_mode="fhir"))
    records = itertools.chain(
        export.capacity(session=db_session, adapter=Adapter.FHIR),
        export.patients(session=db_session, adapter=Adapter.FHIR),
        export.appointments(session=db_session, adapter=Adapter.FHIR))
    for record in records:
        reconciler.apply(record)
    target_session.commit()

    roundtrip.assert_same(roundtrip.patients(db_session), roundtrip.patients(target_session),
                          "patients")
    roundtrip.assert_same(roundtrip.slots(db_session, by_link=False),
                          roundtrip.slots(target_session, by_link=True), "slots")
    roundtrip.assert_same(roundtrip.appointments(db_session, by_link=False),
                          roundtrip.appointments(target_session, by_link=True), "appointments")
