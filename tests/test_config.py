"""Settings refuse placeholder secrets outside development."""

import pytest
from pydantic import ValidationError

from api.config import Settings


def test_development_accepts_the_built_in_secret():
    assert Settings(environment="development").environment == "development"


def test_production_refuses_the_placeholder_secret_key():
    with pytest.raises(ValidationError, match="SECRET_KEY"):
        Settings(environment="production", secret_key="dev-secret-key-not-for-production")


def test_production_with_twilio_needs_real_twilio_credentials():
    from tests.system.test_deploying_safely import SAFE_PRODUCTION

    safe = {k.lower(): v for k, v in SAFE_PRODUCTION.items()}
    with pytest.raises(ValidationError, match="(?s)TWILIO_AUTH_TOKEN.*TWILIO_ACCOUNT_SID"):
        Settings(**{**safe, "twilio_auth_token": "a-real-token", "twilio_account_sid": ""})
    ok = Settings(**safe)
    token = SAFE_PRODUCTION["TWILIO_AUTH_TOKEN"]
    assert ok.twilio_auth_token.get_secret_value() == token and token not in repr(ok)
    assert ok.is_production and not ok.sandbox_routes and not ok.serve_api_docs


def test_development_and_test_default_to_the_sandbox():
    assert Settings(_env_file=None, environment="development").messaging_mode == "sandbox"
    assert Settings(_env_file=None, environment="test", secret_key="k" * 20).sandbox_routes


def test_database_url_defaults_to_an_sqlite_file(monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    settings = Settings(_env_file=None)
    assert settings.database_url.startswith("sqlite:///") and settings.is_sqlite


def test_the_api_admits_fewer_requests_than_it_has_threads():
    # Otherwise a request holding SQLite's write lock could wait for a thread held by requests
    # waiting for that lock (api.system.admission).
    with pytest.raises(ValidationError, match="API_CONCURRENCY must be less than API_THREADS"):
        Settings(api_concurrency=40, api_threads=40)
    assert Settings(api_concurrency=8, api_threads=12).api_concurrency == 8


def test_database_pooler_is_none_or_pgbouncer_and_turns_prepared_statements_off():
    from api.db import pooler_connect_args

    assert Settings(_env_file=None).database_pooler == "none"
    assert pooler_connect_args(Settings(_env_file=None)) == {}
    assert pooler_connect_args(Settings(database_pooler="pgbouncer")) == {
        "prepare_threshold": None}
    with pytest.raises(ValidationError, match="database_pooler"):
        Settings(database_pooler="pgpool")


def test_the_scaling_settings_are_documented():
    from api.config import PROJECT_ROOT
    from api.config_scale import ScaleSettings

    operations = (PROJECT_ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
    for name in ScaleSettings.model_fields:
        assert f"`{name.upper()}`" in operations, name
