"""The `rebook` command line, as an operator runs it."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from api.patients.identifiers import is_valid_nhs_number

ROOT = Path(__file__).resolve().parent.parent


def rebook(*args, database_url: str, stdin: str | None = None):
    env = {"DATABASE_URL": database_url, "PATH": "/usr/bin:/bin", "ENVIRONMENT": "development",
           "COLUMNS": "200"}  # a wide terminal: table headers on one line
    return subprocess.run([sys.executable, "-m", "api", *args], cwd=ROOT, env=env, input=stdin,
                          capture_output=True, text=True, timeout=120)


@pytest.fixture
def database_url(tmp_path):
    return f"sqlite:///{tmp_path / 'cli.db'}"


def test_demo_seed_json_prints_the_contract_and_is_idempotent(database_url):
    first = rebook("demo", "seed", "--patients", "400", "--json", database_url=database_url)
    assert first.returncode == 0, first.stderr
    patients = json.loads(first.stdout)["patients"]
    assert len(patients) == 400
    keys = {"nhs_number", "name", "dob", "postcode", "mobile", "email", "whatsapp",
            "appointments"}
    assert all(set(p) == keys for p in patients)
    assert all(is_valid_nhs_number(p["nhs_number"]) and p["nhs_number"].startswith("999")
               for p in patients)
    appointment = next(a for p in patients for a in p["appointments"])
    assert set(appointment) == {"id", "status", "specialty", "priority", "start"}
    postponed = [a for p in patients for a in p["appointments"] if a["status"] == "postponed"]
    assert postponed and all(a["start"] is None for a in postponed)

    second = rebook("demo", "seed", "--patients", "400", "--json", database_url=database_url)
    assert second.returncode == 0
    assert "already seeded" in second.stderr
    assert json.loads(second.stdout) == json.loads(first.stdout)


@pytest.mark.parametrize("args", [["--patients", "0"], ["--patients", "abc"], ["--seed", "-1"]])
def test_bad_seed_arguments_give_a_clear_error(database_url, args):
    result = rebook("demo", "seed", *args, database_url=database_url)
    assert result.returncode == 2
    assert "error" in result.stderr.lower() or "invalid" in result.stderr.lower()


def test_db_upgrade_and_staff_commands(database_url):
    assert rebook("db", "upgrade", database_url=database_url).returncode == 0
    created = rebook("staff", "create-user", "ops.admin", "--role", "admin",
                     "--password", "a long enough password", database_url=database_url)
    assert created.returncode == 0, created.stderr
    key = rebook("staff", "create-api-key", "ops.admin", database_url=database_url)
    assert key.returncode == 0 and key.stdout.startswith("rbk_")
    missing = rebook("staff", "create-api-key", "nobody", database_url=database_url)
    assert missing.returncode == 2 and "no staff user" in missing.stderr
    bad_role = rebook("staff", "create-user", "x.y", "--role", "boss", "--password",
                      "a long enough password", database_url=database_url)
    assert bad_role.returncode == 2


def test_schedule_plan_prints_plain_columns_and_no_solver_banner(database_url):
    """HiGHS prints a licence banner on file descriptor 1 when first made: never shown."""
    assert rebook("demo", "seed", "--patients", "200", database_url=database_url).returncode == 0
    plan = rebook("schedule", "plan", "--disruption", "1", "--solver-limit", "20",
                  database_url=database_url)
    assert plan.returncode == 0, plan.stderr
    shown = plan.stdout + plan.stderr
    assert "HiGHS" not in shown and "licence" not in shown
    assert "objective" not in shown
    for column in ("patients placed", "not placed", "days past targets", "optimised"):
        assert column in " ".join(shown.split()), column
    as_json = rebook("schedule", "plan", "--disruption", "1", "--method", "solver", "--json",
                     database_url=database_url)
    assert json.loads(as_json.stdout)["plans"][0]["method"] == "solver"
    assert "HiGHS" not in as_json.stderr


def test_demo_reference_makes_an_empty_trust_ready_for_its_pas_export(database_url):
    first = rebook("demo", "reference", database_url=database_url)
    assert first.returncode == 0, first.stderr
    assert "sites, specialties, clinicians and strike" in first.stdout + first.stderr
    codes = rebook("codes", database_url=database_url)
    assert codes.returncode == 0 and "NTH-RNI" in codes.stdout
    again = rebook("demo", "reference", database_url=database_url)
    assert again.returncode == 0 and "nothing changed" in again.stdout + again.stderr
    seeded = rebook("demo", "seed", "--json", "--patients", "5", database_url=database_url)
    assert json.loads(seeded.stdout) == {"patients": []}  # the trust is there, nobody in it
