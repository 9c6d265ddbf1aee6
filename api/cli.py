"""The `rebook` command line."""

from __future__ import annotations

import json
import sys

import typer
from rich.console import Console

from api.campaigns.cli import app as campaign_app
from api.integration.cli import app as integration_app
from api.privacy.cli import app as data_app
from api.scheduling.cli import app as schedule_app
from api.scheduling.lists_cli import clinic_app, codes, disruption_app
from api.staff.cli import app as staff_app
from api.system.terminal import TidyGroup

app = typer.Typer(help="Rebook: patient messaging for rescheduled hospital care.",
                  no_args_is_help=True, cls=TidyGroup)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
demo_app = typer.Typer(help="The synthetic demo trust.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(demo_app, name="demo")
app.add_typer(schedule_app, name="schedule")
app.add_typer(campaign_app, name="campaign")
app.add_typer(data_app, name="data")
app.add_typer(staff_app, name="staff")
app.add_typer(disruption_app, name="disruption")
app.add_typer(clinic_app, name="clinic")
app.add_typer(integration_app, name="integration")
app.command("codes")(codes)

console = Console(stderr=True)


@app.callback()
def _check_settings() -> None:
    """Every command first checks the settings: production refuses unsafe ones."""
    from api.config import settings_or_exit

    settings_or_exit()


@db_app.command("upgrade")
def db_upgrade(revision: str = typer.Argument("head")) -> None:
    """Migrate the database (DATABASE_URL) to the newest schema."""
    from api.schema import upgrade

    upgrade(revision=revision)
    console.print(f"[green]database upgraded to {revision}[/green]")


@demo_app.command("seed")
def demo_seed(
    patients: int = typer.Option(2500, "--patients", help="How many synthetic patients."),
    seed: int = typer.Option(2024, "--seed", help="Random seed; the same seed gives the same trust."),
    as_json: bool = typer.Option(False, "--json", help="Print the demo patients as JSON."),
) -> None:
    """Create the deterministic synthetic demo trust (once; a second run changes nothing)."""
    from api.db import session_scope
    from api.demo import service as demo_service
    from api.schema import upgrade

    upgrade()
    try:
        with session_scope() as session:
            result = demo_service.seed(session=session, patients=patients, seed=seed)
    except ValueError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(code=2) from exc
    console.print(result.summary())
    if as_json:
        with session_scope() as session:
            json.dump(demo_service.describe(session=session), sys.stdout, indent=1)
        sys.stdout.write("\n")


@demo_app.command("reference")
def demo_reference() -> None:
    """Only the demo trust's sites, specialties, clinicians and strike: an empty trust ready
    for its PAS export to be loaded (rebook integration ...)."""
    from api.db import session_scope
    from api.demo import service as demo_service
    from api.schema import upgrade

    upgrade()
    with session_scope() as session:
        if demo_service.is_seeded(session=session):
            console.print("The demo trust's reference data is already here; nothing changed.")
            return
        demo_service.seed_reference(session=session)
    console.print("Created the demo trust's sites, specialties, clinicians and strike.")


@app.command("serve")
def serve(
    host: str = typer.Option("127.0.0.1", help="Interface to bind."),
    port: int = typer.Option(8000, help="Port to bind."),
    workers: int = typer.Option(1, help="Uvicorn worker processes."),
) -> None:
    """Run the web API (Twilio webhooks, staff console, health)."""
    import uvicorn

    from api.config import get_settings

    # Uvicorn believes X-Forwarded-* only from the proxies FORWARDED_ALLOW_IPS lists (by
    # default none: its own default would trust loopback, where a forged header could then
    # rotate the client address). Given the app's own setting, request.client, the scheme and
    # the sign-in limits (api/system/client_address.py) all agree.
    trusted = get_settings().forwarded_allow_ips
    uvicorn.run("api.main:create_server_app", factory=True, host=host, port=port, workers=workers,
                log_config=None, proxy_headers=bool(trusted.strip()),
                forwarded_allow_ips=trusted)


@app.command("run")
def run(
    port: int = typer.Option(8000, help="Port for the web API."),
    seed_if_empty: bool = typer.Option(True, help="Seed the demo trust when there are no patients."),
) -> None:
    """Migrate, seed when empty, and run every process under one supervisor (Ctrl-C stops all).

    Outside production it also creates the demo staff account and prints its sign-in."""
    from api.config import get_settings
    from api.db import session_scope
    from api.demo.staff import ensure_demo_staff
    from api.schema import upgrade
    from api.supervisor import run_stack

    upgrade()  # the account needs the schema (run_stack's own migration is then a no-op)
    with session_scope() as session:
        demo = ensure_demo_staff(session=session, settings=get_settings())
    sign_in = f"{demo.username} / {demo.password} (development only)" if demo else ""
    raise typer.Exit(code=run_stack(port=port, seed_if_empty=seed_if_empty, sign_in=sign_in))


def _run_until_signalled(loop) -> None:
    """Run `loop(stop_event)` until SIGINT/SIGTERM, then let it finish its current work."""
    import signal
    import threading

    from api.system.runtime import freeze_startup_heap

    freeze_startup_heap()
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    loop(stop)


def _serve_metrics(port: int | None) -> None:
    """Expose this process's own Prometheus metrics (e.g. Rasa turn latency) on `port`."""
    if port:
        from prometheus_client import start_http_server

        start_http_server(port, addr="127.0.0.1")


@app.command("worker")
def worker(concurrency: int = typer.Option(4, help="Conversations handled at once."),
           metrics_port: int = typer.Option(None, help="Serve this process's /metrics here.")
           ) -> None:
    """Process inbound messages: safety screen, assistant turns, handovers."""
    from api.config import get_settings
    from api.conversations.rasa_client import RasaClient
    from api.db import get_sessionmaker
    from api.logs import configure_logging
    from api.worker import Worker

    settings = get_settings()
    configure_logging(level=settings.log_level, json=settings.log_json)
    _serve_metrics(metrics_port)
    rasa = RasaClient(base_url=settings.rasa_url, timeout=settings.rasa_timeout_seconds,
                      token=settings.assistant_token.get_secret_value())
    _run_until_signalled(Worker(settings=settings, session_factory=get_sessionmaker(),
                                rasa=rasa, concurrency=concurrency).run_forever)


@app.command("dispatcher")
def dispatcher(concurrency: int = typer.Option(8, help="Sends in flight at once.")) -> None:
    """Send the outbox through Twilio (or the sandbox), paced and retried."""
    from api.config import get_settings
    from api.db import get_sessionmaker
    from api.logs import configure_logging
    from api.messaging.dispatcher import Dispatcher
    from api.messaging.senders import make_sender

    settings = get_settings()
    configure_logging(level=settings.log_level, json=settings.log_json)
    _run_until_signalled(Dispatcher(settings=settings, session_factory=get_sessionmaker(),
                                    sender=make_sender(settings),
                                    concurrency=concurrency).run_forever)


@app.command("scheduler")
def scheduler(every: float = typer.Option(30.0, help="Seconds between passes.")) -> None:
    """Run the periodic jobs: expired holds, replies, chasers, reminders, campaign completion,
    the retention purge (RETENTION_DAYS)."""
    from api import jobs
    from api.config import get_settings
    from api.db import get_sessionmaker
    from api.logs import configure_logging

    settings = get_settings()
    configure_logging(level=settings.log_level, json=settings.log_json)
    _run_until_signalled(lambda stop: jobs.run_forever(
        session_factory=get_sessionmaker(), settings=settings, stop=stop, every_seconds=every))


# Here, not in api/integration/cli.py: the dispatcher is a flow (api.flows), which no domain
# imports.
@integration_app.command("dispatch")
def integration_dispatch(
    metrics_port: int = typer.Option(None, help="Serve this process's /metrics here.")
) -> None:
    """Send bookings made in Rebook to the PAS (FHIR, HL7), retried until it answers."""
    from api.config import get_settings
    from api.db import get_sessionmaker
    from api.flows import pas_writeback
    from api.integration.writers import writers_for
    from api.logs import configure_logging

    settings = get_settings()
    if not settings.pas_adapters:
        console.print("[red]error:[/red] no PAS is connected (PAS_MODE=none): nothing to send")
        raise typer.Exit(code=2)
    configure_logging(level=settings.log_level, json=settings.log_json)
    _serve_metrics(metrics_port)
    _run_until_signalled(lambda stop: pas_writeback.run_forever(
        session_factory=get_sessionmaker(), settings=settings,
        writers=lambda: writers_for(settings=settings), stop=stop))
