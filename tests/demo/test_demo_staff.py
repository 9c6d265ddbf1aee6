"""The demo staff account `rebook run` creates for development, and never in production."""

from __future__ import annotations

from sqlalchemy import select

from api.audit.models import AuditEvent
from api.config import get_settings
from api.demo import staff as demo_staff
from api.staff import service as staff_service
from api.staff.models import Role, StaffUser


def test_created_once_outside_production(db_session):
    settings = get_settings().model_copy(update={"environment": "development"})
    first = demo_staff.ensure_demo_staff(session=db_session, settings=settings)
    assert first is not None and first.created
    user = staff_service.get_user(session=db_session, username=first.username)
    assert user.role is Role.ADMIN and user.active
    assert staff_service.verify_password(user=user, password=first.password)
    assert db_session.scalar(select(AuditEvent).where(
        AuditEvent.action == "create_staff_user", AuditEvent.object_id == str(user.id))) is not None

    again = demo_staff.ensure_demo_staff(session=db_session, settings=settings)
    assert again is not None and not again.created
    assert len(db_session.scalars(select(StaffUser)).all()) == 1


def test_never_in_production(db_session):
    settings = get_settings().model_copy(update={"environment": "production"})
    assert demo_staff.ensure_demo_staff(session=db_session, settings=settings) is None
    assert db_session.scalars(select(StaffUser)).all() == []


def test_rebook_run_creates_it_and_prints_the_console_and_sign_in(tmp_path, monkeypatch,
                                                                   capsys):
    from typer.testing import CliRunner

    from api import supervisor
    from api.cli import app
    from api.db import session_scope
    from tests.conftest import clear_app_caches

    class Manager:  # instead of starting the stack's processes
        returncode = 0

        def __init__(self, printer):
            pass

        def add_process(self, *args, **kwargs):
            pass

        def loop(self):
            pass

    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'run.db'}")
    monkeypatch.setenv("ENVIRONMENT", "development")
    monkeypatch.setattr(supervisor, "Manager", Manager)
    monkeypatch.setattr(supervisor, "prepare_database", lambda **_: None)
    clear_app_caches()
    try:
        result = CliRunner().invoke(app, ["run", "--port", "8123"])
        assert result.exit_code == 0, result.output
        printed = capsys.readouterr().err + result.output
        assert "staff console  http://127.0.0.1:8123/console" in printed
        assert f"demo sign-in   {demo_staff.USERNAME} / {demo_staff.PASSWORD}" in printed
        with session_scope() as session:
            assert staff_service.get_user(session=session, username=demo_staff.USERNAME)
    finally:
        clear_app_caches()
