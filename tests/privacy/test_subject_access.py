"""Subject access export: everything about one patient and nothing about another, audited;
the admin-only API (401/403/404/422) and the CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from sqlalchemy import select

from api.audit import service as audit_service
from api.audit.models import AuditEvent
from api.handover import casework
from api.privacy import service as privacy_service
from api.scheduling import service as scheduling_service
from api.staff.models import Role
from tests.handover.helpers import Desk

ROOT = Path(__file__).resolve().parents[2]


def _case(db_session):
    """A patient with an appointment, offers, a conversation, a handover with a note, and an
    audit trail; and a second patient on the queue beside them."""
    desk = Desk(db_session)
    handover, patient, appointment, conversation = desk.patient_case(
        text="Can I speak to someone about my knee")
    _, other, *_ = desk.patient_case(text="someone else's words")
    casework.add_note(session=db_session, handover=handover,
                      user=desk.users[Role.CLERK], text="Called back, no answer")
    scheduling_service.find_offers(session=db_session, appointment_id=appointment.id)
    audit_service.record(session=db_session, actor="staff:1", action="view_queue",
                         object_type="handover_queue", object_id="*",
                         details=audit_service.patient_ids_detail([patient.id, other.id]))
    db_session.flush()
    return desk, patient, other, appointment, conversation, handover


def test_the_export_holds_everything_about_the_patient_and_is_audited(db_session):
    desk, patient, other, appointment, conversation, handover = _case(db_session)

    export = privacy_service.export_patient(session=db_session, patient=patient,
                                            actor="staff:9", via="api")

    assert export["patient"]["nhs_number"] == patient.nhs_number
    assert export["patient"]["date_of_birth"] == patient.date_of_birth.isoformat()
    [exported] = export["appointments"]
    assert exported["id"] == appointment.id and exported["status"] == "offered"
    assert [e["to_status"] for e in exported["history"]] == ["booked", "postponed", "offered"]
    assert export["offers"] and {o["appointment_id"] for o in export["offers"]} == {appointment.id}
    assert all(o["slot_start_at"] for o in export["offers"])
    [talk] = export["conversations"]
    assert talk["id"] == conversation.id
    assert [m["body"] for m in talk["messages"]] == ["Can I speak to someone about my knee"]
    [case] = export["handovers"]
    assert case["id"] == handover.id and case["summary"]
    assert [n["details"]["text"] for n in case["notes"]] == ["Called back, no answer"]
    actions = {e["action"] for e in export["audit_events"]}
    assert {"add_note", "view_queue"} <= actions
    json.dumps(export)  # plain JSON throughout
    assert "someone else's words" not in json.dumps(export)
    assert other.nhs_number not in json.dumps(export)

    [event] = db_session.scalars(select(AuditEvent).where(
        AuditEvent.action == "export_patient_data")).all()
    assert (event.actor, event.patient_id, event.object_id) == ("staff:9", patient.id,
                                                                str(patient.id))
    assert event.details["via"] == "api" and event.details["messages"] == 1


def test_the_api_is_for_admins_and_answers_by_nhs_number_or_id(api_client, db_session):
    desk, patient, *_ = _case(db_session)
    url = "/api/v1/subject-access-exports"

    by_number = api_client.post(url, headers=desk.auth(Role.ADMIN),
                                json={"nhs_number": patient.nhs_number})
    by_id = api_client.post(url, headers=desk.auth(Role.ADMIN), json={"patient_id": patient.id})

    assert by_number.status_code == 200, by_number.text
    assert by_number.json()["patient"]["id"] == by_id.json()["patient"]["id"] == patient.id
    assert api_client.post(url, json={"patient_id": patient.id}).status_code == 401
    for role in (Role.CLERK, Role.CLINICIAN):
        refused = api_client.post(url, headers=desk.auth(role), json={"patient_id": patient.id})
        assert refused.status_code == 403 and "detail" in refused.json()
    missing = api_client.post(url, headers=desk.auth(Role.ADMIN), json={"patient_id": 999999})
    assert missing.status_code == 404 and missing.json() == {"detail": "no such patient"}
    for body in ({}, {"patient_id": patient.id, "nhs_number": patient.nhs_number},
                 {"nhs_number": "1234567890"}, {"patient_id": 2**40}):
        assert api_client.post(url, headers=desk.auth(Role.ADMIN),
                               json=body).status_code == 422, body
    exports = db_session.scalars(select(AuditEvent).where(
        AuditEvent.action == "export_patient_data")).all()
    assert [e.actor for e in exports] == [f"staff:{desk.users[Role.ADMIN].id}"] * 2
    responses = api_client.get("/openapi.json").json()["paths"][url]["post"]["responses"]
    assert {"200", "401", "403", "404", "422"} <= set(responses)


def _rebook(*args, database_url: str):
    env = {"DATABASE_URL": database_url, "PATH": "/usr/bin:/bin", "ENVIRONMENT": "development",
           "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "api", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


def test_the_cli_exports_a_patient_and_purges_with_a_dry_run(live_settings,
                                                             live_session_factory, tmp_path):
    with live_session_factory() as session:
        _, patient, *_ = _case(session)
        session.commit()
        nhs_number, patient_id = patient.nhs_number, patient.id
    url = live_settings.database_url

    printed = _rebook("data", "export-patient", "--nhs-number", nhs_number, database_url=url)
    written = _rebook("data", "export-patient", "--patient-id", str(patient_id),
                      "-o", str(tmp_path / "sar.json"), database_url=url)
    unknown = _rebook("data", "export-patient", "--patient-id", "999999", database_url=url)
    neither = _rebook("data", "export-patient", database_url=url)
    dry = _rebook("data", "purge", "--dry-run", database_url=url)

    assert printed.returncode == 0, printed.stderr
    assert json.loads(printed.stdout)["patient"]["id"] == patient_id
    assert written.returncode == 0, written.stderr
    assert json.loads((tmp_path / "sar.json").read_text())["patient"]["id"] == patient_id
    assert (tmp_path / "sar.json").stat().st_mode & 0o077 == 0
    assert unknown.returncode == 2 and "no such patient" in unknown.stderr
    assert neither.returncode == 2
    assert dry.returncode == 0, dry.stderr
    assert json.loads(dry.stdout) | {"cutoff": None} == {
        "conversations": 0, "messages": 0, "handover_summaries": 0, "trackers": 0,
        "retention_days": 365, "cutoff": None, "dry_run": True}
    with live_session_factory() as session:
        exports = session.scalars(select(AuditEvent).where(
            AuditEvent.action == "export_patient_data")).all()
        assert [e.details["via"] for e in exports] == ["cli", "cli"]
        assert all(e.actor.startswith("cli:") for e in exports)
