"""The demo trust through the CSV files both ways: exported as a capacity file and a waiting-list
extract, imported into an empty Rebook, it is the same trust."""

from __future__ import annotations

from api.config import Settings
from api.demo import service as demo_service
from api.integration.csvfile import capacity, export, waiting_list
from tests.integration import roundtrip
from tests.integration.conftest import DEMO_TODAY

SETTINGS = Settings(pas_mode="csv")


def test_the_demo_trust_survives_the_csv_files_both_ways(db_session, target_session, tmp_path):
    demo_service.seed(session=db_session, patients=50, today=DEMO_TODAY)
    files = export.write_trust(session=db_session, settings=SETTINGS, out_dir=tmp_path)
    demo_service.seed_reference(session=target_session, today=DEMO_TODAY)
    target_session.commit()

    slots = capacity.import_file(session=target_session, settings=SETTINGS, path=files.capacity)
    waits = waiting_list.import_file(session=target_session, settings=SETTINGS,
                                     path=files.waiting_list)

    assert (slots.read, slots.applied, slots.rejected, slots.parked) == (
        files.slots, files.slots, 0, 0), slots
    assert (waits.read, waits.applied, waits.rejected, waits.parked) == (
        files.appointments, files.appointments, 0, 0), waits
    roundtrip.assert_same(roundtrip.patients(db_session), roundtrip.patients(target_session),
                          "patients")
    roundtrip.assert_same(roundtrip.slots(db_session, by_link=False),
                          roundtrip.slots(target_session, by_link=True), "slots")
    roundtrip.assert_same(roundtrip.appointments(db_session, by_link=False),
                          roundtrip.appointments(target_session, by_link=True), "appointments")
