"""The inbound model both ways: the demo trust, turned into records and applied to an empty
Rebook, is the same trust (what every adapter's round trip builds on). Capacity goes in as a
batch (the bulk path); patients and appointments both ways, batched and one by one through
the reconciler, which must agree."""

from __future__ import annotations

import pytest

from api.config import Settings
from api.demo import service as demo_service
from api.integration import export, inbound
from api.integration.inbound import Message
from api.integration.models import Adapter
from api.integration.reconcile import Reconciler
from tests.integration import roundtrip
from tests.integration.conftest import DEMO_TODAY

SETTINGS = Settings(pas_mode="fhir")


def _as_messages(records) -> list[Message]:
    return [Message(message_id=f"{type(r).__name__}/{r.change.pas_id}", raw="{}",
                    records=(r,)) for r in records]


@pytest.mark.parametrize("people", ["batch", "one_by_one"])
def test_the_demo_trust_survives_records_both_ways(db_session, target_session, people):
    demo_service.seed(session=db_session, patients=60, today=DEMO_TODAY)
    demo_service.seed_reference(session=target_session, today=DEMO_TODAY)
    capacity = list(export.capacity(session=db_session, adapter=Adapter.FHIR))
    inbound.receive_and_apply_batch(session=target_session, settings=SETTINGS,
                                    adapter=Adapter.FHIR, messages=_as_messages(capacity))
    people_records = [*export.patients(session=db_session, adapter=Adapter.FHIR),
                      *export.appointments(session=db_session, adapter=Adapter.FHIR)]
    if people == "batch":
        result = inbound.receive_and_apply_batch(
            session=target_session, settings=SETTINGS, adapter=Adapter.FHIR,
            messages=_as_messages(people_records))
        assert result.parked == 0 and result.applied == len(people_records)
    else:
        reconciler = Reconciler(session=target_session, settings=SETTINGS)
        for record in people_records:
            reconciler.apply(record)
    target_session.commit()

    roundtrip.assert_same(roundtrip.patients(db_session), roundtrip.patients(target_session),
                          "patients")
    roundtrip.assert_same(roundtrip.slots(db_session, by_link=False),
                          roundtrip.slots(target_session, by_link=True), "slots")
    roundtrip.assert_same(roundtrip.appointments(db_session, by_link=False),
                          roundtrip.appointments(target_session, by_link=True), "appointments")


def test_a_batch_applied_again_changes_nothing(db_session, target_session):
    demo_service.seed(session=db_session, patients=10, today=DEMO_TODAY)
    demo_service.seed_reference(session=target_session, today=DEMO_TODAY)
    records = [*export.capacity(session=db_session, adapter=Adapter.FHIR),
               *export.patients(session=db_session, adapter=Adapter.FHIR),
               *export.appointments(session=db_session, adapter=Adapter.FHIR)]
    first = inbound.receive_and_apply_batch(session=target_session, settings=SETTINGS,
                                            adapter=Adapter.FHIR, messages=_as_messages(records))
    again = inbound.receive_and_apply_batch(session=target_session, settings=SETTINGS,
                                            adapter=Adapter.FHIR, messages=_as_messages(records))
    assert first.applied == len(records)
    assert (again.applied, again.duplicates) == (0, len(records))
