import pytest

from api.db import utcnow
from api.staff import service as staff_service
from api.staff.models import Role


def test_password_is_hashed_and_verified(db_session):
    user = staff_service.create_user(session=db_session, username="J.Bloggs",
                                     display_name="Jo Bloggs", password="correct horse battery",
                                     role=Role.CLERK)
    assert user.username == "j.bloggs"
    assert "correct horse" not in user.password_hash
    assert user.password_hash.startswith("$argon2")
    assert staff_service.verify_password(user=user, password="correct horse battery")
    assert not staff_service.verify_password(user=user, password="wrong horse battery")


@pytest.mark.parametrize(
    ("username", "password", "message"),
    [("ok.name", "short", "at least"), ("bad name!", "long enough password", "letters"),
     ("ok.name", "password1234", "too common"), ("j.bloggs", "jbloggs12345", "too common")],
)
def test_bad_accounts_are_refused(db_session, username, password, message):
    with pytest.raises(staff_service.StaffError, match=message):
        staff_service.create_user(session=db_session, username=username, display_name="x",
                                  password=password, role=Role.CLERK)


def test_duplicate_username_is_refused(db_session):
    kwargs = dict(display_name="x", password="long enough password", role=Role.ADMIN)
    staff_service.create_user(session=db_session, username="dup", **kwargs)
    with pytest.raises(staff_service.StaffError, match="already exists"):
        staff_service.create_user(session=db_session, username="DUP", **kwargs)


def test_api_key_authenticates_until_revoked(db_session):
    user = staff_service.create_user(session=db_session, username="pas", display_name="PAS",
                                     password="long enough password", role=Role.ADMIN)
    key = staff_service.create_api_key(session=db_session, user=user, label="PAS")
    assert staff_service.authenticate_api_key(session=db_session, key=key) == user
    assert staff_service.authenticate_api_key(session=db_session, key=key + "x") is None
    assert staff_service.authenticate_api_key(session=db_session, key="nonsense") is None
    prefix = key.split("_")[1]
    staff_service.revoke_api_key(session=db_session, actor="system", prefix=prefix)
    assert staff_service.authenticate_api_key(session=db_session, key=key) is None


def test_inactive_user_key_does_not_work(db_session):
    user = staff_service.create_user(session=db_session, username="gone", display_name="Gone",
                                     password="long enough password", role=Role.CLERK)
    key = staff_service.create_api_key(session=db_session, user=user)
    user.active = False
    assert staff_service.authenticate_api_key(session=db_session, key=key) is None


def test_lockout_window():
    from datetime import timedelta

    from api.staff.models import StaffUser

    user = StaffUser(username="x", display_name="x", password_hash="x", role=Role.CLERK)
    assert not staff_service.is_locked(user=user)
    user.locked_until = utcnow() + timedelta(minutes=5)
    assert staff_service.is_locked(user=user)


def test_passwords_no_hash_can_take_are_refused(db_session):
    # Non-UTF-8 bytes on a command line reach Python as lone surrogates (surrogateescape).
    user = staff_service.create_user(session=db_session, username="s.urrogate", display_name="S",
                                     password="long enough password", role=Role.CLERK)
    with pytest.raises(staff_service.StaffError, match="cannot be stored"):
        staff_service.reset_password(session=db_session, actor="system", user=user,
                                     password="long enough \udcff password")
    assert not staff_service.verify_password(user=user, password="long enough \udcff password")
