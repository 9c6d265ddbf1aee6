"""The command line as a bookings team reads it: clean help, tables, lists, errors in words,
the API's limits, and no surprises (issue 15). CliRunner over a real, committed SQLite database.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import pytest
import typer
from typer.testing import CliRunner

from api.appointments.models import Priority
from api.cli import app
from api.scheduling.models import SlotStatus
from tests import factories

pytestmark = pytest.mark.parametrize("live_database_url", ["sqlite"], indirect=True)

runner = CliRunner()
SOON = (datetime.now(UTC) + timedelta(days=10)).replace(hour=9, minute=0, second=0,
                                                        microsecond=0)


def rebook(*args: str, env: dict | None = None, **kwargs):
    # A wide terminal, so that table cells are not wrapped across lines.
    return runner.invoke(app, list(args), env={"COLUMNS": "200", **(env or {})}, **kwargs)


def ok(*args: str, **kwargs):
    result = rebook(*args, **kwargs)
    assert result.exit_code == 0, result.output
    return result


def all_commands(command=None, path=()):
    command = command or typer.main.get_command(app)
    yield path
    for name, sub in getattr(command, "commands", {}).items():
        yield from all_commands(sub, (*path, name))


@pytest.fixture
def trust(live_session_factory):
    """Two specialties, a site, and one booked appointment inside a strike window."""
    with live_session_factory() as session:
        site = factories.make_site(session)
        cardiology = factories.make_specialty(session, name="Cardiology")
        factories.make_specialty(session, name="Dermatology")
        slot = factories.make_slot(session, site=site, specialty=cardiology,
                                   start_at=SOON + timedelta(hours=1), status=SlotStatus.BOOKED)
        factories.make_appointment(session, patient=factories.make_patient(session),
                                   specialty=cardiology, slot_id=slot.id, site_id=site.id,
                                   priority=Priority.ROUTINE)
        session.commit()
        return {"site": site.code, "specialty": cardiology.code}


def strike(trust) -> int:
    done = ok("schedule", "disrupt", "--name", "Consultants strike", "--starts",
              SOON.isoformat(), "--ends", (SOON + timedelta(days=1)).isoformat(),
              "--staff-group", "consultants", "--specialty", trust["specialty"], "--json")
    return json.loads(done.stdout.strip().splitlines()[-1])["disruption_id"]


def test_help_reads_cleanly_everywhere(live_settings):
    paths = list(all_commands())
    assert ("campaign", "list") in paths and ("codes",) in paths
    for path in paths:
        text = ok(*path, "--help").output
        noise = re.findall(r"<(?:bool|str|int|float|list\[\w+\])>", text)
        assert not noise, f"rebook {' '.join(path)} --help shows {noise}"
        braces = set(re.findall(r"\{\w+\}", text)) - {"{trust_name}", "{bookings_phone}"}
        assert not braces, f"rebook {' '.join(path)} --help shows {braces}"
    create_user = ok("staff", "create-user", "--help").output
    assert "create-user [OPTIONS] USERNAME" in " ".join(create_user.split())


def test_list_commands_print_seeded_rows_and_json(trust, live_settings):
    disruption = strike(trust)
    ok("schedule", "add-clinic", "--site", trust["site"], "--specialty", trust["specialty"],
       "--location", "Room 7", "--starts", (SOON + timedelta(days=3)).isoformat(), "--slots", "3")

    listed = ok("disruption", "list").stdout
    assert "Consultants strike" in listed and "London time" in listed
    rows = json.loads(ok("disruption", "list", "--json").stdout)
    assert rows[0]["id"] == disruption and rows[0]["postponed"] == 1
    assert rows[0]["specialties"] == [trust["specialty"]]

    start = (SOON + timedelta(days=3)).date().isoformat()
    clinics = ok("clinic", "list", "--from", start, "--days", "1").stdout
    assert "Room 7" in clinics and "3 of 3" in clinics and trust["site"] in clinics
    clinic_rows = json.loads(ok("clinic", "list", "--from", start, "--json").stdout)
    assert [(r["location"], r["free"], r["slots"]) for r in clinic_rows] == [("Room 7", 3, 3)]

    codes = ok("codes").stdout
    assert "Cardiology" in codes and trust["site"] in codes
    assert "Suspected cancer" in codes and "Urgent (P2)" in codes
    found = json.loads(ok("codes", "--json").stdout)
    assert {"value": "P2", "label": "Urgent (P2)"} in found["priorities"]
    assert trust["specialty"] in {s["code"] for s in found["specialties"]}

    ok("campaign", "create", "--disruption", str(disruption), "--name", "Strike letters")
    assert "Strike letters" in ok("campaign", "list").stdout
    assert json.loads(ok("campaign", "list", "--json").stdout)[0]["name"] == "Strike letters"


def test_errors_list_the_valid_values_in_words(trust, live_settings):
    disruption = str(strike(trust))
    bad_specialty = rebook("campaign", "create", "--disruption", disruption, "--name", "x",
                           "--specialty", "xyz")
    assert bad_specialty.exit_code == 2
    message = " ".join(bad_specialty.output.split())
    assert f"unknown specialty 'xyz': choose one of {trust['specialty']} (Cardiology)" in message
    bad_priority = rebook("schedule", "postpone", "--disruption", disruption,
                          "--keep-priority", "P9", "--preview")
    assert bad_priority.exit_code == 2
    assert "choose one of P1a, P1b, P2" in " ".join(bad_priority.output.split())
    bad_site = rebook("clinic", "list", "--site", "NOPE")
    assert bad_site.exit_code == 2 and trust["site"] in bad_site.output
    bad_role = rebook("staff", "create-user", "x.y", "--role", "boss")
    assert bad_role.exit_code == 2
    assert "unknown role 'boss': choose one of admin, clerk, clinician" in bad_role.output
    for result in (bad_specialty, bad_priority, bad_site, bad_role):
        assert "[" not in result.output and "<" not in result.output and "Traceback" not in \
            result.output


def test_campaign_applies_the_api_limits(trust, live_settings):
    disruption = str(strike(trust))
    too_long = rebook("campaign", "create", "--disruption", disruption, "--name", "Long",
                      "--sms-template", "a" * 700)
    assert too_long.exit_code == 2
    assert "700 characters; the limit is 640" in " ".join(too_long.output.split())
    assert rebook("campaign", "list", "--json").stdout.strip() == "[]"
    fits = rebook("campaign", "create", "--disruption", disruption, "--name", "Long",
                  "--sms-template", "a" * 640, "--json")
    assert fits.exit_code == 0, fits.output
    assert json.loads(fits.stdout)["segments"] == 5
    placeholder = rebook("campaign", "create", "--disruption", disruption, "--name", "Named",
                         "--sms-template", "Dear {name}")
    assert placeholder.exit_code == 2
    assert "unknown placeholder {name}" in " ".join(placeholder.output.split())
    assert "choose from {bookings_phone}, {trust_name}" in " ".join(placeholder.output.split())
    for broken in ("Call us {", "Call {}"):
        refused = rebook("campaign", "create", "--disruption", disruption, "--name", "Brace",
                         "--sms-template", broken)
        assert refused.exit_code == 2 and "Traceback" not in refused.output, refused.output
    assert "at most 640 characters" in " ".join(ok("campaign", "create", "--help").output.split())


def test_campaign_create_preview_send_and_resend_read_as_sentences(trust, live_settings):
    disruption = str(strike(trust))
    created = ok("campaign", "create", "--disruption", disruption, "--name", "Strike letters")
    assert "created" in created.stdout and "segment" in created.stdout
    campaign = str(json.loads(ok("campaign", "list", "--json").stdout)[0]["id"])

    preview = ok("campaign", "preview", campaign).stdout
    assert "who hears how" in preview and "SMS" in preview and "segments" in preview
    assert json.loads(ok("campaign", "preview", campaign, "--json").stdout)["by_route"]["sms"] == 1

    sent = ok("campaign", "send", campaign, "--no-watch")
    assert "1 messages queued now (SMS 1" in " ".join(sent.stdout.split())
    assert "{" not in sent.stdout and "?" not in sent.stdout
    again = ok("campaign", "send", campaign, "--no-watch")
    assert "nothing new to queue" in again.stdout and "0/?" not in again.output
    again_json = json.loads(ok("campaign", "send", campaign, "--no-watch", "--json").stdout)
    assert again_json["queued_now"] == 0 and again_json["recipients"] == 1
    status = json.loads(ok("campaign", "status", campaign, "--json").stdout)
    assert status["status"] == "sending" and status["queued"] == 1
    assert "paused: 1 unsent messages held" in " ".join(
        ok("campaign", "pause", campaign).stdout.split())


def test_campaign_waiting_for_the_send_window_says_so(trust, live_settings, monkeypatch):
    disruption = str(strike(trust))
    ok("campaign", "create", "--disruption", disruption, "--name", "Night")
    monkeypatch.setenv("SEND_WINDOW_START", "08:00")
    monkeypatch.setenv("SEND_WINDOW_END", "08:00:00.000001")  # closed (all but a microsecond)
    from tests.conftest import clear_app_caches

    clear_app_caches()
    sent = ok("campaign", "send", "1", "--no-watch")
    assert "Outside the send window" in sent.stdout and "08:00" in sent.stdout
    assert "London time" in sent.stdout


def test_a_campaign_with_no_recipients_needs_yes(trust, live_settings):
    disruption = str(strike(trust))
    ok("campaign", "create", "--disruption", disruption, "--name", "Nobody", "--priority", "P1a")
    refused = rebook("campaign", "send", "1", "--no-watch")
    assert refused.exit_code == 2
    assert "0 recipients" in refused.output and "--yes" in refused.output
    assert json.loads(ok("campaign", "status", "1", "--json").stdout)["status"] == "draft"
    forced = ok("campaign", "send", "1", "--no-watch", "--yes")
    assert "warning" in forced.output


def test_disrupt_preview_shows_london_time(live_session_factory, live_settings):
    summer = datetime(2027, 6, 15, 8, 0, tzinfo=UTC)  # 09:00 in London (BST)
    with live_session_factory() as session:
        site = factories.make_site(session)
        specialty = factories.make_specialty(session)
        slot = factories.make_slot(session, site=site, specialty=specialty, start_at=summer,
                                   status=SlotStatus.BOOKED)
        factories.make_appointment(session, patient=factories.make_patient(session),
                                   specialty=specialty, slot_id=slot.id)
        session.commit()
    preview = ok("schedule", "disrupt", "--name", "Summer", "--starts", "2027-06-15T07:00",
                 "--ends", "2027-06-15T18:00", "--staff-group", "consultants", "--preview")
    assert "London time" in preview.stdout and "UTC" not in preview.output
    assert "Tue 15 Jun 2027 09:00" in preview.stdout


def test_create_user_reads_the_password_variable_or_says_to_set_it(live_settings):
    missing = rebook("staff", "create-user", "j.bloggs")  # no terminal, nothing piped
    assert missing.exit_code == 2
    assert "REBOOK_STAFF_PASSWORD" in missing.output and "Traceback" not in missing.output
    assert "Aborted" not in missing.output
    created = rebook("staff", "create-user", "j.bloggs", "--role", "admin",
                     env={"REBOOK_STAFF_PASSWORD": "a long enough password"})
    assert created.exit_code == 0, created.output
    assert "created admin j.bloggs" in created.output
