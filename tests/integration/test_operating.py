"""Operating the PAS integration: `rebook integration status` (table and JSON), the figures on
/metrics, and the processes `rebook run` starts for the configured adapters."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from api.cli import app
from api.config import Settings, get_settings
from api.db import utcnow
from api.supervisor import stack_processes
from tests.integration.pas_rows import make_traffic


@pytest.fixture
def pas_traffic(live_settings, live_session_factory, monkeypatch):
    """A day of traffic committed to the live database, with every adapter configured."""
    monkeypatch.setenv("PAS_MODE", "fhir,hl7,csv")
    get_settings.cache_clear()
    with live_session_factory() as session:
        traffic = make_traffic(session, utcnow())
        session.commit()
    yield traffic
    get_settings.cache_clear()


def test_status_command_prints_tables_and_json(pas_traffic):
    runner = CliRunner()
    shown = runner.invoke(app, ["integration", "status"], env={"COLUMNS": "200"})
    assert shown.exit_code == 0, shown.output
    text = shown.output
    assert "PAS sync" in text and "PAS messages" in text
    assert "HTTP 503 from the PAS" in text  # FHIR's last error
    assert "3 applied, 1 ignored, 1 parked" in text  # HL7 in the last hour
    assert "2 to upload" in text and "2 (1 retrying)" in text
    assert "Open exceptions: 2 (slot_taken 1, wrong_patient_risk 1)" in text
    assert "Traceback" not in text
    as_json = runner.invoke(app, ["integration", "status", "--json"])
    assert as_json.exit_code == 0, as_json.output
    data = json.loads(as_json.output)
    adapters = {a["adapter"]: a for a in data["adapters"]}
    assert list(adapters) == ["fhir", "hl7", "csv"]
    assert adapters["hl7"]["inbound_last_day"] == {"applied": 5, "ignored": 1, "parked": 1}
    assert adapters["fhir"]["writeback_open"] == 2
    assert len(adapters["fhir"]["writeback_hours"]) == 24
    assert data["exceptions_open"] == 2


def test_status_command_without_a_pas(live_settings):
    shown = CliRunner().invoke(app, ["integration", "status"])
    assert shown.exit_code == 0, shown.output
    assert "No PAS is connected" in shown.output and "Open exceptions: 0" in shown.output


def test_metrics_carry_the_pas_figures(pas_traffic, live_client):
    from prometheus_client.parser import text_string_to_metric_families

    families = {f.name: f for f in text_string_to_metric_families(
        live_client.get("/metrics").text)}

    def by(name: str, *labels: str) -> dict:
        return {tuple(s.labels[k] for k in labels): s.value for s in families[name].samples}

    age = by("rebook_pas_last_sync_age_seconds", "adapter")
    assert 590 <= age[("fhir",)] <= 700 and 590 <= age[("hl7",)] <= 700
    assert age[("csv",)] == float("inf")  # never received a file
    inbound = by("rebook_pas_inbound_last_hour", "adapter", "status")
    assert inbound[("hl7", "applied")] == 3 and inbound[("hl7", "parked")] == 1
    assert inbound[("fhir", "applied")] == 0
    assert by("rebook_pas_writeback_pending", "adapter") == {
        ("fhir",): 2, ("hl7",): 0, ("csv",): 2}
    oldest = by("rebook_pas_writeback_oldest_pending_seconds", "adapter")
    assert 40 * 60 <= oldest[("fhir",)] < 45 * 60
    assert families["rebook_pas_exceptions_open"].samples[0].value == 2


def _processes(**settings) -> dict[str, str]:
    return stack_processes(settings=Settings(database_url="sqlite:///unused.db",
                                             background_nice=7, **settings), port=8000)


def test_rebook_run_starts_the_pas_processes_that_are_configured():
    assert not {"pas-writeback", "fhir-sync", "hl7-listener"} & set(_processes())
    both = _processes(pas_mode="hl7,fhir")
    assert both["pas-writeback"].startswith("nice -n 7 ")
    assert both["pas-writeback"].endswith("-m api integration dispatch")
    assert both["fhir-sync"].endswith("-m api integration fhir sync --forever")
    assert both["hl7-listener"].endswith("-m api integration hl7 listen")
    assert not both["hl7-listener"].startswith("nice")  # the PAS waits for its ACKs
    hl7 = _processes(pas_mode="hl7")
    assert "fhir-sync" not in hl7 and "pas-writeback" in hl7
    # CSV bookings wait for the export: no dispatcher, no poller, no listener.
    assert not {"pas-writeback", "fhir-sync", "hl7-listener"} & set(_processes(pas_mode="csv"))


def test_dispatch_command_refuses_without_a_pas(live_settings):
    shown = CliRunner().invoke(app, ["integration", "dispatch"])
    assert shown.exit_code == 2
    assert "no PAS is connected" in shown.output and "Traceback" not in shown.output


def test_the_dispatcher_gets_a_writer_for_each_adapter_that_answers_bookings():
    from api.config import Settings
    from api.integration.fhir.writer import FhirWriter
    from api.integration.hl7.writer import Hl7Writer
    from api.integration.models import Adapter
    from api.integration.writers import writers_for

    writers = writers_for(settings=Settings(pas_mode="csv,hl7,fhir",
                                            fhir_base_url="http://127.0.0.1:9/fhir"))
    assert set(writers) == {Adapter.FHIR, Adapter.HL7}
    assert isinstance(writers[Adapter.FHIR], FhirWriter)
    assert isinstance(writers[Adapter.HL7], Hl7Writer)
    assert writers_for(settings=Settings(pas_mode="csv")) == {}
    assert set(writers_for(settings=Settings(pas_mode="fhir,hl7"))) == {Adapter.HL7}  # no URL
