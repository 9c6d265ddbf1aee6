"""`rebook run`: every process of the stack under one supervisor (honcho)."""

from __future__ import annotations

import os
import secrets
import shlex
import sys
from pathlib import Path
from urllib.parse import urlparse

from honcho.manager import Manager
from honcho.printer import Printer
from rich.console import Console

from api.config import PROJECT_ROOT, Settings, get_settings
from api.system.runtime import with_lower_priority

console = Console(stderr=True)


def stack_processes(*, settings: Settings, port: int) -> dict[str, str]:
    """The command line of each process, by name."""
    python = sys.executable
    actions_port = urlparse(settings.action_server_url).port or 5055
    background = {
        "worker": [python, "-m", "api", "worker"],
        "dispatcher": [python, "-m", "api", "dispatcher"],
        "scheduler": [python, "-m", "api", "scheduler"],
        "actions": [python, "-m", "actions.server", "--port", str(actions_port)],
        "rasa": [str(PROJECT_ROOT / "bot" / "run_rasa.sh")],
    }
    commands = {"api": [python, "-m", "api", "serve", "--port", str(port)]}
    background |= pas_processes(settings=settings)
    if "hl7" in settings.pas_adapters:
        # Not lowered: the PAS waits for each ACK, and a cancellation must withdraw offers fast.
        commands["hl7-listener"] = [python, "-m", "api", "integration", "hl7", "listen"]
    commands.update({name: with_lower_priority(argv, niceness=settings.background_nice)
                     for name, argv in background.items()})
    return {name: shlex.join(argv) for name, argv in commands.items()}


def pas_processes(*, settings: Settings) -> dict[str, list[str]]:
    """The PAS's background processes (docs/integration.md): the write-back dispatcher when
    bookings go back through FHIR or HL7 (CSV bookings wait for the export), the FHIR poller."""
    python = sys.executable
    processes = {}
    if settings.pas_writeback_adapter in ("fhir", "hl7"):
        processes["pas-writeback"] = [python, "-m", "api", "integration", "dispatch"]
    if "fhir" in settings.pas_adapters:
        processes["fhir-sync"] = [python, "-m", "api", "integration", "fhir", "sync",
                                  "--forever"]
    return processes


def stack_environment(*, settings: Settings) -> dict[str, str]:
    """The environment every process of the stack starts with."""
    env = dict(os.environ)
    # `rebook run` starts one Rasa server: the first of RASA_URL's.
    env.setdefault("RASA_PORT", str(urlparse(settings.rasa_urls[0]).port or 5005))
    env.setdefault("ACTION_SERVER_URL", settings.action_server_url)
    # The worker, Rasa and the action server share a token even on a laptop: one made up for
    # this run unless the deployment chose its own.
    env.setdefault("ASSISTANT_TOKEN", settings.assistant_token.get_secret_value()
                   or secrets.token_urlsafe(32))
    return env


def prepare_database(*, seed_if_empty: bool) -> None:
    """Migrate, then seed the demo trust when the database holds no patients."""
    from sqlalchemy import func, select

    from api.db import session_scope
    from api.demo import service as demo_service
    from api.patients.models import Patient
    from api.schema import upgrade

    upgrade()
    if not seed_if_empty:
        return
    with session_scope() as session:
        if session.scalar(select(func.count()).select_from(Patient)):
            return
        console.print("seeding the demo trust (first run only)...")
        result = demo_service.seed(session=session)
    console.print(result.summary())


def run_stack(*, port: int, seed_if_empty: bool, sign_in: str = "") -> int:
    """Start api, worker, dispatcher, action server and Rasa; the first exit code when they stop.

    `sign_in`, when given, is the demo staff account's, printed under the console's address."""
    settings = get_settings()
    prepare_database(seed_if_empty=seed_if_empty)
    processes = stack_processes(settings=settings, port=port)
    env = stack_environment(settings=settings)
    manager = Manager(Printer(sys.stdout))
    for name, command in processes.items():
        manager.add_process(name, command, env=env, cwd=str(Path(PROJECT_ROOT)))
    console.print(
        "\n[bold]Rebook is starting[/bold] (the Rasa server needs about a minute)\n"
        f"  staff console  http://127.0.0.1:{port}/console\n"
        + (f"  demo sign-in   {sign_in}\n" if sign_in else "")
        + f"  sandbox phone  http://127.0.0.1:{port}/sandbox\n"
        f"  API and docs   http://127.0.0.1:{port}/docs\n"
        f"  health         http://127.0.0.1:{port}/healthz\n"
        f"  readiness      http://127.0.0.1:{port}/readyz\n"
        f"  Rasa server    {settings.rasa_url}\n"
        f"  action server  {settings.action_server_url}\n"
        "Press Ctrl-C to stop everything.\n"
    )
    manager.loop()
    return manager.returncode or 0
