"""One place for every setting, read from the environment (and `.env`)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent

# Values that mean "nobody set this yet"; refused outside development so a
# production deployment can never run on a secret that is printed in the repo.
PLACEHOLDER_SECRETS = {"", "changeme", "change-me", "dev-secret-key-not-for-production", "secret"}
DEV_SECRET_KEY = "dev-secret-key-not-for-production"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    database_url: str = Field(
        default=f"sqlite:///{PROJECT_ROOT / 'var' / 'rebook.db'}",
        description="SQLAlchemy URL; SQLite file by default, postgresql+psycopg://... in production",
    )
    redis_url: str | None = None
    secret_key: SecretStr = SecretStr(DEV_SECRET_KEY)

    public_base_url: str = "http://127.0.0.1:8000"
    rasa_url: str = "http://127.0.0.1:5005"
    action_server_url: str = "http://127.0.0.1:5055"
    rasa_timeout_seconds: float = 5.0

    messaging_mode: Literal["sandbox", "twilio"] = "sandbox"
    twilio_account_sid: str = ""
    twilio_auth_token: SecretStr = SecretStr("sandbox-auth-token")
    twilio_sms_from: str = "+447700900000"
    twilio_whatsapp_from: str = "whatsapp:+447700900001"
    twilio_messaging_service_sid: str = ""
    # Only for tests and benchmarks: send REST calls to a fake Twilio on loopback.
    twilio_api_base_url: str = ""
    # Twilio's Advanced Opt-Out answers STOP/START itself; then set this false.
    keyword_replies: bool = True
    # Outbound pacing per sender (a UK long code manages about 10 messages a second).
    send_rate_per_second: float = 10.0
    send_max_attempts: int = 8
    daily_cap_per_number: int = 40
    inbound_rate_per_minute: int = 12
    # The bookings team's hours (Europe/London), for handover due times.
    working_hours_start: str = "08:00"
    working_hours_end: str = "18:00"
    # Notifications, chasers and reminders go out only inside this window (Europe/London).
    send_window_start: str = "08:00"
    send_window_end: str = "20:00"
    # Email (campaigns): SMTP in twilio mode; recorded like the rest in the sandbox.
    smtp_host: str = ""
    smtp_port: int = 25
    smtp_from: str = "appointments@example.nhs.uk"
    smtp_username: str = ""
    smtp_password: SecretStr = SecretStr("")
    smtp_starttls: bool = False
    worker_lease_seconds: float = 30.0
    worker_poll_seconds: float = 0.05
    # CPU priority of the queue-driven processes (worker, dispatcher, scheduler, Rasa, action
    # server) under `rebook run`: `nice` offset, so a burst never slows acknowledgements.
    background_nice: int = Field(default=10, ge=0, le=19)

    trust_name: str = "Northshire Hospitals NHS Foundation Trust"
    bookings_phone: str = "0161 496 0000"
    patient_timezone: str = "Europe/London"
    identity_valid_minutes: int = 60  # how long a date-of-birth check stays in force

    log_level: str = "INFO"
    log_json: bool = True

    # --- robustness under load ---
    # Threads that run sync routes and their database work in one api process (anyio's
    # default is 40); the database pool holds as many connections.
    api_threads: int = Field(default=40, ge=2, le=1000)
    # Requests one api process works on at once; more wait in line (in the event loop, cheaply)
    # for up to `api_queue_seconds`, then get 503 with Retry-After. Fewer than `api_threads`,
    # so a request holding a lock never waits for a thread.
    api_concurrency: int = Field(default=32, ge=1, le=1000)
    api_queue_seconds: float = Field(default=10.0, gt=0, le=300)
    db_pool_timeout_seconds: float = Field(default=10.0, gt=0, le=300)
    # How long a write waits for SQLite's write lock before the request answers 503.
    sqlite_busy_timeout_seconds: float = Field(default=30.0, gt=0, le=300)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @model_validator(mode="after")
    def _concurrency_below_threads(self) -> Settings:
        if self.api_concurrency >= self.api_threads:
            raise ValueError("API_CONCURRENCY must be less than API_THREADS: the threads left "
                             "over serve health checks and live updates")
        return self

    @model_validator(mode="after")
    def _refuse_placeholder_secrets(self) -> Settings:
        if self.environment == "development":
            return self
        problems = []
        if self.secret_key.get_secret_value().strip().lower() in PLACEHOLDER_SECRETS:
            problems.append("SECRET_KEY")
        if self.messaging_mode == "twilio":
            token = self.twilio_auth_token.get_secret_value().strip().lower()
            if token in PLACEHOLDER_SECRETS or token == "sandbox-auth-token":
                problems.append("TWILIO_AUTH_TOKEN")
            if not self.twilio_account_sid:
                problems.append("TWILIO_ACCOUNT_SID")
        if problems:
            raise ValueError(
                f"{', '.join(problems)} must be set to a real secret when "
                f"ENVIRONMENT={self.environment}"
            )
        return self


@lru_cache
def get_settings() -> Settings:
    return Settings()
