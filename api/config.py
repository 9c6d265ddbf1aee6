"""One place for every setting, read from the environment (and `.env`)."""

from __future__ import annotations

import sys
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from api.config_scale import ScaleSettings
from api.config_voice import VoiceSettings

PROJECT_ROOT = Path(__file__).resolve().parent.parent

# Values that mean "nobody set this yet"; refused outside development so a
# production deployment can never run on a secret that is printed in the repo.
PLACEHOLDER_SECRETS = {"", "changeme", "change-me", "dev-secret-key-not-for-production", "secret"}
DEV_SECRET_KEY = "dev-secret-key-not-for-production"


def split_urls(value: str) -> list[str]:
    """A comma-separated list of base URLs, each without its trailing slash."""
    return [u.strip().rstrip("/") for u in value.split(",") if u.strip()]


class Settings(BaseSettings, VoiceSettings, ScaleSettings):
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

    # Unset means "sandbox" in development and test; production must say which it is.
    messaging_mode: Literal["sandbox", "twilio"] | None = None
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
    # Out of hours, an urgent handover nobody has taken up alerts the on-call contact: an SMS
    # to this number (E.164, e.g. +447700900123) and, if set, an email; no patient data in
    # it. Repeated every oncall_repeat_minutes until acknowledged in the console.
    oncall_sms_number: str = ""
    oncall_email: str = ""
    oncall_repeat_minutes: int = Field(default=15, ge=1, le=24 * 60)
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

    # --- deployment safety (see docs/operations.md, "Deploying safely") ---
    # Shared secret between the worker, the Rasa server and the action server: the worker
    # presents it to Rasa's REST channel, Rasa presents it to the action server. Required in
    # production; unset in development, where both listen on loopback only.
    assistant_token: SecretStr = SecretStr("")
    # /docs, /redoc and /openapi.json: on in development and test, off in production unless
    # set true (the schema is no secret, but production has no need to advertise it).
    api_docs: bool | None = None
    # /metrics: open in development and test; in production only with this bearer token
    # (the scraper carries it), else not served at all.
    metrics_token: SecretStr = SecretStr("")
    # The largest request body any route reads; bigger ones get 413 before parsing.
    max_body_bytes: int = Field(default=256 * 1024, ge=16 * 1024, le=16 * 1024 * 1024)

    # --- single sign-on (OpenID Connect) ---
    # Staff may sign in through the trust's identity provider (Microsoft Entra ID) beside
    # passwords; set the issuer, client id and secret to turn it on. See docs/operations.md.
    oidc_issuer: str = ""  # e.g. https://login.microsoftonline.com/<tenant id>/v2.0
    oidc_client_id: str = ""
    oidc_client_secret: SecretStr = SecretStr("")
    oidc_scopes: str = "openid profile email"
    # The ID-token claim listing the user's roles (Entra app roles arrive in "roles"), and
    # which of its values mean which Rebook role; a user with none of them cannot sign in.
    oidc_roles_claim: str = "roles"
    oidc_role_map: str = "Rebook.Clerk=clerk,Rebook.Clinician=clinician,Rebook.Admin=admin"
    # Create a staff user on first sign-in (else an admin links accounts: rebook staff link-oidc).
    oidc_auto_provision: bool = True
    # Refuse ID tokens whose "amr" claim does not say "mfa" (when the provider sends amr).
    oidc_require_mfa: bool = False

    @field_validator("oidc_role_map")
    @classmethod
    def _parse_role_map(cls, value: str) -> str:
        from api.staff.models import Role  # here, not at the top: config is the ground floor

        for pair in filter(None, (p.strip() for p in value.split(","))):
            claim_value, _, role = pair.partition("=")
            if not claim_value.strip() or role.strip() not in {r.value for r in Role}:
                raise ValueError(f"OIDC_ROLE_MAP entries are claim-value=role with role one of "
                                 f"{', '.join(r.value for r in Role)}; got {pair!r}")
        return value

    @model_validator(mode="after")
    def _oidc_complete(self) -> Settings:
        if self.oidc_issuer and not (self.oidc_client_id
                                     and self.oidc_client_secret.get_secret_value()):
            raise ValueError("OIDC_ISSUER is set: OIDC_CLIENT_ID and OIDC_CLIENT_SECRET are needed")
        if (self.oidc_issuer and self.environment == "production"
                and not self.oidc_issuer.startswith("https://")):
            raise ValueError("OIDC_ISSUER must be an https:// URL in production")
        return self

    @property
    def oidc_enabled(self) -> bool:
        return bool(self.oidc_issuer)

    # --- data protection: retention and purge (docs/operations.md, "Data protection") ---
    # Conversations idle for longer than this, with no unresolved handover, lose their message
    # text and addresses, handover summaries and Rasa tracker. 365 days keeps a conversation
    # through the NHS complaints window (12 months); 0 keeps everything (no purge).
    retention_days: int = Field(default=365, ge=0, le=36500)
    # How often the scheduler runs the purge.
    purge_interval_hours: float = Field(default=24.0, gt=0)

    # --- staff accounts and sign-in ---
    # Reverse proxies whose X-Forwarded-For and X-Forwarded-Proto are believed: comma-separated
    # addresses or networks ("10.0.0.5,10.1.0.0/16"). Empty (the default) believes no header,
    # not even from loopback: the socket peer is the client. `rebook serve` hands the same
    # value to uvicorn, so request.client, the scheme and the sign-in limits all agree.
    forwarded_allow_ips: str = ""

    @field_validator("forwarded_allow_ips")
    @classmethod
    def _forwarded_allow_ips_parse(cls, value: str) -> str:
        # Imported here: config is the ground floor, and the parser lives with its user.
        from api.system.client_address import parse_trusted

        parse_trusted(value)
        return value

    # --- messaging: outbound cost ---
    # While a red-flag handover is open, the same safety net is not sent to one number again
    # within this many minutes (each repeat held back is noted on the handover); 0 repeats it
    # every time. The daily cap never holds back a safety net.
    safety_net_repeat_minutes: int = Field(default=10, ge=0, le=24 * 60)

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

    # The hospital's Patient Administration System (docs/integration.md). PAS_MODE lists the
    # adapters that run, comma separated: none, csv, hl7, fhir (e.g. "hl7,fhir": HL7 v2 feeds
    # for patients and appointments, FHIR for capacity). Where several run, PAS_SOURCE_<KIND>
    # names the one trusted for that kind of data; the others' records of it are ignored.
    pas_mode: str = "none"
    pas_source_patients: str = ""
    pas_source_appointments: str = ""
    pas_source_slots: str = ""
    # Where bookings made in Rebook go back: fhir or hl7 (the patient is told once the PAS
    # accepts), csv (told at once; the booking waits in the bookings export for upload).
    # Empty: the first of fhir, hl7, csv that runs.
    pas_writeback: str = ""
    # A cancellation from the PAS withdraws open offers; the patient is texted only if so.
    pas_notify_cancellations: bool = False
    # Who may open the integration exceptions (they hold raw patient records).
    pas_exceptions_role: Literal["admin", "clinician", "clerk"] = "admin"
    # A write-back still unanswered after this many attempts goes to staff (it keeps trying).
    pas_writeback_alert_attempts: int = Field(default=5, ge=1, le=1000)
    pas_writeback_max_backoff_seconds: float = Field(default=300.0, gt=0, le=86400)
    # FHIR R4 server (the trust's integration engine or PAS FHIR API); OAuth2 client
    # credentials when FHIR_TOKEN_URL is set.
    fhir_base_url: str = ""
    fhir_token_url: str = ""
    fhir_client_id: str = ""
    fhir_client_secret: SecretStr = SecretStr("")
    fhir_scope: str = ""
    fhir_page_size: int = Field(default=500, ge=1, le=5000)
    fhir_poll_seconds: float = Field(default=60.0, gt=0)
    fhir_timeout_seconds: float = Field(default=30.0, gt=0)
    # HL7 v2 over MLLP: our listener for ADT/SIU, and the PAS's listener for our SRM requests.
    hl7_listen_host: str = "127.0.0.1"
    hl7_listen_port: int = Field(default=2575, ge=0, le=65535)
    hl7_peer_host: str = ""
    hl7_peer_port: int = Field(default=2576, ge=0, le=65535)
    hl7_timeout_seconds: float = Field(default=10.0, gt=0)
    hl7_sending_application: str = "REBOOK"
    hl7_sending_facility: str = "REBOOK"
    hl7_receiving_application: str = "PAS"
    hl7_receiving_facility: str = "TRUST"
    # Message types for our requests, for a PAS that expects others than the standard's.
    hl7_srm_new: str = "SRM^S01"
    hl7_srm_modify: str = "SRM^S03"
    hl7_srm_cancel: str = "SRM^S04"

    @field_validator("pas_mode")
    @classmethod
    def _parse_pas_mode(cls, value: str) -> str:
        modes = [m.strip().lower() for m in value.split(",") if m.strip()]
        unknown = sorted(set(modes) - {"none", "csv", "hl7", "fhir"})
        if unknown:
            raise ValueError(f"PAS_MODE has unknown adapters {', '.join(unknown)}: "
                             "use none, csv, hl7 or fhir, comma separated")
        if "none" in modes and len(modes) > 1:
            raise ValueError("PAS_MODE=none cannot be combined with an adapter")
        return ",".join(dict.fromkeys(m for m in modes if m != "none")) or "none"

    @field_validator("pas_source_patients", "pas_source_appointments", "pas_source_slots",
                     "pas_writeback")
    @classmethod
    def _check_adapter_name(cls, value: str) -> str:
        value = value.strip().lower()
        if value not in ("", "csv", "hl7", "fhir"):
            raise ValueError(f"{value!r} is not an adapter: use csv, hl7 or fhir")
        return value

    @property
    def pas_adapters(self) -> tuple[str, ...]:
        """The PAS adapters that run, in the order PAS_MODE names them (empty for none)."""
        return () if self.pas_mode == "none" else tuple(self.pas_mode.split(","))

    @property
    def pas_writeback_adapter(self) -> str | None:
        """The adapter bookings go back through, or None when no PAS is connected."""
        if self.pas_writeback:
            return self.pas_writeback
        return next((a for a in ("fhir", "hl7", "csv") if a in self.pas_adapters), None)

    def pas_source(self, kind: str) -> str | None:
        """The adapter trusted for one kind of data (patient, appointment, slot, session)."""
        configured = {"patient": self.pas_source_patients,
                      "appointment": self.pas_source_appointments,
                      "slot": self.pas_source_slots,
                      "session": self.pas_source_slots}[kind]
        if configured:
            return configured
        # Neither HL7 ADT/SIU nor the waiting-list extract carries capacity.
        able = [a for a in self.pas_adapters if kind not in ("slot", "session") or a != "hl7"]
        return able[0] if able else None

    @property
    def rasa_urls(self) -> list[str]:
        """RASA_URL's Rasa servers: one URL, or several comma-separated sharing Redis."""
        return split_urls(self.rasa_url)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def is_production(self) -> bool:
        return self.environment == "production"

    @property
    def sandbox_routes(self) -> bool:
        """The sandbox phone (/sandbox*) is served only in development and test."""
        return self.messaging_mode == "sandbox" and not self.is_production

    @property
    def serve_api_docs(self) -> bool:
        return self.api_docs if self.api_docs is not None else not self.is_production

    @model_validator(mode="after")
    def _concurrency_below_threads(self) -> Settings:
        if self.api_concurrency >= self.api_threads:
            raise ValueError("API_CONCURRENCY must be less than API_THREADS: the threads left "
                             "over serve health checks and live updates")
        return self

    @model_validator(mode="after")
    def _refuse_unsafe_settings(self) -> Settings:
        if self.environment == "development":
            self.messaging_mode = self.messaging_mode or "sandbox"
            return self
        problems = unsafe_settings(self)
        if problems:
            raise ValueError(f"ENVIRONMENT={self.environment} refuses to start:\n  - "
                             + "\n  - ".join(problems))
        self.messaging_mode = self.messaging_mode or "sandbox"
        return self


def _is_placeholder(value: str) -> bool:
    return value.strip().lower() in PLACEHOLDER_SECRETS | {"sandbox-auth-token"}


def _looks_random(value: str, *, min_length: int) -> bool:
    """Long enough and not a word or a repeated pattern: at least `min_length` characters, at
    least 10 distinct ones, none making up more than a quarter of them (a 32-character hex
    token drawn at random passes; "x" * 40 or "password" * 4 do not)."""
    if len(value) < min_length or len(set(value)) < 10:
        return False
    return max(value.count(c) for c in set(value)) <= len(value) / 4


def unsafe_settings(settings: Settings) -> list[str]:
    """What stops these settings running outside development, each with what to do about it."""
    problems: list[str] = []
    secret_key = settings.secret_key.get_secret_value()
    if _is_placeholder(secret_key):
        problems.append("SECRET_KEY must be set to a real secret")
    if settings.environment != "production":
        return problems  # the test suite runs with test secrets and the sandbox
    if not _is_placeholder(secret_key) and not _looks_random(secret_key, min_length=32):
        problems.append("SECRET_KEY must be at least 32 random characters "
                        "(e.g. python -c 'import secrets; print(secrets.token_urlsafe(48))')")
    if settings.messaging_mode is None:
        problems.append("MESSAGING_MODE must be set: twilio (or sandbox for a training copy "
                        "that sends nothing)")
    token = settings.twilio_auth_token.get_secret_value()
    if _is_placeholder(token) or not _looks_random(token, min_length=32):
        problems.append("TWILIO_AUTH_TOKEN must be the account's 32-character auth token "
                        "(webhook signatures are checked with it)")
    if settings.messaging_mode == "twilio" and not settings.twilio_account_sid.startswith("AC"):
        problems.append("TWILIO_ACCOUNT_SID must be set (it starts AC)")
    if not _looks_random(settings.assistant_token.get_secret_value(), min_length=32):
        problems.append("ASSISTANT_TOKEN must be at least 32 random characters, the same for "
                        "the worker, the Rasa server and the action server")
    if not settings.public_base_url.startswith("https://"):
        problems.append("PUBLIC_BASE_URL must be the https:// address Twilio and staff use")
    metrics_token = settings.metrics_token.get_secret_value()
    if metrics_token and not _looks_random(metrics_token, min_length=24):
        problems.append("METRICS_TOKEN, when set, must be at least 24 random characters")
    return problems


@lru_cache
def get_settings() -> Settings:
    return Settings()


def settings_or_exit() -> Settings:
    """The settings, or a plain explanation on stderr and exit status 2 (for every process's
    start: a refusal must read as one, not as a traceback)."""
    try:
        return get_settings()
    except ValidationError as exc:
        reasons = [str(error.get("ctx", {}).get("error") or error["msg"]) for error in exc.errors()]
        sys.stderr.write("rebook: " + "\n".join(reasons) + "\n")
        raise SystemExit(2) from None
