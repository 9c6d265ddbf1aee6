"""Single sign-on settings, role mapping and account linking (the browser flow is in
tests/console/test_oidc.py)."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError
from sqlalchemy import text

from api.config import Settings
from api.db import make_engine, utcnow
from api.staff import service as staff_service
from api.staff import sso
from api.staff.models import Role
from api.staff.oidc import Identity, SignInRefused

ISSUER = "https://login.microsoftonline.com/11111111-2222-3333-4444-555555555555/v2.0"
ROOT = Path(__file__).resolve().parents[2]
SSO = {"oidc_issuer": ISSUER, "oidc_client_id": "client", "oidc_client_secret": "secret-value"}


def test_sso_is_off_by_default_and_needs_all_three_settings():
    assert not Settings().oidc_enabled
    assert Settings(**SSO).oidc_enabled
    with pytest.raises(ValidationError, match="OIDC_CLIENT_ID and OIDC_CLIENT_SECRET"):
        Settings(oidc_issuer=ISSUER, oidc_client_id="client")
    with pytest.raises(ValidationError, match="https"):
        Settings(**SSO | {"oidc_issuer": "http://idp.example/v2.0"}, environment="production",
                 secret_key="a-real-production-secret-of-some-length")


@pytest.mark.parametrize("role_map", ["Rebook.Clerk=superuser", "=clerk", "Rebook.Clerk"])
def test_a_bad_role_map_stops_start_up(role_map):
    with pytest.raises(ValidationError, match="OIDC_ROLE_MAP"):
        Settings(oidc_role_map=role_map)


def test_roles_map_with_the_widest_winning():
    settings = Settings(**SSO)
    assert sso.role_map(settings=settings) == {"Rebook.Clerk": Role.CLERK,
                                               "Rebook.Clinician": Role.CLINICIAN,
                                               "Rebook.Admin": Role.ADMIN}
    assert sso.role_for(settings=settings, role_values=("Rebook.Clerk",)) is Role.CLERK
    assert sso.role_for(settings=settings,
                        role_values=("Rebook.Clerk", "Rebook.Clinician")) is Role.CLINICIAN
    assert sso.role_for(settings=settings,
                        role_values=("Rebook.Admin", "Rebook.Clerk")) is Role.ADMIN
    assert sso.role_for(settings=settings, role_values=("rebook.admin", "Other")) is None
    assert sso.role_for(settings=settings, role_values=()) is None


def identity(subject: str = "oid-1", roles: tuple[str, ...] = ("Rebook.Clerk",)) -> Identity:
    return Identity(issuer=ISSUER, subject=subject, display_name="Test Person",
                    username_hint="test.person@nhs.example", role_values=roles, amr=())


def test_linking_is_one_identity_to_one_user(db_session):
    first = staff_service.create_user(session=db_session, username="t.first", display_name="F",
                                      password="a long enough password", role=Role.CLERK)
    second = staff_service.create_user(session=db_session, username="t.second",
                                       display_name="S", password="a long enough password",
                                       role=Role.CLERK)
    sso.link_user(session=db_session, user=first, issuer=ISSUER, subject="oid-1")
    with pytest.raises(staff_service.StaffError, match="already linked to 't.first'"):
        sso.link_user(session=db_session, user=second, issuer=ISSUER, subject="oid-1")
    with pytest.raises(staff_service.StaffError, match="1 to 255"):
        sso.link_user(session=db_session, user=second, issuer=ISSUER, subject="")
    # The same subject at another provider is another person.
    sso.link_user(session=db_session, user=second, issuer="https://other.example", subject="oid-1")
    assert sso.find_user(session=db_session, issuer=ISSUER, subject="oid-1").id == first.id


def test_sign_in_provisions_once_and_refuses_without_a_role(db_session):
    settings = Settings(**SSO)
    user = sso.sign_in(session=db_session, settings=settings, identity=identity())
    again = sso.sign_in(session=db_session, settings=settings, identity=identity())
    assert again.id == user.id and user.role is Role.CLERK
    with pytest.raises(SignInRefused) as refused:
        sso.sign_in(session=db_session, settings=settings, identity=identity(roles=()))
    assert refused.value.status_code == 403 and refused.value.reason == "no_role"
    assert user.role is Role.CLERK  # a refused sign-in changes nothing


def test_sign_in_clears_a_password_lockout(db_session):
    settings = Settings(**SSO)
    user = sso.sign_in(session=db_session, settings=settings, identity=identity())
    user.failed_logins, user.locked_until = 3, utcnow() + timedelta(minutes=15)
    sso.sign_in(session=db_session, settings=settings, identity=identity())
    assert user.failed_logins == 0 and user.locked_until is None


def rebook(*args, database_url: str, env: dict[str, str] | None = None):
    env = {"DATABASE_URL": database_url, "PATH": "/usr/bin:/bin", "ENVIRONMENT": "development",
           **(env or {})}
    return subprocess.run([sys.executable, "-m", "api", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


def test_cli_links_an_existing_user(tmp_path):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    assert rebook("db", "upgrade", database_url=url).returncode == 0
    created = rebook("staff", "create-user", "ops.clerk", "--password",
                     "a long enough password", database_url=url)
    assert created.returncode == 0, created.stderr
    unset = rebook("staff", "link-oidc", "ops.clerk", "oid-1", database_url=url)
    assert unset.returncode == 2 and "OIDC_ISSUER" in unset.stdout + unset.stderr

    def link(username: str):
        return rebook("staff", "link-oidc", username, "oid-1", database_url=url,
                      env={"OIDC_ISSUER": ISSUER, "OIDC_CLIENT_ID": "client",
                           "OIDC_CLIENT_SECRET": "secret-value"})

    linked = link("ops.clerk")
    assert linked.returncode == 0, linked.stderr
    assert "can now sign in with single sign-on" in linked.stderr
    missing = link("nobody")
    assert missing.returncode == 2 and "no staff user" in missing.stdout + missing.stderr

    engine = make_engine(url)
    with engine.connect() as conn:
        row = conn.execute(text("SELECT oidc_issuer, oidc_subject FROM staff_user "
                                "WHERE username = 'ops.clerk'")).one()
        audited = conn.execute(text("SELECT count(*) FROM audit_event "
                                    "WHERE action = 'link_oidc'")).scalar()
    engine.dispose()
    assert tuple(row) == (ISSUER, "oid-1") and audited == 1
