"""Staff sign-in fixtures for the console bookings here: see tests/staff_fixtures.py."""

from tests.staff_fixtures import cheap_password_hashes, fresh_login_limits  # noqa: F401
