"""The integration status: last sync and lag per adapter, errors, messages in and write-backs
out per hour, what waits to go back, open exceptions; counted from the rows."""

from __future__ import annotations

from datetime import timedelta

import pytest

from api.config import Settings
from api.db import utcnow
from api.integration.status import integration_status
from tests.integration.pas_rows import make_traffic

SETTINGS = Settings(database_url="sqlite:///unused.db", pas_mode="fhir,hl7,csv")


@pytest.fixture
def traffic(db_session):
    # Half past: a row 20 minutes old falls in the current hour's bucket.
    return make_traffic(db_session, utcnow().replace(minute=30, second=0, microsecond=0))


def _status(db_session, traffic, settings=SETTINGS):
    found = integration_status(session=db_session, settings=settings, now=traffic.now)
    return found, {a.adapter: a for a in found.adapters}


def test_messages_in_per_hour_by_status_over_the_last_day(db_session, traffic):
    found, adapters = _status(db_session, traffic)
    hl7 = adapters["hl7"]
    assert len(hl7.inbound_hours) == 24
    assert hl7.inbound_hours[-1].start == traffic.now.replace(minute=0)
    assert hl7.inbound_hours[-1].counts == {"applied": 3, "ignored": 1, "parked": 1}
    assert hl7.inbound_hours[-6].counts == {"applied": 2}
    assert hl7.inbound_last_day == {"applied": 5, "ignored": 1, "parked": 1}  # not 30 h ago
    assert hl7.inbound_last_hour == {"applied": 3, "ignored": 1, "parked": 1}
    assert hl7.last_sync_at == traffic.now - timedelta(minutes=10)
    assert hl7.lag_seconds == 600
    assert adapters["fhir"].inbound_last_day == {}
    quick = integration_status(session=db_session, settings=SETTINGS, now=traffic.now,
                               hours=False)  # what the metrics read on each scrape
    hl7 = next(a for a in quick.adapters if a.adapter == "hl7")
    assert hl7.inbound_hours == [] and hl7.inbound_last_hour == {"applied": 3, "ignored": 1,
                                                                 "parked": 1}
    assert hl7.lag_seconds == 600


def test_fhir_sync_lag_is_its_stalest_cursor_and_its_newest_error(db_session, traffic):
    _, adapters = _status(db_session, traffic)
    fhir = adapters["fhir"]
    assert fhir.last_sync_at == traffic.now - timedelta(minutes=10)  # Slot, not Appointment
    assert fhir.lag_seconds == 600
    assert fhir.pas_lag_seconds == 900  # the PAS's own lastUpdated, "Z" read as UTC
    assert fhir.pas_last_updated.endswith("Z")
    assert fhir.last_error == "HTTP 503 from the PAS"
    assert [c.resource for c in fhir.cursors] == ["Appointment", "Slot"]


def test_write_backs_answered_per_hour_and_open_ones(db_session, traffic):
    _, adapters = _status(db_session, traffic)
    fhir = adapters["fhir"]
    assert fhir.writeback_last_day == {"accepted": 2, "refused": 1}  # not 2 days ago
    assert fhir.writeback_hours[-2].counts == {"accepted": 1}
    assert fhir.writeback_hours[-4].counts == {"accepted": 1, "refused": 1}
    assert (fhir.writeback_open, fhir.writeback_retrying) == (2, 1)
    assert fhir.writeback_oldest_pending_seconds == 40 * 60
    csv = adapters["csv"]
    assert (csv.writeback_pending_upload, csv.writeback_open) == (2, 0)
    assert csv.writeback_oldest_pending_seconds == 3 * 3600


def test_open_exceptions_by_reason_and_only_configured_adapters(db_session, traffic):
    found, adapters = _status(db_session, traffic,
                              Settings(database_url="sqlite:///unused.db", pas_mode="hl7"))
    assert list(adapters) == ["hl7"]
    assert found.exceptions_open == 2  # the resolved one is not counted
    assert found.exceptions_by_reason == {"slot_taken": 1, "wrong_patient_risk": 1}
    assert found.writeback_adapter == "hl7"
    data = found.as_dict()
    assert data["adapters"][0]["inbound_hours"][-1]["start"] == traffic.now.replace(
        minute=0).isoformat()


def test_no_pas_no_adapters(db_session):
    found = integration_status(session=db_session,
                               settings=Settings(database_url="sqlite:///unused.db"))
    assert found.adapters == [] and found.exceptions_open == 0
