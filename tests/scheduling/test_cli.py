"""`rebook schedule ...` against a real (committed) database."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from typer.testing import CliRunner

from api.appointments.models import Appointment, AppointmentStatus
from api.cli import app
from api.scheduling.models import SlotStatus
from tests import factories

runner = CliRunner()
SOON = (datetime.now(UTC) + timedelta(days=10)).replace(hour=9, minute=0, second=0,
                                                        microsecond=0)


def rebook(*args: str):
    return runner.invoke(app, ["schedule", *args])


def test_disrupt_add_clinic_propose_approve_plan_explain(live_session_factory):
    with live_session_factory() as session:
        site = factories.make_site(session)
        specialty = factories.make_specialty(session)
        slot = factories.make_slot(session, site=site, specialty=specialty,
                                   start_at=SOON + timedelta(hours=1), status=SlotStatus.BOOKED)
        appointment = factories.make_appointment(
            session, patient=factories.make_patient(session), specialty=specialty,
            slot_id=slot.id)
        session.commit()
        codes = ["--specialty", specialty.code, "--site", site.code]
        appointment_id = appointment.id
    window = ["--name", "Strike", "--starts", SOON.isoformat(),
              "--ends", (SOON + timedelta(days=1)).isoformat(), "--staff-group", "consultants"]

    bad = rebook("disrupt", *window[:4], "--ends", SOON.isoformat(), "--staff-group", "x")
    assert bad.exit_code == 2 and "ends before it starts" in bad.output

    preview = rebook("disrupt", *window, *codes, "--preview", "--json")
    assert preview.exit_code == 0, preview.output
    assert '"postpone": true' in preview.output
    with live_session_factory() as session:
        assert session.get(Appointment, appointment_id).status is AppointmentStatus.BOOKED

    done = rebook("disrupt", *window, *codes, "--json")
    assert done.exit_code == 0, done.output
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["postponed"] == 1

    clinic = rebook("add-clinic", "--site", site_code(codes), "--specialty", codes[1],
                    "--location", "Room 7", "--starts",
                    (SOON + timedelta(days=3)).isoformat(), "--slots", "2", "--json")
    assert clinic.exit_code == 0, clinic.output
    clinic_id = json.loads(clinic.stdout.strip().splitlines()[-1])["id"]
    clash = rebook("add-clinic", "--site", site_code(codes), "--specialty", codes[1],
                   "--location", "Room 7", "--starts", (SOON + timedelta(days=3)).isoformat())
    assert clash.exit_code == 2 and "already in use" in clash.output

    proposal = rebook("propose", "--clinic", str(clinic_id))
    assert proposal.exit_code == 0 and str(appointment_id) in proposal.output

    plan = rebook("plan", "--disruption", str(result["disruption_id"]), "--json")
    assert plan.exit_code == 0, plan.output
    report = json.loads(plan.stdout.strip().splitlines()[-1])
    assert [p["method"] for p in report["plans"]] == ["greedy", "solver"]
    assert report["postponed"] == 1 and report["plans"][0]["assigned"] == 1

    approved = rebook("approve", "--clinic", str(clinic_id))
    assert approved.exit_code == 0 and "1 offers sent" in approved.output
    explained = rebook("explain", str(appointment_id))
    assert explained.exit_code == 0
    assert explained.stdout.startswith("Routine, breaches the 18-week")
    assert rebook("release-expired").exit_code == 0


def site_code(codes: list[str]) -> str:
    return codes[3]
