"""This adapter's `rebook integration` commands: export, load, sync."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from api.system import terminal

OUT = typer.Option(..., "--out", metavar="FILE", help="Where to write the FHIR Bundle (JSON).")
FILE = typer.Argument(..., metavar="FILE", help="A FHIR Bundle (JSON), e.g. from export.")


def register(app: typer.Typer) -> None:
    """Add this adapter's commands to `rebook integration`."""
    app.command("export")(export_bundle)
    app.command("load")(load_bundle)
    app.command("sync")(sync)


def export_bundle(out: Path = OUT) -> None:
    """Write this database's trust as one FHIR R4B transaction Bundle."""
    from api.db import session_scope
    from api.integration.fhir import export

    try:
        with out.open("w", encoding="utf-8") as handle, session_scope() as session:
            count = export.write_bundle(session=session, out=handle)
    except OSError as exc:
        terminal.fail(f"cannot write {out}: {exc.strerror}")
    terminal.out.print(f"{count} resources written to {out}")


def load_bundle(file: Path = FILE) -> None:
    """Load a FHIR Bundle through the inbound path (stored raw and applied, as a sync)."""
    from api.config import get_settings
    from api.db import session_scope
    from api.integration.fhir import export
    from api.integration.fhir.resources import MappingError

    try:
        bundle = json.loads(file.read_text(encoding="utf-8"))
    except OSError as exc:
        terminal.fail(f"cannot read {file}: {exc.strerror}")
    except ValueError:
        terminal.fail(f"{file} is not JSON")
    try:
        with session_scope() as session:
            result = export.load_bundle(session=session, settings=get_settings(), bundle=bundle)
    except MappingError as exc:
        terminal.fail(str(exc))
    terminal.table("FHIR bundle loaded", ("applied", "skipped", "parked"),
                   [(result.applied, result.skipped, result.parked)])
    if result.parked:
        terminal.err.print("Parked resources are on the integration exceptions list.")


def sync(forever: bool = typer.Option(False, "--forever",
                                      help="Keep pulling every FHIR_POLL_SECONDS.")) -> None:
    """Pull Schedule, Slot, Patient and Appointment changes from the FHIR server."""
    from api.config import get_settings
    from api.db import get_sessionmaker
    from api.integration.fhir import sync as fhir_sync
    from api.integration.fhir.client import FhirClient, FhirError

    settings = get_settings()
    try:
        client = FhirClient(settings=settings)
    except FhirError as exc:
        terminal.fail(str(exc))
    if forever:
        import signal
        import threading

        stop = threading.Event()
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: stop.set())
        fhir_sync.run_forever(session_factory=get_sessionmaker(), settings=settings, stop=stop,
                              client=client)
        return
    with client, get_sessionmaker()() as session:
        results = fhir_sync.sync_all(session=session, settings=settings, client=client)
    terminal.table("FHIR sync", ("resource", "pages", "applied", "skipped", "parked", "error"),
                   [(r.resource, r.pages, r.applied, r.skipped, r.parked, r.error or "-")
                    for r in results])
    if any(r.error for r in results):
        raise typer.Exit(code=1)
