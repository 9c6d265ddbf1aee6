"""Schemathesis against the app's own /openapi.json: no input makes a 500 or breaks the schema.

Every operation in the schema is called with about 20 generated requests in its fuzzing phase
(valid and invalid: schemathesis' positive and negative modes), plus the schema's examples and
the coverage phase's boundary values, as an admin with an API key, on a database holding the
demo trust, once on SQLite and once on PostgreSQL. Every response must pass all of
schemathesis' checks: not a server error; status code, content type, headers and body as
documented; invalid input rejected; valid input accepted; `Allow` on a 405 complete.
Generation is derandomized, so a run is repeatable and cannot flake.

Nothing is excluded: the Twilio status callback needs a signature, so generated calls get its
documented 403 (and that refusal is worth checking too).
"""

from __future__ import annotations

import time
from collections import Counter

import pytest
import schemathesis
from schemathesis.checks import not_a_server_error
from schemathesis.config import PositiveDataAcceptanceConfig

from api.db import session_scope
from api.demo import service as demo_service
from api.staff import service as staff_service
from api.staff.models import Role
from tests.conftest import clear_app_caches, empty_live_database, point_at_live_database

EXAMPLES_PER_OPERATION = 20
DEMO_PATIENTS = 40
# Cases are generated when pytest collects them, before any database exists: they carry this
# stand-in, which each test swaps for the running backend's real admin key.
KEY_STAND_IN = "Bearer admin-api-key"
ADMIN_KEY: dict[str, str] = {}
CALLS: Counter = Counter()


def _load_schema():
    from api.main import create_app

    loaded = schemathesis.openapi.from_asgi("/openapi.json", create_app())
    clear_app_caches()  # the schema needs no database; the tests bring their own
    # Derandomized: the same requests every run. No example database: nothing carried over.
    loaded.config.generation.update(max_examples=EXAMPLES_PER_OPERATION, deterministic=True,
                                    database="none")
    # A request the schema allows may still be refused with 422 for what JSON Schema cannot
    # say: a disruption that ends before it starts, a code no site has, a session in the past.
    loaded.config.checks.positive_data_acceptance = PositiveDataAcceptanceConfig.from_dict(
        {"expected-statuses": ["2xx", "3xx", "401", "403", "404", "409", "410", "422", "429",
                               "5xx"]})
    return loaded


schema = _load_schema()


@schema.auth()
class AdminApiKey:
    """Schemathesis' own auth hook, so its negative cases can still drop or spoil the key."""

    def get(self, case, context):
        return KEY_STAND_IN

    def set(self, case, data, context):
        case.headers = {**(case.headers or {}), "Authorization": data}


@pytest.fixture(scope="module")
def fuzzed_app(live_database_url):
    """The app on a database seeded with the demo trust, with an admin's API key."""
    from api.main import create_app

    with pytest.MonkeyPatch.context() as monkeypatch:
        point_at_live_database(monkeypatch, live_database_url)
        clear_app_caches()
        with session_scope() as session:
            demo_service.seed(session=session, patients=DEMO_PATIENTS)
            admin = staff_service.create_user(session=session, username="fuzz.admin",
                                              display_name="Fuzz Admin", role=Role.ADMIN,
                                              password="a long enough password")
            key = staff_service.create_api_key(session=session, user=admin)
            ADMIN_KEY["Authorization"] = f"Bearer {key}"
        started = time.monotonic()
        yield create_app()
        print(f"\nschemathesis: {sum(CALLS.values())} calls, {len(CALLS)} operations, "
              f"{time.monotonic() - started:.1f} s")
        CALLS.clear()
        ADMIN_KEY.clear()
        empty_live_database()


@schema.parametrize()
def test_api_conforms_to_its_schema(case, fuzzed_app):
    CALLS[case.operation.label] += 1
    if case.headers and case.headers.get("Authorization") == KEY_STAND_IN:
        case.headers["Authorization"] = ADMIN_KEY["Authorization"]
    if case.operation.label == "GET /readyz":
        # Rasa is not running here, so readiness answers its documented 503.
        case.call_and_validate(app=fuzzed_app, excluded_checks=[not_a_server_error])
        return
    case.call_and_validate(app=fuzzed_app)
