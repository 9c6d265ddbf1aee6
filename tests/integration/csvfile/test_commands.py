"""`rebook integration csv ...` against a real (committed) database: the summary table, the
errors in words, exit code 1 when rows were rejected and 2 for an unusable file."""

from __future__ import annotations

from sqlalchemy import func, select
from typer.testing import CliRunner

from api.cli import app
from api.demo import service as demo_service
from api.integration.models import PasInbound
from tests.integration.conftest import DEMO_TODAY
from tests.integration.csvfile.files import patient_row, slot_row, write

runner = CliRunner()


def rebook(*args) -> object:
    return runner.invoke(app, ["integration", "csv", *map(str, args)])


def test_the_csv_commands(live_session_factory, tmp_path):
    with live_session_factory() as session:
        demo_service.seed_reference(session=session, today=DEMO_TODAY)
        session.commit()
    waiting = write(tmp_path / "wl.csv", [patient_row(1), patient_row(2, NHS_NUMBER="123")])
    report = tmp_path / "report.csv"

    dry = rebook("import-waiting-list", waiting, "--dry-run")
    assert dry.exit_code == 1, dry.output
    assert "would be created" in dry.output and "line 3 NHS_NUMBER: not a valid NHS" in dry.output
    with live_session_factory() as session:
        assert session.scalar(select(func.count()).select_from(PasInbound)) == 0

    done = rebook("import-waiting-list", waiting, "--report", report)
    assert done.exit_code == 1, done.output
    assert "applied" in done.output and "Traceback" not in done.output
    assert report.read_text().splitlines()[1].startswith("3,NHS_NUMBER,")

    slots = rebook("import-capacity", write(tmp_path / "cap.csv", [slot_row(0), slot_row(1)]))
    assert slots.exit_code == 0, slots.output

    unusable = tmp_path / "notes.txt"
    unusable.write_text("dear colleague,\nplease find attached\n")
    refused = rebook("import-capacity", unusable)
    assert refused.exit_code == 2
    assert "lacks the required column(s)" in refused.output and "Nothing was changed" in \
        refused.output

    exported = rebook("export-bookings", "--out", tmp_path / "bookings.csv")
    assert exported.exit_code == 0 and "0 booking(s) written" in exported.output

    demo = rebook("export-demo", "--out-dir", tmp_path / "demo")
    assert demo.exit_code == 0, demo.output
    assert "1 appointment(s)" in demo.output and "2 slot(s)" in demo.output
    assert (tmp_path / "demo" / "waiting_list.csv").exists()
