"""Fixtures for tests that sign staff in (imported by tests/staff and tests/console conftests).

Cheap password hashes: argon2's production cost is for attackers, not CI (the parameters
travel inside each hash, so verification is unchanged). Fresh sign-in limits per test."""

import pytest
from argon2 import PasswordHasher

from api.staff import auth as staff_auth
from api.staff import service as staff_service


@pytest.fixture(autouse=True)
def cheap_password_hashes(monkeypatch):
    monkeypatch.setattr(staff_service, "_hasher",
                        PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


@pytest.fixture(autouse=True)
def fresh_login_limits():
    staff_auth.reset_rate_limits()
    yield
    staff_auth.reset_rate_limits()
