"""The sample files in docs/examples are what the documentation says: they load cleanly."""

from __future__ import annotations

from pathlib import Path

from api.config import Settings
from api.demo import service as demo_service
from api.integration.csvfile import capacity, waiting_list
from tests.integration.conftest import DEMO_TODAY

EXAMPLES = Path(__file__).resolve().parents[3] / "docs" / "examples"
SETTINGS = Settings(pas_mode="csv")


def test_the_sample_files_load_without_errors(db_session):
    demo_service.seed_reference(session=db_session, today=DEMO_TODAY)

    slots = capacity.import_file(session=db_session, settings=SETTINGS,
                                 path=EXAMPLES / "capacity.csv")
    waits = waiting_list.import_file(session=db_session, settings=SETTINGS,
                                     path=EXAMPLES / "waiting_list.csv")

    assert (slots.read, slots.applied, slots.errors) == (4, 4, []), slots
    assert (waits.read, waits.applied, waits.errors, waits.parked) == (3, 3, [], 0), waits
