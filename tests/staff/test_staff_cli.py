"""`rebook staff ...` as an operator runs it: every account verb, audited as the operator."""

import getpass
import json
import re
from datetime import timedelta

import pytest
from typer.testing import CliRunner

from api.audit.models import AuditEvent
from api.cli import app
from api.db import utcnow
from api.staff import service as staff_service
from api.staff.models import ApiKey, StaffUser

PASSWORD = "correct horse battery staple"
NEW_PASSWORD = "purple monkey dishwasher"


@pytest.fixture
def rebook(live_settings):
    runner = CliRunner()

    def run(*args, env=None, input=None):
        return runner.invoke(app, ["staff", *args], env=env, input=input)

    return run


@pytest.fixture
def db(live_session_factory):
    with live_session_factory() as session:
        yield session


# Each read ends its transaction: on SQLite an open one would hold the write lock the next
# command needs.

def user(db, username) -> StaffUser:
    db.expire_all()
    found = db.query(StaffUser).filter_by(username=username).one()
    db.commit()
    return found


def actions(db) -> list[tuple[str, str, str]]:
    db.expire_all()
    found = [(e.actor, e.action, e.object_id)
             for e in db.query(AuditEvent).order_by(AuditEvent.id)]
    db.commit()
    return found


def key_works(db, key) -> bool:
    found = staff_service.authenticate_api_key(session=db, key=key) is not None
    db.commit()
    return found


@pytest.fixture
def accounts(rebook, db):
    for name, role in (("o.admin", "admin"), ("j.bloggs", "clerk")):
        created = rebook("create-user", name, "--role", role, "--password", PASSWORD)
        assert created.exit_code == 0, created.output
    key = rebook("create-api-key", "j.bloggs", "--label", "PAS integration")
    assert key.exit_code == 0 and key.stdout.startswith("rbk_")
    return key.stdout.strip()


def test_operators_are_audited_by_their_os_account(rebook, db, accounts):
    actor = f"cli:{getpass.getuser()}"
    assert (actor, "create_staff_user", str(user(db, "j.bloggs").id)) in actions(db)
    assert (actor, "create_api_key", accounts.split("_")[1]) in actions(db)


def test_a_weak_password_is_refused_with_a_clear_error(rebook, db):
    result = rebook("create-user", "x.y", "--password", "password1234")
    assert result.exit_code == 2 and "too common" in result.output
    assert db.query(StaffUser).count() == 0


def test_list(rebook, db, accounts):
    listed = rebook("list", "--json")
    assert listed.exit_code == 0
    rows = {row["username"]: row for row in json.loads(listed.stdout)}
    assert rows["j.bloggs"]["role"] == "clerk" and rows["j.bloggs"]["active"] is True
    assert re.search(r"j\.bloggs .*clerk .*active", rebook("list").stdout)
    assert any(a[1] == "view_staff_users" for a in actions(db))


def test_deactivate_and_reactivate(rebook, db, accounts):
    generation = user(db, "j.bloggs").session_generation
    result = rebook("deactivate", "j.bloggs")
    assert result.exit_code == 0, result.output
    bloggs = user(db, "j.bloggs")
    assert not bloggs.active and bloggs.session_generation == generation + 1
    assert not key_works(db, accounts)
    assert db.query(ApiKey).one().revoked_at is not None
    db.commit()
    assert "deactivated" in rebook("list").stdout
    assert rebook("reactivate", "j.bloggs").exit_code == 0
    assert user(db, "j.bloggs").active
    done = [a[1] for a in actions(db)]
    assert "deactivate_staff_user" in done and "reactivate_staff_user" in done


def test_unlock(rebook, db, accounts):
    bloggs = user(db, "j.bloggs")
    bloggs.locked_until = utcnow() + timedelta(minutes=10)
    db.commit()
    assert "locked until" in rebook("list").stdout
    assert rebook("unlock", "j.bloggs").exit_code == 0
    assert not staff_service.is_locked(user=user(db, "j.bloggs"))
    assert ("unlock_staff_user", str(bloggs.id)) in [(a[1], a[2]) for a in actions(db)]


def test_reset_password_given_and_generated(rebook, db, accounts):
    given = rebook("reset-password", "j.bloggs", env={"REBOOK_STAFF_PASSWORD": NEW_PASSWORD})
    assert given.exit_code == 0 and given.stdout == ""
    assert staff_service.verify_password(user=user(db, "j.bloggs"), password=NEW_PASSWORD)
    prompted = rebook("reset-password", "j.bloggs", input=f"{PASSWORD}\n{PASSWORD}\n")
    assert prompted.exit_code == 0, prompted.output
    assert staff_service.verify_password(user=user(db, "j.bloggs"), password=PASSWORD)
    generated = rebook("reset-password", "j.bloggs", "--generate")
    assert generated.exit_code == 0
    temporary = generated.stdout.strip()
    assert staff_service.verify_password(user=user(db, "j.bloggs"), password=temporary)
    weak = rebook("reset-password", "j.bloggs", "--password", "qwertyuiop12")
    assert weak.exit_code == 2 and "too common" in weak.output
    assert [a[1] for a in actions(db)].count("reset_password") == 3


def test_change_password_needs_the_current_one(rebook, db, accounts):
    wrong = rebook("change-password", "j.bloggs", "--current-password", "not the password",
                   "--new-password", NEW_PASSWORD)
    assert wrong.exit_code == 2 and "current password is wrong" in wrong.output
    ok = rebook("change-password", "j.bloggs", "--current-password", PASSWORD,
                "--new-password", NEW_PASSWORD)
    assert ok.exit_code == 0, ok.output
    assert staff_service.verify_password(user=user(db, "j.bloggs"), password=NEW_PASSWORD)
    assert "change_password" in [a[1] for a in actions(db)]


def test_api_keys_and_revoke(rebook, db, accounts):
    prefix = accounts.split("_")[1]
    assert key_works(db, accounts)
    listed = json.loads(rebook("api-keys", "j.bloggs", "--json").stdout)
    assert [(k["prefix"], k["username"], k["label"]) for k in listed] == [
        (prefix, "j.bloggs", "PAS integration")]
    assert listed[0]["last_used_at"] and listed[0]["revoked_at"] is None
    assert accounts not in rebook("api-keys").stdout
    assert rebook("revoke-api-key", prefix).exit_code == 0
    assert not key_works(db, accounts)
    assert json.loads(rebook("api-keys", "--json").stdout)[0]["revoked_at"]
    assert ("revoke_api_key", prefix) in [(a[1], a[2]) for a in actions(db)]


@pytest.mark.parametrize("args", [["deactivate", "nobody"], ["reactivate", "nobody"],
                                  ["unlock", "nobody"], ["reset-password", "nobody", "--generate"],
                                  ["api-keys", "nobody"], ["revoke-api-key", "abcdef123456"],
                                  ["create-api-key", "nobody"]])
def test_unknown_names_give_a_clear_error(rebook, args):
    result = rebook(*args)
    assert result.exit_code == 2
    assert "no staff user" in result.output or "no such API key" in result.output
